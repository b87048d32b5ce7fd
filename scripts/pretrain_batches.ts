// Writes what a `bpt pretrain` run trains and evaluates on, for scripts/pretrain_crosscheck.py: the
// run's initial weights (its seed) as a Hugging Face directory, the collated batches of steps
// [from, from + steps), and per objective the held-out batches with their own and with rotated
// inputs (the input-gain pairs). Bundled and run by that script; not part of the package.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { saveHfCheckpoint } from '../src/io/checkpoint.js';
import type { TokenPair } from '../src/pretrain/mixture.js';
import type { PretrainOptions } from '../src/pretrain/options.js';
import { pretrainData, startingPoint } from '../src/pretrain/pretrain.js';

const [runDir, out, from, steps] = process.argv.slice(2);
if (!runDir || !out || !from || !steps) throw new Error('usage: pretrain_batches RUN_DIR OUT FROM STEPS');
const o = (JSON.parse(readFileSync(`${runDir}/run.json`, 'utf8')) as { options: PretrainOptions }).options;
const { ckpt: { config, tensors }, tok } = startingPoint(o);
const { mixture, targetLength } = pretrainData(o, tok);
mkdirSync(out, { recursive: true });
saveHfCheckpoint(`${out}/init`, config, tensors);

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
writeFileSync(`${out}/meta.json`, JSON.stringify({ options: o, objectives: mixture.names, rates: Object.fromEntries(mixture.rates), inputLength: o.inputLength, targetLength }));
