// Failure behaviour through the command line, as a user meets it (docs/FAILURES.md): a second run
// into the same --out is refused naming the first; after a kill -9 the next run takes the lock over
// and removes the dead writer's temporaries; output locations (missing, through a file, read-only,
// on a full disk) fail at once or name the file and the cause.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LOCK_FILE } from '../../src/io/dir_lock.js';
import { readLog } from '../../src/train/log.js';
import { tempDir, tinyGlue, tinyModelDir } from '../util/fixtures.js';

const t = suite('bpt/failures');
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli.js');
const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };
let root: string;

t.before(() => {
  root = tempDir('failures');
  tinyModelDir(join(root, 'model'));
  tinyGlue(join(root, 'data'));
});
t.after(() => rmSync(root, { recursive: true, force: true }));

const bpt = (...args: string[]): { code: number; err: string } => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env });
  return { code: r.status ?? -1, err: r.stderr };
};

// Steps enough that the first run is still running when the second starts (replayed steps are fast).
const sourceArgs = (out: string): string[] => ['source', '--model', join(root, 'model'), '--data-dir', join(root, 'data'), '--tasks', 'rte',
  '--out', out, '--steps', '100000', '--particles', '2', '--prompt-length', '4', '--max-input-length', '48', '--checkpoint-every', '1', '--log-every', '1'];

const litter = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String).filter((n) => n.includes('.bpt-tmp-'));

t('a second run into the same --out is refused naming the first; after kill -9 the next run takes over and sweeps its litter', async () => {
  const out = join(root, 'shared-out');
  const first = spawn(process.execPath, [CLI, ...sourceArgs(out), '--progress', 'lines'], { env });
  let err = '';
  const started = new Promise<void>((res) => first.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (/source bpt [2-9]\d*\//.test(err)) res();
  }));
  const exited = new Promise<void>((res) => first.on('exit', () => res()));
  await Promise.race([started, exited]);
  const second = bpt(...sourceArgs(out), '--resume', '--progress', 'none');
  assert.is(second.code, 1, second.err);
  assert.match(second.err, new RegExp(`is in use by another run: PID ${first.pid} on .*source`));
  first.kill('SIGKILL');
  await exited;
  assert.ok(existsSync(join(out, LOCK_FILE)), 'kill -9 leaves the lock');
  writeFileSync(join(out, `.checkpoint.safetensors.bpt-tmp-${first.pid}-0123abcd`), 'half a checkpoint');
  const third = bpt(...sourceArgs(out), '--resume', '--stop-after', '1', '--progress', 'none');
  assert.is(third.code, 0, third.err);
  assert.match(third.err, new RegExp(`took over the lock of a run that is no longer running \\(PID ${first.pid}`));
  // The killed run may have left a temporary of its own (it checkpoints every step): the planted one is among those swept.
  assert.match(third.err, new RegExp(`removed \\d+ temporary file\\(s\\) left by an interrupted writer: .*\\.checkpoint\\.safetensors\\.bpt-tmp-${first.pid}-0123abcd`));
  assert.ok(!existsSync(join(out, LOCK_FILE)), 'the lock goes when the run stops');
  assert.equal(litter(out), []);
  const steps = readLog(join(out, 'log.jsonl')).filter((r) => r.kind === 'step').map((r) => r.step);
  assert.equal(steps, Array.from({ length: steps.length }, (_, i) => i + 1), 'one run in the log, each step once');
});

t('eval --out into a missing directory or through a file fails at once, before the model is read', () => {
  const common = ['--model', join(root, 'no-such-model'), '--data-dir', join(root, 'data'), '--tasks', 'rte', '--progress', 'none'];
  const missing = bpt('eval', ...common, '--out', join(root, 'missing', 'eval.json'));
  assert.is(missing.code, 1);
  assert.match(missing.err, new RegExp(`eval\\.json: cannot write: the directory .*missing does not exist`));
  writeFileSync(join(root, 'plain'), 'x');
  const through = bpt('eval', ...common, '--out', join(root, 'plain', 'eval.json'));
  assert.is(through.code, 1);
  assert.match(through.err, /plain: cannot hold .*eval\.json: it is not a directory/);
  const run = bpt(...sourceArgs(join(root, 'plain', 'run')).map((a) => (a === join(root, 'model') ? join(root, 'no-such-model') : a)));
  assert.is(run.code, 1);
  assert.match(run.err, /plain: cannot hold the run directory .*plain\/run: it is not a directory/);
});

/**
 * Runs the CLI in a private mount namespace with `mount` applied to `dir`, then lists the
 * temporaries left under `dir` (in `left`, before the mount goes); null where that is not allowed.
 */
function inMount(mount: string, dir: string, args: string[]): { code: number; err: string; left: string } | null {
  const sh = `${mount} && { "${process.execPath}" "${CLI}" ${args.map((a) => `'${a}'`).join(' ')}; c=$?; find "${dir}" -name '*.bpt-tmp-*'; exit $c; }`;
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `${mount} && true`], { encoding: 'utf8' });
  if (probe.status !== 0 || probe.error) {
    process.stdout.write(`  (skipped: no private mount here (${(probe.error?.message ?? probe.stderr).trim()}); ${dir} untested)\n`);
    return null;
  }
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', sh], { encoding: 'utf8', env });
  return { code: r.status ?? -1, err: r.stderr, left: r.stdout.trim() };
}

t('a read-only --out fails at once; a full disk names the file and says so, leaving no temporaries', () => {
  const ro = join(root, 'ro');
  mkdirSync(ro);
  const r = inMount(`mount --bind "${ro}" "${ro}" && mount -o remount,bind,ro "${ro}"`, ro, [...sourceArgs(join(ro, 'run')), '--progress', 'none']);
  if (r) {
    assert.is(r.code, 1, r.err);
    assert.match(r.err, /ro: cannot create the run directory .*ro\/run: the file system is read-only \(EROFS\)/);
  }
  const full = join(root, 'full');
  mkdirSync(full);
  const f = inMount(`mount -t tmpfs -o size=12k tmpfs "${full}"`, full, [...sourceArgs(join(full, 'run')), '--steps', '3', '--progress', 'none']);
  if (f) {
    assert.is(f.code, 1, f.err);
    assert.match(f.err, /full\/run\/\S+: cannot (write|append to): the disk is full \(no space left on the device\) \(ENOSPC\)/);
    assert.is(f.left, '', 'no temporaries left on the full disk');
  }
});

t.run();
