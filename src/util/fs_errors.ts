// File-system failures in words a person can act on. Node's errors read `ENOSPC: no space left on
// device, write` (naming no file) or, for a recursive mkdir on a read-only disk, `ENOENT`; every
// writer and reader of the package turns them into `<path>: cannot <action>: <cause>` through here.
import { dirname } from 'node:path';

/** Causes by errno code; ENOENT is worded by fsError, since it means a missing file or directory. */
const CAUSES: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full (no space left on the device)',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted (permission denied)',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EEXIST: 'it already exists',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files on the system',
  EIO: 'input/output error (a failing disk or network file system)',
  ENAMETOOLONG: 'the file name is too long',
  ELOOP: 'too many symbolic links',
  EBUSY: 'the file or device is busy',
  EFBIG: 'the file is too large for the file system',
};

/** A failed file-system call; `path` and `code` (the errno name) are kept for callers. */
export class FileSystemError extends Error {
  override name = 'FileSystemError';
  constructor(readonly path: string, readonly code: string, message: string) {
    super(message);
  }
}

/** The errno name of a Node file-system error, or null for anything else. */
export function errnoCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : null;
}

/**
 * `err` (thrown while trying to `action` `path`, e.g. 'write', 'create the directory') as a
 * FileSystemError naming both and the cause in words; errors that carry no errno pass unchanged.
 */
export function fsError(err: unknown, path: string, action: string): Error {
  if (err instanceof FileSystemError) return err;
  const code = errnoCode(err);
  if (code === null) return err instanceof Error ? err : new Error(String(err));
  const cause = code === 'ENOENT'
    ? (/^(read|open|stat)/.test(action) ? 'no such file or directory' : `the directory ${dirname(path)} does not exist`)
    : CAUSES[code] ?? (err as Error).message;
  return new FileSystemError(path, code, `${path}: cannot ${action}: ${cause} (${code})`);
}

/** Runs `fn`, turning a file-system error into fsError(err, path, action). */
export function fsCall<T>(path: string, action: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fsError(err, path, action);
  }
}
