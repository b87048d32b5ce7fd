// T5 parity: the engine against Hugging Face's own float64 outputs (the fixture), and against a
// float64 host T5 (validated on the same fixture) for every other T5 variant, through the same
// code path as `bpt forward`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { forwardReport } from '../../src/cli/forward.js';
import { loadHfCheckpoint, saveHfCheckpoint } from '../../src/io/checkpoint.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { toFloat64, toInt32 } from '../../src/io/dtype.js';
import { writeSafetensors } from '../../src/io/safetensors_writer.js';
import { makeT5Config, type T5Config } from '../../src/nn/t5/config.js';
import { randomCheckpoint } from '../../src/nn/t5/weights.js';
import { randArray, rng } from '../util/check.js';
import { initGpu } from '../util/gpu.js';
import { sharedTest } from '../util/shared.js';
import { RefT5 } from '../ref/t5.js';

const t = suite('t5 parity');
t.before(async () => void (await initGpu()));

/** max|ours - ref| / max|ref|, the fixtures' criterion. */
function relErr(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  assert.is(ours.length, ref.length);
  let diff = 0, scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return diff / scale;
}

function within(what: string, ours: ArrayLike<number>, ref: ArrayLike<number>, tol: number): void {
  const e = relErr(ours, ref);
  assert.ok(e <= tol, `${what}: max|ours - ref| / max|ref| = ${e.toExponential(2)} > ${tol}`);
}

const FIXTURE = ['fixtures', 't5-parity', 't5_v10_relu_tied'];

sharedTest(t, 'matches Hugging Face float64 on the fixture (v1.0, relu, tied head)', FIXTURE, async (dir) => {
  const refFile = join(dir, 'reference.safetensors');
  const ours = await forwardReport(dir, refFile);
  const ref = readSafetensors(refFile).tensors;
  const f64 = (k: string) => toFloat64(ref.get(k)!, k);
  within('encoder_last_hidden_state', ours.encoder_last_hidden_state, f64('f64x.encoder_last_hidden_state'), 1e-4);
  within('logits', ours.logits, f64('f64x.logits'), 1e-4);
  within('token_nll', ours.token_nll, f64('f64x.token_nll'), 1e-4);
  within('grad_P', ours.grad_P!, f64('f64x.grad_P'), 1e-3);
  const loss = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')).loss.f64x as number;
  assert.ok(Math.abs(ours.loss - loss) / Math.abs(loss) <= 1e-5, `loss ${ours.loss} vs ${loss}`);
  const greedy = toInt32(ref.get('greedy.sequences')!, 'greedy');
  assert.equal(ours.greedy_sequences.flat(), [...greedy]);
  assert.equal(ours.buckets_bidirectional, [...toInt32(ref.get('buckets.bidirectional')!, 'b')]);
  assert.equal(ours.buckets_unidirectional, [...toInt32(ref.get('buckets.unidirectional')!, 'u')]);
});

sharedTest(t, 'the float64 host reference agrees with Hugging Face float64 on the fixture', FIXTURE, (dir) => {
  const ckpt = loadHfCheckpoint(dir);
  const ref = readSafetensors(join(dir, 'reference.safetensors')).tensors;
  const int = (k: string) => toInt32(ref.get(k)!, k);
  const [B, S] = ref.get('inputs.input_ids')!.shape as [number, number];
  const T = ref.get('inputs.labels')!.shape[1]!;
  const P = toFloat64(ref.get('inputs.P')!, 'P');
  const L = ref.get('inputs.P')!.shape[0]!;
  const ids = int('inputs.input_ids'), mask = int('inputs.attention_mask'), labels = int('inputs.labels'), dec = int('inputs.decoder_input_ids');
  const rows = Array.from({ length: B }, (_, b) => ({
    ids: [...ids.slice(b * S, (b + 1) * S)],
    mask: [...mask.slice(b * (L + S) + L, (b + 1) * (L + S))],
    decoderIds: [...dec.slice(b * T, (b + 1) * T)],
    labels: [...labels.slice(b * T, (b + 1) * T)],
  }));
  const out = new RefT5(ckpt.config, ckpt.tensors).forward(P, rows);
  within('reference logits', out.rows.flatMap((r) => [...r.logits.d]), toFloat64(ref.get('f64x.logits')!, 'l'), 1e-9);
  within('reference encoder', out.rows.flatMap((r) => [...r.enc.d]), toFloat64(ref.get('f64x.encoder_last_hidden_state')!, 'e'), 1e-9);
});

/** T5 variants beyond the fixture: every family a user may bring, in miniature. */
const VARIANTS: Array<[string, T5Config]> = [
  ['v1.1 / flan-t5 (gated-gelu, untied head, H*d_kv != d_model, deeper decoder)',
    makeT5Config({ vocab_size: 97, d_model: 40, d_kv: 16, num_heads: 3, d_ff: 56, num_layers: 2, num_decoder_layers: 3, relative_attention_num_buckets: 16, relative_attention_max_distance: 20, feed_forward_proj: 'gated-gelu', tie_word_embeddings: false, dropout_rate: 0 })],
  ['mT5-shaped (gated-gelu, untied, one head of width 24)',
    makeT5Config({ model_type: 'mt5', vocab_size: 150, d_model: 24, d_kv: 24, num_heads: 1, d_ff: 40, num_layers: 1, num_decoder_layers: 1, relative_attention_num_buckets: 8, relative_attention_max_distance: 12, feed_forward_proj: 'gated-gelu', tie_word_embeddings: false })],
  ['ByT5-shaped (byte vocabulary of 384, gated-gelu, encoder deeper than decoder)',
    makeT5Config({ vocab_size: 384, d_model: 32, d_kv: 8, num_heads: 4, d_ff: 48, num_layers: 3, num_decoder_layers: 1, relative_attention_num_buckets: 32, relative_attention_max_distance: 128, feed_forward_proj: 'gated-gelu', tie_word_embeddings: false })],
  ['v1.0 (relu, tied head, odd sizes)',
    makeT5Config({ vocab_size: 61, d_model: 18, d_kv: 5, num_heads: 3, d_ff: 22, num_layers: 2, num_decoder_layers: 2, relative_attention_num_buckets: 10, relative_attention_max_distance: 9, feed_forward_proj: 'relu' })],
];

for (const [name, config] of VARIANTS) {
  t(`${name}: engine matches the float64 reference`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpt-t5-'));
    try {
      const ckpt = randomCheckpoint(config, 42);
      saveHfCheckpoint(dir, config, ckpt.tensors);
      const r = rng(9);
      const B = 3, S = 7, T = 5, L = 4, d = config.d_model, V = config.vocab_size;
      const lengths = [7, 4, 2], labelLengths = [5, 2, 3];
      const tok = () => 2 + Math.floor(r() * (V - 2));
      const ids = new Int32Array(B * S), mask = new Int32Array(B * (L + S)), labels = new Int32Array(B * T).fill(-100), dec = new Int32Array(B * T);
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < L; j++) mask[b * (L + S) + j] = 1;
        for (let j = 0; j < lengths[b]!; j++) {
          ids[b * S + j] = tok();
          mask[b * (L + S) + L + j] = 1;
        }
        for (let j = 0; j < labelLengths[b]!; j++) labels[b * T + j] = j === labelLengths[b]! - 1 ? 1 : tok();
        for (let j = 1; j < T; j++) dec[b * T + j] = Math.max(labels[b * T + j - 1]!, 0);
      }
      const P = randArray(r, L * d, -0.5, 0.5);
      const inputs = join(dir, 'inputs.safetensors');
      writeSafetensors(inputs, new Map([
        ['inputs.P', { dtype: 'F32', shape: [L, d], data: Float32Array.from(P) }],
        ['inputs.input_ids', { dtype: 'I32', shape: [B, S], data: ids }],
        ['inputs.attention_mask', { dtype: 'I32', shape: [B, L + S], data: mask }],
        ['inputs.labels', { dtype: 'I32', shape: [B, T], data: labels }],
        ['inputs.decoder_input_ids', { dtype: 'I32', shape: [B, T], data: dec }],
      ]));
      const ours = await forwardReport(dir, inputs, 4);

      const ref = new RefT5(config, ckpt.tensors);
      const rows = Array.from({ length: B }, (_, b) => ({
        ids: [...ids.slice(b * S, (b + 1) * S)],
        mask: [...mask.slice(b * (L + S) + L, (b + 1) * (L + S))],
        decoderIds: [...dec.slice(b * T, (b + 1) * T)],
        labels: [...labels.slice(b * T, (b + 1) * T)],
      }));
      const Pf = Float64Array.from(Float32Array.from(P));
      const out = ref.forward(Pf, rows);
      within('encoder_last_hidden_state', ours.encoder_last_hidden_state, out.rows.flatMap((x) => [...x.enc.d]), 1e-4);
      within('logits', ours.logits, out.rows.flatMap((x) => [...x.logits.d]), 1e-4);
      within('token_nll', ours.token_nll, out.rows.flatMap((x) => x.nll), 1e-4);
      assert.ok(Math.abs(ours.loss - out.loss) / out.loss <= 1e-5, `loss ${ours.loss} vs ${out.loss}`);
      // grad_P by central differences of the float64 reference (error ~1e-10 at this step).
      const eps = 1e-5;
      const grad = new Float64Array(L * d);
      for (let i = 0; i < L * d; i++) {
        const plus = Pf.slice(), minus = Pf.slice();
        plus[i] += eps;
        minus[i] -= eps;
        grad[i] = (ref.forward(plus, rows).loss - ref.forward(minus, rows).loss) / (2 * eps);
      }
      within('grad_P', ours.grad_P!, grad, 1e-3);
      // Greedy decoding with the cache must equal argmax decoding from scratch on the reference.
      for (let b = 0; b < B; b++) {
        const seq = [0];
        const enc = ref.encode(Pf, rows[b]!.ids, rows[b]!.mask);
        const encMask = [...new Array<number>(L).fill(1), ...rows[b]!.mask];
        for (let step = 0; step < 4; step++) {
          const logits = ref.decode(seq, enc, encMask);
          const last = [...logits.d.subarray((seq.length - 1) * V, seq.length * V)];
          const tok = last.indexOf(Math.max(...last));
          seq.push(tok);
          if (tok === 1) break;
        }
        assert.equal(ours.greedy_sequences[b]!.slice(0, seq.length), seq, `greedy row ${b}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

t('bpt forward names a bad input instead of running on it', async () => {
  const config = VARIANTS[3]![1];
  const dir = mkdtempSync(join(tmpdir(), 'bpt-t5-bad-'));
  try {
    saveHfCheckpoint(dir, config, randomCheckpoint(config, 1).tensors);
    const inputs = join(dir, 'inputs.safetensors');
    const write = (ids: number[], mask = [1, 1, 1]) => writeSafetensors(inputs, new Map([
      ['inputs.input_ids', { dtype: 'I32', shape: [1, 3], data: Int32Array.from(ids) }],
      ['inputs.attention_mask', { dtype: 'I32', shape: [1, mask.length], data: Int32Array.from(mask) }],
      ['inputs.labels', { dtype: 'I32', shape: [1, 2], data: Int32Array.from([5, 1]) }],
      ['inputs.decoder_input_ids', { dtype: 'I32', shape: [1, 2], data: Int32Array.from([0, 5]) }],
    ]));
    const failure = async () => {
      try {
        await forwardReport(dir, inputs);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    write([4, 999, 2]);
    assert.match(await failure(), /inputs\.input_ids: id 999 at position \[0,1\] is out of range \[0, 61\)/);
    write([4, 5, 2], [1, 1]);
    assert.match(await failure(), /attention_mask is \[1,2\], expected \[1, 3\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

t.run();
