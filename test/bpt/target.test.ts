// The target objective: theta_t = P o (U_t V_t), the prior 1/(2 sigma^2) ||. - mu||^2 on theta
// (every task) or on P, its value and gradients against float64 host computations; and
// multi-target batches, whose rows must see exactly their own task's prompt.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { GaussianPrior } from '../../src/bpt/prior.js';
import { LowRankPrompts } from '../../src/bpt/prompts.js';
import { ByT5Tokenizer } from '../../src/io/tokenizer/byt5_tokenizer.js';
import type { T5Model } from '../../src/nn/t5/model.js';
import { seq2seq, tokenNll } from '../../src/nn/t5/seq2seq.js';
import { disposeModel, modelFromCheckpoint, randomCheckpoint } from '../../src/nn/t5/weights.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import { collate, uploadBatch, uploadStepBatch, type Encoded } from '../../src/train/data.js';
import { makeOptimizer } from '../../src/train/optimizers.js';
import { trainStep } from '../../src/train/step.js';
import { assertClose, randArray, rng } from '../util/check.js';
import { initGpu, read } from '../util/gpu.js';
import { tinyConfig } from '../util/fixtures.js';

const t = suite('bpt/target');
let model: T5Model;
t.before(async () => {
  await initGpu();
  model = modelFromCheckpoint(randomCheckpoint(tinyConfig(), 13));
});
t.after(() => disposeModel(model));

const T = 3, L = 5, R = 2, D = 16;
const r = rng(9);

interface Host {
  P: Float64Array;
  U: Float64Array;
  V: Float64Array;
  mu: Float64Array;
}

function randomHost(): Host {
  return { P: randArray(r, L * D), U: randArray(r, T * L * R, 0.5, 1.5), V: randArray(r, T * R * D, 0.5, 1.5), mu: randArray(r, L * D) };
}

/** theta_t[i][j] = P[i][j] * sum_k U[t][i][k] V[t][k][j], float64. */
function theta64(h: Host): Float64Array {
  const out = new Float64Array(T * L * D);
  for (let s = 0; s < T; s++) {
    for (let i = 0; i < L; i++) {
      for (let j = 0; j < D; j++) {
        let acc = 0;
        for (let k = 0; k < R; k++) acc += h.U[(s * L + i) * R + k]! * h.V[(s * R + k) * D + j]!;
        out[(s * L + i) * D + j] = h.P[i * D + j]! * acc;
      }
    }
  }
  return out;
}

/** Value and gradients (P, U, V) of c ||theta - mu||^2 (all tasks) or c ||P - mu||^2, float64. */
function prior64(h: Host, c: number, on: 'theta' | 'P'): { value: number; gP: Float64Array; gU: Float64Array; gV: Float64Array } {
  const gP = new Float64Array(L * D), gU = new Float64Array(T * L * R), gV = new Float64Array(T * R * D);
  let value = 0;
  if (on === 'P') {
    h.P.forEach((p, i) => {
      value += c * (p - h.mu[i]!) ** 2;
      gP[i] = 2 * c * (p - h.mu[i]!);
    });
    return { value, gP, gU, gV };
  }
  const th = theta64(h);
  for (let s = 0; s < T; s++) {
    for (let i = 0; i < L; i++) {
      for (let j = 0; j < D; j++) {
        const e = th[(s * L + i) * D + j]! - h.mu[i * D + j]!;
        value += c * e * e;
        let uv = 0;
        for (let k = 0; k < R; k++) uv += h.U[(s * L + i) * R + k]! * h.V[(s * R + k) * D + j]!;
        gP[i * D + j] += 2 * c * e * uv;
        for (let k = 0; k < R; k++) {
          gU[(s * L + i) * R + k] += 2 * c * e * h.P[i * D + j]! * h.V[(s * R + k) * D + j]!;
          gV[(s * R + k) * D + j] += 2 * c * e * h.P[i * D + j]! * h.U[(s * L + i) * R + k]!;
        }
      }
    }
  }
  return { value, gP, gU, gV };
}

function makeModule(h: Host): LowRankPrompts {
  return new LowRankPrompts(tensor(h.P, [L, D]), T, R, { U: tensor(h.U, [T, L, R]), V: tensor(h.V, [T, R, D]) });
}

t('theta = P o (U V) per task; U = V = ones gives theta = P', async () => {
  const h = randomHost();
  const m = makeModule(h);
  const th = tidy(() => m.thetas());
  assertClose(await read(th), theta64(h), { rtol: 1e-6, what: 'theta' });
  th.dispose();
  m.dispose();
  const ones = new LowRankPrompts(tensor(h.P, [L, D]), T, 1);
  const th1 = tidy(() => ones.thetas());
  const want = new Float64Array(T * L * D).map((_, i) => Math.fround(h.P[i % (L * D)]!));
  assertClose(await read(th1), want, { rtol: 0, atol: 0, what: 'theta at init' });
  th1.dispose();
  ones.dispose();
});

for (const on of ['theta', 'P'] as const) {
  for (const scale of [1, 1 / 250]) {
    t(`prior on ${on}, scale ${scale}: value and gradients against float64`, async () => {
      const h = randomHost();
      const m = makeModule(h);
      const sigma = 0.7;
      const prior = new GaussianPrior(tensor(h.mu, [L, D]), { sigma, penalize: on, scale });
      const c = scale / (2 * sigma * sigma);
      assert.ok(Math.abs(prior.coefficient - c) < 1e-15);
      const out = tidy(() => valueAndGrad(() => prior.penalty(m), [m.P, m.U, m.V]));
      const want = prior64(h, c, on);
      const got = await out.value.item();
      assert.ok(Math.abs(got - want.value) <= 1e-5 * Math.abs(want.value), `penalty ${got} vs ${want.value}`);
      assertClose(await read(out.grads[0]!), want.gP, { rtol: 1e-5, what: 'dP' });
      assertClose(await read(out.grads[1]!), want.gU, { rtol: 1e-5, atol: 1e-9, what: 'dU' });
      assertClose(await read(out.grads[2]!), want.gV, { rtol: 1e-5, atol: 1e-9, what: 'dV' });
      [out.value, ...out.grads].forEach((x) => x.dispose());
      prior.dispose();
      m.dispose();
    });
  }
}

const tok = new ByT5Tokenizer();
function rows(tasks: number[]): Encoded[] {
  return tasks.map((task, i) => ({
    example: { task: 'cola', id: String(i), fields: { sentence: '' }, label: 0 },
    task,
    input: tok.encode(`row ${i} of task ${task}`),
    target: tok.encode(String(i % 2)),
  }));
}

t('multi-target batch: every row gets its own task prompt (mixed batch = per-task batches)', async () => {
  const h = randomHost();
  const m = makeModule(h);
  const mixed = rows([2, 0, 1, 1, 0, 2]);
  const hb = collate(mixed, { padId: 0, decoderStartId: 0, padMultiple: 8 });
  assert.equal([...hb.promptIndex], [2, 0, 1, 1, 0, 2]);
  const nll = tidy(() => {
    const batch = uploadStepBatch(hb);
    return tokenNll(seq2seq(model, batch, m.prompt(batch)).logits, batch.labels);
  });
  const got = await read(nll);
  nll.dispose();
  const th = theta64(h);
  for (let s = 0; s < T; s++) {
    const mine = mixed.map((_, i) => i).filter((i) => mixed[i]!.task === s);
    const hs = collate(mine.map((i) => mixed[i]!), { padId: 0, decoderStartId: 0, padMultiple: 8 });
    const one = tidy(() => {
      const batch = uploadBatch(hs);
      return tokenNll(seq2seq(model, batch, tensor(th.slice(s * L * D, (s + 1) * L * D), [L, D])).logits, batch.labels);
    });
    const want = await read(one);
    one.dispose();
    const cols = hb.targetLength;
    mine.forEach((i, k) => {
      assertClose(got.slice(i * cols, (i + 1) * cols), want.slice(k * cols, (k + 1) * cols), { rtol: 1e-4, atol: 1e-5, what: `row ${i} (task ${s})` });
    });
  }
  m.dispose();
});

t('a training step minimises HF loss + prior and reports both', async () => {
  const h = randomHost();
  const m = makeModule(h);
  const prior = new GaussianPrior(tensor(h.mu, [L, D]), { sigma: 2, penalize: 'theta', scale: 1 });
  const opt = makeOptimizer('sgd', m.groups({ p: 0, lowRank: 0 }), 0);
  const hb = collate(rows([0, 1, 2, 0]), { padId: 0, decoderStartId: 0, padMultiple: 8 });
  const lm = { model, tokenizer: tok, dir: 'random' };
  const step = trainStep(lm, { prompt: (x) => m.prompt(x), penalty: () => prior.penalty(m), params: m.named() }, opt, false);
  const { values: out, checked } = step(hb, 0);
  assert.equal(checked, ['loss', 'penalty', 'gradient of P', 'gradient of U', 'gradient of V', 'P after the update', 'U after the update', 'V after the update']);
  assert.equal([...(await out.check.toArray())], new Array(16).fill(0), 'every checked tensor is finite');
  const loss = await out.loss.item();
  const penalty = await out.penalty!.item();
  const ref = tidy(() => {
    const batch = uploadStepBatch(hb);
    return seq2seq(model, batch, m.prompt(batch)).loss;
  });
  assert.ok(Math.abs(loss - (await ref.item())) < 1e-6, 'the data loss is the HF token mean over the batch');
  assert.ok(Math.abs(penalty - prior64(h, 1 / 8, 'theta').value) <= 1e-5 * penalty);
  [out.loss, out.penalty!, out.check, ref].forEach((x) => x.dispose());
  step.dispose();
  opt.dispose();
  prior.dispose();
  m.dispose();
});

t.run();
