// `bpt probe` and `bpt generate` at the command level: refusals of options that cannot work
// (before any model is loaded), the flags as the CLI declares them, and one real generate run
// on the embedded model through the command.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generateCommand, generateOptions } from '../../src/cli/commands/generate.js';
import { probeCommand, probeOptions } from '../../src/cli/commands/probe.js';
import { commandLine, UsageError } from '../../src/cli/program.js';
import { L2_GRID } from '../../src/pretrain/milestones/linear_probe.js';
import { ConfigError } from '../../src/train/config.js';
import { tempDir } from '../util/fixtures.js';
import { initGpu } from '../util/gpu.js';

const t = suite('cli/milestones');
let dir: string;
t.before(() => void (dir = tempDir('cli-milestones')));
t.after(() => rmSync(dir, { recursive: true, force: true }));

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ConfigError);
    return (e as Error).message;
  }
  return assert.unreachable('expected a ConfigError') as never;
}

t('probe: defaults are the issue protocol; bad sources, overlapping splits and bad L2 values are refused', () => {
  const o = probeOptions({ model: dir });
  assert.equal([o.train, o.test, o.l2Grid, o.seed], [['amazon', 'yelp'], ['imdb'], [...L2_GRID], 0]);
  assert.equal(probeOptions({ model: dir, train: 'yelp', test: 'amazon,imdb', l2: '0.5,2' }).l2Grid, [0.5, 2]);
  assert.match(refusal(() => probeOptions({ train: 'amazon,netflix' })), /--train: unknown sentiment source 'netflix'/);
  assert.match(refusal(() => probeOptions({ test: 'yelp' })), /--train and --test share yelp/);
  assert.match(refusal(() => probeOptions({ l2: '0.1,0' })), /--l2: want positive numbers/);
  assert.match(refusal(() => probeOptions({ l2: 'big' })), /--l2/);
  assert.match(refusal(() => probeOptions({ 'max-length': '1' })), /max-length/);
  assert.match(refusal(() => probeOptions({ 'held-out': '0' })), /held-out/);
});

t('generate: exactly one source of texts, or span corruption of the corpus', () => {
  assert.match(refusal(() => generateOptions({})), /nothing to decode/);
  assert.match(refusal(() => generateOptions({ text: 'a', input: 'f.txt' })), /--text and --input both/);
  assert.match(refusal(() => generateOptions({ 'span-corruption': '-1' })), /span-corruption/);
  assert.equal(generateOptions({ 'span-corruption': '5' }).corpus, ['brown']);
});

t('the CLI declares their flags', async () => {
  let help = '';
  const run = commandLine([probeCommand, generateCommand], '0', async () => {}, { writeOut: (s) => void (help += s), writeErr: () => {} });
  for (const [cmd, flags] of [['probe', ['--train', '--test', '--max-length', '--seed', '--l2', '--json']], ['generate', ['--text', '--input', '--span-corruption', '--max-new-tokens', '--json']]] as const) {
    help = '';
    await run([cmd, '--help']).catch((e: unknown) => assert.instance(e, UsageError));
    for (const f of flags) assert.ok(help.includes(f), `bpt ${cmd} --help lacks ${f}`);
  }
});

t('generate --input on the embedded model reports n and the distinct count of its samples', async () => {
  await initGpu();
  const file = join(dir, 'texts.txt');
  writeFileSync(file, 'The cat sat on the mat.\n\nA dog ran in the park.\nThe cat sat on the mat.\n');
  const { result } = await generateCommand.run({ flags: { input: file, 'max-new-tokens': '6' }, configFile: null, resume: false, args: [] });
  const samples = result.samples as Array<{ input: string; output: string }>;
  assert.equal(samples.map((s) => s.input), ['The cat sat on the mat.', 'A dog ran in the park.', 'The cat sat on the mat.']);
  assert.is(result.n, 3);
  assert.is(result.distinct, new Set(samples.map((s) => s.output)).size);
  // The same input twice gives the same output: at most two distinct.
  assert.is(samples[0]!.output, samples[2]!.output);
  assert.ok((result.distinct as number) <= 2);
});

t.run();
