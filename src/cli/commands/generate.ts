import { readCorpus } from '../../pretrain/corpus.js';
import { formatSamples, greedyOutputs, plainInputs, samplesReport, spanCorruptedInputs } from '../../pretrain/milestones/samples.js';
import { embeddedModelDir } from '../../demo/demo.js';
import { ConfigError, field, resolveConfig, type Schema } from '../../train/config.js';
import { loadModel, releaseModel } from '../../train/model.js';
import { readTextFile } from '../../util/text.js';
import type { Command } from '../command.js';

interface GenerateOptions {
  model: string | null;
  tokenizer: string | null;
  text: string | null;
  input: string | null;
  spanCorruption: number;
  corpus: string[];
  maxLength: number;
  maxNewTokens: number;
  noiseDensity: number;
  meanNoiseSpanLength: number;
  batchSize: number;
  seed: number;
}

const SCHEMA: Schema = {
  model: field.dir('Hugging Face T5 checkpoint directory; null = the embedded models/byt5-tiny', null),
  tokenizer: field.path('tokenizer: a spiece.model or a checkpoint directory; null = the model directory', null),
  text: field.string('one input text', null),
  input: field.file('a UTF-8 file of input texts, one per line (blank lines skipped)', null),
  spanCorruption: field.int('N > 0: draw N of the texts (of --text/--input, else of --corpus), hide spans behind sentinels <extra_id_k> and decode; 0 = decode the texts as given', 0, { min: 0 }),
  corpus: field.list("texts for --span-corruption without --text/--input: 'brown', 'wordnet' or text files (paragraphs)", ['brown']),
  maxLength: field.int('encoder tokens per input (EOS included); span corruption cuts the raw text so that its corruption fits', 128, { min: 8 }),
  maxNewTokens: field.int('tokens to decode at most', 32, { min: 1 }),
  noiseDensity: field.number('fraction of tokens hidden by span corruption', 0.15, { above: 0, max: 0.9 }),
  meanNoiseSpanLength: field.number('mean length of a hidden span', 3, { min: 1 }),
  batchSize: field.int('inputs per batch', 16, { min: 1 }),
  seed: field.int('seed of the draw of texts and of the noise masks', 0, { min: 0 }),
};

/** The generate command's options from flags, checked before any work. */
export function generateOptions(flags: Record<string, string | boolean>): GenerateOptions {
  const o = resolveConfig(SCHEMA, {}, flags, null) as unknown as GenerateOptions;
  if (o.text !== null && o.input !== null) throw new ConfigError('--text and --input both give the inputs: pass one');
  if (o.spanCorruption === 0 && o.text === null && o.input === null) throw new ConfigError('nothing to decode: pass --text TEXT, --input FILE or --span-corruption N');
  return o;
}

/** The texts the options name: --text, the lines of --input, or the corpus documents. */
function texts(o: GenerateOptions): string[] {
  if (o.text !== null) return [o.text];
  if (o.input !== null) {
    const lines = readTextFile(o.input).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
    if (lines.length === 0) throw new ConfigError(`--input ${o.input}: no texts`);
    return lines;
  }
  return o.corpus.flatMap((c) => readCorpus(c).documents);
}

export const generateCommand: Command = {
  name: 'generate',
  summary: 'milestone: greedy decoding of a T5 checkpoint on texts or span-corrupted texts, and how many distinct outputs they give',
  schema: SCHEMA,
  async run({ flags }) {
    const o = generateOptions(flags);
    const source = texts(o);
    const loaded = loadModel(o.model ?? embeddedModelDir(), o.tokenizer);
    try {
      const tok = loaded.tokenizer;
      const inputs = o.spanCorruption > 0 ? spanCorruptedInputs(tok, source, o.spanCorruption, o) : plainInputs(tok, source, o.maxLength);
      const outputs = await greedyOutputs(loaded.model, inputs.map((x) => x.input), o.maxNewTokens, o.batchSize);
      const report = samplesReport(tok, inputs, outputs);
      return { summary: formatSamples(report), result: { model: loaded.dir, ...report } };
    } finally {
      releaseModel(loaded);
    }
  },
};
