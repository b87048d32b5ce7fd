import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_PARTICLES, rbfKernel, readBandwidth, type Bandwidth } from '../../src/bayes/rbf.js';
import { SvgdRmsprop } from '../../src/bayes/rmsprop.js';
import { kernelStats, readKernelStats, svgdDirection } from '../../src/bayes/svgd.js';
import { recorder } from '../../src/gpu/recorder.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { svgd64, svgdRmsprop64 } from '../ref/rbf_svgd.js';
import { assertClose, randArray, rng } from '../util/check.js';
import { initGpu, read } from '../util/gpu.js';
import { sharedTest } from '../util/shared.js';

const t = suite('bayes/svgd');
t.before(async () => void (await initGpu()));

// The fixtures' float32 criteria: h relative, K absolute, phi relative to max|phi|.
const TOL = { h: 1e-5, K: 1e-5, phi: 1e-4 };

/** Particles with their own offsets and spreads, so pair distances differ; values rounded to f32. */
function particles(r: () => number, m: number, d: number): Float64Array {
  const x = new Float64Array(m * d);
  for (let i = 0; i < m; i++) {
    const c = r() - 0.5, w = 0.5 + r();
    for (let e = 0; e < d; e++) x[i * d + e] = Math.fround(c + w * (2 * r() - 1));
  }
  return x;
}

const f32 = (a: Float64Array) => a.map(Math.fround);

async function check(x: Float64Array, s: Float64Array, m: number, d: number, bandwidth?: number, what = `M=${m} D=${d}`): Promise<void> {
  const want = svgd64(x, s, m, d, bandwidth);
  const opts = bandwidth === undefined ? {} : { bandwidth };
  const got = tidy(() => svgdDirection(tensor(x, [m, d]), tensor(s, [m, d]), opts));
  assertClose([await readBandwidth(got)], [want.h], { rtol: TOL.h, atol: 0, what: `h ${what}` });
  assertClose(await read(got.K), want.K, { rtol: 0, atol: TOL.K, what: `K ${what}` });
  assertClose(await read(got.phi), want.phi, { rtol: TOL.phi, atol: 0, what: `phi ${what}` });
  for (const v of Object.values(got)) v.dispose();
}

function throws(fn: () => unknown, ...parts: string[]): void {
  try {
    tidy(fn);
  } catch (e) {
    const msg = (e as Error).message;
    for (const p of parts) assert.ok(msg.includes(p), `message "${msg}" lacks "${p}"`);
    return;
  }
  assert.unreachable(`expected an error mentioning ${parts.join(', ')}`);
}

sharedTest(t, 'matches the SVGD authors\' code (fixture n5_D512), median and fixed h', ['fixtures', 'svgd', 'svgd_median_n5_D512.json'], async (path) => {
  const fx = JSON.parse(readFileSync(path, 'utf8')) as {
    inputs: Record<string, { x: number[][]; dlnprob: number[][] }>;
    cases: Array<{ input: string; n: number; D: number; h: number; Kxy: number[][]; phi: number[][] }>;
  };
  for (const c of fx.cases) {
    const { x, dlnprob } = fx.inputs[c.input]!;
    for (const bandwidth of ['median', c.h] as Bandwidth[]) {
      const got = tidy(() => svgdDirection(tensor(x.flat(), [c.n, c.D]), tensor(dlnprob.flat(), [c.n, c.D]), { bandwidth }));
      assertClose([await readBandwidth(got.h)], [c.h], { rtol: TOL.h, atol: 0, what: `h ${bandwidth}` });
      assertClose(await read(got.K), c.Kxy.flat(), { rtol: 0, atol: TOL.K, what: `Kxy ${bandwidth}` });
      assertClose(await read(got.phi), c.phi.flat(), { rtol: TOL.phi, atol: 0, what: `phi ${bandwidth}` });
      for (const v of Object.values(got)) v.dispose();
    }
  }
});

t('median bandwidth, K and phi match float64 for odd and even M, odd D', async () => {
  const r = rng(11);
  const cases: Array<[number, number]> = [[3, 1], [5, 7], [7, 1031], [2, 13], [4, 7], [6, 1031], [5, 76801], [4, 76801]];
  for (const [m, d] of cases) await check(particles(r, m, d), f32(randArray(r, m * d)), m, d);
});

t('a fixed bandwidth matches float64 (K and phi use it; h is returned as given)', async () => {
  const r = rng(12);
  for (const [m, d] of [[3, 7], [6, 1031], [5, 76801]] as Array<[number, number]>) {
    const x = particles(r, m, d);
    const h = 0.8 * svgd64(x, x, m, d).h;
    await check(x, f32(randArray(r, m * d)), m, d, Math.fround(h), `M=${m} D=${d} h=${h.toFixed(3)}`);
  }
});

t('ties in the pair distances: duplicate particles still give numpy\'s median', async () => {
  const r = rng(13);
  const m = 6, d = 9;
  const x = particles(r, m, d);
  x.copyWithin(2 * d, 0, d);
  x.copyWithin(4 * d, 3 * d, 4 * d);
  await check(x, f32(randArray(r, m * d)), m, d, undefined, 'two duplicate pairs');
});

t('a zero median (M = 1, or most particles identical) falls back to h = 1', async () => {
  const r = rng(14);
  const one = particles(r, 1, 7), s1 = f32(randArray(r, 7));
  await check(one, s1, 1, 7, undefined, 'M=1');
  const got = tidy(() => svgdDirection(tensor(one, [1, 7]), tensor(s1, [1, 7])));
  assert.is(await readBandwidth(got), 1);
  assert.equal([...(await read(got.K))], [1]);
  assertClose(await read(got.phi), s1, { rtol: 0, atol: 0, what: 'phi = score for one particle' });
  for (const v of Object.values(got)) v.dispose();
  // Four of five identical: 5 diagonal zeros + 6 zero pairs counted twice = 17 of 25 entries.
  const x = particles(r, 5, 7);
  for (let i = 1; i < 4; i++) x.copyWithin(i * 7, 0, 7);
  await check(x, f32(randArray(r, 35)), 5, 7, undefined, 'four of five identical');
  assert.is(svgd64(x, x, 5, 7).h, 1);
});

t(`up to ${MAX_PARTICLES} particles; more are refused`, async () => {
  const r = rng(15);
  await check(particles(r, MAX_PARTICLES, 33), f32(randArray(r, MAX_PARTICLES * 33)), MAX_PARTICLES, 33);
  throws(() => rbfKernel(tensor(new Float32Array(65 * 3), [65, 3])), 'rbfKernel', '65 particles', `1 to ${MAX_PARTICLES}`);
});

t('rbfKernel alone equals the K and h of svgdDirection, with no host round trip', async () => {
  const r = rng(16);
  const m = 5, d = 1031;
  const x = particles(r, m, d), s = f32(randArray(r, m * d));
  const want = svgd64(x, s, m, d);
  const [xt, st] = [tensor(x, [m, d]), tensor(s, [m, d])];
  await recorder().sync();
  const before = recorder().snapshot();
  const got = svgdDirection(xt, st);
  const after = recorder().snapshot();
  assert.is(after.submits, before.submits, 'svgdDirection must only record');
  assert.is(after.dispatches - before.dispatches, 3, 'distances, bandwidth+K, phi');
  const rbf = rbfKernel(xt);
  assertClose(await read(rbf.K), await read(got.K), { rtol: 0, atol: 0, what: 'K' });
  assertClose([await readBandwidth(rbf)], [want.h], { rtol: TOL.h, atol: 0, what: 'h' });
  for (const v of [xt, st, rbf.K, rbf.h, got.K, got.h, got.phi]) v.dispose();
});

t('kernelStats: mean off-diagonal K, attraction and repulsion norms, h', async () => {
  const r = rng(17);
  for (const [m, d] of [[1, 5], [4, 257], [7, 1031]] as Array<[number, number]>) {
    const x = particles(r, m, d), s = f32(randArray(r, m * d));
    const want = svgd64(x, s, m, d);
    const stats = tidy(() => {
      const [xt, st] = [tensor(x, [m, d]), tensor(s, [m, d])];
      return kernelStats(xt, st, svgdDirection(xt, st));
    });
    const got = await readKernelStats(stats);
    stats.dispose();
    const what = `M=${m} D=${d}`;
    assertClose([got.meanOffDiagonalK], [want.meanOffDiagonalK], { rtol: 0, atol: TOL.K, what: `mean K ${what}` });
    assertClose([got.attraction, got.repulsion], [want.attraction, want.repulsion], { rtol: 1e-5, atol: 0, what: `norms ${what}` });
    assertClose([got.h], [want.h], { rtol: TOL.h, atol: 0, what: `h ${what}` });
  }
});

t('SvgdRmsprop follows the SVGD code: H = phi^2 first, then 0.9 H + 0.1 phi^2', async () => {
  const r = rng(18);
  const m = 3, d = 301, eps = 0.05;
  const theta = f32(randArray(r, m * d));
  const phis = [0, 1, 2].map(() => f32(randArray(r, m * d)));
  const x = tensor(theta, [m, d]);
  const opt = new SvgdRmsprop({ stepSize: eps });
  const want = Float64Array.from(theta), H = new Float64Array(m * d);
  for (const [k, p] of phis.entries()) {
    const pt = tensor(p, [m, d]);
    opt.step(x, pt);
    pt.dispose();
    svgdRmsprop64(want, H, p, k, eps);
  }
  assert.is(opt.stepCount, 3);
  assertClose(await read(opt.history!), H, { rtol: 1e-6, atol: 0, what: 'H' });
  assertClose(await read(x), want, { rtol: 1e-6, atol: 0, what: 'theta' });
  throws(() => opt.step(x, tensor(new Float32Array(4), [2, 2])), 'SvgdRmsprop.step', '[2,2]', `[${m},${d}]`);
  throws(() => new SvgdRmsprop({ stepSize: 1, alpha: 1.5 }), 'alpha');
  opt.dispose();
  x.dispose();
});

t('invalid inputs name the op and the shapes', () => {
  const p = (shape: number[]): Tensor => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  throws(() => svgdDirection(p([5, 8]), p([5, 7])), 'svgdDirection', 'scores', '[5,7]', '[5,8]');
  throws(() => svgdDirection(p([5, 8]), p([4, 8])), 'svgdDirection', '[4,8]', '[5,8]');
  throws(() => svgdDirection(p([40]), p([40])), 'svgdDirection', '2-D', '[40]');
  throws(() => rbfKernel(p([2, 3, 4])), 'rbfKernel', '2-D', '[2,3,4]');
  throws(() => rbfKernel(p([0, 4])), 'rbfKernel', '0 particles');
  throws(() => rbfKernel(p([3, 0])), 'rbfKernel', 'no dimensions');
  throws(() => rbfKernel(tensor(new Int32Array(6), [2, 3])), 'rbfKernel', 'f32', 'i32');
  for (const bad of [0, -1, Number.NaN, Infinity]) throws(() => rbfKernel(p([2, 3]), { bandwidth: bad }), 'rbfKernel', 'bandwidth');
  throws(() => kernelStats(p([3, 4]), p([3, 4]), { K: p([2, 2]), h: p([1]) }), 'kernelStats', 'K', '[2,2]', '[3,3]');
});

t.run();
