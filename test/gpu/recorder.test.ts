import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { gpu, GpuError } from '../../src/gpu/device.js';
import { pipelineCount, type Kernel } from '../../src/gpu/kernels.js';
import { uniformStruct } from '../../src/gpu/params.js';
import { recorder } from '../../src/gpu/recorder.js';
import { sizeClass } from '../../src/gpu/buffers.js';
import { add, scale } from '../../src/ops/elementwise.js';
import { fill } from '../../src/ops/fill.js';
import { launch } from '../../src/ops/launch.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { initGpu, read } from '../util/gpu.js';

const t = suite('recorder');
t.before(async () => void (await initGpu()));

async function rejects(p: () => Promise<unknown> | unknown): Promise<string> {
  try {
    await p();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

t('many dispatches in one submit each see their own parameters', async () => {
  const before = recorder().snapshot();
  const x = tensor([1, 2, 3]);
  const outs = tidy(() => Array.from({ length: 300 }, (_, i) => scale(x, i)));
  const submitsBefore = recorder().snapshot().submits;
  assert.is(submitsBefore, before.submits, 'ops must only record');
  const values = await Promise.all(outs.map((o) => o.toArray()));
  values.forEach((v, i) => assert.equal([...v], [i, 2 * i, 3 * i]));
  outs.forEach((o) => o.dispose());
  x.dispose();
});

t('a step of many ops is one submit', async () => {
  const x = tensor(new Float32Array(1000).fill(1));
  recorder().submit();
  const s0 = recorder().snapshot();
  const y = tidy(() => {
    let y = x;
    for (let i = 0; i < 50; i++) y = add(y, x);
    return y;
  });
  assert.is((await read(y))[999], 51);
  const s1 = recorder().snapshot();
  assert.is(s1.submits - s0.submits, 1);
  assert.is(s1.dispatches - s0.dispatches, 50);
  y.dispose();
  x.dispose();
});

t('buffers are reused only after the submit that used them', async () => {
  const pool = recorder().pool;
  await recorder().sync();
  // Idle buffers left by earlier tests (a disposed step plan returns many) would serve b.
  pool.trim();
  const a = fill([4096], 3);
  const stats0 = pool.snapshot();
  a.dispose();
  // Not yet submitted: a new tensor of the same size must get a different buffer.
  const b = fill([4096], 5);
  assert.is(pool.snapshot().buffersCreated, stats0.buffersCreated + 1);
  assert.is((await read(b))[0], 5);
  b.dispose();
  const c = fill([4096], 7);
  assert.is(pool.snapshot().buffersCreated, stats0.buffersCreated + 1, 'after the submit the buffers are recycled');
  assert.is((await read(c))[4095], 7);
  c.dispose();
});

t('size classes: at most 25% waste, 256-byte multiples', () => {
  for (const n of [1, 255, 256, 257, 1000, 4097, 1 << 20, (1 << 20) + 1, 123456789]) {
    const s = sizeClass(n);
    assert.ok(s >= n && s % 256 === 0 && s <= Math.max(256, n * 1.25 + 256), `${n} -> ${s}`);
  }
});

t('tidy disposes intermediates and keeps the result', async () => {
  const inUse0 = recorder().pool.snapshot().inUse;
  const x = tensor([1, 2]);
  const y = tidy(() => add(scale(x, 2), scale(x, 3)));
  assert.equal([...(await y.toArray())], [5, 10]);
  y.dispose();
  x.dispose();
  assert.is(recorder().pool.snapshot().inUse, inUse0);
});

t('use after dispose names the tensor', async () => {
  const x = tensor([1, 2, 3]);
  x.dispose();
  const msg = await rejects(() => scale(x, 2));
  assert.match(msg, /used after dispose/);
  assert.match(msg, /f32\[3\]/);
});

t('a tensor over the binding limit is refused with its size', async () => {
  const limit = gpu().report.maxStorageBufferBindingSize;
  const msg = await rejects(() => Tensor.empty([Math.floor(limit / 4) + 1024], 'f32', 'huge'));
  assert.match(msg, /maxStorageBufferBindingSize/);
  assert.match(msg, /huge/);
});

const ONE_U32 = uniformStruct('Params', { n: 'u32' });

t('a WGSL compile error names the shader and line', async () => {
  const bad: Kernel = {
    name: 'test.broken_shader',
    code: '@group(0) @binding(0) var<uniform> p: Params;\n@group(0) @binding(1) var<storage, read_write> y: array<f32>;\n@compute @workgroup_size(1) fn main() { y[0] = undefined_thing; }',
    params: ONE_U32,
    inputs: 0,
    outputs: 1,
  };
  const out = Tensor.empty([1]);
  launch(bad, { inputs: [], outputs: [out], params: { n: 0 }, workgroups: [1], label: 'broken op f32[1]' });
  const msg = await rejects(() => recorder().sync());
  assert.ok(msg.includes('test.broken_shader'), msg);
  // The appended parameter structs leave the source's line numbers alone.
  assert.match(msg, /line 3:/);
  out.dispose();
  await recorder().sync();
});

t('a validation error names the ops of the failing submit', async () => {
  const k: Kernel = {
    name: 'test.two_outputs',
    code: '@group(0) @binding(0) var<uniform> p: Params;\n@group(0) @binding(1) var<storage, read_write> y: array<f32>;\n@group(0) @binding(2) var<storage, read_write> z: array<f32>;\n@compute @workgroup_size(1) fn main() { y[0] = 1.0; z[0] = 2.0; }',
    params: ONE_U32,
    inputs: 0,
    outputs: 2,
  };
  const out = Tensor.empty([1]);
  // The same buffer bound twice as writable is a validation error.
  launch(k, { inputs: [], outputs: [out, out], params: { n: 0 }, workgroups: [1], label: 'aliasing op f32[1]' });
  const msg = await rejects(() => recorder().sync());
  assert.ok(msg.includes('aliasing op f32[1]'), msg);
  out.dispose();
  await recorder().sync();
});

t('pipelines are cached per shader and overrides', () => {
  const x = tensor([1]);
  tidy(() => scale(x, 1));
  const n = pipelineCount();
  tidy(() => scale(x, 5));
  assert.is(pipelineCount(), n);
  x.dispose();
});

t('i32 tensors round-trip and reject non-integers', async () => {
  const x = tensor([1, -2, 2147483647], [3], 'i32');
  assert.equal([...(await x.toArray())], [1, -2, 2147483647]);
  x.dispose();
  assert.match(await rejects(() => tensor([1.5], [1], 'i32')), /not a 32-bit integer/);
  assert.match(await rejects(() => tensor([1, 2, 3], [2, 2])), /do not fill shape \[2,2\]/);
});

t('GpuError is what the engine throws', async () => {
  const msg = await rejects(async () => {
    try {
      tensor([1, 2, 3], [2]);
    } catch (e) {
      assert.instance(e, GpuError);
      throw e;
    }
  });
  assert.ok(msg.length > 0);
});

t.run();
