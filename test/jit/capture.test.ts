// Step capture and replay: replayed steps equal eager ones bit for bit (an MLP with AdamW, a T5
// prompt-tuning step with dropout and task sampling, a T5 pretraining step with Adafactor), new
// shapes get new plans, and what a replay cannot repeat is refused with a message.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { recorder } from '../../src/gpu/recorder.js';
import { capture, type CapturedInputs, type StepInputs, type StepOutputs } from '../../src/jit/capture.js';
import { seq2seq } from '../../src/nn/t5/seq2seq.js';
import { disposeModel, modelFromCheckpoint, randomCheckpoint } from '../../src/nn/t5/weights.js';
import { crossEntropy } from '../../src/ops/cross_entropy.js';
import { dropout } from '../../src/ops/dropout.js';
import { add, relu, scale } from '../../src/ops/elementwise.js';
import { matmul } from '../../src/ops/matmul.js';
import { Adafactor } from '../../src/optim/adafactor.js';
import { AdamW } from '../../src/optim/adamw.js';
import { tensor } from '../../src/tensor/create.js';
import { keep, tidy } from '../../src/tensor/scope.js';
import { readAll, type Tensor } from '../../src/tensor/tensor.js';
import { randArray, rng } from '../util/check.js';
import { tinyConfig } from '../util/fixtures.js';
import { initGpu } from '../util/gpu.js';
import { messageOf } from '../util/throws.js';

const t = suite('capture');
t.before(async () => void (await initGpu()));

const bits = (a: Float32Array | Int32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

/** A training setup: its trained tensors, the step, each step's inputs (tensors are disposed after it). */
interface Setup<I extends StepInputs<I>> {
  params: Tensor[];
  body: (inputs: CapturedInputs<I>) => StepOutputs;
  inputs: (step: number) => I;
  dispose: () => void;
}

/**
 * Runs `steps` steps of a fresh setup eagerly, then of another captured (`replays` of them
 * replayed); returns both runs' first outputs per step and final tensors, as bits.
 */
async function bothWays<I extends StepInputs<I>>(setup: () => Setup<I>, steps: number, replays: number) {
  const out = [];
  for (const enabled of [false, true]) {
    const s = setup();
    const step = capture(s.body, { enabled });
    const losses: number[][] = [];
    for (let i = 0; i < steps; i++) {
      const inputs = s.inputs(i);
      const outs = Object.values(step(inputs)) as Tensor[];
      losses.push(bits((await readAll([outs[0]!]))[0]!));
      for (const v of [...outs, ...Object.values(inputs as Record<string, Tensor | number>)]) if (typeof v !== 'number') v.dispose();
    }
    const params = (await readAll(s.params)).map(bits);
    assert.is(step.stats.replays, enabled ? replays : 0);
    step.dispose();
    s.dispose();
    out.push({ losses, params });
  }
  const [eager, captured] = out;
  assert.equal(captured!.losses, eager!.losses);
  assert.equal(captured!.params, eager!.params);
  return eager!;
}

t('an MLP + AdamW step with dropout and an lr schedule replays bit-identically', async () => {
  const r = rng(1);
  const w1h = randArray(r, 6 * 16), w2h = randArray(r, 16 * 4);
  const eager = await bothWays(() => {
    const w1 = keep(tensor(w1h, [6, 16]));
    const w2 = keep(tensor(w2h, [16, 4]));
    const opt = new AdamW([w1, w2], { lr: 1e-2 });
    return {
      params: [w1, w2],
      body: ({ x, y, seed }: CapturedInputs<{ x: Tensor; y: Tensor; seed: number }>) => {
        const { value, grads } = valueAndGrad(() => {
          const h = dropout(relu(matmul(x, w1)), 0.3, { seed, training: true });
          return crossEntropy(matmul(h, w2), y, { reduction: 'mean' });
        }, [w1, w2]);
        opt.step(grads);
        return [value];
      },
      inputs: (i) => {
        opt.setLrScale(1 / (1 + i));
        return { x: tensor(randArray(rng(10 + i), 8 * 6), [8, 6]), y: tensor(Int32Array.from({ length: 8 }, (_, j) => (i + j) % 4), [8], 'i32'), seed: 100 + i };
      },
      dispose: () => {
        opt.dispose();
        w1.dispose();
        w2.dispose();
      },
    };
  }, 6, 3);
  // Dropout masks and the lr really changed per step: the losses are not all equal.
  assert.ok(new Set(eager.losses.map((l) => l[0])).size > 1);
});

function tinyBatch(B: number, S: number, T: number, seed: number) {
  const r = rng(seed);
  const ids = Int32Array.from({ length: B * S }, () => 3 + Math.floor(r() * 300));
  const mask = Float32Array.from({ length: B * S }, (_, i) => (i % S < S - ((i / S) | 0) % 2 ? 1 : 0));
  const labels = Int32Array.from({ length: B * T }, () => 3 + Math.floor(r() * 300));
  const dec = Int32Array.from({ length: B * T }, (_, i) => (i % T === 0 ? 0 : labels[i - 1]!));
  return { ids, mask, labels, dec, B, S, T };
}

type T5Inputs = { inputIds: Tensor; attentionMask: Tensor; decoderInputIds: Tensor; labels: Tensor; seed: number };

function uploadInputs(h: ReturnType<typeof tinyBatch>, seed: number): T5Inputs {
  return {
    inputIds: tensor(h.ids, [h.B, h.S], 'i32'),
    attentionMask: tensor(h.mask, [h.B, h.S]),
    decoderInputIds: tensor(h.dec, [h.B, h.T], 'i32'),
    labels: tensor(h.labels, [h.B, h.T], 'i32'),
    seed,
  };
}

t('a T5 prompt-tuning step with dropout and task sampling replays bit-identically', async () => {
  const ckpt = randomCheckpoint(tinyConfig(0.1), 3);
  const tasks = 3, L = 4, d = ckpt.config.d_model;
  const stackHost = randArray(rng(4), tasks * L * d);
  await bothWays(() => {
    const model = modelFromCheckpoint(ckpt);
    const stack = keep(tensor(stackHost, [tasks, L, d]));
    const opt = new AdamW([stack], { lr: 3e-2 });
    return {
      params: [stack],
      body: ({ task, seed, ...batch }: CapturedInputs<T5Inputs & { task: Tensor }>) => {
        const { value, grads } = valueAndGrad(() => seq2seq(model, batch, { stack, index: task }, { training: true, seed }).loss, [stack]);
        opt.step(grads);
        return { loss: value };
      },
      // Task sampling: each row's task changes from step to step.
      inputs: (i) => ({ ...uploadInputs(tinyBatch(4, 6, 3, 20 + i), 7 * i + 1), task: tensor(Int32Array.from({ length: 4 }, (_, j) => (i * 3 + j) % tasks), [4], 'i32') }),
      dispose: () => {
        opt.dispose();
        stack.dispose();
        disposeModel(model);
      },
    };
  }, 6, 3);
});

t('a T5 pretraining step (every weight, Adafactor, dropout) replays bit-identically', async () => {
  const ckpt = randomCheckpoint(tinyConfig(0.1), 5);
  await bothWays(() => {
    const model = modelFromCheckpoint(ckpt);
    const params = [...model.params.values()];
    const opt = new Adafactor(params);
    return {
      params,
      body: ({ seed, ...batch }: CapturedInputs<T5Inputs>) => {
        const { value, grads } = valueAndGrad(() => seq2seq(model, batch, undefined, { training: true, seed }).loss, params);
        opt.step(grads);
        return [value];
      },
      inputs: (i) => uploadInputs(tinyBatch(2, 5, 4, 40 + i), i),
      dispose: () => {
        opt.dispose();
        disposeModel(model);
      },
    };
  }, 5, 2);
});

t('a new input shape gets its own plan; the old one still replays', async () => {
  const w = keep(tensor([1, 2, 3, 4], [2, 2]));
  const step = capture(({ x }: CapturedInputs<{ x: Tensor }>) => matmul(x, w));
  const run = async (rows: number, v: number) => {
    const x = tensor(new Float32Array(rows * 2).fill(v), [rows, 2]);
    const y = step({ x });
    const out = [...(await readAll([y]))[0]!];
    x.dispose();
    y.dispose();
    return out;
  };
  for (let i = 0; i < 4; i++) assert.equal(await run(1, i), [4 * i, 6 * i]);
  assert.equal(step.stats, { eager: 1, captures: 2, replays: 1 });
  for (let i = 0; i < 4; i++) assert.equal(await run(3, i), Array.from({ length: 3 }, () => [4 * i, 6 * i]).flat());
  assert.equal(step.stats, { eager: 2, captures: 4, replays: 2 });
  assert.equal(await run(1, 5), [20, 30]);
  assert.is(step.stats.replays, 3);
  step.dispose();
  w.dispose();
});

t('a step may return a tensor it did not make; its owner keeps it', async () => {
  const w = keep(tensor([1, 2]));
  const step = capture(({ x }: CapturedInputs<{ x: Tensor }>) => ({ y: add(x, w), w }));
  for (let i = 0; i < 4; i++) {
    const x = tensor([i, i]);
    const { y, w: wOut } = step({ x });
    const host = await readAll([y, wOut, w]);
    assert.equal(host.map((a) => [...a!]), [[i + 1, i + 2], [1, 2], [1, 2]]);
    // An eager call returns what the step returned (w itself); a capture or replay, a copy.
    assert.is(wOut === w, i === 0);
    for (const t of [x, y, ...(wOut === w ? [] : [wOut])]) t.dispose();
  }
  assert.is(step.stats.replays, 1);
  step.dispose();
  w.dispose();
});

t('a host read, a host upload or an undeclared per-step value inside a captured step is refused', async () => {
  const x = keep(tensor([1, 2]));
  const reads = capture(() => {
    void x.toArray();
    return scale(x, 2);
  }, { warmup: 0 });
  assert.match(messageOf(() => void reads({})), /capture: reading tensors back to the host inside a captured step cannot be replayed/);
  const uploads = capture(() => add(x, tensor([1, 1])), { warmup: 0 });
  assert.match(messageOf(() => void uploads({})), /capture: tensor\(data\), an upload of host data, inside a captured step cannot be replayed/);
  // The host state `n` feeds a uniform outside any dynamic region: the second capture sees it change.
  let n = 0;
  const hidden = capture(() => scale(x, ++n));
  for (let i = 0; i < 2; i++) tidy(() => void hidden({}));
  const msg = messageOf(() => void hidden({}));
  assert.match(msg, /capture: this step cannot be replayed: dispatch 0 \(scale f32\[2\]\) has parameters that changed between two calls \(\w+\.[\w, ]+\)/);
  // Nothing is left captured: the recorder records eagerly again.
  assert.not.ok(recorder().capturing);
  const y = scale(x, 3);
  assert.equal([...(await readAll([y]))[0]!], [3, 6]);
  y.dispose();
  x.dispose();
});

t.run();
