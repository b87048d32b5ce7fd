// Our TypeScript SentencePiece against the real one (the C++ library compiled to wasm, npm
// @agnai/sentencepiece-js, a devDependency used only here) on every text field of every GLUE and
// SuperGLUE file in ../shared/data: TSV cells and every string inside the JSONL records. Ids and
// decoded text must be identical; HF's T5Tokenizer ids are these ids plus </s>.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { T5Tokenizer } from '../../src/io/tokenizer/t5_tokenizer.js';
import { sharedPath, sharedTest } from '../util/shared.js';

interface WasmProcessor {
  load(path: string): Promise<void>;
  encodeIds(text: string): number[];
  decodeIds(ids: number[]): string;
}

// Loaded with a runtime require so that esbuild leaves the Emscripten bundle (which needs its own
// __filename) out of our ESM test bundle.
async function realSentencePiece(model: string): Promise<WasmProcessor> {
  const req = createRequire(import.meta.url);
  const mod = req('@agnai/sentencepiece-js') as { SentencePieceProcessor: new () => WasmProcessor };
  const p = new mod.SentencePieceProcessor();
  await p.load(model);
  return p;
}

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

function collectStrings(v: unknown, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) collectStrings(x, out);
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) collectStrings(x, out);
}

/** Every text field of the files under `root`: each TSV cell of each line, each string of each JSONL record. */
function textsOf(root: string): { texts: Set<string>; files: number; fields: number } {
  const texts = new Set<string>();
  let files = 0, fields = 0;
  for (const f of walk(root)) {
    const content = readFileSync(f, 'utf8');
    const lines = content.split('\n');
    if (f.endsWith('.tsv')) {
      files++;
      for (const line of lines) for (const cell of line.split('\t')) { texts.add(cell); fields++; }
    } else if (f.endsWith('.jsonl')) {
      files++;
      for (const line of lines) {
        if (!line.trim()) continue;
        const strs: string[] = [];
        collectStrings(JSON.parse(line), strs);
        for (const s of strs) { texts.add(s); fields++; }
      }
    }
  }
  return { texts, files, fields };
}

const t = suite('io/sentencepiece parity');
const modelPath = sharedPath('data', 't5-spiece', 'spiece.model');
let ours: T5Tokenizer | null = null;
let real: WasmProcessor | null = null;

t.before(async () => {
  if (!modelPath) return;
  ours = T5Tokenizer.fromFile(modelPath);
  real = await realSentencePiece(modelPath);
});

function compareAll(label: string, root: string): void {
  const { texts, files, fields } = textsOf(root);
  assert.ok(files > 0 && texts.size > 0, `no texts under ${root}`);
  const mismatches: string[] = [];
  let tokens = 0, n = 0, decoded = 0;
  for (const text of texts) {
    const want = real!.encodeIds(text);
    const got = ours!.sp.encodeIds(text);
    tokens += want.length;
    const same = got.length === want.length && got.every((x, i) => x === want[i]);
    if (!same) {
      if (mismatches.length < 5) mismatches.push(`${JSON.stringify(text.slice(0, 200))}\n    ours ${JSON.stringify(got.slice(0, 40))}\n    real ${JSON.stringify(want.slice(0, 40))}`);
      continue;
    }
    // Decoding and the HF-level wrapper are checked on every 8th text: the wasm decoder is slow and
    // the ids, the expensive part to get right, are compared on all of them.
    if (n++ % 8 !== 0) continue;
    decoded++;
    const dWant = real!.decodeIds(want), dGot = ours!.sp.decodeIds(want);
    if (dGot !== dWant && mismatches.length < 5) mismatches.push(`decode of ${JSON.stringify(text.slice(0, 200))}: ours ${JSON.stringify(dGot)} real ${JSON.stringify(dWant)}`);
    // HF's T5Tokenizer = these ids + </s>, unless the text spells a special token.
    if (!/<pad>|<\/s>|<unk>|<extra_id_\d+>/.test(text)) {
      const hf = ours!.encode(text);
      if (hf.length !== want.length + 1 || hf[hf.length - 1] !== 1) mismatches.push(`encode() of ${JSON.stringify(text.slice(0, 80))} is not ids + [1]`);
    }
  }
  process.stdout.write(`  ${label}: ${files} files, ${fields} text fields, ${texts.size} distinct texts, ${tokens} tokens compared; ${decoded} decodes compared\n`);
  assert.equal(mismatches, [], `${mismatches.length} mismatch(es) under ${relative(process.cwd(), root)}`);
}

sharedTest(t, 'GLUE: ids and decoded text identical to SentencePiece on every text field', ['data', 'glue'], (root) => {
  assert.ok(ours && real, 'spiece.model is needed too');
  compareAll('glue', root);
});

sharedTest(t, 'SuperGLUE: ids and decoded text identical to SentencePiece on every text field', ['data', 'superglue'], (root) => {
  assert.ok(ours && real, 'spiece.model is needed too');
  compareAll('superglue', root);
});

sharedTest(t, 'hard cases: NFKC, control characters, emoji, unknown runs, long text, odd whitespace', ['data', 't5-spiece', 'spiece.model'], () => {
  const cases = [
    '', ' ', '\t\n\r ', 'Hello world', '  Hello   world  ', 'ﬁ ﬂ Ⅻ ① ㍿ ＡＢＣ １２３', 'e\u0301 \u00e9 \u212b Å',
    '\u0000a\u0001b\u007f', '\u200b\u200c\u200d\ufeff zero width', 'a\u3000b\u00a0c\u2009d', '日本語のテキスト 中文 한국어',
    '😀 🇫🇷 👩‍👩‍👧 emoji', '\ufffd replacement', 'tab\tand\nnewline', '....!!!???',
    'A'.repeat(3000), 'word '.repeat(2000), '<extra_id_0> </s> <pad>', 'ſ ß ẞ ﬅ', 'Ǆ ǅ ǆ ＜ ＞ ｛',
    '\u2581 lower one eighth', 'caf\u00e9\u0301', 'Ω Ω K K', '%E2%96%81', '\u0085next line \u2028 \u2029',
  ];
  const mismatches: string[] = [];
  for (const text of cases) {
    const want = real!.encodeIds(text), got = ours!.sp.encodeIds(text);
    if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`${JSON.stringify(text.slice(0, 60))}: ours ${JSON.stringify(got.slice(0, 30))} real ${JSON.stringify(want.slice(0, 30))}`);
    else if (ours!.sp.decodeIds(got) !== real!.decodeIds(want)) mismatches.push(`decode ${JSON.stringify(text.slice(0, 60))}`);
  }
  assert.equal(mismatches, []);
});

t.run();
