// Writes what a `bpt pretrain` run trains and evaluates on, for scripts/pretrain_crosscheck.py: the
// run's initial weights (its seed) as a Hugging Face directory, the collated batches of steps
// [from, from + steps), and per objective the held-out batches with their own and with rotated
// inputs (the input-gain pairs). Bundled and run by that script; not part of the package.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { saveHfCheckpoint } from '../src/io/checkpoint.js';
import { loadTokenizer } from '../src/io/tokenizer/load.js';
import { makeT5Config } from '../src/nn/t5/config.js';
import { readCorpus } from '../src/pretrain/corpus.js';
import { Segments, tokenStream } from '../src/pretrain/data.js';
import { initCheckpoint } from '../src/pretrain/init.js';
import { Mixture, parseMixture, type TokenPair } from '../src/pretrain/mixture.js';
import type { PretrainOptions } from '../src/pretrain/options.js';

const [runDir, out, from, steps] = process.argv.slice(2);
if (!runDir || !out || !from || !steps) throw new Error('usage: pretrain_batches RUN_DIR OUT FROM STEPS');
const o = (JSON.parse(readFileSync(`${runDir}/run.json`, 'utf8')) as { options: PretrainOptions }).options;
if (o.init !== null || o.tokenizer === 'byt5' || o.targetLength === null) throw new Error('pretrain_batches: a fresh run on a SentencePiece vocabulary with --target-length');
const tok = loadTokenizer(o.tokenizer);
const data = new Segments(tokenStream(tok, o.corpus.map(readCorpus).flatMap((c) => c.documents)), tok, o);
const mixture = new Mixture(parseMixture(o.mixture), data, tok, o.batchSize, { inputLength: o.inputLength, targetLength: o.targetLength, evalSegments: o.evalSegments, seed: o.seed });
const config = makeT5Config({
  vocab_size: Math.ceil(tok.vocabSize / 64) * 64, d_model: o.dModel, d_kv: o.dKv, num_heads: o.numHeads, d_ff: o.dFf,
  num_layers: o.numLayers, num_decoder_layers: o.numDecoderLayers, feed_forward_proj: o.feedForwardProj,
  relative_attention_num_buckets: o.relativeAttentionNumBuckets, relative_attention_max_distance: o.relativeAttentionMaxDistance,
  dropout_rate: o.dropoutRate, tie_word_embeddings: false,
});
mkdirSync(out, { recursive: true });
saveHfCheckpoint(`${out}/init`, config, initCheckpoint(config, o.seed).tensors);

/** Batches of rows as flat arrays: ids and mask [n, inputLength], decoder ids and labels [n, targetLength]. */
function save(name: string, batches: TokenPair[][]): void {
  const cols = { ids: [] as number[], mask: [] as number[], dec: [] as number[], labels: [] as number[] };
  for (const rows of batches) {
    const h = mixture.batch(rows, config.pad_token_id, config.decoder_start_token_id);
    cols.ids.push(...h.inputIds); cols.mask.push(...h.attentionMask); cols.dec.push(...h.decoderInputIds); cols.labels.push(...h.labels);
  }
  writeFileSync(`${out}/${name}.json`, JSON.stringify(cols));
}
const chunks = (rows: TokenPair[]): TokenPair[][] => Array.from({ length: Math.ceil(rows.length / o.batchSize) }, (_, i) => rows.slice(i * o.batchSize, (i + 1) * o.batchSize));
save('train', Array.from({ length: Number(steps) }, (_, s) => mixture.trainRows(Number(from) + s)));
for (const name of mixture.names) {
  const own = mixture.heldOut(name);
  save(`held_${name}`, chunks(own));
  save(`rotated_${name}`, chunks(own.map((e, i) => ({ input: own[(i + 1) % own.length]!.input, target: e.target }))));
}
writeFileSync(`${out}/meta.json`, JSON.stringify({ options: o, objectives: mixture.names, rates: Object.fromEntries(mixture.rates), inputLength: o.inputLength, targetLength: o.targetLength }));
