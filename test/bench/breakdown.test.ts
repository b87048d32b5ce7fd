import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { svgdDirection } from '../../src/bayes/svgd.js';
import { gpu } from '../../src/gpu/device.js';
import type { KernelRecord } from '../../src/gpu/profiler.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import { iterationBreakdown } from '../../bench/lib/breakdown.js';
import { gpuSumMs, measureOurs, timeSideBySide } from '../../bench/lib/harness.js';
import { initGpu } from '../util/gpu.js';

const t = suite('bench breakdown');
t.before(async () => void (await initGpu()));

/** One iteration: dispatches of the given kernels and microseconds, back to back from `at` us. */
const iteration = (at: number, ks: Array<[string, number]>): KernelRecord[] => {
  let ns = at * 1e3;
  return ks.map(([kernel, us]) => {
    const r = { label: kernel, kernel, startNs: ns, durationNs: us * 1e3 };
    ns += us * 1e3 + 500;
    return r;
  });
};

t('the breakdown is of the median iteration: its kernels add up to the median of the sums', () => {
  const runs = [
    iteration(0, [['a', 300], ['b', 100]]), // 400 us
    iteration(1000, [['a', 100], ['b', 100]]), // 200 us: the median
    iteration(2000, [['a', 50], ['b', 50]]), // 100 us
  ];
  const b = iterationBreakdown(runs);
  assert.equal(b.kernels, [{ kernel: 'a', calls: 1, ms: 0.1 }, { kernel: 'b', calls: 1, ms: 0.1 }]);
  assert.is(b.gpuMs, 0.2);
  // 100 us, a 0.5 us gap, 100 us.
  assert.ok(Math.abs(b.spanMs - 0.2005) < 1e-12);
});

t('an even count averages the two middle iterations, as the median does', () => {
  const runs = [100, 400, 200, 300].map((us, i) => iteration(i * 1000, [['a', us / 2], ['b', us / 2]]));
  const b = iterationBreakdown(runs);
  assert.ok(Math.abs(b.gpuMs - 0.25) < 1e-12);
  assert.ok(Math.abs(b.kernels.reduce((s, k) => s + k.ms, 0) - 0.25) < 1e-12);
});

// The cause of the svgd suite's 12.98 ms breakdown against its 8.45 ms gpu ms column: the
// breakdown came from a second profiled run. Taken from the timing's own iterations, the
// breakdown's total is its gpu ms up to float rounding (relative 1e-9).
t('on a small SVGD step, the breakdown total equals the gpu ms column', async () => {
  if (!gpu().hasTimestamps) return;
  const [M, D] = [3, 500];
  const x = tensor(Float32Array.from({ length: M * D }, (_, i) => Math.sin(i * 0.37)), [M, D]);
  const s = tensor(Float32Array.from({ length: M * D }, (_, i) => Math.cos(i * 0.11)), [M, D]);
  const { timing, runs } = await measureOurs(() => tidy(() => void svgdDirection(x, s)), { warmup: 1, gpuIters: 5, wallIters: 2 });
  const b = iterationBreakdown(runs);
  const total = b.kernels.reduce((sum, k) => sum + k.ms, 0);
  assert.is(runs.length, 5);
  assert.ok(timing.gpuMs! > 0);
  assert.ok(Math.abs(total - timing.gpuMs!) <= 1e-9 * timing.gpuMs!, `breakdown ${total} ms vs gpu ms ${timing.gpuMs}`);
  assert.ok(Math.abs(b.gpuMs - timing.gpuMs!) <= 1e-9 * timing.gpuMs!);
  assert.ok(b.spanMs > 0);
  x.dispose();
  s.dispose();
});

t('side by side, the records kept for a breakdown are the median round of an odd count', async () => {
  if (!gpu().hasTimestamps) return;
  const x = tensor(Float32Array.from({ length: 1500 }, (_, i) => Math.sin(i)), [3, 500]);
  const sbs = await timeSideBySide([() => tidy(() => void svgdDirection(x, x)), () => tidy(() => void svgdDirection(x, x, { bandwidth: 2 }))], { warmup: 1, gpuIters: 3, wallIters: 1 });
  for (const [j, timing] of sbs.timings.entries()) {
    const total = gpuSumMs(sbs.records[j]!);
    assert.ok(Math.abs(total - timing.gpuMs!) <= 1e-9 * timing.gpuMs!, `run ${j}: records ${total} ms vs gpu ms ${timing.gpuMs}`);
  }
  x.dispose();
});

t.run();
