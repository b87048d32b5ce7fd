// Writing .safetensors files in the reference implementation's layout (see serializeSafetensors).
import { writeFileAtomic } from './atomic.js';
import { DTYPES, dtypeOf, type Dtype, type HostTensor } from './dtype.js';
import { isNonNegInt, SafetensorsError } from './safetensors.js';

/**
 * Lays out a safetensors image exactly as the reference writer does: tensors sorted by descending
 * dtype (its enum order, which keeps wide types aligned) then by name, compact JSON with
 * `__metadata__` first, header padded with spaces to a multiple of 8. Returns the chunks to write.
 */
export function serializeSafetensors(
  tensors: Map<string, HostTensor> | Record<string, HostTensor>,
  metadata?: Record<string, string>,
): Uint8Array[] {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const rank = (d: Dtype) => DTYPES.indexOf(d);
  const items = entries.map(([name, t]) => {
    const dtype = dtypeOf(t, `tensor "${name}"`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => isNonNegInt(d))) throw new SafetensorsError(`tensor "${name}": bad shape [${t.shape.join(', ')}]`);
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
 * Writes tensors (+ optional string metadata) to a .safetensors file atomically, in the reference
 * layout (see serializeSafetensors).
 */
export function writeSafetensors(
  path: string,
  tensors: Map<string, HostTensor> | Record<string, HostTensor>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
