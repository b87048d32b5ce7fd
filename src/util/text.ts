// Reading text files strictly: readFileSync(path, 'utf8') turns every invalid byte into U+FFFD
// without a word, so a Latin-1 or binary data file would train on garbage. Here invalid UTF-8 is
// an error naming file:line.
import { readFileSync } from 'node:fs';
import { fsCall } from './fs_errors.js';

/** Text that is not valid UTF-8; the message names file:line and the byte offset in the line. */
export class TextEncodingError extends Error {
  override name = 'TextEncodingError';
}

const strict = (): TextDecoder => new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Where the first invalid UTF-8 sequence of `bytes` begins: 1-based line, 0-based byte in that line. */
function firstInvalid(bytes: Uint8Array): { line: number; column: number } {
  const decoder = strict();
  let line = 1, lineStart = 0, seqStart = 0, need = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    try {
      decoder.decode(bytes.subarray(i, i + 1), { stream: true });
    } catch {
      return { line, column: (need > 0 ? seqStart : i) - lineStart };
    }
    if (need > 0 && (b & 0xc0) === 0x80) need--;
    else if (b >= 0xc0) {
      seqStart = i;
      need = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
    } else if (b === 0x0a) {
      // A newline byte never occurs inside a multi-byte sequence.
      line++;
      lineStart = i + 1;
    }
  }
  // Nothing threw: the text ends inside a sequence.
  return { line, column: seqStart - lineStart };
}

/** `bytes` as UTF-8 text (a BOM is kept), or a TextEncodingError naming `file`:line. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return strict().decode(bytes);
  } catch {
    const { line, column } = firstInvalid(bytes);
    throw new TextEncodingError(`${file}:${line}: invalid UTF-8 at byte ${column + 1} of the line (the file must be UTF-8 text; convert it, e.g. with iconv)`);
  }
}

/** Reads a UTF-8 text file; errors name the file (and, for bad encoding, the line). */
export function readTextFile(path: string): string {
  return decodeUtf8(fsCall(path, 'read', () => readFileSync(path)), path);
}
