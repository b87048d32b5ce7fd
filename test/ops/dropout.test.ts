import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { dropout, dropoutAdd } from '../../src/ops/dropout.js';
import { add, mul } from '../../src/ops/elementwise.js';
import { tensor } from '../../src/tensor/create.js';
import { keep, tidy } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { dropout64, keepMask, philox } from '../ref/dropout.js';
import { assertClose, randArray, rng } from '../util/check.js';
import { gradcheck, initGpu, read } from '../util/gpu.js';
import { sum } from '../../src/ops/sum.js';

const t = suite('dropout');
t.before(async () => void (await initGpu()));

async function run(x: Float64Array, p: number, seed: number, offset = 0): Promise<Float64Array> {
  const y = tidy(() => dropout(tensor(x, [x.length]), p, { seed, offset, training: true }));
  const v = await read(y);
  y.dispose();
  return v;
}

t('host Philox4x32-10 matches the Random123 known-answer vectors', () => {
  const hex = (v: number[]) => v.map((w) => w.toString(16).padStart(8, '0')).join(' ');
  assert.is(hex(philox([0, 0, 0, 0], [0, 0])), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
  assert.is(hex(philox([-1, -1, -1, -1], [-1, -1])), '408f276d 41c83b0e a20bc7c6 6d5451fd');
  assert.is(
    hex(philox([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])),
    'd16cfe09 94fdcceb 5001e420 24126ea1',
  );
});

t('the GPU mask is exactly the Philox mask, for odd sizes, seeds above 2^32 and offsets', async () => {
  const r = rng(31);
  for (const [n, p, seed, offset] of [[1, 0.5, 0, 0], [7, 0.1, 1, 3], [1031, 0.3, 2 ** 40 + 12345, 0], [1031, 0.3, 2 ** 40 + 12345, 7], [4099, 0.9, 77, 1]] as const) {
    const x = randArray(r, n, -2, 2);
    const want = dropout64(x, p, seed, offset);
    assertClose(await run(x, p, seed, offset), want, { rtol: 1e-6, atol: 0, what: `dropout n=${n} p=${p} seed=${seed} offset=${offset}` });
  }
});

t('same seed gives the same mask; other seeds and offsets give other masks; keep rate is 1 - p', async () => {
  const n = 100003;
  const ones = new Float64Array(n).fill(1);
  for (const p of [0.1, 0.5, 0.9]) {
    const a = await run(ones, p, 42), b = await run(ones, p, 42), c = await run(ones, p, 43), d = await run(ones, p, 42, 1);
    assert.ok(a.every((v, i) => v === b[i]), `p=${p}: same seed, same mask`);
    const kept = (v: Float64Array) => v.reduce((s, x) => s + (x !== 0 ? 1 : 0), 0);
    const both = (u: Float64Array, v: Float64Array) => u.reduce((s, x, i) => s + (x !== 0 && v[i] !== 0 ? 1 : 0), 0);
    // Keep rate and independence, each within 5 standard deviations of a binomial count.
    const q = 1 - p;
    for (const [what, count, rate] of [
      ['keep rate', kept(a), q],
      ['kept under both seeds', both(a, c), q * q],
      ['kept under both offsets', both(a, d), q * q],
      ['kept at neighbours i and i+1', both(a.subarray(1), a.subarray(0, n - 1)) * (n / (n - 1)), q * q],
    ] as const) {
      const sigma = Math.sqrt(n * rate * (1 - rate));
      assert.ok(Math.abs(count - n * rate) < 5 * sigma, `p=${p} ${what}: ${count} of ${n}, expected ${(n * rate).toFixed(0)} ± ${(5 * sigma).toFixed(0)}`);
    }
    assert.ok(a.every((v) => v === 0 || v === Math.fround(1 / q)), `p=${p}: kept values are scaled by 1/(1-p)`);
  }
});

t('gradient: the same mask and scale applied to the output gradient', async () => {
  const r = rng(6);
  const n = 517, p = 0.4, seed = 9, offset = 2;
  const x = randArray(r, n), g = randArray(r, n);
  const { value, grads } = tidy(() => {
    const xt = tensor(x, [n]);
    return valueAndGrad(() => sum(mul(dropout(xt, p, { seed, offset, training: true }), tensor(g, [n]))), [xt]);
  });
  const keep = keepMask(n, p, seed, offset);
  assertClose(await read(grads[0]!), g.map((v, i) => (keep[i] ? v / (1 - p) : 0)), { rtol: 1e-6, what: 'dx' });
  value.dispose();
  grads[0]!.dispose();
  await gradcheck(([a]) => dropout(a!, p, { seed, training: true }), [{ shape: [3, 37], data: randArray(r, 111) }]);
  await gradcheck(([a]) => dropout(a!, p, { seed, training: false }), [{ shape: [5], data: randArray(r, 5) }]);
});

t('not training or p = 0 is the identity; p = 1 gives zeros', async () => {
  const x = randArray(rng(2), 13, -1, 1);
  for (const [p, training] of [[0.5, false], [0, true]] as const) {
    const y = tidy(() => dropout(tensor(x, [13]), p, { seed: 1, training }));
    assertClose(await read(y), x.map(Math.fround), { rtol: 0, atol: 0, what: `p=${p} training=${training}` });
    y.dispose();
  }
  assert.ok((await run(x, 1, 5)).every((v) => v === 0), 'p = 1 drops everything');
});

t('dropoutAdd: residual + dropout(x) in one kernel, bit for bit the composite (NaN/Inf included), its gradients too', async () => {
  const r = rng(12);
  const bits = (x: Float64Array) => new Uint32Array(Float32Array.from(x).buffer);
  for (const [n, p, seed, offset] of [[1, 0.5, 3, 0], [37, 0.1, 2 ** 40 + 5, 9], [1031, 0.3, 77, 2]] as const) {
    const x = randArray(r, n), res = randArray(r, n), g = randArray(r, n);
    if (n > 8) [x[1], x[2], res[3], res[5]] = [NaN, Infinity, -Infinity, NaN];
    const opts = { seed, offset, training: true };
    const run = (fn: (a: Tensor, b: Tensor) => Tensor) =>
      tidy(() => {
        const a = tensor(res, [n]), b = tensor(x, [n]);
        let out: Tensor | null = null;
        const { grads } = valueAndGrad(() => {
          out = keep(fn(a, b));
          return sum(mul(out, tensor(g, [n])));
        }, [a, b]);
        return [out!, ...grads];
      });
    const fused = await Promise.all(run((a, b) => dropoutAdd(a, b, p, opts)).map(read));
    const composite = await Promise.all(run((a, b) => add(a, dropout(b, p, opts))).map(read));
    ['out', 'd residual', 'dx'].forEach((name, i) => assert.equal(bits(fused[i]!), bits(composite[i]!), `n=${n} ${name}: bits of the composite`));
    const at = [...x.keys()].filter((i) => Number.isFinite(x[i]!) && Number.isFinite(res[i]!));
    const pick = (v: ArrayLike<number>) => Float64Array.from(at, (i) => v[i]!);
    const want = dropout64(x, p, seed, offset).map((v, i) => v + res[i]!);
    assertClose(pick(fused[0]!), pick(want), { rtol: 1e-6, atol: 1e-7, what: `dropoutAdd n=${n} p=${p}` });
  }
  const d = randArray(r, 2 * 19);
  await gradcheck(([a, b]) => dropoutAdd(a!, b!, 0.4, { seed: 8, offset: 1, training: true }), [{ shape: [2, 19], data: d }, { shape: [2, 19], data: randArray(r, 38) }]);
  // Not training it is the sum.
  const y = tidy(() => dropoutAdd(tensor(d.subarray(0, 5), [5]), tensor(d.subarray(5, 10), [5]), 0.5, { seed: 1, training: false }));
  assertClose(await read(y), Float64Array.from({ length: 5 }, (_, i) => Math.fround(Math.fround(d[i]!) + Math.fround(d[5 + i]!))), { rtol: 0, atol: 0, what: 'not training' });
  y.dispose();
  assert.throws(() => tidy(() => dropoutAdd(tensor([1, 2], [2]), tensor([1, 2, 3], [3]), 0.5, { seed: 1, training: true })), /^dropoutAdd: residual has shape \[2\], expected \[3\]/);
});

t('bad arguments are reported with the op', () => {
  const x = () => tensor([1, 2, 3], [3]);
  assert.throws(() => tidy(() => dropout(x(), 1.5, { seed: 1, training: true })), /^dropout: p must be in \[0, 1\], got 1.5/);
  assert.throws(() => tidy(() => dropout(x(), 0.5, { seed: -1, training: true })), /^dropout: seed must be an integer in \[0, 2\^53\), got -1/);
  assert.throws(() => tidy(() => dropout(x(), 0.5, { seed: 1, offset: 2 ** 32, training: true })), /^dropout: offset must be an integer in \[0, 2\^32\)/);
  assert.throws(() => tidy(() => dropout(tensor(Int32Array.from([1]), [1]), 0.5, { seed: 1, training: true })), /^dropout: expected f32, got .*i32\[1\]/);
});

t.run();
