#!/usr/bin/env bash
# Builds, or continues, the next embedded model with one command: the 8k SentencePiece vocabulary
# (`bpt vocab`, deterministic), then `bpt pretrain` with models/recipes/t5-8k.json into
# runs/pretrain-t5-8k. A run there is resumed; on a fresh clone the run state committed in
# models/t5-8k-state/ (checkpoint, run.json, log, and the vocabulary it was trained on) is copied there first, so pretraining goes on
# where the last machine stopped. Extra arguments go to `bpt pretrain` (e.g. --stop-after 2000).
# Stop it with Ctrl-C or SIGTERM: the current step finishes and a checkpoint is written.
# scripts/gpu-run.sh pretrain runs it on a lent GPU machine with BPT_NODE (the node binary to use),
# BPT_CLI (a packed CLI: nothing is built) and BPT_RUN (the run directory instead of runs/pretrain-t5-8k).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${BPT_RUN:-runs/pretrain-t5-8k}
STATE=models/t5-8k-state
NODE=${BPT_NODE:-node}
CLI=${BPT_CLI:-dist/cli.js}
[ -n "${BPT_CLI:-}" ] || node build.mjs
# The committed run state trained on the committed vocabulary: use it rather than a retrained one.
if [ ! -f runs/vocab-8k/spiece.model ] && [ -f "$STATE/vocab/spiece.model" ]; then
  mkdir -p runs/vocab-8k
  cp "$STATE/vocab/spiece.model" "$STATE/vocab/tokenizer_config.json" runs/vocab-8k/
fi
[ -f runs/vocab-8k/spiece.model ] || "$NODE" "$CLI" vocab --corpus brown,wordnet --size 8000 --heldout 2000 --out runs/vocab-8k
if [ ! -f "$RUN/checkpoint.safetensors" ] && [ -f "$STATE/checkpoint.safetensors" ]; then
  mkdir -p "$RUN"
  cp "$STATE/checkpoint.safetensors" "$STATE/run.json" "$STATE/log.jsonl" "$RUN/"
fi
resume=()
[ -f "$RUN/checkpoint.safetensors" ] && resume=(--resume)
exec "$NODE" "$CLI" pretrain --config models/recipes/t5-8k.json --out "$RUN" "${resume[@]}" "$@"
