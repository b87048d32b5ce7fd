// HF-level behaviour of the tokenizers: T5 ids with </s> and sentinels, special-token text,
// decoding; ByT5 against HF's own test expectations; choosing the tokenizer for a checkpoint.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeT5Config } from '../../src/nn/t5/config.js';
import { ByT5Tokenizer, decodeUtf8Ignoring } from '../../src/io/tokenizer/byt5_tokenizer.js';
import { loadTokenizer } from '../../src/io/tokenizer/load.js';
import { T5Tokenizer } from '../../src/io/tokenizer/t5_tokenizer.js';
import { sharedPath, sharedTest } from '../util/shared.js';

const t = suite('io/tokenizer');
const dir = mkdtempSync(join(tmpdir(), 'bpt-tok-'));
const spiece = sharedPath('data', 't5-spiece', 'spiece.model');
let t5: T5Tokenizer | null = null;
t.before(() => {
  if (spiece) t5 = T5Tokenizer.fromFile(spiece);
});
const SPIECE = ['data', 't5-spiece', 'spiece.model'];

sharedTest(t, 'T5: "Hello world" -> [8774, 296, 1], vocabulary and special ids as HF', SPIECE, () => {
  const tok = t5!;
  assert.equal(tok.encode('Hello world'), [8774, 296, 1]);
  assert.equal(tok.encode('Hello world', { addEos: false }), [8774, 296]);
  assert.is(tok.vocabSize, 32100);
  assert.equal([tok.padId, tok.eosId, tok.unkId], [0, 1, 2]);
  assert.is(tok.sentinel(0), 32099);
  assert.is(tok.sentinel(99), 32000);
  assert.throws(() => tok.sentinel(100), /out of range/);
  assert.is(tok.idToToken(32099), '<extra_id_0>');
  assert.is(tok.idToToken(8774), '\u2581Hello');
  assert.equal(tok.encode(''), [1]);
});

sharedTest(t, 'T5: special-token text is split out and each run encoded on its own (HF legacy)', SPIECE, () => {
  const tok = t5!;
  const hello = tok.encode('Hello', { addEos: false }), world = tok.encode('world', { addEos: false });
  assert.equal(tok.encode('Hello <extra_id_0> world'), [...hello, 32099, ...world, 1]);
  // Legacy mode: the run after a special token gets its own dummy prefix, so no space changes nothing.
  assert.equal(tok.encode('Hello<extra_id_0>world'), [...hello, 32099, ...world, 1]);
  assert.equal(tok.encode('<extra_id_1> <extra_id_99>'), [32098, 32000, 1]);
  // Not a token of this vocabulary: stays text.
  assert.equal(tok.encode('<extra_id_100>'), [...tok.sp.encodeIds('<extra_id_100>'), 1]);
  assert.equal(tok.encode('Hello</s>'), tok.encode('Hello'), 'no second </s>');
  assert.equal(tok.encode('<pad>x<unk>', { addEos: false }), [0, ...tok.sp.encodeIds('x'), 2]);
  assert.equal(tok.encode('a <extra_id_0>', { specialTokens: false, addEos: false }), tok.sp.encodeIds('a <extra_id_0>'));
});

sharedTest(t, 'T5: decode as HF T5Tokenizer.decode', SPIECE, () => {
  const tok = t5!;
  const ids = tok.encode('The <extra_id_0> walks in <extra_id_1> park');
  assert.is(tok.decode(ids), 'The<extra_id_0> walks in<extra_id_1> park</s>');
  assert.is(tok.decode(ids, { skipSpecial: true }), 'The walks in park');
  assert.is(tok.decode([0, 32099, 8774, 1, 0]), '<pad><extra_id_0> Hello</s><pad>');
  assert.is(tok.decode([0, 8774, 296, 1], { skipSpecial: true }), 'Hello world');
  assert.is(tok.decode(tok.encode('日本 Hello')), '<unk> Hello</s>', 'unk prints as <unk> in HF');
  assert.is(tok.sp.decodeIds(tok.sp.encodeIds('日本 Hello')), ' \u2047  Hello', 'sentencepiece prints unk as " ⁇ "');
  assert.throws(() => tok.decode([32100]), /out of range/);
});

t('ByT5: ids from HF test_tokenization_byt5', () => {
  const tok = new ByT5Tokenizer();
  assert.is(tok.vocabSize, 384);
  assert.equal(tok.encode('Unicode €.'), [88, 113, 108, 102, 114, 103, 104, 35, 229, 133, 175, 49, 1]);
  assert.is(tok.decode([88, 113, 108, 102, 114, 103, 104, 35, 229, 133, 175, 49, 1]), 'Unicode €.</s>');
  assert.equal(tok.encode('e è é ê ë'), [104, 35, 198, 171, 35, 198, 172, 35, 198, 173, 35, 198, 174, 1]);
  assert.is(tok.decode(tok.encode('e è é ê ë')), 'e è é ê ë</s>');
  assert.equal(tok.encode('hi</s>'), tok.encode('hi'));
  assert.equal(tok.encode('</s>'), tok.encode(''));
  assert.equal(tok.encode('A long paragraph for summarization. </s>'),
    [68, 35, 111, 114, 113, 106, 35, 115, 100, 117, 100, 106, 117, 100, 115, 107, 35, 105, 114, 117, 35, 118, 120, 112, 112, 100, 117, 108, 125, 100, 119, 108, 114, 113, 49, 35, 1]);
  assert.is(tok.decode([255 + 3]), '', 'a lone byte 0xFF is dropped');
});

t('ByT5: sentinels, skipSpecial, malformed bytes', () => {
  const tok = new ByT5Tokenizer();
  assert.is(tok.sentinel(0), 259);
  assert.is(tok.sentinel(124), 383);
  assert.throws(() => tok.sentinel(125), /out of range/);
  assert.equal(tok.encode('a<extra_id_0>b<extra_id_124>', { addEos: false }), [100, 259, 101, 383]);
  assert.is(tok.decode([100, 259, 101, 1, 0], { skipSpecial: true }), 'ab');
  assert.is(tok.decode([100, 259, 101]), 'a<extra_id_0>b');
  assert.is(decodeUtf8Ignoring(Uint8Array.of(0x61, 0xe2, 0x82, 0x62, 0xf0, 0x9f, 0x98, 0x80, 0xc0, 0xaf)), 'ab😀');
  assert.throws(() => tok.decode([384]), /out of range/);
});

sharedTest(t, 'loadTokenizer: checkpoint dir with spiece.model, ByT5 by tokenizer_config or config', SPIECE, (path) => {
  const t5dir = join(dir, 't5');
  mkdirSync(t5dir);
  symlinkSync(path, join(t5dir, 'spiece.model'));
  const tok = loadTokenizer(t5dir);
  assert.ok(tok instanceof T5Tokenizer);
  assert.equal(tok.encode('Hello world'), [8774, 296, 1]);
  assert.ok(loadTokenizer(path) instanceof T5Tokenizer, 'a .model path');
  writeFileSync(join(t5dir, 'tokenizer_config.json'), JSON.stringify({ extra_ids: 10 }));
  assert.is(loadTokenizer(t5dir).vocabSize, 32010);
});

t('loadTokenizer: ByT5 and errors', () => {
  const byt5dir = join(dir, 'byt5');
  mkdirSync(byt5dir);
  writeFileSync(join(byt5dir, 'config.json'), JSON.stringify({ vocab_size: 384, feed_forward_proj: 'gated-gelu' }));
  assert.ok(loadTokenizer(byt5dir) instanceof ByT5Tokenizer);
  const byt5cls = join(dir, 'byt5b');
  mkdirSync(byt5cls);
  writeFileSync(join(byt5cls, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'ByT5Tokenizer' }));
  assert.ok(loadTokenizer(byt5cls) instanceof ByT5Tokenizer);
  assert.ok(loadTokenizer(makeT5Config({ vocab_size: 384 })) instanceof ByT5Tokenizer);
  assert.throws(() => loadTokenizer(makeT5Config({ vocab_size: 32128 })), /needs its spiece\.model/);
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  assert.throws(() => loadTokenizer(empty), /no spiece\.model/);
  assert.throws(() => loadTokenizer(join(dir, 'missing')), /does not exist/);
});

t.after(() => rmSync(dir, { recursive: true, force: true }));
t.run();
