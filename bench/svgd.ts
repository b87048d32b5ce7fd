// GPU time of one SVGD direction (squared distances, median bandwidth + K, phi) for BPT's default
// shape: M = 5 particles of a 100 x 768 prompt (T5-base). Self-contained: timestamp queries from
// the engine's profiler, plus wall time of record + submit + wait.
//   node dist/bench/svgd.js [--m 5] [--d 76800] [--iters 50]
import { parseArgs } from 'node:util';
import { kernelStats, svgdDirection } from '../src/bayes/svgd.js';
import { SvgdRmsprop } from '../src/bayes/rmsprop.js';
import { gpu, initGpu, shutdownGpu } from '../src/gpu/device.js';
import { summarize, type KernelRecord } from '../src/gpu/profiler.js';
import { recorder } from '../src/gpu/recorder.js';
import { tensor } from '../src/tensor/create.js';
import { tidy } from '../src/tensor/scope.js';

const { values } = parseArgs({
  options: { m: { type: 'string', default: '5' }, d: { type: 'string', default: '76800' }, iters: { type: 'string', default: '50' } },
});
const M = Number(values.m), D = Number(values.d), ITERS = Number(values.iters);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

await initGpu();
const rec = recorder();
process.stdout.write(`adapter: ${gpu().report.description}\nSVGD direction, M = ${M}, D = ${D}, ${ITERS} iterations\n`);

const x = tensor(Float32Array.from({ length: M * D }, (_, i) => Math.sin(i * 0.37 + (i % 7))), [M, D]);
const s = tensor(Float32Array.from({ length: M * D }, (_, i) => Math.cos(i * 0.11)), [M, D]);
const step = () => tidy(() => void svgdDirection(x, s));

for (let i = 0; i < 5; i++) step();
await rec.sync();

const wall: number[] = [];
for (let i = 0; i < ITERS; i++) {
  const t0 = performance.now();
  step();
  await rec.sync();
  wall.push(performance.now() - t0);
}

/** Per iteration: the sum of the dispatches' GPU times, and first start to last end. */
async function profile(run: () => void, dispatches: number): Promise<{ busy: number[]; span: number[]; records: KernelRecord[] }> {
  rec.profiler.start();
  for (let i = 0; i < ITERS; i++) run();
  await rec.sync();
  rec.profiler.stop();
  const records = await rec.profiler.collect();
  const busy: number[] = [], span: number[] = [];
  for (let i = 0; i + dispatches <= records.length; i += dispatches) {
    const it = records.slice(i, i + dispatches);
    busy.push(it.reduce((a, r) => a + r.durationNs, 0) / 1e3);
    span.push((Math.max(...it.map((r) => r.startNs + r.durationNs)) - it[0]!.startNs) / 1e3);
  }
  return { busy, span, records };
}

if (!gpu().hasTimestamps) {
  process.stdout.write('no timestamp-query feature: GPU times unavailable\n');
} else {
  const dir = await profile(step, 3);
  process.stdout.write(
    `GPU time, all passes: median ${median(dir.busy).toFixed(1)} us (sum of dispatches), ` +
      `${median(dir.span).toFixed(1)} us (first start to last end)\n`,
  );
  for (const k of summarize(dir.records)) process.stdout.write(`  ${k.kernel.padEnd(24)} median ${k.medianUs.toFixed(1)} us\n`);

  const stats = await profile(() => tidy(() => void kernelStats(x, s, svgdDirection(x, s))), 5);
  process.stdout.write(`with kernelStats (5 passes): median ${median(stats.busy).toFixed(1)} us\n`);

  const theta = tensor(Float32Array.from({ length: M * D }, () => 0), [M, D]);
  const opt = new SvgdRmsprop({ stepSize: 1e-3 });
  const upd = await profile(() => tidy(() => opt.step(theta, svgdDirection(theta, s).phi)), 4);
  process.stdout.write(`direction + SvgdRmsprop update (4 passes): median ${median(upd.busy).toFixed(1)} us\n`);
  opt.dispose();
  theta.dispose();
}
process.stdout.write(`wall time per direction (record + submit + wait): median ${median(wall).toFixed(3)} ms\n`);
x.dispose();
s.dispose();
await shutdownGpu();
