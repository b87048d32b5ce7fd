// Captured steps on the embedded model (issue 14): a prompt-tuning step (AdamW on a soft prompt
// [20, d]), a pretraining step (every weight, Adafactor, dropout 0.1) and a BPT source step (the
// stage's own sourceStep: 5 particles [20, d] x 3 tasks, one example each: 15 rows with a per-row
// prompt index and loss weights, SVGD, AdamW on -phi, dropout) of models/byt5-tiny, recorded
// eagerly and replayed from a capture (src/jit), side by side: one step of each per round, medians
// over the rounds after the capture. Reports host ms to record and submit a step, wall ms per step
// (record + submit + wait) and dispatches; the replayed losses must equal the eager ones.
//   node dist/bench/replay.js [--rows 8] [--input 64] [--target 16] [--iters 8] [--out=FILE]
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { valueAndGrad } from '../src/autograd/grad.js';
import { initGpu, shutdownGpu } from '../src/gpu/device.js';
import { recorder } from '../src/gpu/recorder.js';
import { loadHfCheckpoint } from '../src/io/checkpoint.js';
import { sourceOptions } from '../src/bpt/options.js';
import { makeModule, makeStepper, sourceRows, sourceStep } from '../src/bpt/source.js';
import { capture, type CapturedInputs } from '../src/jit/capture.js';
import { seq2seq, type Seq2SeqBatch } from '../src/nn/t5/seq2seq.js';
import { disposeModel, modelFromCheckpoint } from '../src/nn/t5/weights.js';
import { Adafactor } from '../src/optim/adafactor.js';
import { AdamW } from '../src/optim/adamw.js';
import { keep } from '../src/tensor/scope.js';
import { readAll, type Tensor } from '../src/tensor/tensor.js';
import { collate, type Encoded } from '../src/train/data.js';
import { disposeAll } from '../src/train/host.js';
import { loadModel, releaseModel } from '../src/train/model.js';
import { numberFlag, suiteArgs } from './lib/args.js';
import { printTable, writeResults, type Row } from './lib/harness.js';
import { batchOf, promptOf, randomIds } from './lib/t5.js';

const values = suiteArgs('replay', {
  rows: { type: 'string', help: 'rows (default 8, 2 with --quick)' },
  input: { type: 'string', help: 'input tokens (default 64, 16 with --quick)' },
  target: { type: 'string', help: 'target tokens (default 16, 4 with --quick)' },
  iters: { type: 'string', help: 'timed rounds after the capture (default 8, 3 with --quick)' },
});
const dflt = values.quick ? { rows: 2, input: 16, target: 4, iters: 3 } : { rows: 8, input: 64, target: 16, iters: 8 };
const shape = { rows: numberFlag('rows', values.rows, dflt.rows), input: numberFlag('input', values.input, dflt.input), target: numberFlag('target', values.target, dflt.target) };
const ITERS = numberFlag('iters', values.iters, dflt.iters);
// Eager, capture, verifying capture: the first replay is the fourth call.
const WARMUP = 4;

await initGpu();
// Bundled as dist/bench/replay.js: the repository's models/ is two levels up.
const modelDir = fileURLToPath(new URL('../../models/byt5-tiny', import.meta.url));
const ckpt = loadHfCheckpoint(modelDir);
const rec = recorder();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const caseName = `byt5-tiny B${shape.rows} x ${shape.input} -> ${shape.target}`;
const rows: Row[] = [];
const load0 = loadavg()[0]!;

/** One kind of step, eager or captured: `step(i)` records step i and returns its loss (the caller frees it). */
interface Setup {
  case: string;
  step: (i: number) => Tensor;
  dispose: () => void;
}

function modelStep(kind: 'prompt tuning' | 'pretraining', enabled: boolean): Setup {
  // Pretraining trains every weight: the model's parameters are one arena, as `bpt pretrain` has them.
  const model = modelFromCheckpoint(ckpt, { arena: kind === 'pretraining' });
  const batch = batchOf(shape, ckpt.config.vocab_size, 7);
  const P = keep(promptOf([20, ckpt.config.d_model], 3));
  const params = kind === 'pretraining' ? [...model.params.values()] : [P];
  const opt = kind === 'pretraining' ? new Adafactor(params) : new AdamW(params, { lr: 0.3 });
  const step = capture(({ seed, ...b }: CapturedInputs<Seq2SeqBatch & { seed: number }>) => {
    const { value, grads } = valueAndGrad(() => seq2seq(model, b, kind === 'pretraining' ? undefined : P, { training: true, seed }).loss, params, { into: opt.gradTargets() });
    opt.step(grads);
    return [value];
  }, { enabled });
  return {
    case: caseName,
    step: (i) => step({ ...batch, seed: i })[0]!,
    dispose: () => {
      step.dispose();
      opt.dispose();
      P.dispose();
      for (const t of Object.values(batch)) t.dispose();
      disposeModel(model);
    },
  };
}

function bptSourceStep(enabled: boolean): Setup {
  const o = sourceOptions(null, { model: modelDir, out: 'unused', tasks: 'rte,mrpc,cola', method: 'bpt', particles: '5', 'prompt-length': '20', 'examples-per-task': '1' });
  const lm = loadModel(modelDir, null);
  const module = makeModule(o, lm);
  const stepper = makeStepper(o, module);
  const step = sourceStep(o, lm, module, stepper, undefined, { enabled });
  const examples = new Map<number, Encoded[]>();
  const draw = (task: number): Encoded => {
    const list = examples.get(task) ?? [];
    examples.set(task, list);
    const n = list.length;
    const e: Encoded = { example: { task: 'rte', id: `${task}.${n}`, fields: {}, label: 0 }, task, input: [...randomIds(shape.input - 1, 256, 10 * task + n), 1], target: [...randomIds(shape.target - 1, 256, 1000 + 10 * task + n), 1] };
    list.push(e);
    return e;
  };
  const picked = sourceRows(o, [0, 1, 2], draw);
  const h = collate(picked.rows, { padId: 0, decoderStartId: 0, padMultiple: 8, promptIndex: picked.promptIndex, promptCount: module.promptCount });
  return {
    case: `byt5-tiny ${h.rows} rows (5 particles x 3 tasks) x ${h.inputLength} -> ${h.targetLength}`,
    step: (i) => {
      const { value, ...rest } = step(h, picked.scale, i, false).out;
      disposeAll(rest);
      return value;
    },
    dispose: () => {
      step.dispose();
      stepper.opt.dispose();
      module.dispose();
      releaseModel(lm);
    },
  };
}

for (const kind of ['prompt tuning', 'pretraining', 'bpt source'] as const) {
  const runs = [false, true].map((enabled) => {
    const setup = kind === 'bpt source' ? bptSourceStep(enabled) : modelStep(kind, enabled);
    return { impl: `ours: ${kind}, ${enabled ? 'replay' : 'eager'}`, ...setup, host: [] as number[], wall: [] as number[], losses: [] as number[], dispatches: 0 };
  });
  for (let i = 0; i < WARMUP + ITERS; i++) {
    for (const r of runs) {
      await rec.sync();
      const d0 = rec.snapshot().dispatches;
      const t0 = performance.now();
      const loss = r.step(i);
      rec.submit();
      const t1 = performance.now();
      await rec.sync();
      const t2 = performance.now();
      r.losses.push((await readAll([loss]))[0]![0]!);
      loss.dispose();
      if (i < WARMUP) continue;
      r.host.push(t1 - t0);
      r.wall.push(t2 - t0);
      r.dispatches = rec.snapshot().dispatches - d0;
    }
  }
  const [eager, replay] = runs as [typeof runs[0], typeof runs[0]];
  if (eager.losses.some((l, i) => !Object.is(l, replay.losses[i]))) throw new Error(`${kind}: replayed losses differ from eager ones`);
  for (const r of runs) {
    const wallMs = median(r.wall);
    rows.push({
      case: r.case, impl: r.impl, dispatches: r.dispatches, hostMs: median(r.host),
      timing: { wallMs, rmePct: 0, samples: ITERS, dispatches: r.dispatches, submits: 1 },
      notes: { host_ms: median(r.host), host_us_per_dispatch: (median(r.host) * 1e3) / r.dispatches },
    });
    r.dispose();
  }
  rows[rows.length - 1]!.notes!.wall_vs_eager = median(replay.wall) / median(eager.wall);
}
printTable(rows);
process.stdout.write(`load average ${load0.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}; replayed losses equal the eager ones bit for bit\n`);
const path = writeResults('replay', rows, { shape, iters: ITERS, loadAverage: [load0, loadavg()[0]] });
process.stdout.write(`wrote ${path}\n`);
await shutdownGpu();
