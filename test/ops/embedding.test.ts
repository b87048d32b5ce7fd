import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { recorder } from '../../src/gpu/recorder.js';
import { checkIds, embedding } from '../../src/ops/embedding.js';
import { mul } from '../../src/ops/elementwise.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import { gather64, scatter64 } from '../ref/embedding.js';
import { assertClose, numel, randArray, randInt, rng } from '../util/check.js';
import { gradcheck, initGpu, read } from '../util/gpu.js';
import { sum } from '../../src/ops/sum.js';

const t = suite('embedding');
t.before(async () => void (await initGpu()));

function randIds(r: () => number, n: number, vocab: number): Int32Array {
  return Int32Array.from({ length: n }, () => randInt(r, 0, vocab - 1));
}

async function tableGrad(table: Float64Array, shape: [number, number], ids: Int32Array, idShape: number[], w: Float64Array) {
  const { value, grads } = tidy(() => {
    const tb = tensor(table, shape);
    const id = tensor(ids, idShape);
    return valueAndGrad(() => sum(mul(embedding(tb, id), tensor(w, [...idShape, shape[1]]))), [tb]);
  });
  const g = await read(grads[0]!);
  value.dispose();
  grads[0]!.dispose();
  return g;
}

t('lookup matches float64 over odd shapes (scalar and vec4 rows)', async () => {
  const r = rng(11);
  const cases: Array<[number, number, number[]]> = [[1, 1, [1]], [7, 3, [5]], [13, 8, [2, 7]], [31, 37, [3, 1, 4]], [5, 12, [0]]];
  for (const [vocab, dim, idShape] of cases) {
    // f32-representable values, so the gather is exact.
    const table = randArray(r, vocab * dim).map(Math.fround);
    const ids = randIds(r, numel(idShape), vocab);
    const y = tidy(() => embedding(tensor(table, [vocab, dim]), tensor(ids, idShape)));
    assert.equal([...y.shape], [...idShape, dim]);
    assertClose(await read(y), gather64(table, dim, ids), { rtol: 0, atol: 0, what: `embedding [${vocab},${dim}] ${idShape}` });
    y.dispose();
  }
});

t('an i32 table is gathered bit for bit', async () => {
  const table = Int32Array.from({ length: 5 * 3 }, (_, i) => i * 7919 - 50000);
  const ids = Int32Array.from([4, 0, 4, 2]);
  const y = tidy(() => embedding(tensor(table, [5, 3]), tensor(ids)));
  assert.equal(y.dtype, 'i32');
  assert.equal([...(await y.toArray())], [...gather64(Float64Array.from(table), 3, ids)]);
  y.dispose();
});

t('backward accumulates repeated ids (3001 x 37, 500 ids; 64 x 12 with heavy repeats)', async () => {
  const r = rng(5);
  const cases: Array<[number, number, number[], number]> = [[3001, 37, [500], 3001], [64, 12, [3, 301], 4], [9, 5, [600], 1], [1, 1, [1], 1]];
  for (const [vocab, dim, idShape, distinct] of cases) {
    const table = randArray(r, vocab * dim);
    const ids = randIds(r, numel(idShape), distinct);
    const w = randArray(r, numel(idShape) * dim);
    const g = await tableGrad(table, [vocab, dim], ids, idShape, w);
    assertClose(g, scatter64(w, dim, ids, vocab), { rtol: 1e-5, atol: 1e-6, what: `table grad [${vocab},${dim}] ${idShape}` });
  }
});

t('backward is bit-for-bit reproducible', async () => {
  const r = rng(9);
  const ids = randIds(r, 2000, 3);
  const table = randArray(r, 3 * 8);
  const w = randArray(r, 2000 * 8, -100, 100);
  const a = await tableGrad(table, [3, 8], ids, [2000], w);
  const b = await tableGrad(table, [3, 8], ids, [2000], w);
  assert.equal([...a], [...b]);
});

t('gradcheck through the lookup', async () => {
  const r = rng(3);
  const ids = tensorIds([2, 0, 2, 4, 2, 1]);
  await gradcheck(([tb]) => embedding(tb!, ids), [{ shape: [5, 3], data: randArray(r, 15) }]);
  ids.dispose();
});

function tensorIds(values: number[]) {
  return tensor(Int32Array.from(values));
}

t('a frozen table gets no backward work', async () => {
  const rec = recorder();
  rec.profiler.start();
  const { value, grads } = tidy(() => {
    const tb = tensor(randArray(rng(1), 20), [10, 2]);
    const w = tensor(randArray(rng(2), 6), [3, 2]);
    return valueAndGrad(() => sum(mul(embedding(tb, tensorIds([1, 9, 1])), w)), [w]);
  });
  await rec.sync();
  rec.profiler.stop();
  const kernels = (await rec.profiler.collect()).map((k) => k.kernel);
  value.dispose();
  grads.forEach((g) => g.dispose());
  assert.ok(kernels.includes('embedding.gather'), kernels.join(', '));
  assert.not.ok(kernels.some((k) => k.startsWith('embedding.') && k !== 'embedding.gather'), kernels.join(', '));
});

t('bad ids: checkIds names position and value; the GPU clamps', async () => {
  assert.throws(() => checkIds(Int32Array.from([0, 3, 7, 2]), 5), /id 7 at position \[2\] is out of range \[0, 5\)/);
  assert.throws(() => checkIds(Int32Array.from([0, 1, 2, -1]), 5, [2, 2]), /id -1 at position \[1,1\]/);
  checkIds(Int32Array.from([0, 4]), 5);
  const table = Float64Array.from({ length: 4 * 2 }, (_, i) => i);
  const y = tidy(() => embedding(tensor(table, [4, 2]), tensorIds([-5, 9, 1])));
  assert.equal([...(await read(y))], [0, 1, 6, 7, 2, 3]);
  y.dispose();
  const g = await tableGrad(table, [4, 2], Int32Array.from([-5, 9, 1, 100]), [4], Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  assert.equal([...g], [1, 2, 5, 6, 0, 0, 10, 12]);
});

t('shape and dtype errors name the op and tensors', () => {
  assert.throws(() => tidy(() => embedding(tensor([1, 2, 3], [3]), tensorIds([0]))), /embedding: table must be 2-D.*\[3\]/);
  assert.throws(() => tidy(() => embedding(tensor([1, 2], [1, 2]), tensor([0], [1]))), /embedding: expected i32, got f32\[1\]/);
});

t.run();
