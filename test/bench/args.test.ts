import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { flagUsage, parseFlags, type FlagSpec } from '../../bench/lib/args.js';

const t = suite('bench flags');

const FLAGS: Record<string, FlagSpec> = {
  quick: { type: 'boolean', default: false, help: 'small' },
  n: { type: 'string', help: 'elements' },
  out: { type: 'string', arg: 'FILE', help: 'results' },
};

let root = dirname(fileURLToPath(import.meta.url));
while (!existsSync(join(root, 'package.json'))) root = dirname(root);
const node = (script: string, args: string[]) => spawnSync(process.execPath, [join(root, 'dist', 'bench', script), ...args], { encoding: 'utf8' });

t('declared flags parse; --name=value and booleans', () => {
  assert.equal(parseFlags(FLAGS, ['--n=12', '--quick', '--out=x.json']), { values: { quick: true, n: '12', out: 'x.json' } });
  assert.equal(parseFlags(FLAGS, []), { values: { quick: false } });
});

t('an undeclared flag, a value on a boolean or a stray word is an error naming it', () => {
  const err = (argv: string[]) => {
    const r = parseFlags(FLAGS, argv);
    return 'error' in r ? r.error : '';
  };
  assert.match(err(['--rows=3']), "'--rows'");
  assert.match(err(['--quick=yes']), '--quick');
  assert.match(err(['extra']), "'extra'");
});

t('the flag list names every flag with its placeholder', () => {
  assert.is(flagUsage('fill', FLAGS), 'flags of fill:\n  --quick  small\n  --n=N  elements\n  --out=FILE  results\n');
});

t('a suite exits 2 on a flag it lacks, naming the flag and its own flags (before opening the GPU)', () => {
  const r = node('fill.js', ['--rows=3']);
  assert.is(r.status, 2);
  assert.match(r.stderr, "fill: Unknown option '--rows'");
  for (const f of ['--quick', '--trace=FILE', '--out=FILE', '--n=N']) assert.match(r.stderr, f);
  assert.not.match(r.stdout, 'adapter');
});

t('the runner passes a flag to the suites that declare it, and rejects one that no suite has', () => {
  const none = node('run.js', ['fill', 'softmax', '--rows=3']);
  assert.is(none.status, 2);
  assert.match(none.stderr, 'no suite of this run takes --rows=3');
  const described = node('softmax.js', ['--describe-flags']);
  assert.is(described.status, 0);
  assert.equal(JSON.parse(described.stdout), { quick: 'boolean', trace: 'string', out: 'string', help: 'boolean' });
});

t('a flag value after a space reads as a suite name: the runner says how to pass it', () => {
  const r = node('run.js', ['fill', '--n', '12']);
  assert.is(r.status, 2);
  assert.match(r.stderr, "unknown suite(s): 12 (flag values take '=': --n=12)");
  assert.not.match(node('run.js', ['nosuch']).stderr, 'flag values');
});

t.run();
