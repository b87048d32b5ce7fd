#!/usr/bin/env python3
"""Loads what bpt-webgpu writes with Hugging Face's own libraries (optional; npm test does not run it).

Each --model DIR (a model directory written by `bpt pretrain` or `bpt target --method finetune`) must
load with T5ForConditionalGeneration.from_pretrained and AutoTokenizer.from_pretrained, hold exactly
the weights of its model.safetensors, and give a finite loss. Each --adapter DIR (a PEFT prompt
adapter written by `bpt source` / `bpt target`, given with its base model directory) must load with
PeftModel.from_pretrained on that model with the prompt of its adapter_model.safetensors. Every warning logged while loading is
printed; the run fails on an error or on a warning that names the config, except one: transformers
5 says "You should update the config with `tie_word_embeddings=False`" for every T5 v1.1 checkpoint
with its own lm_head (Google's included), because its T5Config forces tie_word_embeddings to True
after reading it; it is printed as a note.

Needs: pip install torch transformers peft sentencepiece. Checked with transformers 5.17.0 and
5.18.0, peft 0.21.0, torch 2.13.0: the models load on both; the adapters on 5.17.0, since
peft 0.21.0's PeftModelForSeq2SeqLM calls a transformers method that 5.18.0 no longer has
(`_prepare_encoder_decoder_kwargs_for_generation`), for any seq2seq adapter.
Example (from the repository, after npm run build):
  node dist/cli.js pretrain --out /tmp/hf/pre --corpus brown --steps 4 --batch-size 4 --input-length 32 \\
      --eval-segments 4 --d-model 16 --d-kv 8 --num-heads 2 --d-ff 32 --num-layers 1 --num-decoder-layers 1
  node dist/cli.js target --model /tmp/hf/pre/model --tasks sentiment:imdb --method finetune --out /tmp/hf/ft \\
      --max-train 8 --epochs 1 --batch-size 4 --max-eval 8 --eval-mode rank
  node dist/cli.js target --model /tmp/hf/pre/model --tasks sentiment:imdb --method pt --prompt-length 4 \\
      --out /tmp/hf/pt --max-train 8 --epochs 1 --batch-size 4 --max-eval 8 --eval-mode rank
  python scripts/hf_check.py --model /tmp/hf/pre/model --model /tmp/hf/ft/model \\
      --adapter /tmp/hf/pt/adapter /tmp/hf/pre/model
"""
import argparse
import json
import logging
import math
import os
import sys
import warnings

import torch
from safetensors.torch import load_file
from transformers import AutoTokenizer, T5ForConditionalGeneration
from transformers.utils import logging as hf_logging

KNOWN_TIE_NOTE = "You should update the config with `tie_word_embeddings=False`"


class Captured(logging.Handler):
    """Collects the records that transformers and peft log."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def loading(what, fn):
    """Runs fn, returning its result and every warning logged or raised meanwhile."""
    handler = Captured()
    loggers = [hf_logging.get_logger("transformers"), logging.getLogger("peft")]
    for lg in loggers:
        lg.addHandler(handler)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn()
        finally:
            for lg in loggers:
                lg.removeHandler(handler)
    return result, handler.messages + [str(w.message) for w in caught]


def judge(what, messages, failures):
    for m in messages:
        if KNOWN_TIE_NOTE in m:
            print(f"  note ({what}): transformers 5's tie message for untied T5 v1.1 checkpoints: {m.splitlines()[0][:160]}")
        elif "config" in m.lower():
            print(f"  CONFIG WARNING ({what}): {m}")
            failures.append(f"{what}: {m}")
        else:
            print(f"  warning ({what}): {m}")


def loss_of(model, tok):
    enc = tok(["a short test sentence"], return_tensors="pt")
    labels = tok(["positive"], return_tensors="pt").input_ids
    with torch.no_grad():
        return model(**enc, labels=labels).loss.item()


def check_model(path, failures):
    print(f"model {path}")
    model, messages = loading("model", lambda: T5ForConditionalGeneration.from_pretrained(path))
    judge("model", messages, failures)
    tok, messages = loading("tokenizer", lambda: AutoTokenizer.from_pretrained(path))
    judge("tokenizer", messages, failures)
    files = sorted(os.listdir(path))
    config = json.load(open(os.path.join(path, "config.json")))
    print(f"  files: {', '.join(files)}")
    print(f"  tokenizer: {type(tok).__name__} ({len(tok)} ids); config floats: " +
          ", ".join(f"{k}={config[k]!r}" for k in ("dropout_rate", "layer_norm_epsilon", "initializer_factor") if k in config))
    saved = load_file(os.path.join(path, "model.safetensors"))
    state = model.state_dict()
    worst = max((state[k].float() - v.float()).abs().max().item() for k, v in saved.items())
    print(f"  {len(saved)} tensors, max |loaded - file| = {worst:g}")
    if worst != 0:
        failures.append(f"{path}: weights differ from model.safetensors by {worst}")
    loss = loss_of(model, tok)
    print(f"  loss on a test pair: {loss:.6f}")
    if not math.isfinite(loss):
        failures.append(f"{path}: loss {loss}")


def check_adapter(path, base, failures):
    from peft import PeftModel

    print(f"adapter {path} on {base}")
    config = json.load(open(os.path.join(path, "adapter_config.json")))
    print(f"  peft_type {config['peft_type']}, base_model_name_or_path {config['base_model_name_or_path']!r}")
    model = T5ForConditionalGeneration.from_pretrained(base)
    peft_model, messages = loading("adapter", lambda: PeftModel.from_pretrained(model, path))
    judge("adapter", messages, failures)
    saved = load_file(os.path.join(path, "adapter_model.safetensors"))["prompt_embeddings"]
    loaded = peft_model.get_prompt_embedding_to_save("default")
    diff = (loaded.float() - saved.float()).abs().max().item()
    print(f"  prompt {tuple(saved.shape)}, max |loaded - file| = {diff:g}")
    if diff != 0:
        failures.append(f"{path}: prompt differs from the file by {diff}")
    loss = loss_of(peft_model, AutoTokenizer.from_pretrained(base))
    print(f"  loss with the prompt: {loss:.6f}")
    if not math.isfinite(loss):
        failures.append(f"{path}: loss {loss}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", action="append", default=[], help="a model directory (repeatable)")
    ap.add_argument("--adapter", action="append", nargs=2, default=[], metavar=("DIR", "BASE"),
                    help="a PEFT prompt adapter directory and the model directory it was trained on (repeatable)")
    args = ap.parse_args()
    import peft
    import transformers

    print(f"transformers {transformers.__version__}, peft {peft.__version__}, torch {torch.__version__}")
    failures = []
    for m in args.model:
        check_model(m, failures)
    for adapter, base in args.adapter:
        check_adapter(adapter, base, failures)
    print("FAILED:\n  " + "\n  ".join(failures) if failures else "all loaded: no config warnings")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
