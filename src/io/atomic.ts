// Writing files and directories so that a crash or an error never leaves a half-written one: the
// new content goes to a temporary sibling (rename is atomic only within one filesystem), which
// then replaces the target.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes `chunks` to `path` so that a crash or error never leaves a partial file there: the data
 * goes to a temporary file in the same directory (rename is atomic only within one filesystem),
 * is fsynced, then renamed over `path`; the directory is fsynced so the rename itself survives.
 */
export function writeFileAtomic(path: string, chunks: readonly (Uint8Array | string)[]): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o644);
  let ok = false;
  try {
    for (const c of chunks) {
      const bytes = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    }
    fsyncSync(fd);
    ok = true;
  } finally {
    closeSync(fd);
    if (!ok) try { unlinkSync(tmp); } catch { /* already gone */ }
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  try {
    const dfd = openSync(dir, 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch {
    // Some filesystems refuse fsync on a directory; the file itself is already durable.
  }
}

/**
 * Fills `dir` as one unit: `fill` writes into a fresh sibling directory which then replaces
 * `dir`, so a crash never leaves a directory that mixes old and new files or holds half of them.
 */
export function writeDirAtomic(dir: string, fill: (tmp: string) => void): void {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const tmp = join(parent, `.${basename(dir)}.${tag}.tmp`);
  mkdirSync(tmp);
  try {
    fill(tmp);
    if (existsSync(dir)) {
      const old = join(parent, `.${basename(dir)}.${tag}.old`);
      renameSync(dir, old);
      renameSync(tmp, dir);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
