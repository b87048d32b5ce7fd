#!/usr/bin/env python3
"""Cross-checks a vocabulary written by `bpt vocab` against the reference implementations.

Optional, and not run by `npm test`: it needs a built tree (`node build.mjs`) and Python with
`pip install sentencepiece transformers`. For every line of the text it compares the ids of

  ours      our T5Tokenizer (dist/index.js, run with node)
  spm       sentencepiece.SentencePieceProcessor, the C++ library
  hf-slow   transformers' SentencePiece-backed tokenizer (transformers 4: T5Tokenizer;
            transformers 5, which has no SentencePiece T5 class: SentencePieceBackend)
  hf-fast   transformers' tokenizers-backed T5 tokenizer (transformers 4: T5TokenizerFast;
            transformers 5: T5Tokenizer), converted from spiece.model

and prints the share of lines whose ids agree with ours exactly, the first differences, and
pieces per UTF-8 byte (ByT5 uses one token per byte).

usage: python scripts/vocab_crosscheck.py DIR [--text FILE]
  DIR holds spiece.model and tokenizer_config.json; FILE (default DIR/heldout.txt, which
  `bpt vocab --heldout N` writes) has one text per line.
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Encodes stdin's lines with our tokenizer, no </s>: per line a JSON pair, [ids reading special-token
# text such as "</s>" as plain text (as the sentencepiece library does), ids mapping it to its id (as HF does)].
NODE_ENCODER = """
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [index, model] = process.argv.slice(-2);
const { T5Tokenizer } = await import(pathToFileURL(index).href);
const tok = T5Tokenizer.fromFile(model);
const lines = readFileSync(0, 'utf8').split('\\n');
lines.pop();
const both = (l) => [false, true].map((specialTokens) => tok.encode(l, { addEos: false, specialTokens }));
process.stdout.write(lines.map((l) => JSON.stringify(both(l))).join('\\n') + '\\n');
"""


def ours(model, lines):
    index = os.path.join(ROOT, 'dist', 'index.js')
    if not os.path.exists(index):
        sys.exit(f'{index} is missing: run `node build.mjs` first')
    out = subprocess.run(['node', '--input-type=module', '-e', NODE_ENCODER, index, model],
                         input=''.join(l + '\n' for l in lines), capture_output=True, text=True, check=True).stdout
    return [json.loads(l) for l in out.splitlines()]


def hf_tokenizers(directory):
    import transformers
    major = int(transformers.__version__.split('.')[0])
    if major < 5:
        slow = transformers.T5Tokenizer.from_pretrained(directory, legacy=True)
        fast = transformers.T5TokenizerFast.from_pretrained(directory, from_slow=True, legacy=True)
    else:
        from transformers.tokenization_utils_sentencepiece import SentencePieceBackend
        slow = SentencePieceBackend(vocab_file=os.path.join(directory, 'spiece.model'),
                                    eos_token='</s>', unk_token='<unk>', pad_token='<pad>')
        fast = transformers.T5Tokenizer.from_pretrained(directory)
    return transformers.__version__, slow, fast


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('dir')
    ap.add_argument('--text')
    args = ap.parse_args()
    model = os.path.join(args.dir, 'spiece.model')
    with open(args.text or os.path.join(args.dir, 'heldout.txt'), encoding='utf-8') as f:
        lines = f.read().split('\n')
    if lines and lines[-1] == '':
        lines.pop()

    import sentencepiece
    sp = sentencepiece.SentencePieceProcessor(model_file=model)
    version, slow, fast = hf_tokenizers(args.dir)
    t0 = time.time()
    plain, special = zip(*ours(model, lines))
    print(f'ours: {len(lines)} lines in {time.time() - t0:.1f} s (node start included)')
    others = {
        f'spm {sentencepiece.__version__}': (lambda s: sp.encode(s), plain),
        f'hf-slow {version} {type(slow).__name__}': (lambda s: slow(s, add_special_tokens=False).input_ids, special),
        f'hf-fast {version} {type(fast).__name__}': (lambda s: fast(s, add_special_tokens=False).input_ids, special),
    }
    for name, (encode, ref) in others.items():
        diffs = [(line, got, want) for line, want in zip(lines, ref) if (got := encode(line)) != want]
        print(f'{name}: {len(lines) - len(diffs)}/{len(lines)} lines agree ({100 * (1 - len(diffs) / len(lines)):.2f}%)')
        for line, got, want in diffs[:3]:
            print(f'  {line[:100]!r}\n    theirs {got[:30]}\n    ours   {want[:30]}')
            print(f'    theirs {sp.id_to_piece([i for i in got if i < sp.get_piece_size()][:20])}')
            print(f'    ours   {sp.id_to_piece(want[:20])}')

    n_bytes = sum(len(l.encode('utf-8')) for l in lines)
    n_pieces = sum(len(ids) for ids in plain)
    print(f'{n_bytes} bytes -> {n_pieces} pieces: {n_pieces / n_bytes:.3f} pieces per byte; '
          f'ByT5 needs {n_bytes / n_pieces:.2f}x as many tokens (per text with </s>: '
          f'{(n_bytes + len(lines)) / (n_pieces + len(lines)):.2f}x)')


if __name__ == '__main__':
    main()
