#!/usr/bin/env python3
"""Cross-checks `bpt pretrain` against Hugging Face's T5 in PyTorch on the run's own data.

Optional, and not run by `npm test`: it needs node_modules (esbuild) and Python with
`pip install torch transformers safetensors`. RUN is a pretraining run directory (run.json,
log.jsonl, snapshot/); paths in its run.json are relative to the repository root, where this
script runs its node part.

  steps N      HF's T5ForConditionalGeneration from the run's initial weights (same seed), trained on
               the run's first N batches with transformers' Adafactor, the run's lr, warmup and loss
               (per example or per token); prints its loss beside the run's logged loss at every
               logged step <= N. Both are float32 on different kernels, so they drift apart slowly.
  snapshot     the run's snapshot/ (its last checkpoint) loaded with from_pretrained; prints the
               held-out loss and input gain per objective beside the run's eval record at that step.

usage: python scripts/pretrain_crosscheck.py RUN (steps N | snapshot) [--threads T] [--work DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
from transformers import T5ForConditionalGeneration
from transformers.optimization import Adafactor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def dump(run, work, start, steps):
    """Runs scripts/pretrain_batches.ts (bundled with esbuild) to write the run's batches into work."""
    bundle = os.path.join(work, 'pretrain_batches.mjs')
    esbuild = os.path.join(ROOT, 'node_modules', '.bin', 'esbuild')
    subprocess.run([esbuild, os.path.join(ROOT, 'scripts', 'pretrain_batches.ts'), '--bundle', '--platform=node',
                    '--format=esm', '--packages=external', '--loader:.wgsl=text', '--log-level=warning', f'--outfile={bundle}'], check=True)
    # The bundle leaves packages to node, which looks for node_modules beside it.
    link = os.path.join(work, 'node_modules')
    if not os.path.exists(link):
        os.symlink(os.path.join(ROOT, 'node_modules'), link)
    subprocess.run(['node', bundle, os.path.abspath(run), work, str(start), str(steps)], check=True, cwd=ROOT)
    return json.load(open(os.path.join(work, 'meta.json')))


def batches(work, name, meta):
    d = json.load(open(os.path.join(work, f'{name}.json')))
    L, T = meta['inputLength'], meta['targetLength']
    return (torch.tensor(d['ids']).view(-1, L), torch.tensor(d['mask']).view(-1, L),
            torch.tensor(d['dec']).view(-1, T), torch.tensor(d['labels']).view(-1, T))


def token_nll(model, ids, mask, dec, labels):
    """Per-token NLL [rows, T] (0 where the label is ignored) and the kept-token mask."""
    logits = model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec).logits
    keep = (labels != -100).float()
    nll = -torch.log_softmax(logits, -1).gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return nll * keep, keep


def mean_nll(model, batch, rows):
    with torch.no_grad():
        total, tokens = 0.0, 0.0
        for at in range(0, batch[0].shape[0], rows):
            nll, keep = token_nll(model, *(t[at:at + rows] for t in batch))
            total, tokens = total + nll.sum().item(), tokens + keep.sum().item()
        return total / tokens


def read_log(run):
    return [json.loads(line) for line in open(os.path.join(run, 'log.jsonl'))]


def checkpoint_step(run):
    """The step of the run's last checkpoint (snapshot/ holds its weights), from its safetensors header."""
    with open(os.path.join(run, 'checkpoint.safetensors'), 'rb') as f:
        header = json.loads(f.read(int.from_bytes(f.read(8), 'little')))
    return json.loads(header['__metadata__']['bpt_checkpoint'])['step']


def steps_check(run, work, n):
    meta = dump(run, work, 0, n)
    o = meta['options']
    model = T5ForConditionalGeneration.from_pretrained(os.path.join(work, 'init'))
    model.train()
    opt = Adafactor(model.parameters(), lr=o['lr'], scale_parameter=False, relative_step=False, warmup_init=False,
                    weight_decay=o['weightDecay'])
    if o['schedule'] != 'constant':
        sys.exit(f"pretrain_crosscheck: schedule '{o['schedule']}' is not reproduced here (only 'constant' with warmup)")
    warm = o['warmupSteps']
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: s / warm if s < warm else 1.0)
    ours = {r['step']: r['loss'] for r in read_log(run) if r['kind'] == 'step'}
    train = batches(work, 'train', meta)
    B = o['batchSize']
    print(f"{'step':>6} {'bpt-webgpu':>11} {'transformers':>13} {'rel. diff':>10}")
    for s in range(n):
        nll, keep = token_nll(model, *(t[s * B:(s + 1) * B] for t in train))
        loss = (nll.sum(1) / keep.sum(1).clamp(min=1)).mean() if o['lossPerExample'] else nll.sum() / keep.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if s + 1 in ours:
            a, b = ours[s + 1], loss.item()
            print(f'{s + 1:>6} {a:>11.4f} {b:>13.4f} {abs(a - b) / abs(a):>10.2e}', flush=True)


def snapshot_check(run, work):
    meta = dump(run, work, 0, 0)
    o = meta['options']
    model = T5ForConditionalGeneration.from_pretrained(os.path.join(run, 'snapshot'))
    model.eval()
    step = checkpoint_step(run)
    record = next((r for r in read_log(run) if r['kind'] == 'eval' and r['step'] == step), None)
    if record is None:
        sys.exit(f'pretrain_crosscheck: the snapshot is step {step}, which has no eval record in log.jsonl')
    print(f'snapshot of step {step}, beside the run\'s eval record of that step')
    print(f"{'objective':>10} {'loss (ours)':>12} {'loss (HF)':>10} {'gain (ours)':>12} {'gain (HF)':>10}")
    for name in meta['objectives']:
        own = mean_nll(model, batches(work, f'held_{name}', meta), o['batchSize'])
        gain = mean_nll(model, batches(work, f'rotated_{name}', meta), o['batchSize']) - own
        a, g = record['objectives'][name], record['input_gain'][name]
        print(f'{name:>10} {a:>12.4f} {own:>10.4f} {g:>12.4f} {gain:>10.4f}', flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('run')
    ap.add_argument('mode', choices=['steps', 'snapshot'])
    ap.add_argument('n', nargs='?', type=int, default=50)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--work', default=None, help='where the batches go (default: a temporary directory)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    work = a.work or tempfile.mkdtemp(prefix='pretrain-crosscheck-')
    os.makedirs(work, exist_ok=True)
    if a.mode == 'steps':
        steps_check(a.run, work, a.n)
    else:
        snapshot_check(a.run, work)


if __name__ == '__main__':
    main()
