import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { mul } from '../../src/ops/elementwise.js';
import * as L from '../../src/ops/layout.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { randF32 } from '../ref/data.js';
import { concat64, forEachIndex, permute64, slice64 } from '../ref/layout.js';
import { assertClose, numel, randArray, randInt, rng } from '../util/check.js';
import { gradcheck, initGpu, read } from '../util/gpu.js';
import { expand, sum } from '../../src/ops/sum.js';

const t = suite('layout');
t.before(async () => void (await initGpu()));

function randPerm(r: () => number, n: number): number[] {
  const p = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = randInt(r, 0, i);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

async function expectExact(y: Tensor, want: Float64Array, shape: number[], what: string) {
  assert.equal([...y.shape], shape, `${what}: shape`);
  assertClose(await read(y), want, { rtol: 0, atol: 0, what });
  y.dispose();
}

t('permute matches float64 over random ranks 1-6 and perms (strided, vec4, tiled, view paths)', async () => {
  const r = rng(21);
  const cases: Array<[number[], number[]]> = [
    [[1], [0]], [[7, 13], [1, 0]], [[3, 17, 33], [0, 2, 1]], [[2, 5, 4, 8], [0, 2, 1, 3]], [[65, 1], [1, 0]],
    [[1, 9, 1], [2, 1, 0]], [[4, 37, 19], [0, 2, 1]], [[3, 4, 5, 2, 3, 2], [5, 3, 1, 0, 2, 4]], [[0, 3], [1, 0]],
  ];
  for (let k = 0; k < 10; k++) {
    const rank = randInt(r, 1, 6);
    cases.push([Array.from({ length: rank }, () => randInt(r, 1, 7)), randPerm(r, rank)]);
  }
  for (const [shape, perm] of cases) {
    const x = randF32(r, numel(shape));
    const y = tidy(() => L.permute(tensor(x, shape), perm));
    await expectExact(y, permute64(x, shape, perm), perm.map((p) => shape[p]!), `permute ${shape} by ${perm}`);
  }
  const x = randF32(r, 5 * 7);
  const y = tidy(() => L.transpose(tensor(x, [5, 7])));
  await expectExact(y, permute64(x, [5, 7], [1, 0]), [7, 5], 'transpose [5,7]');
});

t('permute and transpose gradients', async () => {
  const r = rng(22);
  await gradcheck(([x]) => L.permute(x!, [2, 0, 1]), [{ shape: [3, 4, 5], data: randArray(r, 60) }]);
  await gradcheck(([x]) => L.transpose(x!, 0, 2), [{ shape: [2, 3, 17], data: randArray(r, 102) }]);
});

t('bad permutations name the perm and the tensor', () => {
  assert.throws(() => tidy(() => L.permute(tensor(new Float64Array(6), [2, 3]), [0, 0])), /permute: \[0,0\] is not a permutation of the 2 axes of f32\[2,3\]/);
  assert.throws(() => tidy(() => L.permute(tensor(new Float64Array(6), [2, 3]), [1, 0, 2])), /permute: \[1,0,2\]/);
  assert.throws(() => tidy(() => L.transpose(tensor(new Float64Array(6), [2, 3]), 0, 2)), /axis 2 out of range/);
});

t('slice matches float64 over random bounds; aligned contiguous slices are views', async () => {
  const r = rng(23);
  for (let k = 0; k < 12; k++) {
    const rank = randInt(r, 1, 4);
    const shape = Array.from({ length: rank }, () => randInt(r, 1, 9));
    const s = shape.map((d) => randInt(r, 0, d - 1));
    const e = shape.map((d, i) => randInt(r, s[i]! + 1, d));
    const x = randF32(r, numel(shape));
    const { out, res } = slice64(x, shape, s, e);
    const y = tidy(() => L.slice(tensor(x, shape), s, e));
    await expectExact(y, res, out, `slice ${shape} ${s}:${e}`);
  }
  const x = randF32(r, 6 * 64);
  const views = tidy(() => {
    const xt = tensor(x, [6, 64]);
    return { xt, rows: L.sliceAxis(xt, 0, 2, 5), row: L.slice(xt, [3, 0], [4, 64]), neg: L.slice(xt, [-1]), cols: L.sliceAxis(xt, 1, 4, 36) };
  });
  assert.ok(views.rows.sharesStorage(views.xt) && views.row.sharesStorage(views.xt) && views.neg.sharesStorage(views.xt));
  assert.not.ok(views.cols.sharesStorage(views.xt));
  const empty = tidy(() => L.concat([L.sliceAxis(views.xt, 1, 5, 5), L.sliceAxis(views.xt, 1, 0, 1)], 1));
  await expectExact(empty, slice64(x, [6, 64], [0, 0], [6, 1]).res, [6, 1], 'empty slice joined to a column');
  await expectExact(views.rows, x.slice(2 * 64, 5 * 64), [3, 64], 'row view');
  await expectExact(views.row, x.slice(3 * 64, 4 * 64), [1, 64], 'one-row view');
  await expectExact(views.neg, x.slice(5 * 64), [1, 64], 'negative start');
  await expectExact(views.cols, slice64(x, [6, 64], [0, 4], [6, 36]).res, [6, 32], 'column slice (vec4 copy)');
  views.xt.dispose();
  assert.throws(() => tidy(() => L.slice(tensor(x, [6, 64]), [0, 3], [6, 70])), /slice: \[3:70\] is out of range on axis 1 of f32\[6,64\]/);
});

t('slice and pad gradients', async () => {
  const r = rng(24);
  await gradcheck(([x]) => L.slice(x!, [1, 0, 2], [3, 5, 7]), [{ shape: [4, 5, 9], data: randArray(r, 180) }]);
  await gradcheck(([x]) => L.sliceAxis(x!, 0, 64, 128), [{ shape: [3 * 64], data: randArray(r, 192) }]);
  const g = tidy(() => L.pad(tensor([1, 2, 3, 4], [2, 2]), [3, 4], [1, 1]));
  await expectExact(g, Float64Array.from([0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0]), [3, 4], 'pad');
});

t('concat matches float64 over random shapes and axes, f32 and i32', async () => {
  const r = rng(25);
  for (let k = 0; k < 10; k++) {
    const rank = randInt(r, 1, 4);
    const base = Array.from({ length: rank }, () => randInt(r, 1, 7));
    const axis = randInt(r, 0, rank - 1);
    const parts = Array.from({ length: randInt(r, 1, 4) }, (): [Float64Array, number[]] => {
      const s = base.map((d, i) => (i === axis ? randInt(r, 1, 9) : d));
      return [randF32(r, numel(s)), s];
    });
    const { out, res } = concat64(parts, axis);
    const y = tidy(() => L.concat(parts.map(([x, s]) => tensor(x, s)), axis - (k % 2 ? rank : 0)));
    await expectExact(y, res, out, `concat ${parts.map(([, s]) => fmt(s)).join(' ')} axis ${axis}`);
  }
  const y = tidy(() => L.concat([tensor(Int32Array.from([1, 2, 3, 4]), [2, 2]), tensor(Int32Array.from([-5, -6]), [2, 1])], 1));
  assert.equal(y.dtype, 'i32');
  assert.equal([...(await y.toArray())], [1, 2, -5, 3, 4, -6]);
  y.dispose();
});

const fmt = (s: number[]) => `[${s.join(',')}]`;

t('concat gradient, and only for the inputs that need one', async () => {
  const r = rng(26);
  await gradcheck(([a, b, c]) => L.concat([a!, b!, c!], 1), [
    { shape: [3, 2, 5], data: randArray(r, 30) }, { shape: [3, 7, 5], data: randArray(r, 105) }, { shape: [3, 1, 5], data: randArray(r, 15) },
  ]);
  await gradcheck(([a, b]) => L.concat([a!, b!], 0), [{ shape: [2, 3], data: randArray(r, 6) }, { shape: [1, 3], data: randArray(r, 3) }], { which: [1] });
});

t('concat mismatches name the shapes and the axis', () => {
  assert.throws(
    () => tidy(() => L.concat([tensor(new Float64Array(6), [2, 3]), tensor(new Float64Array(12), [3, 4])], 1)),
    /concat: cannot join f32\[2,3\], f32\[3,4\] along axis 1: f32\[3,4\] differs/,
  );
  assert.throws(() => tidy(() => L.concat([tensor(new Float64Array(6), [2, 3]), tensor(Int32Array.from([1, 2, 3]), [1, 3])], 0)), /concat: cannot join f32\[2,3\], i32\[1,3\] along axis 0/);
  assert.throws(() => L.concat([], 0), /at least one/);
});

t('expand and tile match float64, with gradients', async () => {
  const r = rng(27);
  const x = randF32(r, 3 * 5);
  const e = tidy(() => expand(tensor(x, [3, 1, 5]), [2, 3, 4, 5]));
  const want = new Float64Array(2 * 3 * 4 * 5);
  forEachIndex([2, 3, 4, 5], (idx, flat) => (want[flat] = x[idx[1]! * 5 + idx[3]!]!));
  await expectExact(e, want, [2, 3, 4, 5], 'expand');
  const tl = tidy(() => L.tile(tensor(x, [3, 5]), 0, 3));
  await expectExact(tl, Float64Array.from([...x, ...x, ...x]), [9, 5], 'tile');
  assert.throws(() => tidy(() => expand(tensor(x, [3, 5]), [2, 5])), /expand: shapes \[3,5\] and \[2,5\]/);
  await gradcheck(([a]) => expand(a!, [4, 3, 5]), [{ shape: [3, 1], data: randArray(r, 3) }]);
  await gradcheck(([a]) => L.tile(a!, 1, 3), [{ shape: [2, 3], data: randArray(r, 6) }]);
});

t('cast converts f32 <-> i32 (toward zero) and keeps same-dtype gradients', async () => {
  const f = tidy(() => L.cast(tensor([1.9, -1.9, 0, 7, -2.5, 1e10]), 'i32'));
  assert.equal(f.dtype, 'i32');
  assert.equal([...(await f.toArray())], [1, -1, 0, 7, -2, 2147483520]);
  const back = tidy(() => L.cast(f, 'f32'));
  assert.equal([...(await back.toArray())], [1, -1, 0, 7, -2, 2147483520]);
  f.dispose();
  back.dispose();
  await gradcheck(([a]) => L.cast(a!, 'f32'), [{ shape: [3], data: Float64Array.from([1, 2, 3]) }]);
});

t('gatherRows matches float64 and accumulates repeated rows in its gradient', async () => {
  const r = rng(28);
  const x = randF32(r, 11 * 7);
  const idx = Int32Array.from([3, 0, 10, 3, 3, 7]);
  const y = tidy(() => L.gatherRows(tensor(x, [11, 7]), tensor(idx)));
  const want = new Float64Array(idx.length * 7);
  idx.forEach((row, m) => want.set(x.subarray(row * 7, row * 7 + 7), m * 7));
  await expectExact(y, want, [6, 7], 'gatherRows');
  const ids = tensor(idx);
  await gradcheck(([a]) => L.gatherRows(a!, ids), [{ shape: [11, 7], data: randArray(r, 77) }]);
  ids.dispose();
  assert.throws(() => tidy(() => L.gatherRows(tensor(x, [11, 7]), tensor(idx, [2, 3]))), /gatherRows: indices must be 1-D, got i32\[2,3\]/);
});

t('where selects with broadcasting, never leaks the other branch, and routes gradients', async () => {
  const r = rng(29);
  const mask = Float64Array.from({ length: 4 * 5 }, () => (r() < 0.5 ? 1 : 0));
  const a = randF32(r, 3 * 1 * 5), b = randF32(r, 4 * 1);
  const y = tidy(() => L.where(tensor(mask, [4, 5]), tensor(a, [3, 1, 5]), tensor(b, [4, 1])));
  const want = new Float64Array(3 * 4 * 5);
  forEachIndex([3, 4, 5], ([i, j, k], flat) => (want[flat] = mask[j! * 5 + k!] ? a[i! * 5 + k!]! : b[j!]!));
  await expectExact(y, want, [3, 4, 5], 'where');
  const inf = tidy(() => L.where(tensor(Int32Array.from([0, 1, 2])), tensor([1, 2, 3]), tensor([-Infinity, NaN, 0])));
  assert.equal([...(await read(inf))], [-Infinity, 2, 3]);
  inf.dispose();
  const m = tensor(mask.subarray(0, 5), [5]);
  await gradcheck(([p, q]) => L.where(m, p!, q!), [{ shape: [2, 5], data: randArray(r, 10) }, { shape: [1], data: randArray(r, 1) }]);
  const { value, grads } = tidy(() => {
    const p = tensor(randArray(r, 5));
    return valueAndGrad(() => sum(mul(L.where(m, p, tensor([0])), tensor([1, 2, 3, 4, 5]))), [p]);
  });
  assert.equal([...(await read(grads[0]!))], [...mask.subarray(0, 5)].map((v, i) => v * (i + 1)));
  value.dispose();
  grads[0]!.dispose();
  m.dispose();
});

t.run();
