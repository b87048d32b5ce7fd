// The uniform-struct packer against WGSL layouts computed by hand from the uniform address space
// rules (scalars 4-aligned, vec4 and array<vec4> 16-aligned with stride 16, struct size rounded to
// its alignment), and its refusals. No GPU needed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { padTo, uniformStruct } from '../../src/gpu/params.js';

const t = suite('uniform params');

const words = (buf: ArrayBuffer) => Array.from(new Uint32Array(buf));
const offsets = (s: { fields: ReadonlyArray<{ name: string; offset: number }> }) => Object.fromEntries(s.fields.map((f) => [f.name, f.offset]));

t('scalars pack at 4-byte offsets; the bytes are padded to 16', () => {
  const s = uniformStruct('P', { a: 'u32', b: 'i32', c: 'f32' });
  assert.equal(offsets(s), { a: 0, b: 4, c: 8 });
  assert.is(s.size, 12);
  const buf = s.pack({ a: 7, b: -2, c: 1.5 });
  assert.is(buf.byteLength, 16);
  const v = new DataView(buf);
  assert.is(v.getUint32(0, true), 7);
  assert.is(v.getInt32(4, true), -2);
  assert.is(v.getFloat32(8, true), 1.5);
  assert.is(v.getUint32(12, true), 0);
});

t('a vec4 after three scalars starts at 16; an array of vec4 at the next 16', () => {
  // n@0 rank@4 alpha@8 | pad 12 | shape@16 (2 x 16) | v@48 | x@64 | pad 68..80
  const s = uniformStruct('Mixed', { n: 'u32', rank: 'u32', alpha: 'f32', shape: ['vec4<u32>', 2], v: 'vec4<f32>', x: 'u32' });
  assert.equal(offsets(s), { n: 0, rank: 4, alpha: 8, shape: 16, v: 48, x: 64 });
  assert.is(s.size, 80);
  const buf = s.pack({ n: 1, rank: 3, alpha: 0, shape: [5, 6, 7], v: [0.5], x: 9 });
  const w = words(buf);
  assert.is(buf.byteLength, 80);
  assert.equal(w.slice(0, 4), [1, 3, 0, 0]);
  // Short lists are zero-filled.
  assert.equal(w.slice(4, 12), [5, 6, 7, 0, 0, 0, 0, 0]);
  assert.is(new Float32Array(buf)[12], 0.5);
  assert.equal(w.slice(13, 20), [0, 0, 0, 9, 0, 0, 0]);
});

t('a struct of scalars only ends unpadded in WGSL; one with a vec4 rounds to 16', () => {
  assert.is(uniformStruct('A', { a: 'u32', b: 'u32', c: 'u32', d: 'u32', e: 'f32' }).size, 20);
  assert.is(uniformStruct('B', { v: 'vec4<i32>', e: 'f32' }).size, 32);
  assert.is(uniformStruct('C', { e: 'f32', v: 'vec4<i32>' }).size, 32);
});

t('the emitted WGSL declares the fields in order', () => {
  const s = uniformStruct('CopyParams', { n: 'u32', off: 'i32', shape: ['vec4<u32>', 2], scale: 'vec4<f32>' });
  assert.is(s.wgsl, 'struct CopyParams {\n  n: u32,\n  off: i32,\n  shape: array<vec4<u32>, 2>,\n  scale: vec4<f32>,\n}\n');
});

t('fields are written by name, whatever the order of the values', () => {
  const s = uniformStruct('P', { a: 'u32', b: 'u32' });
  assert.equal(words(s.pack({ b: 2, a: 1 })), [1, 2, 0, 0]);
});

t('a missing, unknown or oversized field is refused, naming the kernel and the field', () => {
  const s = uniformStruct('Params', { n: 'u32', shape: ['vec4<u32>', 2] });
  const values = (v: object) => v as Parameters<typeof s.pack>[0];
  assert.throws(() => s.pack(values({ shape: [] }), 'test.kernel'), /test\.kernel: Params\.n is missing/);
  assert.throws(() => s.pack(values({ n: 1, shape: [], extra: 2 }), 'test.kernel'), /test\.kernel: Params has no field "extra"/);
  assert.throws(() => s.pack({ n: 1, shape: [1, 2, 3, 4, 5, 6, 7, 8, 9] }, 'test.kernel'), /test\.kernel: Params\.shape takes at most 8 numbers/);
  assert.throws(() => s.pack(values({ n: [1], shape: [] }), 'test.kernel'), /Params\.n takes a number/);
});

t('declarations that cannot fit a dispatch slot or an array length that is not a count are refused', () => {
  assert.throws(() => uniformStruct('Big', { a: ['vec4<u32>', 17] }), /Big: 272 bytes of parameters exceed the 256-byte slot/);
  assert.throws(() => uniformStruct('Bad', { a: ['vec4<u32>', 0] }), /Bad\.a: array length 0/);
});

t('padTo fills to a length', () => {
  assert.equal(padTo([3, 4], 5, 1), [3, 4, 1, 1, 1]);
  assert.equal(padTo([3, 4], 1, 1), [3, 4]);
});

t.run();
