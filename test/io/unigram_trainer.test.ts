// The unigram trainer on a small synthetic corpus: exact, deterministic vocabularies whose
// written spiece.model our reader and the real SentencePiece library (wasm build, devDependency)
// load and encode alike; the EM lowers the objective; the alphabet survives pruning; and the
// charsmap builder's double array maps exactly its keys.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrecompiledCharsmap } from '../../src/io/tokenizer/charsmap.js';
import { buildCharsmap } from '../../src/io/tokenizer/charsmap_builder.js';
import { nmtNfkcNormalizer } from '../../src/io/tokenizer/nfkc_charsmap.js';
import { SentencePieceProcessor } from '../../src/io/tokenizer/sentencepiece.js';
import { parseSentencePieceModel, PieceType, type SentencePieceModelProto } from '../../src/io/tokenizer/sentencepiece_model.js';
import { serializeSentencePieceModel } from '../../src/io/tokenizer/sentencepiece_model_writer.js';
import { trainUnigram, type TrainerStep, type UnigramTrainerOptions } from '../../src/io/tokenizer/unigram_trainer.js';
import { collectWords } from '../../src/io/tokenizer/unigram_words.js';
import { rng } from '../util/check.js';

const WORDS = [
  'the', 'a', 'cat', 'cats', 'sat', 'on', 'mat', 'dog', 'dogs', 'ran', 'quickly', 'over', 'under', 'table', 'tables',
  'house', 'houses', 'mouse', 'running', 'jumped', 'jumping', 'happily', 'unhappily', 'reading', 'readers', 'naïve',
  'café', '1990', '1990s', '3.14', 'well-known', "don't", 'it\'s', '(see', 'below)', 'Paris', 'London', 'walked',
];
const SYLLABLES = ['ka', 'to', 'ri', 'men', 'sa', 'lo', 'ver', 'ing', 'ed', 'un', 'pre', 'tion', 'al', 'er', 'st', 'qu', 'ble', 'o', 'i'];
/** Sentences of words with a skewed frequency, with punctuation, doubled spaces and tabs, and two rare characters. */
function corpus(seed: number, n: number): string[] {
  const r = rng(seed);
  const lexicon = [...WORDS];
  while (lexicon.length < 600) lexicon.push(Array.from({ length: 1 + Math.floor(r() * 4) }, () => SYLLABLES[Math.floor(r() * SYLLABLES.length)]).join(''));
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 3 + Math.floor(r() * 10);
    const words = Array.from({ length: len }, () => lexicon[Math.floor(lexicon.length * r() ** 2)]!);
    words[0] = words[0]![0]!.toUpperCase() + words[0]!.slice(1);
    let s = words.map((w, j) => (j > 0 && r() < 0.1 ? `, ${w}` : j > 0 && r() < 0.05 ? `  ${w}` : j > 0 && r() < 0.03 ? `\t${w}` : ` ${w}`)).join('').trimStart();
    s += r() < 0.8 ? '.' : '?';
    docs.push(s);
  }
  docs.push('The Ω sign.', 'A € sign.');
  return docs;
}

const DOCS = corpus(1, 1500);
const SIZE = 300;
const train = (opts: Partial<UnigramTrainerOptions> = {}) => trainUnigram(DOCS, { vocabSize: SIZE, ...opts });
const t = suite('io/unigram trainer');
const dir = mkdtempSync(join(tmpdir(), 'bpt-unigram-'));
let model: SentencePieceModelProto;
const steps: TrainerStep[] = [];
t.before(() => {
  model = train({ onStep: (s) => steps.push(s) });
});

t('exact size, T5 special pieces, pieces sorted by score, same bytes every time', () => {
  assert.is(model.pieces.length, SIZE);
  assert.equal(model.pieces.slice(0, 3).map((p) => [p.piece, p.type]), [['<pad>', PieceType.CONTROL], ['</s>', PieceType.CONTROL], ['<unk>', PieceType.UNKNOWN]]);
  const normal = model.pieces.slice(3);
  assert.ok(normal.every((p) => p.type === PieceType.NORMAL && p.score < 0));
  for (let i = 1; i < normal.length; i++) assert.ok(normal[i]!.score <= normal[i - 1]!.score, `score order at ${i}`);
  assert.equal(model.trainer, { ...model.trainer, unkId: 2, bosId: -1, eosId: 1, padId: 0 });
  const bytes = serializeSentencePieceModel(model);
  assert.equal(serializeSentencePieceModel(train()), bytes);
  assert.ok(model.pieces.some((p) => p.piece === '\u2581the'), 'frequent words become pieces');
  assert.ok(!model.pieces.some((p) => /\u2581./u.test(p.piece.slice(1)) || /[a-z][.,?]/i.test(p.piece)), 'U+2581 only first, no letters with punctuation');
});

t('the written model reads back with the same pieces, scores, ids and normalizer', () => {
  const back = parseSentencePieceModel(serializeSentencePieceModel(model));
  assert.equal(back.pieces.map((p) => [p.piece, p.score, p.type]), model.pieces.map((p) => [p.piece, Math.fround(p.score), p.type]));
  assert.equal(back.trainer, model.trainer);
  assert.equal(back.normalizer, model.normalizer);
});

t('EM steps lower the objective; pruning shrinks by the factor down to the size', () => {
  for (let i = 1; i < steps.length; i++) {
    if (steps[i]!.kind === 'em' && steps[i - 1]!.kind === 'em') {
      assert.ok(steps[i]!.objective! < steps[i - 1]!.objective!, `objective rose at step ${i}: ${steps[i - 1]!.objective} -> ${steps[i]!.objective}`);
    }
  }
  assert.is(steps[0]!.kind, 'seed');
  assert.ok(steps[0]!.size > steps[1]!.size, 'the first M step drops seeds');
  const prunes = steps.filter((s) => s.kind === 'prune');
  assert.ok(prunes.length >= 2, 'the seeds needed pruning');
  assert.ok(steps.at(-1)!.size <= Math.trunc((SIZE - 3) * 1.1));
});

t('the alphabet survives pruning; rarer characters than the coverage encode as <unk>', () => {
  const words = collectWords(DOCS, nmtNfkcNormalizer(), 0.9995);
  const pieces = new Set(model.pieces.map((p) => p.piece));
  assert.ok(words.alphabet.length > 30);
  for (const ch of words.alphabet.slice(1)) assert.ok(pieces.has(ch), `character ${JSON.stringify(ch)} kept`);
  assert.ok(!pieces.has('Ω'));
  const sp = new SentencePieceProcessor(model);
  assert.ok(sp.encodeIds('The Ω sign.').includes(2));
});

t('with full coverage every text of the corpus encodes without <unk> and decodes to its normalized form', () => {
  const full = train({ characterCoverage: 1 });
  const sp = new SentencePieceProcessor(full);
  for (const doc of DOCS) {
    const ids = sp.encodeIds(doc);
    assert.ok(!ids.includes(2), doc);
    assert.is(sp.decodeIds(ids), doc.replace(/\s+/g, ' ').trim());
  }
  assert.ok(sp.encodeIds(DOCS.join(' ')).length < DOCS.join(' ').length / 2.5, 'pieces are longer than characters');
});

t('the sentencepiece library loads the written model and encodes every text with the same ids', async () => {
  const path = join(dir, 'spiece.model');
  writeFileSync(path, serializeSentencePieceModel(model));
  const Wasm = (createRequire(import.meta.url)('@agnai/sentencepiece-js') as { SentencePieceProcessor: new () => { load(p: string): Promise<void>; encodeIds(s: string): number[] } }).SentencePieceProcessor;
  const real = new Wasm();
  await real.load(path);
  const ours = SentencePieceProcessor.fromFile(path);
  const texts = [...corpus(2, 300), 'ﬁne\u00a0café\u2003ｆｕｌｌ width…', '\u0001tab\there', ''];
  for (const text of texts) assert.equal(ours.encodeIds(text), real.encodeIds(text), text);
});

t('charsmap builder: exactly the keys match, longest first, values and deletions intact', () => {
  const map = new Map([['a', 'A'], ['ab', 'X'], ['é', 'e'], ['\t', ' '], ['\u0001', ''], ['日本', 'にほん'], ['ｆ', 'f']]);
  const cm = new PrecompiledCharsmap(buildCharsmap(map));
  const enc = new TextEncoder(), dec = new TextDecoder();
  const lookup = (s: string) => {
    const b = enc.encode(s);
    if (!cm.longestMatch(b, 0, b.length)) return null;
    return [cm.matchLength, dec.decode(cm.normalized.subarray(cm.matchValue, cm.normalized.indexOf(0, cm.matchValue)))];
  };
  assert.equal(lookup('abc'), [2, 'X']);
  assert.equal(lookup('ac'), [1, 'A']);
  assert.equal(lookup('é!'), [2, 'e']);
  assert.equal(lookup('\u0001'), [1, '']);
  assert.equal(lookup('日本語'), [6, 'にほん']);
  for (const miss of ['b', '日', 'e', 'x', '\u0002']) assert.is(lookup(miss), null, miss);
  const nfkc = new PrecompiledCharsmap(nmtNfkcNormalizer().precompiledCharsmap);
  const b = enc.encode('ﬁ');
  assert.ok(nfkc.longestMatch(b, 0, b.length));
});

t('invalid options are refused', () => {
  assert.throws(() => train({ vocabSize: 3 }), /vocabSize/);
  assert.throws(() => train({ vocabSize: 20 }), /characters are needed/);
  assert.throws(() => train({ vocabSize: 100_000 }), /the corpus supports only \d+ pieces/);
  assert.throws(() => train({ shrinkingFactor: 1 }), /shrinkingFactor/);
});

t.after(() => rmSync(dir, { recursive: true, force: true }));
t.run();
