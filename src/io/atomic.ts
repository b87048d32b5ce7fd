// Writing files and directories so that a crash or an error never leaves a half-written one: the
// new content goes to a temporary sibling (rename is atomic only within one filesystem), which
// then replaces the target. Temporaries are named `.<name>.bpt-tmp-<pid>-<hex>`, so one that a
// killed writer left behind is recognisable and is swept by the next write of the same target
// (or, for a whole run directory, by the next run that takes its lock: see removeTemporaries).
import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { errnoCode, fsCall, fsError, FileSystemError } from '../util/fs_errors.js';

const TEMP = /^\..+\.bpt-tmp-(\d+)-[0-9a-f]+(?:\.old)?$/;

/** A fresh temporary sibling of `path`, named so that its writer's PID can be read back. */
export function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.bpt-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** The PID of the process that created temporary `name` (a file name, not a path), or null if it is none. */
export function temporaryOwner(name: string): number | null {
  const m = TEMP.exec(name);
  return m ? Number(m[1]) : null;
}

/** Whether a process with this PID runs on this host (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

function remove(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** Removes temporaries of `path` whose writer is no longer running (a kill -9 mid-write). */
function sweepSiblings(path: string): void {
  const prefix = `.${basename(path)}.bpt-tmp-`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = name.startsWith(prefix) ? temporaryOwner(name) : null;
    if (pid !== null && pid !== process.pid && !processAlive(pid)) remove(join(dirname(path), name));
  }
}

/**
 * Removes every temporary under `dir` (recursively) not made by this process, returning their
 * paths. Only for a directory this process holds the lock of (dir_lock.ts): no other writer can be
 * at work there, so each one is left over from a writer that was killed.
 */
export function removeTemporaries(dir: string): string[] {
  const removed: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      const pid = temporaryOwner(name);
      if (pid !== null && pid !== process.pid) {
        remove(p);
        removed.push(p);
      } else if (pid === null && lstatSync(p).isDirectory()) walk(p);
    }
  };
  walk(dir);
  return removed;
}

/**
 * Creates `dir` and its missing parents one level at a time, so that a failure names the level
 * that failed and why (a recursive mkdir reports a read-only parent as ENOENT).
 */
export function ensureDirectory(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  const top = missing.length ? dirname(missing[0]!) : dir;
  if (!fsCall(top, 'use as a directory', () => statSync(top)).isDirectory()) {
    throw new FileSystemError(top, 'ENOTDIR', `${top}: cannot create ${dir} there: ${top} is not a directory`);
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw fsError(err, d, 'create the directory');
    }
  }
}

function fsyncDir(dir: string): void {
  try {
    const dfd = openSync(dir, 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch {
    // Some filesystems refuse fsync on a directory; the file itself is already durable.
  }
}

/**
 * Writes `chunks` to `path` so that a crash or error never leaves a partial file there: the data
 * goes to a temporary file in the same directory (rename is atomic only within one filesystem),
 * is fsynced, then renamed over `path`; the directory is fsynced so the rename itself survives.
 * On any error the temporary is removed and the error names `path` and the cause (fs_errors.ts).
 */
export function writeFileAtomic(path: string, chunks: readonly (Uint8Array | string)[]): void {
  sweepSiblings(path);
  const tmp = temporaryPath(path);
  const fd = fsCall(path, 'write', () => openSync(tmp, 'wx', 0o644));
  try {
    try {
      fsCall(path, 'write', () => {
        for (const c of chunks) {
          const bytes = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
          let done = 0;
          while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
        }
        fsyncSync(fd);
      });
    } finally {
      closeSync(fd);
    }
    fsCall(path, 'replace', () => renameSync(tmp, path));
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  fsyncDir(dirname(path));
}

/**
 * Fills `dir` as one unit: `fill` writes into a fresh sibling directory which then replaces
 * `dir`, so a crash never leaves a directory that mixes old and new files or holds half of them.
 */
export function writeDirAtomic(dir: string, fill: (tmp: string) => void): void {
  const parent = dirname(dir);
  ensureDirectory(parent);
  sweepSiblings(dir);
  const tmp = temporaryPath(dir);
  fsCall(dir, 'write', () => mkdirSync(tmp));
  try {
    fill(tmp);
    if (existsSync(dir)) {
      const old = `${tmp}.old`;
      fsCall(dir, 'move aside', () => renameSync(dir, old));
      try {
        fsCall(dir, 'replace', () => renameSync(tmp, dir));
      } catch (err) {
        renameSync(old, dir);
        throw err;
      }
      remove(old);
    } else fsCall(dir, 'create', () => renameSync(tmp, dir));
  } catch (err) {
    remove(tmp);
    throw err;
  }
}
