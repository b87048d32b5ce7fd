// BitFit biases and bottleneck adapters on T5: zero-initialised so the model starts unchanged,
// differentiable, and the only thing that trains when they are the only wrt tensors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeT5Config } from '../../src/nn/t5/config.js';
import { addAdapters, addBiases } from '../../src/nn/t5/extras.js';
import { seq2seq, type Seq2SeqBatch } from '../../src/nn/t5/seq2seq.js';
import { disposeModel, modelFromCheckpoint, randomCheckpoint } from '../../src/nn/t5/weights.js';
import { tensor } from '../../src/tensor/create.js';
import { keep, tidy } from '../../src/tensor/scope.js';
import { assertClose, randArray, rng } from '../util/check.js';
import { gradcheck, initGpu, read } from '../util/gpu.js';

const t = suite('t5 extras');
t.before(async () => void (await initGpu()));

const config = makeT5Config({
  vocab_size: 41, d_model: 12, d_kv: 4, num_heads: 2, d_ff: 20, num_layers: 1, num_decoder_layers: 1,
  relative_attention_num_buckets: 8, relative_attention_max_distance: 16, feed_forward_proj: 'gated-gelu', tie_word_embeddings: false,
});

function batch(): Seq2SeqBatch {
  const r = rng(1);
  const ids = Int32Array.from({ length: 8 }, () => 2 + Math.floor(r() * 39));
  const labels = Int32Array.from({ length: 6 }, () => 2 + Math.floor(r() * 39));
  return tidy(() => ({
    inputIds: keep(tensor(ids, [2, 4], 'i32')),
    attentionMask: keep(tensor([1, 1, 1, 1, 1, 1, 0, 0], [2, 4])),
    decoderInputIds: keep(tensor([0, labels[0]!, labels[1]!, 0, labels[3]!, labels[4]!], [2, 3], 'i32')),
    labels: keep(tensor(labels, [2, 3], 'i32')),
  }));
}

for (const [name, add, count] of [
  ['BitFit biases', (m: ReturnType<typeof modelFromCheckpoint>) => addBiases(m), 7 + 11],
  ['bottleneck adapters', (m: ReturnType<typeof modelFromCheckpoint>) => addAdapters(m, 3, 5), 4 * 5],
] as const) {
  t(`${name}: start as the identity and have correct gradients`, async () => {
    const model = modelFromCheckpoint(randomCheckpoint(config, 2));
    const b = batch();
    const plain = tidy(() => seq2seq(model, b).logits);
    const added = add(model);
    assert.is(added.length, count);
    const withExtras = tidy(() => seq2seq(model, b).logits);
    assertClose(await read(withExtras), await read(plain), { rtol: 1e-6, what: 'logits at init' });
    // Gradients with respect to the added tensors, at a random point (not the zero init).
    const r = rng(3);
    const inputs = added.map((p) => ({ shape: [...p.shape], data: randArray(r, p.size, -0.3, 0.3) }));
    const names = added.map((p) => p.name!);
    await gradcheck((xs) => {
      xs.forEach((x, i) => model.extras.set(names[i]!, x));
      return seq2seq(model, b).loss;
      // The adapters hold ReLUs: a small step keeps the central difference off their kinks.
    }, inputs, { eps: 2e-3 });
    added.forEach((p, i) => model.extras.set(names[i]!, p));
    [plain, withExtras, ...Object.values(b)].forEach((x) => x.dispose());
    disposeModel(model);
  });
}

t.run();
