// One writer per directory, as sqlite and git do it: a lock file created with O_EXCL (atomic on
// local file systems) holding who took it. A second writer is refused with the holder named; a
// lock whose process is gone (same host, PID not running: a kill -9, a power cut) is taken over
// with a note. The lock goes on every way out of the process: release(), a normal exit, an
// uncaught error, and SIGINT/SIGTERM when nobody else handles them (the training loop handles
// them itself, stops cleanly and then releases).
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { processAlive, temporaryPath } from './atomic.js';
import { errnoCode, fsCall, fsError } from '../util/fs_errors.js';

/** The lock file's name inside the locked directory. */
export const LOCK_FILE = '.bpt.lock';

/** Who holds a lock (the lock file's JSON). */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  started: string;
  /** The command line of the holder. */
  command: string[];
}

/** A directory locked by another live writer (or by a lock file that cannot be judged). */
export class DirectoryLockedError extends Error {
  override name = 'DirectoryLockedError';
}

/** A lock file this young whose content cannot be read may be one that is being written. */
const UNREADABLE_GRACE_MS = 10_000;

function readHolder(path: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof h.pid !== 'number' || typeof h.host !== 'string') return null;
    return { pid: h.pid, host: h.host, started: String(h.started), command: Array.isArray(h.command) ? h.command.map(String) : [] };
  } catch {
    return null;
  }
}

const describe = (h: LockHolder): string => `PID ${h.pid} on ${h.host}, started ${h.started}${h.command.length ? ` (${h.command.join(' ')})` : ''}`;

const sameHolder = (a: LockHolder | null, b: LockHolder | null): boolean =>
  a !== null && b !== null && a.pid === b.pid && a.host === b.host && a.started === b.started;

/** The locks this process holds; the process hooks below are installed while there are any. */
const held = new Set<DirLock>();

function releaseAll(): void {
  for (const lock of [...held]) lock.release();
}

function onSignal(sig: NodeJS.Signals): void {
  // Someone else (the training loop) handles this signal; the stage releases when it has stopped.
  if (process.listeners(sig).some((l) => l !== onSignal)) return;
  releaseAll();
  // With no listener left the default action applies again: the process ends by this signal.
  process.kill(process.pid, sig);
}

function track(lock: DirLock, holding: boolean): void {
  if (holding) {
    if (held.size === 0) {
      process.on('exit', releaseAll);
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }
    held.add(lock);
  } else if (held.delete(lock) && held.size === 0) {
    process.off('exit', releaseAll);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** A held lock on a directory; see the file comment. */
export class DirLock {
  private constructor(readonly path: string, readonly holder: LockHolder, readonly tookOver: LockHolder | null) {
    track(this, true);
  }

  /**
   * Takes the lock of existing directory `dir`, or throws a DirectoryLockedError naming the
   * holder. `tookOver` says whose stale lock was replaced, if any.
   */
  static acquire(dir: string): DirLock {
    const path = join(dir, LOCK_FILE);
    const me: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command: process.argv.slice(1) };
    let tookOver: LockHolder | null = null;
    for (let attempt = 0; attempt < 5; attempt++) {
      let fd: number;
      try {
        fd = openSync(path, 'wx', 0o644);
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw fsError(err, path, 'create the lock file');
        const stale = DirLock.staleHolder(path, dir);
        if (stale && DirLock.takeOver(path, stale)) tookOver = stale;
        continue;
      }
      try {
        fsCall(path, 'write', () => {
          writeSync(fd, `${JSON.stringify(me)}\n`);
          fsyncSync(fd);
        });
      } catch (err) {
        closeSync(fd);
        unlinkSync(path);
        throw err;
      }
      closeSync(fd);
      return new DirLock(path, me, tookOver);
    }
    throw new DirectoryLockedError(`${dir}: could not take the lock ${path}: other processes keep taking it`);
  }

  /**
   * The holder of an existing lock if it is stale, null if the lock has just gone; throws when the
   * lock is live or cannot be judged.
   */
  private static staleHolder(path: string, dir: string): LockHolder | null {
    const holder = readHolder(path);
    if (holder === null) {
      let age = 0;
      try {
        age = Date.now() - statSync(path).mtimeMs;
      } catch {
        return null;
      }
      if (age < UNREADABLE_GRACE_MS) throw new DirectoryLockedError(`${dir}: another run is starting in this directory (its lock ${path} is being written)`);
      throw new DirectoryLockedError(`${dir}: the lock file ${path} is not a bpt lock; delete it if no run is writing to this directory`);
    }
    if (holder.host !== hostname()) {
      throw new DirectoryLockedError(`${dir} is in use by another run: ${describe(holder)}; it runs on another host, so if it is no longer running, delete ${path}`);
    }
    if (processAlive(holder.pid)) {
      throw new DirectoryLockedError(`${dir} is in use by another run: ${describe(holder)}; wait for it to finish or choose another --out`);
    }
    return holder;
  }

  /**
   * Moves the stale lock aside and checks that it is still the one judged stale (two processes may
   * race to take it over); a live lock moved by mistake is put back. Returns whether it was removed.
   */
  private static takeOver(path: string, stale: LockHolder): boolean {
    const aside = temporaryPath(path);
    try {
      renameSync(path, aside);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw fsError(err, path, 'take over the stale lock');
    }
    const moved = readHolder(aside);
    if (!sameHolder(moved, stale)) {
      try { renameSync(aside, path); } catch { /* its holder's exit will not find it; the holder still runs */ }
      return false;
    }
    unlinkSync(aside);
    return true;
  }

  /** Removes the lock if this process still holds it; safe to call more than once. */
  release(): void {
    if (!held.has(this)) return;
    track(this, false);
    if (sameHolder(readHolder(this.path), this.holder)) {
      try { unlinkSync(this.path); } catch { /* already gone */ }
    }
  }

  /** Throws a DirectoryLockedError when `dir` holds a lock of a live process (a check before work starts). */
  static checkFree(dir: string): void {
    const path = join(dir, LOCK_FILE);
    try {
      statSync(path);
    } catch {
      return;
    }
    DirLock.staleHolder(path, dir);
  }
}
