// The milestone tools on the GPU: mean-pooled encoder states equal a float64 mean of each text's
// own encoder states (pads excluded, rows back in order whatever the batching); the probe reaches
// high accuracy on a random tiny model when the classes differ in their tokens; span-corrupted
// inputs put back together give the drawn texts; and generate's distinct count is the count of
// the outputs it reports, on the embedded model.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { embeddedModelDir } from '../../src/demo/demo.js';
import { ByT5Tokenizer } from '../../src/io/tokenizer/byt5_tokenizer.js';
import type { T5Model } from '../../src/nn/t5/model.js';
import { disposeModel, modelFromCheckpoint } from '../../src/nn/t5/weights.js';
import { initCheckpoint } from '../../src/pretrain/init.js';
import { L2_GRID } from '../../src/pretrain/milestones/linear_probe.js';
import { meanEncoderStates, probeModel, type LabelledText } from '../../src/pretrain/milestones/probe.js';
import { greedyOutputs, plainInputs, samplesReport, spanCorruptedInputs } from '../../src/pretrain/milestones/samples.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import { encodeText } from '../../src/train/data.js';
import { loadModel, releaseModel } from '../../src/train/model.js';
import { tinyConfig } from '../util/fixtures.js';
import { initGpu } from '../util/gpu.js';
import { assertClose, rng } from '../util/check.js';

const t = suite('pretrain/milestones');
const tok = new ByT5Tokenizer();
let model: T5Model;
t.before(async () => {
  await initGpu();
  model = modelFromCheckpoint(initCheckpoint(tinyConfig(), 3));
});
t.after(() => disposeModel(model));

function words(r: () => number, letters: string, n: number): string {
  return Array.from({ length: n }, () => Array.from({ length: 2 + Math.floor(r() * 4) }, () => letters[Math.floor(r() * letters.length)]).join('')).join(' ');
}

t('mean-pooled states: the mean over each text alone, pads excluded, rows in input order', async () => {
  const r = rng(4);
  const texts = Array.from({ length: 7 }, (_, i) => words(r, 'abcdefghij', 1 + ((i * 5) % 9)));
  const d = model.config.d_model;
  const got = await meanEncoderStates(model, tok, texts, { maxLength: 24, batchSize: 3 });
  assert.is(got.rows, 7);
  const want = new Float64Array(7 * d);
  for (const [i, text] of texts.entries()) {
    const ids = encodeText(tok, text, 24);
    const hidden = tidy(() => model.encode(model.embed(tensor(Int32Array.from(ids), [1, ids.length], 'i32')), tensor(new Float32Array(ids.length).fill(1), [1, ids.length])));
    const h = await hidden.toArray();
    hidden.dispose();
    for (let p = 0; p < ids.length; p++) for (let c = 0; c < d; c++) want[i * d + c]! += h[p * d + c]! / ids.length;
  }
  assertClose(got.data, want, { rtol: 1e-5, atol: 1e-6, what: 'pooled states' });
});

t('probe on a random tiny model: token-separable classes are found', async () => {
  const r = rng(9);
  const item = (i: number): LabelledText => ({ text: words(r, i % 2 ? 'aeiou' : 'xzqwv', 4), label: i % 2 });
  const train = Array.from({ length: 40 }, (_, i) => item(i));
  const test = Array.from({ length: 20 }, (_, i) => item(i));
  const line = await probeModel(model, tok, train, test, { maxLength: 32, batchSize: 8, seed: 0, heldOut: 0.25, l2Grid: L2_GRID });
  assert.ok(line.testAccuracy >= 0.95 && line.trainAccuracy >= 0.95, JSON.stringify(line));
  assert.ok(L2_GRID.includes(line.l2));
});

const SENTENCES = [
  'The committee met on Tuesday to discuss the new budget for the library.',
  'A small boat drifted slowly across the quiet lake at dawn.',
  'She wrote three letters before breakfast and mailed them at noon.',
  'Rain fell all night, and the river rose above its banks.',
  'The old clock in the hall stopped at a quarter past nine.',
  'He planted tomatoes, beans and squash in the garden behind the house.',
  'Two trains left the station at the same time, going opposite ways.',
  'short',
];

t('span-corrupted inputs: sentinels in place, the drawn texts put back together, seeded', () => {
  const settings = { maxLength: 48, noiseDensity: 0.15, meanNoiseSpanLength: 3, seed: 2 };
  const inputs = spanCorruptedInputs(tok, SENTENCES, 6, settings);
  assert.is(inputs.length, 6);
  const originals = new Set(SENTENCES.map((s) => tok.encode(s, { addEos: false }).join(',')));
  const sentinels = new Set(Array.from({ length: 10 }, (_, k) => tok.sentinel(k)));
  for (const x of inputs) {
    assert.ok(x.input.length <= 48 && x.input[x.input.length - 1] === tok.eosId);
    assert.ok(x.input.includes(tok.sentinel(0)));
    // Fill each sentinel of the input with what follows the same sentinel in the target.
    const fills = new Map<number, number[]>();
    let open: number | null = null;
    for (const id of x.target!.slice(0, -1)) {
      if (sentinels.has(id)) fills.set((open = id), []);
      else fills.get(open!)!.push(id);
    }
    const whole = x.input.slice(0, -1).flatMap((id) => (sentinels.has(id) ? fills.get(id)! : [id]));
    assert.ok([...originals].some((o) => o.startsWith(whole.join(','))), `not a prefix of a text: ${tok.decode(whole)}`);
  }
  assert.equal(spanCorruptedInputs(tok, SENTENCES, 6, settings), inputs);
  assert.not.equal(spanCorruptedInputs(tok, SENTENCES, 6, { ...settings, seed: 3 }), inputs);
  assert.throws(() => spanCorruptedInputs(tok, SENTENCES, 8, settings), /only 7 of the 8 have 8 tokens or more/);
});

t('distinct outputs are counted over what is reported', () => {
  const xs = plainInputs(tok, ['a', 'b', 'c'], 8);
  const r = samplesReport(tok, xs, [[75, 76], [75, 76], [77]]);
  assert.equal([r.n, r.distinct, r.mostCommon], [3, 2, 2]);
  assert.equal(r.samples.map((s) => s.output), ['HI', 'HI', 'J']);
  assert.equal(r.samples.map((s) => [s.input, s.target]), [['a', null], ['b', null], ['c', null]]);
  assert.equal([r.recovered, r.recoveredByOthers], [null, null]);
  // Hidden tokens 72 73 | 74 behind <extra_id_0> | <extra_id_1>: the output has 72 and 74 in place.
  const [s0, s1] = [tok.sentinel(0), tok.sentinel(1)];
  const x = { input: [80, s0, 81, s1, tok.eosId], target: [s0, 72, 73, s1, 74, tok.eosId] };
  const y = { input: [80, s0, 81, s1, tok.eosId], target: [s0, 90, s1, 91, 92, tok.eosId] };
  const c = samplesReport(tok, [x, x, y], [[s0, 72, 99, s1, 74], [s0, 72, 73, s1, 74], [s0, 90, s1, 91, 73]]);
  assert.is(c.recovered, 7 / 9);
  // Rotated: x against x's second output (3 of 3), x against y's (0 of 3), y against x's first (0 of 3).
  assert.is(c.recoveredByOthers, 3 / 9);
  assert.equal([c.distinct, c.mostCommon], [3, 1]);
  assert.is(c.samples[0]!.target, '<extra_id_0>EF<extra_id_1>G');
});

t('generate on the embedded model: n, distinct and most common agree with the outputs shown', async () => {
  const loaded = loadModel(embeddedModelDir(), null);
  try {
    const inputs = spanCorruptedInputs(loaded.tokenizer, SENTENCES, 7, { maxLength: 64, noiseDensity: 0.15, meanNoiseSpanLength: 3, seed: 0 });
    const outputs = await greedyOutputs(loaded.model, inputs.map((x) => x.input), 12, 3);
    assert.ok(outputs.every((o) => o.length <= 12 && !o.includes(loaded.tokenizer.eosId)));
    const r = samplesReport(loaded.tokenizer, inputs, outputs);
    const shown = r.samples.map((s) => s.output);
    assert.is(r.n, 7);
    assert.is(r.distinct, new Set(shown).size);
    assert.is(r.mostCommon, Math.max(...shown.map((o) => shown.filter((x) => x === o).length)));
    assert.ok(r.recovered !== null && r.recovered >= 0 && r.recovered <= 1);
    // Batching changes nothing: one row at a time gives the same outputs.
    assert.equal(await greedyOutputs(loaded.model, inputs.map((x) => x.input), 12, 1), outputs);
  } finally {
    releaseModel(loaded);
  }
});

t.run();
