// A run directory has one writer: open() takes its lock and close() gives it back (on the error
// paths of open() too); the checks that open() makes can be made before any work (Run.check); a
// run that opens a directory whose last writer was killed takes over its lock and sweeps its
// temporaries, saying so on stderr and in the log.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LOCK_FILE } from '../../src/io/dir_lock.js';
import type { Resolved } from '../../src/train/config.js';
import { readLog } from '../../src/train/log.js';
import { LOG_FILE, Run } from '../../src/train/run.js';
import { deadPid } from '../util/child.js';
import { tempDir } from '../util/fixtures.js';
import { throwsWith } from '../util/throws.js';

const t = suite('train/run');
let root: string;
t.before(() => void (root = tempDir('run')));
t.after(() => rmSync(root, { recursive: true, force: true }));

const options = { seed: 1 } as unknown as Resolved;
const open = (dir: string, resume = false): Run => Run.open(dir, 'source', 'bpt', options, resume);

/** Captures what `fn` writes to stderr. */
function stderrOf(fn: () => void): string {
  const write = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return text;
}

t('open() holds the lock until close(); a second writer is refused before and at open', () => {
  const dir = join(root, 'one');
  const run = open(dir);
  assert.ok(existsSync(join(dir, LOCK_FILE)));
  throwsWith(() => Run.check(dir, false), dir, 'in use by another run', `PID ${process.pid}`);
  throwsWith(() => open(dir), dir, 'in use by another run', `PID ${process.pid}`);
  run.close();
  assert.ok(!existsSync(join(dir, LOCK_FILE)), 'close() gives the lock back');
  run.close();
  const again = open(dir);
  again.complete({}, false);
  again.close();
  throwsWith(() => Run.check(dir, false), 'already holds a run');
  throwsWith(() => Run.check(dir, true), 'already completed');
  assert.ok(!existsSync(join(dir, LOCK_FILE)));
});

t('a refused open() creates nothing and leaves no lock', () => {
  const dir = join(root, 'never');
  throwsWith(() => Run.check(dir, true), 'no checkpoint.safetensors to resume from');
  throwsWith(() => open(dir, true), 'no checkpoint.safetensors to resume from');
  assert.ok(!existsSync(dir));
  const broken = join(root, 'broken');
  mkdirSync(broken);
  writeFileSync(join(broken, 'checkpoint.safetensors'), 'not a checkpoint');
  throwsWith(() => open(broken, true), join(broken, 'checkpoint.safetensors'));
  assert.ok(!existsSync(join(broken, LOCK_FILE)), 'the lock goes when open() fails after taking it');
});

t("a killed writer's lock is taken over and its temporaries swept, said on stderr and in the log", () => {
  const dir = join(root, 'killed');
  mkdirSync(join(dir, 'adapters'), { recursive: true });
  const dead = deadPid();
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: dead, host: hostname(), started: '2026-12-07T00:00:00.000Z', command: ['bpt', 'source'] }));
  writeFileSync(join(dir, `.checkpoint.safetensors.bpt-tmp-${dead}-0a0b0c0d`), 'half a checkpoint');
  mkdirSync(join(dir, 'adapters', `.mean.bpt-tmp-${dead}-01020304`));
  let run: Run | null = null;
  const said = stderrOf(() => void (run = open(dir)));
  assert.match(said, new RegExp(`took over the lock of a run that is no longer running \\(PID ${dead}`));
  assert.match(said, /removed 2 temporary file\(s\) left by an interrupted writer/);
  assert.equal(readdirSync(dir).filter((n) => n.includes('bpt-tmp')), []);
  assert.equal(readdirSync(join(dir, 'adapters')), []);
  const events = readLog(join(dir, LOG_FILE)).filter((r) => r.event === 'recovered');
  assert.is(events.length, 2);
  run!.close();
});

t.run();
