// One writer per directory: a second writer is refused with the holder named; a lock whose
// process was killed (kill -9, for real, in a child process) is taken over; the lock goes on a
// normal exit, an uncaught error, process.exit, SIGINT and SIGTERM.
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DirLock, LOCK_FILE, type LockHolder } from '../../src/io/dir_lock.js';
import { bundleModule, deadPid, runScript } from '../util/child.js';
import { tempDir } from '../util/fixtures.js';
import { throwsWith } from '../util/throws.js';

const t = suite('io/dir_lock');
let root: string;
let n = 0;
const fresh = (): string => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};
t.before(() => {
  root = tempDir('lock');
  bundleModule('io/dir_lock.ts', root, 'dir_lock');
});
t.after(() => rmSync(root, { recursive: true, force: true }));

const holder = (dir: string): LockHolder => JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockHolder;

/** A child that takes the lock of `dir`, says "locked", then does what `then` says. */
function lockingChild(dir: string, then: string) {
  return runScript(root, `child${n++}`, `import { DirLock } from './dir_lock.mjs';
DirLock.acquire(${JSON.stringify(dir)});
process.stdout.write('locked\\n');
${then}
`);
}

t('a held lock refuses a second writer, naming PID, host and command; release frees it', () => {
  const dir = fresh();
  const a = DirLock.acquire(dir);
  const h = holder(dir);
  assert.is(h.pid, process.pid);
  assert.is(h.host, hostname());
  assert.ok(!Number.isNaN(Date.parse(h.started)));
  throwsWith(() => DirLock.acquire(dir), dir, 'in use by another run', `PID ${process.pid}`, hostname());
  throwsWith(() => DirLock.checkFree(dir), `PID ${process.pid}`);
  a.release();
  assert.ok(!existsSync(join(dir, LOCK_FILE)));
  a.release();
  DirLock.checkFree(dir);
  const b = DirLock.acquire(dir);
  assert.is(b.tookOver, null);
  b.release();
});

t('a lock of a process that is gone is taken over and says whose it was', () => {
  const dir = fresh();
  const dead: LockHolder = { pid: deadPid(), host: hostname(), started: '2026-01-01T00:00:00.000Z', command: ['bpt', 'source'] };
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(dead));
  DirLock.checkFree(dir);
  const lock = DirLock.acquire(dir);
  assert.equal(lock.tookOver, dead);
  assert.is(holder(dir).pid, process.pid);
  lock.release();
});

t('a lock from another host, or one that is not a bpt lock, is refused rather than guessed at', () => {
  const dir = fresh();
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: 'elsewhere.example', started: 'x', command: [] }));
  throwsWith(() => DirLock.acquire(dir), 'elsewhere.example', 'another host', `delete ${join(dir, LOCK_FILE)}`);
  writeFileSync(join(dir, LOCK_FILE), 'garbage');
  throwsWith(() => DirLock.acquire(dir), 'being written');
  const old = new Date(Date.now() - 60_000);
  utimesSync(join(dir, LOCK_FILE), old, old);
  throwsWith(() => DirLock.acquire(dir), 'not a bpt lock', `delete it if no run is writing`);
});

t('kill -9 of the holder leaves a stale lock, which the next writer takes over', async () => {
  const dir = fresh();
  const child = lockingChild(dir, 'setInterval(() => {}, 1000);');
  await child.said('locked');
  throwsWith(() => DirLock.acquire(dir), `PID ${child.proc.pid}`, 'in use');
  child.proc.kill('SIGKILL');
  assert.is((await child.exited).signal, 'SIGKILL');
  assert.is(holder(dir).pid, child.proc.pid, 'nothing ran to remove it');
  const lock = DirLock.acquire(dir);
  assert.is(lock.tookOver?.pid, child.proc.pid);
  lock.release();
});

t('the lock goes on SIGINT, SIGTERM, process.exit and an uncaught error, and the exit status stays', async () => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    // Two locks at once, as the demo holds its directory's and a stage's.
    const dir = fresh(), inner = fresh();
    const child = lockingChild(dir, `DirLock.acquire(${JSON.stringify(inner)});\nprocess.stdout.write('both\\n');\nsetInterval(() => {}, 1000);`);
    await child.said('both');
    child.proc.kill(sig);
    assert.is((await child.exited).signal, sig, `${sig} still ends the process`);
    assert.ok(!existsSync(join(dir, LOCK_FILE)) && !existsSync(join(inner, LOCK_FILE)), `both released on ${sig}`);
  }
  const exitDir = fresh();
  const exiting = lockingChild(exitDir, 'process.exit(3);');
  assert.is((await exiting.exited).code, 3);
  assert.ok(!existsSync(join(exitDir, LOCK_FILE)), 'released on process.exit');
  const errDir = fresh();
  const failing = lockingChild(errDir, "setTimeout(() => { throw new Error('boom'); }, 10);");
  assert.is((await failing.exited).code, 1);
  assert.match(failing.out(), /boom/);
  assert.ok(!existsSync(join(errDir, LOCK_FILE)), 'released on an uncaught error');
});

t('a signal that someone else handles (the training loop) does not release the lock behind their back', async () => {
  const dir = fresh();
  const child = lockingChild(dir, "process.on('SIGTERM', () => { process.stdout.write('handled\\n'); });\nsetInterval(() => {}, 1000);");
  await child.said('locked');
  child.proc.kill('SIGTERM');
  await child.said('handled');
  assert.is(holder(dir).pid, child.proc.pid, 'still held while the process runs');
  child.proc.kill('SIGKILL');
  await child.exited;
});

t.run();
