import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { recorder } from '../../src/gpu/recorder.js';
import { mul } from '../../src/ops/elementwise.js';
import { MATMUL_VARIANTS, matmul, matmulChoice, matmulVariants, tuneMatmul, type MatmulVariant } from '../../src/ops/matmul.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import { matmul64, type MatmulCase } from '../ref/matmul.js';
import { assertClose, assertSpecialsMatch, numel, randArray, randInt, rng } from '../util/check.js';
import { dispatches, gradcheck, initGpu, read } from '../util/gpu.js';
import { sum } from '../../src/ops/sum.js';
import { messageOf } from '../util/throws.js';

const t = suite('matmul');
t.before(async () => void (await initGpu()));

/** Shapes (as [M, K, N] with batch axes) for op(A) x op(B), stored according to the transposes. */
function makeCase(m: number, k: number, n: number, transA: boolean, transB: boolean, aBatch: number[] = [], bBatch: number[] = []): MatmulCase {
  return {
    a: [...aBatch, ...(transA ? [k, m] : [m, k])],
    b: [...bBatch, ...(transB ? [n, k] : [k, n])],
    transA,
    transB,
  };
}

const TRANS: Array<[boolean, boolean]> = [[false, false], [true, false], [false, true], [true, true]];

function cases(seed: number): MatmulCase[] {
  const r = rng(seed);
  const out: MatmulCase[] = [];
  // Every transpose combination over sizes that are not multiples of any tile (1 and primes too).
  const dims: Array<[number, number, number]> = [[1, 1, 1], [7, 13, 5], [31, 67, 29], [1, 97, 130], [113, 71, 3], [67, 129, 17]];
  TRANS.forEach(([ta, tb], i) => {
    for (const [m, k, n] of dims) out.push(makeCase(m, k, n, ta, tb));
    out.push(makeCase(randInt(r, 1, 130), randInt(r, 1, 130), randInt(r, 1, 130), ta, tb));
    // Batched, a batch of B broadcast (a weight), and A broadcast against B's batch.
    out.push(makeCase(19, 37, 11, ta, tb, [3], [3]));
    out.push(makeCase(23, 41, 13 + i, ta, tb, [2, 3], []));
    out.push(makeCase(9, 66, 7, ta, tb, [1], [4]));
  });
  out.push(makeCase(5, 19, 9, false, false, [2, 1, 3], [4, 1]));
  // K past one uniform panel (1024 rows): the panels accumulate.
  out.push(makeCase(9, 1500, 20, false, false));
  out.push(makeCase(6, 1031, 17, true, true));
  // Column blocks past one 64 KiB uniform window: windows of 10 and 3 panels at K 97, of 3, 3
  // and 1 at K 300 (each window one dispatch, its panels over grid z).
  out.push(makeCase(11, 97, 197, false, true));
  out.push(makeCase(13, 300, 100, true, false));
  // Dual windows: a transposed A of M % 4 == 0 (packed in 4 x 4 blocks) against N % 4 == 0 (vec4
  // panels and stores); K past four chunks (passes add into C); rows past one A window.
  out.push(makeCase(12, 50, 24, true, false));
  out.push(makeCase(36, 301, 8, true, true));
  out.push(makeCase(9, 5000, 20, false, false));
  out.push(makeCase(1100, 300, 20, false, false));
  return out;
}

for (const variant of MATMUL_VARIANTS) {
  t(`${variant}: matches float64 over odd shapes, transposes, batches and broadcasts`, async () => {
    const r = rng(variant.length * 1009 + 17);
    let ran = 0;
    for (const c of cases(variant.length)) {
      if (!matmulVariants(c.a, c.b, c).includes(variant)) continue;
      const a = randArray(r, numel(c.a)), b = randArray(r, numel(c.b));
      const y = tidy(() => matmul(tensor(a, c.a), tensor(b, c.b), { transA: c.transA, transB: c.transB, variant }));
      const ref = matmul64(c, a, b);
      const what = `${variant} ${JSON.stringify(c)}`;
      assert.equal(y.shape, ref.shape, `${what}: shape`);
      assertClose(await read(y), ref.data, { rtol: 2e-6, atol: 1e-6, what });
      y.dispose();
      ran++;
    }
    if (ran === 0) process.stdout.write(`  (${variant} is not available on this adapter)\n`);
  });
}

for (const variant of MATMUL_VARIANTS) {
  t(`${variant}: NaN and infinities propagate as in the float64 reference`, async () => {
    const r = rng(variant.length * 7 + 3);
    let ran = 0;
    for (const [ta, tb] of TRANS) {
      const c = makeCase(133, 67, 29, ta, tb);
      if (!matmulVariants(c.a, c.b, c).includes(variant)) continue;
      const a = randArray(r, numel(c.a)), b = randArray(r, numel(c.b));
      a[3 * 67 + 5] = NaN;
      a[7 * 67 + 11] = Infinity;
      b[13 * 29 + 2] = -Infinity;
      b[40 * 29 + 20] = Infinity;
      const y = tidy(() => matmul(tensor(a, c.a), tensor(b, c.b), { transA: ta, transB: tb, variant }));
      assertSpecialsMatch(await y.toArray(), matmul64(c, a, b).data, `${variant} ${JSON.stringify(c)}`);
      y.dispose();
      ran++;
    }
    if (ran === 0) process.stdout.write(`  (${variant} is not available on this adapter)\n`);
  });
}

t('which variants can run follows the shapes and the adapter', () => {
  const vs = matmulVariants([64, 128], [128, 64]);
  for (const v of ['tiled', 'splitk', 'shared'] as MatmulVariant[]) assert.ok(vs.includes(v), `${v} missing from ${vs}`);
  assert.not.ok(matmulVariants([2, 8, 8], [2, 8, 8]).includes('uniform'), 'uniform needs one B for all batches');
  assert.not.ok(matmulVariants([8, 8], [8, 8]).includes('splitk'), 'split-K needs a long K');
});

for (const [ta, tb] of TRANS) {
  t(`gradients of both operands (transA ${ta}, transB ${tb}, broadcast batch)`, async () => {
    const r = rng(31 + Number(ta) * 2 + Number(tb));
    const c1 = makeCase(5, 7, 3, ta, tb, [2], []);
    const c2 = makeCase(4, 6, 5, ta, tb, [1, 3], [2, 1]);
    for (const c of [c1, c2]) {
      await gradcheck(([x, y]) => matmul(x!, y!, { transA: ta, transB: tb }), [
        { shape: c.a, data: randArray(r, numel(c.a)) },
        { shape: c.b, data: randArray(r, numel(c.b)) },
      ]);
    }
  });
}

t('gradients through every variant', async () => {
  const r = rng(5);
  const c = makeCase(9, 70, 6, false, true, [2], []);
  for (const variant of matmulVariants(c.a, c.b, c)) {
    await gradcheck(([x, y]) => matmul(x!, y!, { transB: true, variant }), [
      { shape: c.a, data: randArray(r, numel(c.a)) },
      { shape: c.b, data: randArray(r, numel(c.b)) },
    ], { seed: variant.length });
  }
});

t('a frozen weight gets no weight-gradient matmul (needs[] pruning)', async () => {
  const r = rng(3);
  const variant: MatmulVariant = 'tiled';
  const x = tensor(randArray(r, 2 * 5 * 7), [2, 5, 7]);
  const w = tensor(randArray(r, 7 * 3), [7, 3]);
  const loss = (wrt: typeof x[]) => () => void valueAndGrad(() => sum(mul(matmul(x, w, { variant }), matmul(x, w, { variant }))), wrt);
  const onlyX = dispatches(loss([x]));
  const both = dispatches(loss([x, w]));
  // The weight gradient: x folded to [10, 7], transposed, times g [10, 3], once per use of w,
  // plus the add that sums the two uses.
  const dW = dispatches(() => void matmul(x.view([10, 7]), tensor(randArray(r, 30), [10, 3]), { transA: true, variant }));
  assert.is(dW, 1);
  assert.is(both - onlyX, 2 * dW + 1, `dispatches: x only ${onlyX}, x and w ${both}`);
  const onlyW = dispatches(loss([w]));
  assert.is(both - onlyW, 2 + 1, `dispatches: w only ${onlyW}, x and w ${both}`);
  await recorder().sync();
  x.dispose();
  w.dispose();
});

t('shape errors name both shapes', () => {
  const inner = messageOf(() => matmul(tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(8), [4, 2])));
  assert.ok(inner.includes('[2,3]') && inner.includes('[4,2]') && inner.includes('inner'), inner);
  const batch = messageOf(() => matmul(tensor(new Float32Array(12), [2, 2, 3]), tensor(new Float32Array(18), [3, 3, 2])));
  assert.ok(batch.includes('[2,2,3]') && batch.includes('[3,3,2]') && batch.includes('batch'), batch);
  const rank = messageOf(() => matmul(tensor(new Float32Array(3), [3]), tensor(new Float32Array(3), [3, 1])));
  assert.ok(rank.includes('[3]'), rank);
  const forced = messageOf(() => matmul(tensor(new Float32Array(8), [2, 2, 2]), tensor(new Float32Array(8), [2, 2, 2]), { variant: 'uniform' }));
  assert.ok(forced.includes('uniform') && forced.includes('[2,2,2]'), forced);
});

t('empty and K = 0 products', async () => {
  const z = tidy(() => matmul(tensor(new Float32Array(0), [3, 0]), tensor(new Float32Array(0), [0, 2])));
  assertClose(await read(z), new Float64Array(6), { what: 'K = 0' });
  const e = tidy(() => matmul(tensor(new Float32Array(0), [0, 4]), tensor(new Float32Array(8), [4, 2])));
  assert.equal(e.shape, [0, 2]);
  z.dispose();
  e.dispose();
});

t('the tuner times the candidates once, caches the winner, and BPT_TUNE=0 ignores it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpt-tune-'));
  const saved = { cache: process.env.BPT_TUNE_CACHE, tune: process.env.BPT_TUNE };
  process.env.BPT_TUNE_CACHE = join(dir, 'tune.json');
  delete process.env.BPT_TUNE;
  try {
    const res = await tuneMatmul([33, 70], [70, 20], { reps: 1 });
    assert.ok(matmulVariants([33, 70], [70, 20]).includes(res.choice));
    assert.equal(Object.keys(res.timings).sort(), matmulVariants([33, 70], [70, 20]).sort());
    const file = JSON.parse(readFileSync(process.env.BPT_TUNE_CACHE, 'utf8')) as { entries: Record<string, { choice: string }> };
    assert.equal(Object.values(file.entries).map((e) => e.choice), [res.choice]);
    assert.is(matmulChoice([33, 70], [70, 20]), res.choice);
    // Shapes of the same class share the choice.
    assert.is(matmulChoice([31, 69], [69, 21]), res.choice);
    process.env.BPT_TUNE = '0';
    const heuristic = matmulChoice([33, 70], [70, 20]);
    assert.ok(matmulVariants([33, 70], [70, 20]).includes(heuristic));
    assert.equal((await tuneMatmul([33, 70], [70, 20])).timings, {});
  } finally {
    for (const [k, v] of [['BPT_TUNE_CACHE', saved.cache], ['BPT_TUNE', saved.tune]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

t.run();
