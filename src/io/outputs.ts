// Output locations checked before any work starts: a run that would fail to save its results
// after an hour of training fails in its first second instead, naming the directory and why.
import { closeSync, existsSync, openSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { temporaryPath } from './atomic.js';
import { FileSystemError, fsCall } from '../util/fs_errors.js';

/** Throws unless a file can be created in existing directory `dir` (a probe file, removed at once). */
function probeWritable(dir: string, action: string): void {
  const probe = temporaryPath(join(dir, 'write-probe'));
  const fd = fsCall(dir, action, () => openSync(probe, 'wx'));
  closeSync(fd);
  unlinkSync(probe);
}

function nearestExisting(path: string): string {
  let d = path;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

function requireDirectory(dir: string, what: string): void {
  if (!fsCall(dir, 'use as a directory', () => statSync(dir)).isDirectory()) {
    throw new FileSystemError(dir, 'ENOTDIR', `${dir}: cannot hold ${what}: it is not a directory`);
  }
}

/**
 * Checks, without creating anything, that directory `dir` (which may not exist yet: it and its
 * parents are created later) can be created and written: its nearest existing ancestor must be a
 * directory that accepts new files. `what` names the output in messages ("the run directory").
 */
export function checkOutputDirectory(dir: string, what: string): void {
  const at = nearestExisting(dir);
  requireDirectory(at, at === dir ? what : `${what} ${dir}`);
  probeWritable(at, at === dir ? `write into ${what}` : `create ${what} ${dir}`);
}

/**
 * Checks, without creating anything, that file `path` can be written: its directory must exist
 * and accept new files, and `path` must not be a directory.
 */
export function checkOutputFile(path: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) throw new FileSystemError(dir, 'ENOENT', `${path}: cannot write: the directory ${dir} does not exist`);
  requireDirectory(dir, path);
  if (existsSync(path) && statSync(path).isDirectory()) throw new FileSystemError(path, 'EISDIR', `${path}: cannot write: it is a directory`);
  probeWritable(dir, `create ${path}`);
}
