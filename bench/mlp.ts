// One training step of an MLP classifier (issue 2): batch 256, input 512, a hidden layer of 512
// with relu, 10 classes, mean softmax cross-entropy, AdamW on every weight and bias, written with
// the engine's ops (matmul, add, relu, crossEntropy, valueAndGrad, AdamW) and recorded into ONE
// queue.submit (asserted). The same step in tfjs-webgpu on the same adapter and device
// (optimizer.minimize with Adam: tfjs has no AdamW; decoupled decay is one more multiply in our
// fused update) is the peer, from the same initial values; both losses are printed as a check.
//   node dist/bench/mlp.js [--batch 256] [--inputs 512] [--hidden 512[,512...]] [--classes 10] [--quick] [--no-peers] [--trace=FILE] [--out=FILE]
import { valueAndGrad } from '../src/autograd/grad.js';
import { gpu, initGpu, shutdownGpu } from '../src/gpu/device.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';
import { add, relu } from '../src/ops/elementwise.js';
import { matmul } from '../src/ops/matmul.js';
import { AdamW } from '../src/optim/adamw.js';
import { tensor } from '../src/tensor/create.js';
import { keep, tidy } from '../src/tensor/scope.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { normal, rng } from '../src/util/random.js';
import { numberFlag, suiteArgs } from './lib/args.js';
import { printTable, ratios, timeOurs, writeResults, type Row, type Timing } from './lib/harness.js';
import { tfjsPeer, timePeerStep, type DenseInit, type MlpSpec } from './lib/peers.js';

const values = suiteArgs('mlp', {
  batch: { type: 'string', help: 'batch size (default 256)' },
  inputs: { type: 'string', help: 'input width (default 512)' },
  hidden: { type: 'string', default: '512', arg: 'N[,N...]', help: 'hidden widths, comma-separated (default 512)' },
  classes: { type: 'string', help: 'classes (default 10)' },
  'no-peers': { type: 'boolean', default: false, help: 'skip tfjs-webgpu' },
});
const B = numberFlag('batch', values.batch, 256), IN = numberFlag('inputs', values.inputs, 512), CLASSES = numberFlag('classes', values.classes, 10);
const widths = [IN, ...values.hidden.split(',').map((w) => numberFlag('hidden', w, NaN)), CLASSES];
const timing = values.quick ? { gpuIters: 5, minSamples: 5, maxTime: 1 } : { gpuIters: 20, minSamples: 20, maxTime: 4 };

await initGpu();
const report = gpu().report;
process.stdout.write(`adapter: ${report.description} (${report.vendor} ${report.architecture})\n`);
const caseName = `batch ${B}, ${widths.join('-')}`;

// He-initialised layers and a fixed batch, shared by both implementations.
const gauss = normal(rng(5));
const layers: DenseInit[] = widths.slice(1).map((outputs, i) => {
  const inputs = widths[i]!;
  const std = Math.sqrt(2 / inputs);
  return { inputs, outputs, weight: Float32Array.from({ length: inputs * outputs }, () => std * gauss()), bias: new Float32Array(outputs) };
});
const u = rng(9);
const spec: MlpSpec = {
  x: Float32Array.from({ length: B * IN }, () => gauss()),
  batch: B,
  labels: Int32Array.from({ length: B }, () => Math.floor(u() * CLASSES)),
  classes: CLASSES,
  layers,
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
};
// Forward 2*B*sum(in*out); backward the same again for the weight gradients, and once more for
// the input gradients of every layer but the first (the data needs none).
const macs = layers.reduce((s, l) => s + l.inputs * l.outputs, 0);
const flops = 2 * B * (3 * macs - layers[0]!.inputs * layers[0]!.outputs);

const x = keep(tensor(spec.x, [B, IN]));
const labels = keep(tensor(spec.labels, [B], 'i32'));
const params: Tensor[] = layers.flatMap((l) => [keep(tensor(l.weight, [l.inputs, l.outputs])), keep(tensor(l.bias, [l.outputs]))]);
const opt = new AdamW(params, { lr: spec.lr, betas: spec.betas, eps: spec.eps, weightDecay: 1e-2 });
const loss = () => {
  let h = x;
  layers.forEach((_, i) => {
    h = add(matmul(h, params[2 * i]!), params[2 * i + 1]!);
    if (i < layers.length - 1) h = relu(h);
  });
  return crossEntropy(h, labels);
};
const ourLoss = async () => {
  const value = tidy(loss);
  const v = await value.item();
  value.dispose();
  return v;
};
const trainStep = () =>
  tidy(() => {
    const { grads } = valueAndGrad(loss, params);
    opt.step(grads);
  });

const rows: Row[] = [];
const initialLoss = await ourLoss();
const ours = await timeOurs(trainStep, { warmup: 3, ...timing });
if (ours.submits !== 1) throw new Error(`mlp: ${ours.submits} submits per training step, expected 1`);
rows.push({ case: caseName, impl: 'ours (AdamW)', timing: ours, flops, notes: { dispatches: ours.dispatches!, submits: ours.submits! } });

const tfjs = values['no-peers'] ? { skipped: '--no-peers' } : await tfjsPeer();
let peerInfo: Record<string, unknown> = 'skipped' in tfjs ? { ...tfjs } : {};
if ('skipped' in tfjs) process.stdout.write(`tfjs-webgpu: skipped (${tfjs.skipped})\n`);
else {
  const peer = tfjs.mlp(spec);
  const peerInitial = await peer.loss();
  let steps = 0;
  const counted = async () => {
    await peer.step();
    steps++;
  };
  await timePeerStep(counted, { warmup: 3 });
  const before = peer.counts();
  const stepsBefore = steps;
  const cpu0 = process.cpuUsage();
  const t: Timing = await timePeerStep(counted, { warmup: 0, ...timing });
  const cpu = process.cpuUsage(cpu0);
  const after = peer.counts();
  const n = steps - stepsBefore;
  t.cpuMs = (cpu.user + cpu.system) / 1e3 / n;
  t.dispatches = (after.dispatches - before.dispatches) / n;
  t.submits = (after.submits - before.submits) / n;
  rows.push({ case: caseName, impl: `tfjs-webgpu ${tfjs.version} (Adam)`, timing: t, flops, notes: { dispatches: t.dispatches, submits: t.submits } });
  const r = ratios(t, ours);
  rows[0]!.notes = { ...rows[0]!.notes, vs_tfjs_wall: r.wall, vs_tfjs_cpu: r.cpu };
  process.stdout.write(`initial loss: ours ${initialLoss.toFixed(5)}, tfjs ${peerInitial.toFixed(5)}\n`);
  peerInfo = { version: tfjs.version, sameDevice: true, optimizer: 'tf.train.adam', initialLoss: peerInitial };
  peer.dispose();
}
printTable(rows);
process.stdout.write(`ours: ${ours.dispatches} dispatches in ${ours.submits} submit per step\n`);
const path = writeResults('mlp', rows, {
  model: { widths, activation: 'relu', loss: 'softmax cross-entropy (mean)', optimizer: 'AdamW lr 1e-3 wd 1e-2' },
  initialLoss,
  tfjs: peerInfo,
});
process.stdout.write(`\nwrote ${path}\n`);
opt.dispose();
for (const t of [x, labels, ...params]) t.dispose();
await shutdownGpu();
