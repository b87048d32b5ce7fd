// Pretraining text: Brown detokenisation, WordNet synset lines, text files, the npm corpora, and
// the segment stream (held-out segments disjoint from training ones, steps as pure functions of
// the seed).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ByT5Tokenizer } from '../../src/io/tokenizer/byt5_tokenizer.js';
import { brownDocuments, detokenize, readCorpus, wordnetDocuments } from '../../src/pretrain/corpus.js';
import { corruptedBatchRows, Segments, tokenStream } from '../../src/pretrain/data.js';

const t = suite('pretrain/corpus');

t('Brown: tags stripped, punctuation and quotes joined, a tab opens a paragraph', () => {
  const text = "\n\n\tHe/pps said/vbd ``/`` no/at ''/'' ,/, and/cc left/vbd ./.\nIt/pps was/bedz (/( late/jj )/) ./.\n\n\tNext/ap one/cd ./.\n";
  assert.equal(brownDocuments(text), ['He said "no", and left. It was (late).', 'Next one.']);
  assert.is(detokenize(['a', "'s", 'b', '?']), "a's b?");
});

t('WordNet: lemmas and gloss; licence lines skipped; bad lines named', () => {
  const line = '00002137 03 n 02 abstraction 0 abstract_entity 0 001 @ 00001740 n 0000 | a general concept; "an example"  ';
  assert.equal(wordnetDocuments(`  1 This software and database\n${line}\n`), ['abstraction, abstract entity: a general concept; "an example"']);
  assert.equal(wordnetDocuments('00001 00 a 01 good(a) 0 000 | having desirable qualities\n'), ['good: having desirable qualities']);
  assert.throws(() => wordnetDocuments('garbage\n', 'data.noun'), /data\.noun:1: not a WordNet synset line/);
});

t('text files: paragraphs are documents; unknown names fail clearly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpt-corpus-'));
  try {
    const f = join(dir, 'a.txt');
    writeFileSync(f, 'one\nline\n\n\ntwo\n');
    assert.equal(readCorpus(f).documents, ['one line', 'two']);
    assert.throws(() => readCorpus(join(dir, 'missing.txt')), /neither brown nor wordnet nor a text file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

t('the npm corpora load', () => {
  const brown = readCorpus('brown');
  assert.ok(brown.documents.length > 10000, `${brown.documents.length} Brown paragraphs`);
  assert.ok(brown.documents[0]!.startsWith('The Fulton County Grand Jury said Friday'));
  const wordnet = readCorpus('wordnet');
  assert.ok(wordnet.documents.length > 100000);
  assert.ok(wordnet.documents.includes('entity: that which is perceived or known or inferred to have its own distinct existence (living or nonliving)'));
});

t('segments: held-out disjoint from training, examples pure functions of (seed, index), batches unpadded', () => {
  const tok = new ByT5Tokenizer();
  const docs = Array.from({ length: 200 }, (_, i) => `document number ${i} says something different each time: ${'xyz'.repeat(i % 7)}`);
  const stream = tokenStream(tok, docs);
  assert.is(stream[stream.length - 1], 10 + 3, 'every document ends with a newline byte');
  const o = { inputLength: 32, noiseDensity: 0.15, meanNoiseSpanLength: 3, evalSegments: 5, seed: 3 };
  const a = new Segments(stream, tok, o), b = new Segments(stream, tok, o);
  assert.is(a.lengths.tokensLength, 34, '34 raw tokens: 5 noise in 2 spans -> 29 + 2 + EOS = 32');
  assert.is(a.train.length + a.heldOut.length, Math.floor(stream.length / 34));
  assert.ok([...a.heldOut].every((i) => !a.train.includes(i)));
  for (const g of [0, 1, 57, a.train.length + 3]) assert.equal(a.trainExample(g), b.trainExample(g));
  assert.equal(a.heldOutExample(2), b.heldOutExample(2));
  const ex = a.trainExample(4);
  assert.is(ex.inputs.length, 32);
  assert.ok(ex.inputs.includes(tok.sentinel(0)) && ex.targets[0] === tok.sentinel(0));
  const h = corruptedBatchRows([a.trainExample(0), a.trainExample(1)].map((e) => ({ input: e.inputs, target: e.targets })), 0, 0, { input: 32, target: 16 });
  assert.is(h.inputLength, 32);
  assert.ok(h.attentionMask.every((m) => m === 1));
  assert.throws(() => new Segments(stream.subarray(0, 100), tok, o), /segments/);
});

t.run();
