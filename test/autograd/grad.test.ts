import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { noGrad, record } from '../../src/autograd/tape.js';
import { recorder } from '../../src/gpu/recorder.js';
import { add, exp, mul, scale } from '../../src/ops/elementwise.js';
import { Arena } from '../../src/tensor/arena.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../util/check.js';
import { initGpu, read } from '../util/gpu.js';
import { sum } from '../../src/ops/sum.js';

const t = suite('autograd');
t.before(async () => void (await initGpu()));

t('a tensor used twice gets the sum of both gradients', async () => {
  const x = tensor([1, 2, 3]);
  const { value, grads } = valueAndGrad(() => sum(add(mul(x, x), scale(x, 3))), [x]);
  assert.is(await value.item(), 1 + 4 + 9 + 18);
  assertClose(await read(grads[0]!), [5, 7, 9]);
  value.dispose();
  grads[0]!.dispose();
  x.dispose();
});

t('frozen inputs get no gradient work', async () => {
  const x = tensor([1, 2, 3]);
  const frozen = tensor([4, 5, 6]);
  await recorder().sync();
  const d0 = recorder().snapshot().dispatches;
  const onlyX = valueAndGrad(() => sum(mul(x, frozen)), [x]);
  const d1 = recorder().snapshot().dispatches;
  const both = valueAndGrad(() => sum(mul(x, frozen)), [x, frozen]);
  const d2 = recorder().snapshot().dispatches;
  assert.ok(d2 - d1 > d1 - d0, `both: ${d2 - d1} dispatches, x only: ${d1 - d0}`);
  assertClose(await read(onlyX.grads[0]!), [4, 5, 6]);
  assertClose(await read(both.grads[1]!), [1, 2, 3]);
  for (const r of [onlyX, both]) [r.value, ...r.grads].forEach((g) => g.dispose());
  x.dispose();
  frozen.dispose();
});

t('intermediates disposed by an inner tidy survive for the backward pass', async () => {
  const x = tensor([0.5, -1]);
  const { value, grads } = valueAndGrad(() => {
    const e = tidy(() => exp(scale(x, 2)));
    return sum(e);
  }, [x]);
  assertClose(await read(grads[0]!), [2 * Math.exp(1), 2 * Math.exp(-2)], { rtol: 1e-6 });
  value.dispose();
  grads[0]!.dispose();
  x.dispose();
});

t('nothing leaks: memory in use returns to where it was', async () => {
  const x = tensor(new Float32Array(1000).fill(0.1));
  await recorder().sync();
  const before = recorder().pool.snapshot().inUse;
  for (let i = 0; i < 5; i++) {
    const { value, grads } = valueAndGrad(() => sum(exp(mul(x, x))), [x]);
    await value.item();
    value.dispose();
    grads.forEach((g) => g.dispose());
  }
  assert.is(recorder().pool.snapshot().inUse, before);
  x.dispose();
});

t('an unused wrt tensor gets a zero gradient; a non-scalar value is an error', async () => {
  const x = tensor([1, 2]);
  const y = tensor([3]);
  const { value, grads } = valueAndGrad(() => sum(x), [x, y]);
  assertClose(await read(grads[1]!), [0]);
  [value, ...grads].forEach((g) => g.dispose());
  assert.throws(() => valueAndGrad(() => scale(x, 2), [x]), /one-element tensor/);
  x.dispose();
  y.dispose();
});

t('aux: extra outputs equal the plain forward and cost no gradient work', async () => {
  const x = tensor([0.5, -1, 2]);
  const w = tensor([3, 4, -2]);
  await recorder().sync();
  const count = <T>(fn: () => T): [T, number] => {
    const d0 = recorder().snapshot().dispatches;
    const out = fn();
    return [out, recorder().snapshot().dispatches - d0];
  };
  const [plain, dPlain] = count(() => valueAndGrad(() => sum(mul(x, w)), [x]));
  const [forward, dForward] = count(() => noGrad(() => ({ y: mul(x, w), e: exp(x) })));
  const [withAux, dAux] = count(() => valueAndGrad(() => {
    const y = mul(x, w);
    return { value: sum(y), aux: { y, e: exp(x), none: null } };
  }, [x]));
  // exp(x) is recorded (x needs a gradient) but backward starts from the value: one dispatch more, for exp's forward.
  assert.is(dAux, dPlain + dForward - 1, `with aux ${dAux} dispatches, without ${dPlain}, forward of y and e ${dForward}`);
  assert.equal(await read(withAux.aux.y), await read(forward.y));
  assert.equal(await read(withAux.aux.e), await read(forward.e));
  assert.is(withAux.aux.none, null);
  assert.is(await withAux.value.item(), await plain.value.item());
  assert.equal(await read(withAux.grads[0]!), await read(plain.grads[0]!));
  for (const r of [plain, withAux]) [r.value, ...r.grads].forEach((g) => g.dispose());
  [withAux.aux.y, withAux.aux.e, forward.y, forward.e, x, w].forEach((g) => g.dispose());
});

t('aux: each extra output is its own handle in the caller\'s scope, freed by tidy like any result', async () => {
  const x = tensor([1, 2, 3]);
  await recorder().sync();
  const before = recorder().pool.snapshot().inUse;
  let all: { value: Tensor; grads: Tensor[]; aux: { loss: Tensor; x: Tensor; sq: Tensor } } | null = null;
  const sq = tidy(() => {
    all = valueAndGrad(() => {
      const loss = sum(mul(x, x));
      return { value: loss, aux: { loss, x, sq: mul(x, x) } };
    }, [x]);
    return all.aux.sq;
  });
  const r = all!;
  assert.ok(r.value.disposed && r.grads[0]!.disposed && r.aux.loss.disposed && r.aux.x.disposed, 'what tidy did not return is freed');
  assert.ok(!x.disposed, 'disposing the handle of a wrt tensor leaves the tensor');
  assert.equal(Array.from(await read(sq)), [1, 4, 9]);
  const again = valueAndGrad(() => ({ value: sum(x), aux: { value: sum(x) } }), [x]);
  again.value.dispose();
  assert.is(await again.aux.value.item(), 6, 'the value and its aux handle are disposed separately');
  [again.aux.value, ...again.grads, sq].forEach((g) => g.dispose());
  assert.is(recorder().pool.snapshot().inUse, before);
  x.dispose();
});

/** x * 2 as a recorded op whose VJP writes into its destination (adding when told to accumulate). */
function doubleIntoDest(x: Tensor): Tensor {
  return record('double', [x], scale(x, 2), (g, { dest, accumulate }) => {
    const d = scale(g, 2);
    const target = dest[0];
    if (!target) return [d];
    const value = accumulate[0] ? add(target, d) : d;
    recorder().copy(value.range, target.range, 'double.backward -> destination');
    return [target];
  });
}

async function bits(ts: Tensor[]): Promise<number[][]> {
  return Promise.all(ts.map(async (g) => Array.from(new Uint32Array((await g.toArray()).buffer))));
}

t('into: gradients land in the destinations, the same to the bit (sums, unreachable, VJPs writing there)', async () => {
  const x = tensor([0.1, -2.3, 3.7]);
  const w = tensor([1.3, 0.7, -0.2, 5, 1e-3, 2], [2, 3]);
  const unused = tensor([4, 5]);
  const arena = Arena.upload([{ data: new Float32Array(3), shape: [3] }, { data: new Float32Array(6), shape: [2, 3] }, { data: new Float32Array(2), shape: [2] }]);
  const wrt = [x, w, unused];
  const fns: Array<[string, () => Tensor]> = [
    ['x used three times', () => sum(add(mul(exp(x), x), mul(sum(w, 0), scale(x, 3))))],
    // Backward meets the last recorded op first: there the VJP writes, the earlier uses add.
    ['a VJP writes first, others add', () => {
      const a = mul(mul(x, x), sum(doubleIntoDest(mul(w, w))));
      return sum(add(a, doubleIntoDest(x)));
    }],
    ['VJPs write, then accumulate, then others add', () => {
      const a = exp(x);
      const b = doubleIntoDest(x);
      return sum(mul(add(a, b), doubleIntoDest(x)));
    }],
  ];
  for (const [what, fn] of fns) {
    const plain = valueAndGrad(fn, wrt);
    const into = valueAndGrad(fn, wrt, { into: arena.views });
    assert.equal(await bits(into.grads), await bits(plain.grads), what);
    into.grads.forEach((g, i) => assert.ok(g.sharesStorage(arena.whole) && g.offset === arena.views[i]!.offset, `${what}: grad ${i} is a handle on its destination`));
    assert.equal(await bits([...arena.views]), await bits(plain.grads), `${what}: destinations`);
    [plain, into].forEach((r) => [r.value, ...r.grads].forEach((g) => g.dispose()));
  }
  const partial = valueAndGrad(fns[0]![1], wrt, { into: [null, arena.views[1]!, null] });
  assert.ok(!partial.grads[0]!.sharesStorage(arena.whole) && partial.grads[1]!.sharesStorage(arena.whole), 'null: a new tensor');
  [partial.value, ...partial.grads].forEach((g) => g.dispose());
  arena.views.forEach((v) => v.dispose());
  arena.dispose();
  wrt.forEach((v) => v.dispose());
});

t('into: refusals', () => {
  const x = tensor([1, 2, 3]);
  const y = tensor([1, 2]);
  const d = tensor([0, 0, 0]);
  const fn = () => sum(mul(x, x));
  assert.throws(() => valueAndGrad(fn, [x, y], { into: [d] }), /1 destinations \(into\) for 2 wrt tensors/);
  assert.throws(() => valueAndGrad(fn, [x, y], { into: [d, d.view([2])] }), /destination 1 .* is the same memory as/);
  assert.throws(() => valueAndGrad(fn, [x, y], { into: [y, null] }), /destination 0 is f32\[2\], wrt tensor 0 is f32\[3\]/);
  assert.throws(() => valueAndGrad(fn, [x], { into: [x] }), /is the same memory as a wrt tensor/);
  [x, y, d].forEach((v) => v.dispose());
});

t.run();
