#!/usr/bin/env python3
"""How fast a T5 of the embedded recipe's shape learns to read its input, in PyTorch on one core.

Optional, and not run by `npm test`: it needs `pip install torch transformers sentencepiece`. It
trains Hugging Face's T5ForConditionalGeneration on copying alone ("copy: <text>" -> <text>, 32
rows a step, transformers' Adafactor at the recipe's lr 3e-3 with T5's parameter scaling unless
--no-scale-parameter, which is how `bpt pretrain` runs it; no warmup) and prints, every 50 steps,
the held-out loss of copying 15-token windows and its input gain (the loss with the next example's
input minus the loss with its own; 0 = the decoder ignores the encoder). The text is the held-out
text of `bpt vocab` (runs/vocab-8k/heldout.txt), 90% for training and 10% held out.

  fresh        a new model with the config of CONFIG_DIR (initialised as `bpt pretrain` does:
               HF's scales, lm_head N(0, d_model^-1/2))
  DIR          a checkpoint directory (e.g. a run's snapshot/), trained on with a fresh optimizer

It chose the recipe's first stage (docs/EMBEDDED_MODEL.md): from a fresh model, copying alone gives
an input gain of ~1 nat within 150-200 steps, while the run trained for 2,761 steps on the mixture
barely moves (0.07 -> 0.15 in 400 steps): the plateau, once learnt, holds.

Without parameter scaling the gain from fresh weights stops near 0.7 (0.44 / 0.60 / 0.69 / 0.70 /
0.60 at steps 50-300), as in `bpt pretrain`'s copy stage: the next recipe's lever.

usage: python scripts/copy_study.py (fresh | DIR) [--steps N] [--lengths full|short]
       [--no-scale-parameter] [--config CONFIG_DIR] [--vocab VOCAB_DIR]
"""
import argparse
import json
import os
import random
import time

import sentencepiece as spm
import torch
from transformers import T5Config, T5ForConditionalGeneration
from transformers.optimization import Adafactor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INPUT, TARGET, ROWS, WINDOW = 20, 16, 32, 15


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('init', help="'fresh' or a checkpoint directory")
    ap.add_argument('--steps', type=int, default=600)
    ap.add_argument('--lengths', choices=['full', 'short'], default='full', help='copy 15-token windows, or 1-15 tokens at random')
    ap.add_argument('--no-scale-parameter', action='store_true', help="Adafactor's fixed step, as bpt pretrain runs it")
    ap.add_argument('--config', default=os.path.join(ROOT, 'runs', 'pretrain-t5-8k', 'snapshot'), help="config.json of a fresh model")
    ap.add_argument('--vocab', default=os.path.join(ROOT, 'runs', 'vocab-8k'))
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(a.vocab, 'spiece.model'))
    ids = [t for line in open(os.path.join(a.vocab, 'heldout.txt')) for t in sp.encode(line.strip())]
    cut = int(len(ids) * 0.9)
    train, test = ids[:cut], ids[cut:]
    prefix = sp.encode('copy:')
    if a.init == 'fresh':
        cfg = T5Config.from_pretrained(a.config)
        model = T5ForConditionalGeneration(cfg)
        with torch.no_grad():
            model.lm_head.weight.normal_(0, cfg.d_model ** -0.5)
    else:
        model = T5ForConditionalGeneration.from_pretrained(a.init)
    opt = Adafactor(model.parameters(), lr=3e-3, scale_parameter=not a.no_scale_parameter, relative_step=False, warmup_init=False)
    eos = model.config.eos_token_id

    def row(src, k, at):
        text = src[at:at + k]
        return (prefix + text + [eos])[:INPUT], text + [eos]

    def batch(rows):
        ii = torch.zeros(len(rows), INPUT, dtype=torch.long)
        mask = torch.zeros_like(ii)
        dec = torch.zeros(len(rows), TARGET, dtype=torch.long)
        labels = torch.full((len(rows), TARGET), -100, dtype=torch.long)
        for b, (i, t) in enumerate(rows):
            ii[b, :len(i)], mask[b, :len(i)] = torch.tensor(i), 1
            labels[b, :len(t)], dec[b, 1:len(t)] = torch.tensor(t), torch.tensor(t[:-1])
        return ii, mask, dec, labels

    def example_nll(ii, mask, dec, labels):
        logits = model(input_ids=ii, attention_mask=mask, decoder_input_ids=dec).logits
        keep = (labels != -100).float()
        nll = -torch.log_softmax(logits, -1).gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1) * keep
        return nll.sum(1) / keep.sum(1)

    rng = random.Random(1)
    held = [row(test, WINDOW, rng.randrange(len(test) - INPUT)) for _ in range(128)]
    rotated = [(held[(j + 1) % len(held)][0], t) for j, (_, t) in enumerate(held)]

    def evaluate():
        model.eval()
        with torch.no_grad():
            own = example_nll(*batch(held)).mean().item()
            other = example_nll(*batch(rotated)).mean().item()
        model.train()
        return own, other - own

    t0 = time.time()
    for s in range(1, a.steps + 1):
        k = lambda: rng.randint(1, WINDOW) if a.lengths == 'short' else WINDOW
        rows = [row(train, k(), rng.randrange(len(train) - INPUT)) for _ in range(ROWS)]
        loss = example_nll(*batch(rows)).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
        if s % 50 == 0 or s == 1:
            own, gain = evaluate()
            print(json.dumps({'step': s, 'train': round(loss.item(), 3), 'heldout_copy': round(own, 3), 'input_gain': round(gain, 3), 'seconds': round(time.time() - t0, 1)}), flush=True)


if __name__ == '__main__':
    main()
