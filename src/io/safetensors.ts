// Reading and writing Hugging Face .safetensors files on the host.
//
// Layout: an 8-byte little-endian u64 N, N bytes of JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}},
// then the data buffer that the offsets index. Files are read with positioned reads rather than
// one readFileSync so that multi-GB checkpoints do not hit Node's Buffer size limit, and every
// tensor gets its own aligned copy (a view into a pooled Buffer can be misaligned for its type).
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { endianness } from 'node:os';

/** Element types of the safetensors format, in the order of the reference implementation's enum. */
export const DTYPES = [
  'BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64',
] as const;
export type Dtype = (typeof DTYPES)[number];

/** Bytes per element. */
export const DTYPE_SIZE: Readonly<Record<Dtype, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

/**
 * Host storage per dtype. F16/BF16 keep their raw bits in a Uint16Array (JS has no half type);
 * 8-bit floats and BOOL keep raw bytes.
 */
export interface DtypeArray {
  BOOL: Uint8Array; U8: Uint8Array; I8: Int8Array; F8_E5M2: Uint8Array; F8_E4M3: Uint8Array;
  I16: Int16Array; U16: Uint16Array; F16: Uint16Array; BF16: Uint16Array;
  I32: Int32Array; U32: Uint32Array; F32: Float32Array; F64: Float64Array; I64: BigInt64Array; U64: BigUint64Array;
}
export type HostData = DtypeArray[Dtype];

/** One tensor as stored in a file: dtype, row-major shape, and its elements. */
export interface HostTensor<D extends Dtype = Dtype> {
  dtype: D;
  shape: number[];
  data: DtypeArray[D];
}

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

/** A whole file read into host memory. */
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

const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

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

/** Reads and validates only the header of a .safetensors file. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openSync(path, 'r');
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
 * Reads a .safetensors file into host tensors, validating the header first (see the module
 * comment); `only`, when given, restricts which tensors are loaded.
 */
export function readSafetensors(path: string, only?: (name: string) => boolean): SafetensorsFile {
  const fd = openSync(path, 'r');
  try {
    const header = readHeaderFd(fd, path);
    const tensors = new Map<string, HostTensor>();
    for (const [name, info] of header.tensors) {
      if (only && !only(name)) continue;
      const [begin, end] = info.dataOffsets;
      const bytes = new Uint8Array(new ArrayBuffer(end - begin));
      readExactly(fd, bytes, header.dataStart + begin, path, `tensor "${name}"`);
      tensors.set(name, { dtype: info.dtype, shape: info.shape, data: viewAs(info.dtype, bytes) });
    }
    return { tensors, metadata: header.metadata };
  } finally {
    closeSync(fd);
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

// ---------------------------------------------------------------------------------------------
// Conversions

const F16_TO_F32 = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return t;
})();

/** Decodes IEEE half-precision bits. */
export function f16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = F16_TO_F32[bits[i]!]!;
  return out;
}

/** Decodes bfloat16 bits (the upper half of a float32). */
export function bf16BitsToFloat32(bits: Uint16Array): Float32Array {
  const u = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i]! << 16;
  return new Float32Array(u.buffer);
}

/** Rounds float32 values to bfloat16 bits, to nearest even (as torch does); NaN stays NaN. */
export function float32ToBf16Bits(x: Float32Array): Uint16Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = u[i]!;
    if ((v & 0x7f800000) === 0x7f800000 && v & 0x7fffff) out[i] = (v >>> 16) | 0x40;
    else out[i] = (v + 0x7fff + ((v >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** Rounds float32 values to IEEE half bits, to nearest even; overflow becomes +-Infinity. */
export function float32ToF16Bits(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  for (let i = 0; i < x.length; i++) {
    f[0] = x[i]!;
    const v = u[0]!;
    const sign = (v >>> 16) & 0x8000;
    const exp = (v >>> 23) & 0xff;
    let mant = v & 0x7fffff;
    if (exp === 0xff) { out[i] = sign | 0x7c00 | (mant ? 0x200 : 0); continue; }
    const e = exp - 127 + 15;
    if (e >= 31) { out[i] = sign | 0x7c00; continue; }
    if (e <= 0) {
      if (e < -10) { out[i] = sign; continue; }
      mant |= 0x800000;
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      const rem = mant & ((1 << shift) - 1);
      let m = mant >>> shift;
      if (rem > half || (rem === half && m & 1)) m++;
      out[i] = sign | m;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
    out[i] = sign | h;
  }
  return out;
}

/** Converts a floating tensor (F16, BF16, F32, F64) to float32; `what` names it in errors. */
export function toFloat32(t: HostTensor, what = 'tensor'): Float32Array {
  switch (t.dtype) {
    case 'F32': return t.data as Float32Array;
    case 'F16': return f16BitsToFloat32(t.data as Uint16Array);
    case 'BF16': return bf16BitsToFloat32(t.data as Uint16Array);
    case 'F64': return Float32Array.from(t.data as Float64Array);
    default: throw new SafetensorsError(`${what}: dtype ${t.dtype} is not a float type (F16, BF16, F32, F64)`);
  }
}

/** Converts a floating tensor to float64 (for grading against float64 references). */
export function toFloat64(t: HostTensor, what = 'tensor'): Float64Array {
  if (t.dtype === 'F64') return t.data as Float64Array;
  return Float64Array.from(toFloat32(t, what));
}

/**
 * Converts an integer tensor (I64, I32, and the narrower integer types) to int32; throws, naming
 * the element, when an I64/U64/U32 value does not fit.
 */
export function toInt32(t: HostTensor, what = 'tensor'): Int32Array {
  switch (t.dtype) {
    case 'I32': return t.data as Int32Array;
    case 'I64': case 'U64': {
      const src = t.data as BigInt64Array | BigUint64Array;
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!;
        if (v > 2147483647n || v < -2147483648n) throw new SafetensorsError(`${what}: ${t.dtype} value ${v} at [${i}] does not fit in int32`);
        out[i] = Number(v);
      }
      return out;
    }
    case 'U32': {
      const src = t.data as Uint32Array;
      for (let i = 0; i < src.length; i++) {
        if (src[i]! > 2147483647) throw new SafetensorsError(`${what}: U32 value ${src[i]} at [${i}] does not fit in int32`);
      }
      return new Int32Array(src);
    }
    case 'I16': case 'U16': case 'I8': case 'U8': case 'BOOL':
      return Int32Array.from(t.data as Int16Array | Uint16Array | Int8Array | Uint8Array);
    default: throw new SafetensorsError(`${what}: dtype ${t.dtype} is not an integer type`);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

/** What the writer accepts: a plain float32/int32 array with a shape, or any typed host tensor. */
export type WritableTensor = { shape: readonly number[]; data: Float32Array | Int32Array } | HostTensor;

function dtypeOf(t: WritableTensor, name: string): Dtype {
  if ('dtype' in t) return t.dtype;
  if (t.data instanceof Float32Array) return 'F32';
  if (t.data instanceof Int32Array) return 'I32';
  throw new SafetensorsError(`tensor "${name}": data must be a Float32Array or Int32Array, or give a dtype`);
}

/**
 * Lays out a safetensors image exactly as the reference writer does: tensors sorted by descending
 * dtype (its enum order, which keeps wide types aligned) then by name, compact JSON with
 * `__metadata__` first, header padded with spaces to a multiple of 8. Returns the chunks to write.
 */
export function serializeSafetensors(
  tensors: Map<string, WritableTensor> | Record<string, WritableTensor>,
  metadata?: Record<string, string>,
): Uint8Array[] {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const rank = (d: Dtype) => DTYPES.indexOf(d);
  const items = entries.map(([name, t]) => {
    const dtype = dtypeOf(t, name);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every(isNonNegInt)) throw new SafetensorsError(`tensor "${name}": bad shape [${t.shape.join(', ')}]`);
    if (t.data.length !== numel) throw new SafetensorsError(`tensor "${name}": ${t.data.length} elements but shape [${t.shape.join(', ')}] has ${numel}`);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    return { name, dtype, shape: [...t.shape], bytes };
  });
  items.sort((a, b) => rank(b.dtype) - rank(a.dtype) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata) {
    const sorted: Record<string, string> = {};
    for (const k of Object.keys(metadata).sort()) {
      if (typeof metadata[k] !== 'string') throw new SafetensorsError(`metadata "${k}" is not a string`);
      sorted[k] = metadata[k]!;
    }
    header.__metadata__ = sorted;
  }
  let offset = 0;
  for (const it of items) {
    if (it.name === '__metadata__') throw new SafetensorsError('"__metadata__" is reserved and cannot name a tensor');
    header[it.name] = { dtype: it.dtype, shape: it.shape, data_offsets: [offset, offset + it.bytes.length] };
    offset += it.bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(json.length), true);
  return [len, json, ...items.map((it) => it.bytes)];
}

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
 * Writes tensors (+ optional string metadata) to a .safetensors file atomically, in the reference
 * layout (see serializeSafetensors).
 */
export function writeSafetensors(
  path: string,
  tensors: Map<string, WritableTensor> | Record<string, WritableTensor>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
