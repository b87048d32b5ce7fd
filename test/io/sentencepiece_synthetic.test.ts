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
import { parseSentencePieceModel } from '../../src/io/tokenizer/sentencepiece_model.js';
import { rng } from '../util/check.js';

interface WasmProcessor {
  load(path: string): Promise<void>;
  encodeIds(text: string): number[];
  decodeIds(ids: number[]): string;
}

// --- a minimal protobuf writer for ModelProto ---
function varint(v: number): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, BigInt(v));
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
  return out;
}
const key = (field: number, wire: number) => varint((field << 3) | wire);
const fVarint = (field: number, v: number) => [...key(field, 0), ...varint(v)];
const fBytes = (field: number, b: Uint8Array | number[]) => [...key(field, 2), ...varint(b.length), ...b];
const fString = (field: number, s: string) => fBytes(field, [...new TextEncoder().encode(s)]);
const fFloat = (field: number, f: number) => [...key(field, 5), ...new Uint8Array(Float32Array.of(f).buffer)];

interface Spec {
  pieces: { piece: string; score: number; type?: number }[];
  byteFallback?: boolean;
  addDummyPrefix?: boolean;
  removeExtraWhitespaces?: boolean;
  escapeWhitespaces?: boolean;
}

function modelBytes(spec: Spec): Uint8Array {
  const out: number[] = [];
  for (const p of spec.pieces) out.push(...fBytes(1, [...fString(1, p.piece), ...fFloat(2, p.score), ...fVarint(3, p.type ?? 1)]));
  out.push(...fBytes(2, [
    ...fVarint(3, 1), ...fVarint(4, spec.pieces.length), ...fVarint(35, spec.byteFallback ? 1 : 0),
    ...fVarint(40, 0), ...fVarint(41, 1), ...fVarint(42, 2), ...fVarint(43, -1),
  ]));
  out.push(...fBytes(3, [
    ...fString(1, 'identity'), ...fVarint(3, spec.addDummyPrefix === false ? 0 : 1),
    ...fVarint(4, spec.removeExtraWhitespaces === false ? 0 : 1), ...fVarint(5, spec.escapeWhitespaces === false ? 0 : 1),
  ]));
  return Uint8Array.from(out);
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
  const patched = Uint8Array.from([...bpe, ...fBytes(2, fVarint(3, 2))]);
  assert.throws(() => parseSentencePieceModel(patched, 'bpe.model'), /bpe\.model: model type bpe is not supported/);
});

t.after(() => { if (!process.env.KEEP_SPM) rmSync(dir, { recursive: true, force: true }); });
t.run();
