// Tiny models and tasks for the pipeline tests: a random byte-level T5 (ByT5 vocabulary, so the
// tokenizer needs no file) saved as a Hugging Face checkpoint, and GLUE-format task files small
// enough that a whole source -> target -> eval run takes seconds.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveHfCheckpoint } from '../../src/io/checkpoint.js';
import { makeT5Config, type T5Config } from '../../src/nn/t5/config.js';
import { randomCheckpoint } from '../../src/nn/t5/weights.js';
import { rng } from '../../src/util/random.js';

/**
 * A 1+1-layer T5 of width 16 over ByT5's 384 ids. Gated-GELU (T5 v1.1) keeps the loss smooth in
 * the prompt, so finite differences do not straddle ReLU kinks.
 */
export function tinyConfig(dropout = 0): T5Config {
  return makeT5Config({
    vocab_size: 384, d_model: 16, d_kv: 8, num_heads: 2, d_ff: 24, num_layers: 1, num_decoder_layers: 1,
    relative_attention_num_buckets: 8, relative_attention_max_distance: 16, feed_forward_proj: 'gated-gelu',
    tie_word_embeddings: false, dropout_rate: dropout,
  });
}

/** A fresh temporary directory. */
export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `bpt-${tag}-`));
}

/** Saves a random tiny T5 as an HF checkpoint directory; returns the directory. */
export function tinyModelDir(dir: string, seed = 3, dropout = 0): string {
  const ckpt = randomCheckpoint(tinyConfig(dropout), seed);
  saveHfCheckpoint(dir, ckpt.config, ckpt.tensors);
  return dir;
}

const WORDS = ['ab', 'cd', 'ef', 'gh', 'ij', 'kl', 'mn', 'op'];

function sentence(r: () => number, n: number): string {
  return Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]!).join(' ');
}

/**
 * GLUE-format files under `<root>/glue`: RTE and MRPC (small sets: dev halved into validation and
 * test) and CoLA (headerless), with `train` training rows and `dev` dev rows each. Labels follow
 * a learnable rule (does the first word of sentence 2 occur in sentence 1).
 */
export function tinyGlue(root: string, train = 12, dev = 8, seed = 5): string {
  const r = rng(seed);
  const pair = (n: number): Array<[string, string, number]> => Array.from({ length: n }, () => {
    const a = sentence(r, 3), b = sentence(r, 2);
    return [a, b, a.split(' ').includes(b.split(' ')[0]!) ? 1 : 0];
  });
  const write = (task: string, file: string, text: string): void => {
    mkdirSync(join(root, 'glue', task), { recursive: true });
    writeFileSync(join(root, 'glue', task, file), text);
  };
  for (const [file, n] of [['train.tsv', train], ['dev.tsv', dev]] as const) {
    write('RTE', file, ['index\tsentence1\tsentence2\tlabel', ...pair(n).map(([a, b, y], i) => `${i}\t${a}\t${b}\t${y ? 'entailment' : 'not_entailment'}`)].join('\n') + '\n');
    write('MRPC', file, ['Quality\t#1 ID\t#2 ID\t#1 String\t#2 String', ...pair(n).map(([a, b, y], i) => `${y}\t${i}\t${i + 1000}\t${a}\t${b}`)].join('\n') + '\n');
    write('CoLA', file, pair(n).map(([a, , y]) => `src\t${y}\t\t${a}`).join('\n') + '\n');
  }
  return root;
}
