// The safetensors reader/writer: round trips of every dtype we convert, byte-identity with HF's
// own writer on the fixture checkpoint, conversions, atomic writes, and one test per malformed file.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bf16BitsToFloat32, f16BitsToFloat32, float32ToBf16Bits, float32ToF16Bits, toFloat32, toFloat64, toInt32, type HostTensor,
} from '../../src/io/dtype.js';
import { parseSafetensors, readSafetensors, readSafetensorsHeader } from '../../src/io/safetensors.js';
import { serializeSafetensors, writeSafetensors } from '../../src/io/safetensors_writer.js';
import { rng } from '../util/check.js';
import { sharedTest } from '../util/shared.js';
import { throwsWith } from '../util/throws.js';

const t = suite('io/safetensors');
const dir = mkdtempSync(join(tmpdir(), 'bpt-st-'));

/** A file built by hand: header JSON (padded or not) followed by `data` bytes. */
function rawFile(name: string, header: unknown, data: Uint8Array | number, opts: { headerLen?: bigint } = {}): string {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const bytes = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + bytes.length);
  new DataView(out.buffer).setBigUint64(0, opts.headerLen ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes, 8 + json.length);
  const p = join(dir, name);
  writeFileSync(p, out);
  return p;
}

t('round-trips F32 and I32 with metadata, HF key order and 8-byte padding', () => {
  const r = rng(1);
  const a = Float32Array.from({ length: 6 }, () => r() - 0.5);
  const ids = Int32Array.from([3, -1, 2147483647, -2147483648]);
  const p = join(dir, 'rt.safetensors');
  writeSafetensors(p, { 'z.weight': { shape: [2, 3], data: a }, 'a.ids': { shape: [4], data: ids } }, { format: 'pt', note: 'x' });
  const raw = readFileSync(p);
  const n = Number(raw.readBigUInt64LE(0));
  assert.is(n % 8, 0, 'header padded to a multiple of 8');
  const header = raw.subarray(8, 8 + n).toString('utf8');
  assert.ok(header.startsWith('{"__metadata__":{"format":"pt","note":"x"},"z.weight":'), `F32 sorts before I32 (descending dtype): ${header}`);
  const f = readSafetensors(p);
  assert.equal(f.metadata, { format: 'pt', note: 'x' });
  assert.equal([...f.tensors.keys()], ['z.weight', 'a.ids']);
  const w = f.tensors.get('z.weight')!;
  assert.is(w.dtype, 'F32');
  assert.equal(w.shape, [2, 3]);
  assert.equal([...toFloat32(w)], [...a]);
  assert.equal([...toInt32(f.tensors.get('a.ids')!)], [...ids]);
  assert.equal([...readSafetensorsHeader(p).tensors.keys()], ['z.weight', 'a.ids']);
});

t('empty tensors and scalars', () => {
  const p = join(dir, 'edge.safetensors');
  writeSafetensors(p, { empty: { shape: [0, 4], data: new Float32Array(0) }, scalar: { shape: [], data: Float32Array.of(2.5) } });
  const f = readSafetensors(p);
  assert.equal(f.tensors.get('empty')!.shape, [0, 4]);
  assert.equal([...toFloat32(f.tensors.get('scalar')!)], [2.5]);
});

t('F16 / BF16 / F64 / I64 conversions', () => {
  const x = Float32Array.of(0, -0, 1, -2.5, 65504, 1e-7, 6.1e-5, 3.14159, 70000, -1e-30, Infinity, NaN);
  const h = float32ToF16Bits(x);
  assert.equal([...h.slice(0, 5)], [0x0000, 0x8000, 0x3c00, 0xc100, 0x7bff]);
  assert.is(h[8], 0x7c00, 'overflow to +inf');
  const back = f16BitsToFloat32(h);
  for (let i = 0; i < 10; i++) if (i !== 8) assert.ok(Math.abs(back[i]! - x[i]!) <= Math.abs(x[i]!) * 2 ** -11 + 2 ** -25, `f16 ${x[i]} -> ${back[i]}`);
  assert.ok(Number.isNaN(back[11]));
  // Round to nearest even at the halfway point between two halves.
  assert.is(float32ToF16Bits(Float32Array.of(1 + 2 ** -11))[0], 0x3c00);
  assert.is(float32ToF16Bits(Float32Array.of(1 + 3 * 2 ** -11))[0], 0x3c02);
  const b = float32ToBf16Bits(x);
  assert.is(b[2], 0x3f80);
  const bb = bf16BitsToFloat32(b);
  for (let i = 0; i < 10; i++) assert.ok(Math.abs(bb[i]! - x[i]!) <= Math.abs(x[i]!) * 2 ** -8, `bf16 ${x[i]} -> ${bb[i]}`);
  assert.ok(Number.isNaN(bb[11]));

  const p = join(dir, 'mixed.safetensors');
  const tensors: Record<string, HostTensor> = {
    h: { dtype: 'F16', shape: [12], data: h },
    b: { dtype: 'BF16', shape: [12], data: b },
    d: { dtype: 'F64', shape: [2], data: Float64Array.of(1.5, -1 / 3) },
    l: { dtype: 'I64', shape: [3], data: BigInt64Array.of(-5n, 0n, 2147483647n) },
  };
  writeSafetensors(p, tensors);
  const f = readSafetensors(p);
  assert.equal([...f.tensors.keys()], ['l', 'd', 'b', 'h'], 'I64 > F64 > BF16 > F16 as HF orders dtypes');
  assert.equal([...toFloat32(f.tensors.get('h')!)].slice(0, 10), [...back].slice(0, 10));
  assert.equal([...toFloat64(f.tensors.get('d')!)], [1.5, -1 / 3]);
  assert.equal([...toInt32(f.tensors.get('l')!)], [-5, 0, 2147483647]);
  throwsWith(() => toInt32({ dtype: 'I64', shape: [2], data: BigInt64Array.of(1n, 2147483648n) }, 'ids'), 'ids', '2147483648', '[1]', 'int32');
  throwsWith(() => toFloat32(f.tensors.get('l')!, 'l'), 'l', 'I64', 'not a float');
});

sharedTest(t, "writer output is byte-identical to HF's model.safetensors", ['fixtures', 't5-parity', 't5_v10_relu_tied', 'model.safetensors'], (path) => {
  const f = readSafetensors(path);
  assert.is(f.tensors.size, 47);
  assert.equal(f.metadata, { format: 'pt' });
  const ours = Buffer.concat(serializeSafetensors(f.tensors, f.metadata));
  assert.ok(ours.equals(readFileSync(path)), 'same bytes as the file HF wrote');
});

sharedTest(t, 'reads the I64/F64 reference file', ['fixtures', 't5-parity', 't5_v10_relu_tied', 'reference.safetensors'], (path) => {
  const f = readSafetensors(path);
  const ids = f.tensors.get('inputs.input_ids')!;
  assert.is(ids.dtype, 'I64');
  assert.equal(ids.shape, [3, 12]);
  const labels = toInt32(f.tensors.get('inputs.labels')!);
  assert.ok(labels.includes(-100));
  assert.is(toFloat64(f.tensors.get('f64x.logits')!).length, 3 * 18 * 256);
});

t('atomic write: a failing write leaves the old file and no temporary file', () => {
  const p = join(dir, 'atomic.safetensors');
  writeSafetensors(p, { a: { shape: [2], data: Float32Array.of(1, 2) } });
  const before = readFileSync(p);
  throwsWith(() => writeSafetensors(p, { a: { shape: [3], data: Float32Array.of(1, 2) } }), '"a"', '2 elements', '[3]');
  const bad = { a: { shape: [2], data: Float32Array.of(1, 2) }, b: { shape: [1], data: [1] as unknown as Float32Array } };
  throwsWith(() => writeSafetensors(p, bad), '"b"');
  assert.ok(readFileSync(p).equals(before), 'old file intact');
  assert.equal(readdirSync(dir).filter((f) => f.includes('.bpt-tmp-')), [], 'no temporary left behind');
  throwsWith(() => writeSafetensors(join(dir, 'no-such-dir', 'x.safetensors'), { a: { shape: [1], data: Float32Array.of(1) } }), 'no-such-dir');
});

// ---- validation: every error names the file and, where there is one, the tensor ----

const f32 = (n: number) => new Uint8Array(new Float32Array(n).buffer);

t('error: file shorter than the length prefix', () => {
  const p = join(dir, 'tiny.safetensors');
  writeFileSync(p, new Uint8Array(5));
  throwsWith(() => readSafetensors(p), p, 'truncated');
});

t('error: header length beyond the file size', () => {
  const p = rawFile('hdrlen.safetensors', { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4, { headerLen: 10_000n });
  throwsWith(() => readSafetensors(p), p, 'header length 10000', 'beyond the file size');
  const huge = rawFile('hdrhuge.safetensors', {}, 0, { headerLen: 2n ** 63n });
  throwsWith(() => readSafetensors(huge), huge, 'beyond the file size');
});

t('error: malformed JSON header', () => {
  const p = rawFile('json.safetensors', '{"a": {"dtype": "F32", ', 0);
  throwsWith(() => readSafetensors(p), p, 'malformed JSON header');
  const q = rawFile('json2.safetensors', '[1, 2]   ', 0);
  throwsWith(() => readSafetensors(q), q, 'malformed JSON header');
});

t('error: unknown dtype', () => {
  const p = rawFile('dtype.safetensors', { w: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, 16);
  throwsWith(() => readSafetensors(p), p, 'tensor "w"', 'unknown dtype "F128"');
});

t('error: data_offsets out of range', () => {
  const p = rawFile('range.safetensors', { w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, 8);
  throwsWith(() => readSafetensors(p), p, 'tensor "w"', 'data_offsets [8,0] out of range');
  const q = rawFile('range2.safetensors', { w: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, 8);
  throwsWith(() => readSafetensors(q), q, 'tensor "w"', 'out of range');
});

t('error: overlapping data_offsets', () => {
  const p = rawFile('overlap.safetensors', {
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
  }, f32(3));
  throwsWith(() => readSafetensors(p), p, 'tensor "b"', 'overlap tensor "a"');
});

t('error: hole between tensors', () => {
  const p = rawFile('hole.safetensors', {
    a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
    b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
  }, f32(3));
  throwsWith(() => readSafetensors(p), p, 'tensor "b"', 'hole');
});

t('error: byte length disagrees with dtype x shape', () => {
  const p = rawFile('len.safetensors', { w: { dtype: 'F16', shape: [3, 2], data_offsets: [0, 24] } }, 24);
  throwsWith(() => readSafetensors(p), p, 'tensor "w"', '24 bytes', 'F16 x [3, 2] needs 12');
});

t('error: truncated data', () => {
  const good = join(dir, 'good.safetensors');
  writeSafetensors(good, { a: { shape: [4], data: new Float32Array(4) }, b: { shape: [8], data: new Float32Array(8) } });
  const bytes = readFileSync(good);
  const p = join(dir, 'trunc.safetensors');
  writeFileSync(p, bytes.subarray(0, bytes.length - 5));
  throwsWith(() => readSafetensors(p), p, 'file truncated', 'tensor "b"');
  throwsWith(() => parseSafetensors(bytes.subarray(0, bytes.length - 5), 'mem'), 'mem', 'file truncated');
  const extra = join(dir, 'extra.safetensors');
  writeFileSync(extra, Buffer.concat([bytes, Buffer.alloc(3)]));
  throwsWith(() => readSafetensors(extra), extra, '3 trailing bytes');
});

t('a header claiming 8 GiB: refused from the header in a small file, and by the caller before any read in a sparse one', () => {
  const huge = 8 * 2 ** 30;
  const small = rawFile('claims8g.safetensors', { prompts: { dtype: 'F32', shape: [huge / 4], data_offsets: [0, huge] } }, 16);
  throwsWith(() => readSafetensors(small), small, 'tensor "prompts"', `end at byte ${huge}`, 'out of range of the 16 data bytes');
  const sparse = rawFile('sparse8g.safetensors', { prompts: { dtype: 'F32', shape: [huge / 64, 4, 4], data_offsets: [0, huge] } }, 0);
  truncateSync(sparse, statSync(sparse).size + huge);
  const t0 = performance.now();
  let seen: number[] = [];
  throwsWith(() => readSafetensors(sparse, undefined, (h) => {
    seen = h.tensors.get('prompts')!.shape;
    throw new Error(`${sparse}: prompts are [${seen.join(', ')}], expected [2, 4, 4]`);
  }), sparse, `prompts are [${huge / 64}, 4, 4]`);
  assert.equal(seen, [huge / 64, 4, 4]);
  assert.ok(performance.now() - t0 < 2000, 'nothing was allocated or read');
});

t('error: bad shape and bad metadata', () => {
  const p = rawFile('shape.safetensors', { w: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 0] } }, 0);
  throwsWith(() => readSafetensors(p), p, 'tensor "w"', 'shape');
  const q = rawFile('meta.safetensors', { __metadata__: { n: 3 } }, 0);
  throwsWith(() => readSafetensors(q), q, '__metadata__.n');
});

t.after(() => rmSync(dir, { recursive: true, force: true }));
t.run();
