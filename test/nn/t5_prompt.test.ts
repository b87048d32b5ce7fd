// Soft prompts, per-row prompt stacks, rank classification and prompt-only gradients on a tiny T5.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { recorder } from '../../src/gpu/recorder.js';
import { makeT5Config } from '../../src/nn/t5/config.js';
import { scoreCandidates } from '../../src/nn/t5/generate.js';
import { seq2seq, type Seq2SeqBatch } from '../../src/nn/t5/seq2seq.js';
import { disposeModel, modelFromCheckpoint, randomCheckpoint } from '../../src/nn/t5/weights.js';
import { tensor } from '../../src/tensor/create.js';
import { keep, tidy } from '../../src/tensor/scope.js';
import { assertClose, randArray, rng } from '../util/check.js';
import { initGpu, read } from '../util/gpu.js';
import { RefT5 } from '../ref/t5.js';

const t = suite('t5 prompts');
t.before(async () => void (await initGpu()));

const config = makeT5Config({
  vocab_size: 53, d_model: 16, d_kv: 6, num_heads: 2, d_ff: 24, num_layers: 2, num_decoder_layers: 2,
  relative_attention_num_buckets: 8, relative_attention_max_distance: 16, feed_forward_proj: 'gated-gelu', tie_word_embeddings: false,
});
const ckpt = randomCheckpoint(config, 3);

function makeBatch(B: number, S: number, T: number, seed: number) {
  const r = rng(seed);
  const ids = Int32Array.from({ length: B * S }, () => 2 + Math.floor(r() * 50));
  const mask = Float32Array.from({ length: B * S }, (_, i) => (i % S < S - (i / S | 0) ? 1 : 0));
  const labels = Int32Array.from({ length: B * T }, () => 2 + Math.floor(r() * 50));
  const dec = Int32Array.from({ length: B * T }, (_, i) => (i % T === 0 ? 0 : labels[i - 1]!));
  return { ids, mask, labels, dec };
}

function upload(h: ReturnType<typeof makeBatch>, B: number, S: number, T: number): Seq2SeqBatch {
  return tidy(() => ({
    inputIds: keep(tensor(h.ids, [B, S], 'i32')),
    attentionMask: keep(tensor(h.mask, [B, S])),
    decoderInputIds: keep(tensor(h.dec, [B, T], 'i32')),
    labels: keep(tensor(h.labels, [B, T], 'i32')),
  }));
}

t('a prompt stack with a per-row index equals each row with its own prompt', async () => {
  const model = modelFromCheckpoint(ckpt);
  const B = 4, S = 5, T = 3, L = 3, M = 2, d = config.d_model;
  const h = makeBatch(B, S, T, 1);
  const batch = upload(h, B, S, T);
  const r = rng(2);
  const stackHost = randArray(r, M * L * d);
  const index = [1, 0, 0, 1];
  const stack = keep(tensor(stackHost, [M, L, d]));
  const idx = keep(tensor(index, [B], 'i32'));
  const { value, grads } = valueAndGrad(() => seq2seq(model, batch, { stack, index: idx }).loss, [stack]);
  const lossStack = await value.item();
  const gradStack = await read(grads[0]!);
  // Reference: the float64 host T5, one row at a time with its particle's prompt.
  const ref = new RefT5(config, ckpt.tensors);
  let total = 0, count = 0;
  for (let b = 0; b < B; b++) {
    const p = Float64Array.from(Float32Array.from(stackHost.subarray(index[b]! * L * d, (index[b]! + 1) * L * d)));
    const row = { ids: [...h.ids.slice(b * S, (b + 1) * S)], mask: [...h.mask.slice(b * S, (b + 1) * S)], decoderIds: [...h.dec.slice(b * T, (b + 1) * T)], labels: [...h.labels.slice(b * T, (b + 1) * T)] };
    const out = ref.forward(p, [row]);
    total += out.loss * T;
    count += T;
  }
  assert.ok(Math.abs(lossStack - total / count) < 1e-5 * Math.abs(total / count), `${lossStack} vs ${total / count}`);
  // Rows of particle 0 contribute only to its gradient block, and vice versa.
  const norm = (m: number) => Math.hypot(...gradStack.subarray(m * L * d, (m + 1) * L * d));
  assert.ok(norm(0) > 0 && norm(1) > 0);
  [value, ...grads, stack, idx, ...Object.values(batch)].forEach((x) => x.dispose());
  disposeModel(model);
});

t('one prompt per row [B, L, d] equals the same rows picked from a stack', async () => {
  const model = modelFromCheckpoint(ckpt);
  const B = 3, S = 4, T = 2, L = 2, M = 2, d = config.d_model;
  const batch = upload(makeBatch(B, S, T, 4), B, S, T);
  const stackHost = randArray(rng(5), M * L * d);
  const index = [1, 1, 0];
  const perRow = Float32Array.from({ length: B * L * d }, (_, i) => stackHost[index[Math.floor(i / (L * d))]! * L * d + (i % (L * d))]!);
  const stack = keep(tensor(stackHost, [M, L, d]));
  const idx = keep(tensor(index, [B], 'i32'));
  const rows = keep(tensor(perRow, [B, L, d]));
  const short = keep(tensor(perRow.subarray(0, 2 * L * d), [2, L, d]));
  const a = tidy(() => seq2seq(model, batch, { stack, index: idx }).loss);
  const b = tidy(() => seq2seq(model, batch, rows).loss);
  assert.is(await b.item(), await a.item());
  assert.throws(() => tidy(() => seq2seq(model, batch, short).loss), /one prompt per row \[3, L, 16\]/);
  [a, b, stack, idx, rows, short, ...Object.values(batch)].forEach((x) => x.dispose());
  disposeModel(model);
});

t('prompt tuning does no weight-gradient work', async () => {
  const model = modelFromCheckpoint(ckpt);
  const B = 2, S = 4, T = 3, L = 2, d = config.d_model;
  const batch = upload(makeBatch(B, S, T, 5), B, S, T);
  const P = keep(tensor(randArray(rng(4), L * d), [L, d]));
  await recorder().sync();
  const r0 = recorder().snapshot();
  const onlyP = valueAndGrad(() => seq2seq(model, batch, P).loss, [P]);
  const r1 = recorder().snapshot();
  const params = [...model.params.values()];
  const all = valueAndGrad(() => seq2seq(model, batch, P).loss, [P, ...params]);
  const r2 = recorder().snapshot();
  // Every linear weight adds a weight-gradient matmul when it is trainable.
  const linears = params.filter((p) => p.rank === 2 && !p.name!.includes('relative_attention_bias')).length;
  assert.ok(r2.dispatches - r1.dispatches >= r1.dispatches - r0.dispatches + linears, `prompt only: ${r1.dispatches - r0.dispatches}, all: ${r2.dispatches - r1.dispatches}`);
  assert.is(r1.submits - r0.submits, 0, 'forward + backward is recorded without a submit');
  assertClose(await read(onlyP.grads[0]!), await read(all.grads[0]!), { rtol: 1e-5 });
  [onlyP.value, ...onlyP.grads, all.value, ...all.grads, P, ...Object.values(batch)].forEach((x) => x.dispose());
  disposeModel(model);
});

t('rank classification scores every candidate like the float64 reference', async () => {
  const model = modelFromCheckpoint(ckpt);
  const B = 3, S = 5;
  const h = makeBatch(B, S, 1, 7);
  const ids = keep(tensor(h.ids, [B, S], 'i32'));
  const mask = keep(tensor(h.mask, [B, S]));
  const candidates = [[7, 1], [9, 12, 1], [30, 1]];
  const scores = await scoreCandidates(model, ids, mask, candidates);
  const ref = new RefT5(config, ckpt.tensors);
  for (let b = 0; b < B; b++) {
    const rowMask = [...h.mask.slice(b * S, (b + 1) * S)];
    const enc = ref.encode(new Float64Array(0), [...h.ids.slice(b * S, (b + 1) * S)], rowMask);
    candidates.forEach((c, k) => {
      const dec = [0, ...c.slice(0, -1)];
      const logits = ref.decode(dec, enc, rowMask);
      let nll = 0;
      c.forEach((tok, j) => {
        const row = [...logits.d.subarray(j * 53, (j + 1) * 53)];
        const m = Math.max(...row);
        nll += m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - row[tok]!;
      });
      assert.ok(Math.abs(scores[b]![k]! - nll) < 1e-4 * Math.max(1, nll), `row ${b} candidate ${k}: ${scores[b]![k]} vs ${nll}`);
    });
  }
  ids.dispose();
  mask.dispose();
  disposeModel(model);
});

t.run();
