// Reading Hugging Face .safetensors files on the host (the writer is safetensors_writer.ts).
//
// Layout: an 8-byte little-endian u64 N, N bytes of JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}},
// then the data buffer that the offsets index. Files are read with positioned reads rather than
// one readFileSync so that multi-GB checkpoints do not hit Node's Buffer size limit, and every
// tensor gets its own aligned copy (a view into a pooled Buffer can be misaligned for its type).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { fsCall } from '../util/fs_errors.js';
import { DTYPE_SIZE, DTYPES, type Dtype, type DtypeArray, type HostTensor } from './dtype.js';

/** Header entry of one tensor; offsets are relative to the start of the data buffer. */
export interface TensorInfo {
  dtype: Dtype;
  shape: number[];
  dataOffsets: [number, number];
}

/** A validated header: tensor entries, string metadata, and where the data buffer starts. */
export interface SafetensorsHeader {
  /** Tensors in header order (which, for files written by HF or by us, is data order). */
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Absolute file offset of the data buffer (8 + N). */
  dataStart: number;
  fileSize: number;
}

/** A whole file read into host memory (every tensor with its dtype). */
export interface SafetensorsFile {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
}

/** The reference implementation refuses headers above 100 MB; a larger N means a corrupt file. */
const MAX_HEADER_BYTES = 100_000_000;

if (endianness() !== 'LE') throw new Error('safetensors: big-endian hosts are not supported');

/** A malformed or unreadable file; the message starts with the file name and names the tensor. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

function fail(file: string, msg: string): never {
  throw new SafetensorsError(`${file}: ${msg}`);
}

function readExactly(fd: number, buf: Uint8Array, position: number, file: string, what: string): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) fail(file, `file truncated while reading ${what}`);
    done += n;
  }
}

/** A JSON value that is a safe non-negative integer (a shape entry, an offset). */
export const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Validates a parsed header against the rules of the reference implementation: known dtypes,
 * integer shapes, offsets that tile the data buffer exactly (no overlap, no hole) and byte lengths
 * that equal numel x dtype size. `dataBytes` is what the file holds after the header.
 */
function validateHeader(json: unknown, file: string, dataBytes: number): Omit<SafetensorsHeader, 'dataStart' | 'fileSize'> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail(file, 'header is not a JSON object');
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(file, '__metadata__ is not an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(file, `__metadata__.${k} is not a string`);
      }
      metadata = { ...(raw as Record<string, string>) };
      continue;
    }
    if (raw === null || typeof raw !== 'object') fail(file, `tensor "${name}": entry is not an object`);
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string' || !(DTYPES as readonly string[]).includes(e.dtype)) {
      fail(file, `tensor "${name}": unknown dtype ${JSON.stringify(e.dtype)} (known: ${DTYPES.join(', ')})`);
    }
    const dtype = e.dtype as Dtype;
    if (!Array.isArray(e.shape) || !e.shape.every(isNonNegInt)) {
      fail(file, `tensor "${name}": shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`);
    }
    const shape = e.shape as number[];
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !isNonNegInt(off[0]) || !isNonNegInt(off[1]) || off[1] < off[0]) {
      fail(file, `tensor "${name}": data_offsets ${JSON.stringify(off)} out of range (need [begin, end] with 0 <= begin <= end)`);
    }
    const [begin, end] = off as [number, number];
    const numel = shape.reduce((a, b) => a * b, 1);
    const want = numel * DTYPE_SIZE[dtype];
    if (end - begin !== want) {
      fail(file, `tensor "${name}": ${end - begin} bytes at data_offsets [${begin}, ${end}] but ${dtype} x [${shape.join(', ')}] needs ${want}`);
    }
    tensors.set(name, { dtype, shape, dataOffsets: [begin, end] });
  }

  const byOffset = [...tensors.entries()].sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]);
  let cursor = 0;
  let prevName = '';
  for (const [name, { dataOffsets: [begin, end] }] of byOffset) {
    if (begin < cursor) fail(file, `tensor "${name}": data_offsets [${begin}, ${end}] overlap tensor "${prevName}" (which ends at ${cursor})`);
    if (begin > cursor) fail(file, `tensor "${name}": data_offsets [${begin}, ${end}] leave a hole after byte ${cursor} of the data buffer`);
    cursor = end;
    prevName = name;
  }
  if (cursor > dataBytes) {
    fail(file, `file truncated: tensor "${prevName}" data_offsets end at byte ${cursor} of the data buffer, out of range of the ${dataBytes} data bytes the file holds`);
  }
  if (cursor < dataBytes) fail(file, `${dataBytes - cursor} trailing bytes after the last tensor's data`);
  return { tensors, metadata };
}

function parseHeaderBytes(bytes: Uint8Array, file: string, dataBytes: number): Omit<SafetensorsHeader, 'dataStart' | 'fileSize'> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    fail(file, 'header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(file, 'malformed JSON header: it does not start with "{"');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    fail(file, `malformed JSON header: ${(err as Error).message}`);
  }
  return validateHeader(json, file, dataBytes);
}

function readHeaderFd(fd: number, file: string): SafetensorsHeader {
  const fileSize = fstatSync(fd).size;
  if (fileSize < 8) fail(file, `file truncated: ${fileSize} bytes, less than the 8-byte header length`);
  const lenBuf = new Uint8Array(8);
  readExactly(fd, lenBuf, 0, file, 'the header length');
  const n64 = new DataView(lenBuf.buffer).getBigUint64(0, true);
  if (n64 > BigInt(fileSize - 8)) fail(file, `header length ${n64} is beyond the file size (${fileSize} bytes)`);
  const n = Number(n64);
  if (n > MAX_HEADER_BYTES) fail(file, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerBytes = new Uint8Array(n);
  readExactly(fd, headerBytes, 8, file, 'the header');
  return { ...parseHeaderBytes(headerBytes, file, fileSize - 8 - n), dataStart: 8 + n, fileSize };
}

function openFile(path: string): number {
  return fsCall(path, 'open', () => openSync(path, 'r'));
}

/** Reads and validates only the header of a .safetensors file. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openFile(path);
  try {
    return readHeaderFd(fd, path);
  } finally {
    closeSync(fd);
  }
}

function viewAs<D extends Dtype>(dtype: D, bytes: Uint8Array): DtypeArray[D] {
  const b = bytes.buffer, o = bytes.byteOffset, n = bytes.byteLength / DTYPE_SIZE[dtype];
  const make: { [K in Dtype]: () => DtypeArray[K] } = {
    BOOL: () => new Uint8Array(b, o, n), U8: () => new Uint8Array(b, o, n), I8: () => new Int8Array(b, o, n),
    F8_E5M2: () => new Uint8Array(b, o, n), F8_E4M3: () => new Uint8Array(b, o, n),
    I16: () => new Int16Array(b, o, n), U16: () => new Uint16Array(b, o, n),
    F16: () => new Uint16Array(b, o, n), BF16: () => new Uint16Array(b, o, n),
    I32: () => new Int32Array(b, o, n), U32: () => new Uint32Array(b, o, n),
    F32: () => new Float32Array(b, o, n), F64: () => new Float64Array(b, o, n),
    I64: () => new BigInt64Array(b, o, n), U64: () => new BigUint64Array(b, o, n),
  };
  return make[dtype]();
}

/**
 * An open .safetensors file whose header has been validated against the file size (see the module
 * comment); tensors are read one at a time, so a caller can check every declared shape and dtype
 * before a byte of tensor data is allocated. close() when done.
 */
export class SafetensorsReader {
  private fd: number | null;

  private constructor(readonly path: string, fd: number, readonly header: SafetensorsHeader) {
    this.fd = fd;
  }

  /** Opens `path` and validates its header; throws a SafetensorsError naming the file otherwise. */
  static open(path: string): SafetensorsReader {
    const fd = openFile(path);
    try {
      return new SafetensorsReader(path, fd, readHeaderFd(fd, path));
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Reads tensor `name` into its own aligned buffer. */
  read(name: string): HostTensor {
    const info = this.header.tensors.get(name);
    if (!info) fail(this.path, `no tensor "${name}"`);
    if (this.fd === null) throw new Error(`${this.path}: read after close`);
    const [begin, end] = info.dataOffsets;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(new ArrayBuffer(end - begin));
    } catch (err) {
      fail(this.path, `tensor "${name}" (${info.dtype} [${info.shape.join(', ')}], ${end - begin} bytes) does not fit in memory: ${(err as Error).message}`);
    }
    const fd = this.fd;
    fsCall(this.path, 'read', () => readExactly(fd, bytes, this.header.dataStart + begin, this.path, `tensor "${name}"`));
    return { dtype: info.dtype, shape: info.shape, data: viewAs(info.dtype, bytes) };
  }

  /** Closes the file; safe to repeat. */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * Reads a .safetensors file into host tensors, validating the header first (see the module
 * comment); `only`, when given, restricts which tensors are loaded. `beforeRead` sees the header
 * before any tensor data is allocated: a caller that knows the shapes it expects throws there.
 */
export function readSafetensors(path: string, only?: (name: string) => boolean, beforeRead?: (header: SafetensorsHeader) => void): SafetensorsFile {
  const reader = SafetensorsReader.open(path);
  try {
    beforeRead?.(reader.header);
    const tensors = new Map<string, HostTensor>();
    for (const name of reader.header.tensors.keys()) {
      if (!only || only(name)) tensors.set(name, reader.read(name));
    }
    return { tensors, metadata: reader.header.metadata };
  } finally {
    reader.close();
  }
}

/** Parses an in-memory .safetensors image (`file` only labels error messages). */
export function parseSafetensors(bytes: Uint8Array, file = '<buffer>'): SafetensorsFile {
  if (bytes.length < 8) fail(file, `file truncated: ${bytes.length} bytes, less than the 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) fail(file, `header length ${n64} is beyond the file size (${bytes.length} bytes)`);
  const n = Number(n64);
  if (n > MAX_HEADER_BYTES) fail(file, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const header = parseHeaderBytes(bytes.subarray(8, 8 + n), file, bytes.length - 8 - n);
  const tensors = new Map<string, HostTensor>();
  for (const [name, info] of header.tensors) {
    const [begin, end] = info.dataOffsets;
    const copy = bytes.slice(8 + n + begin, 8 + n + end);
    tensors.set(name, { dtype: info.dtype, shape: info.shape, data: viewAs(info.dtype, copy) });
  }
  return { tensors, metadata: header.metadata };
}
