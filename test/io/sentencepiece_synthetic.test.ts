// Small hand-built SentencePiece models exercise what T5's vocabulary does not: user-defined
// symbols, unused pieces, byte fallback, no charsmap, and each normalizer flag. Each is checked
// against the real library (wasm build, devDependency) on random strings, so these tests need no
// ../shared data.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SentencePieceProcessor } from '../../src/io/tokenizer/sentencepiece.js';
import { ProtoWriter } from '../../src/io/tokenizer/protobuf_writer.js';
import { parseSentencePieceModel, type PieceType } from '../../src/io/tokenizer/sentencepiece_model.js';
import { serializeSentencePieceModel } from '../../src/io/tokenizer/sentencepiece_model_writer.js';
import { rng } from '../util/check.js';

interface WasmProcessor {
  load(path: string): Promise<void>;
  encodeIds(text: string): number[];
  decodeIds(ids: number[]): string;
}

interface Spec {
  pieces: { piece: string; score: number; type?: number }[];
  byteFallback?: boolean;
  addDummyPrefix?: boolean;
  removeExtraWhitespaces?: boolean;
  escapeWhitespaces?: boolean;
}

function modelBytes(spec: Spec): Uint8Array {
  const enc = new TextEncoder();
  return serializeSentencePieceModel({
    pieces: spec.pieces.map((p) => ({ piece: p.piece, bytes: enc.encode(p.piece), score: p.score, type: (p.type ?? 1) as PieceType })),
    trainer: { modelType: 1, byteFallback: spec.byteFallback ?? false, treatWhitespaceAsSuffix: false, unkId: 0, bosId: 1, eosId: 2, padId: -1, unkSurface: ' \u2047 ' },
    normalizer: {
      name: 'identity', precompiledCharsmap: new Uint8Array(0), normalizationRuleTsv: '', addDummyPrefix: spec.addDummyPrefix !== false,
      removeExtraWhitespaces: spec.removeExtraWhitespaces !== false, escapeWhitespaces: spec.escapeWhitespaces !== false,
    },
    denormalizer: null,
  });
}

const UNKNOWN = 2, CONTROL = 3, USER = 4, UNUSED = 5, BYTE = 6;

function basePieces(r: () => number): Spec['pieces'] {
  const pieces: Spec['pieces'] = [
    { piece: '<unk>', score: 0, type: UNKNOWN }, { piece: '<s>', score: 0, type: CONTROL }, { piece: '</s>', score: 0, type: CONTROL },
    { piece: '<sep>', score: 0, type: USER }, { piece: '@@', score: 0, type: USER },
  ];
  const words = ['\u2581', 'a', 'b', 'c', 'ab', 'bc', 'abc', '\u2581a', '\u2581ab', '\u2581abc', 'ca', 'é', '\u2581é', 'aa', 'bb', 'cab', '\u2581\u2581'];
  // Quarter-integer scores give exact ties between segmentations, testing the tie-breaking order.
  for (const w of words) pieces.push({ piece: w, score: -Math.round(r() * 40) / 4 - 0.25 });
  pieces.push({ piece: 'abca', score: -0.5, type: UNUSED });
  return pieces;
}

function randomText(r: () => number): string {
  const alphabet = ['a', 'b', 'c', ' ', '  ', 'é', 'e\u0301', '😀', 'x', '<sep>', '@@', '@', '\t', '\u2581', '日'];
  const n = Math.floor(r() * 12);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

const t = suite('io/sentencepiece synthetic models');
const dir = mkdtempSync(join(tmpdir(), 'bpt-spm-'));
const req = createRequire(import.meta.url);
const Wasm = (req('@agnai/sentencepiece-js') as { SentencePieceProcessor: new () => WasmProcessor }).SentencePieceProcessor;

async function check(name: string, spec: Spec, seed: number, count = 3000): Promise<void> {
  const path = join(dir, `${name}.model`);
  writeFileSync(path, modelBytes(spec));
  const real = new Wasm();
  await real.load(path);
  const ours = SentencePieceProcessor.fromFile(path);
  const r = rng(seed);
  const bad: string[] = [];
  for (let i = 0; i < count && bad.length < 5; i++) {
    const text = randomText(r);
    const want = real.encodeIds(text), got = ours.encodeIds(text);
    if (JSON.stringify(got) !== JSON.stringify(want)) bad.push(`${JSON.stringify(text)}: ours ${JSON.stringify(got)} real ${JSON.stringify(want)}`);
    else if (ours.decodeIds(got) !== real.decodeIds(want)) bad.push(`decode ${JSON.stringify(text)}: ours ${JSON.stringify(ours.decodeIds(got))} real ${JSON.stringify(real.decodeIds(want))}`);
  }
  assert.equal(bad, [], name);
}

t('user-defined symbols, unused pieces, unknown runs, tied scores', async () => {
  await check('plain', { pieces: basePieces(rng(7)) }, 11);
});

t('byte fallback', async () => {
  const pieces = basePieces(rng(8));
  for (let b = 0; b < 256; b++) pieces.push({ piece: `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, score: 0, type: BYTE });
  await check('bytes', { pieces, byteFallback: true }, 12);
  // Decoding arbitrary byte ids, including invalid UTF-8, matches too.
  const path = join(dir, 'bytes.model');
  const real = new Wasm();
  await real.load(path);
  const ours = SentencePieceProcessor.fromFile(path);
  const byteId = (b: number) => ours.pieceToId(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  for (const seq of [[0xe6, 0x97, 0xa5], [0xe6, 0x97], [0xff, 0x41], [0xc3], [0xf0, 0x9f, 0x98, 0x80, 0x80]]) {
    const ids = [ours.pieceToId('a'), ...seq.map(byteId), ours.pieceToId('\u2581a')];
    assert.is(ours.decodeIds(ids), real.decodeIds(ids), `bytes ${seq}`);
  }
});

t('normalizer flags: no dummy prefix, keep extra whitespace, no escaping', async () => {
  await check('nodummy', { pieces: basePieces(rng(9)), addDummyPrefix: false }, 13);
  await check('keepws', { pieces: basePieces(rng(10)), removeExtraWhitespaces: false }, 14);
  await check('noescape', { pieces: [...basePieces(rng(11)), { piece: ' a', score: -1 }], escapeWhitespaces: false }, 15);
});

t('model validation errors', () => {
  const r = rng(1);
  assert.throws(() => parseSentencePieceModel(modelBytes({ pieces: [{ piece: 'a', score: 0 }] }), 'x.model'), /x\.model: no <unk> piece/);
  const dup = [{ piece: '<unk>', score: 0, type: UNKNOWN }, { piece: 'a', score: 0 }, { piece: 'a', score: -1 }];
  assert.throws(() => parseSentencePieceModel(modelBytes({ pieces: dup }), 'x.model'), /"a" \(id 2\) is defined twice/);
  assert.throws(() => parseSentencePieceModel(Uint8Array.of(0x0a, 0x05, 0x01), 'trunc.model'), /trunc\.model.*malformed protobuf/);
  const bpe = modelBytes({ pieces: basePieces(r) });
  const patched = Uint8Array.from([...bpe, ...new ProtoWriter().message(2, new ProtoWriter().varint(3, 2)).finish()]);
  assert.throws(() => parseSentencePieceModel(patched, 'bpe.model'), /bpe\.model: model type bpe is not supported/);
});

t.after(() => { if (!process.env.KEEP_SPM) rmSync(dir, { recursive: true, force: true }); });
t.run();
