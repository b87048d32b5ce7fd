#!/usr/bin/env bash
# The milestones of a pretraining run's last checkpoint (its snapshot/ directory), appended as one
# JSON line to <run>/milestones.jsonl: the linear probe beside random weights (bpt probe), greedy
# outputs of the mixture's task prompts (models/recipes/milestone-inputs.txt) and of span-corrupted
# Brown text, with their distinct counts (bpt generate). Usage: scripts/milestones.sh RUN_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:?usage: scripts/milestones.sh RUN_DIR}
snap="$run/snapshot"
[ -f "$snap/config.json" ] || { echo "$snap: no snapshot yet (written at each checkpoint)" >&2; exit 1; }
# The snapshot holds the last checkpoint's weights: its step is in the checkpoint's safetensors
# header (a checkpoint written on SIGTERM falls between evaluations).
step=$(node --input-type=module -e "
import { SafetensorsReader } from './dist/index.js';
const r = SafetensorsReader.open('$run/checkpoint.safetensors');
console.log(JSON.parse(r.header.metadata.bpt_checkpoint).step);
r.close();
")
probe=$(node dist/cli.js probe --model "$snap" --json)
tasks=$(node dist/cli.js generate --model "$snap" --input models/recipes/milestone-inputs.txt --max-new-tokens 16 --json)
spans=$(node dist/cli.js generate --model "$snap" --span-corruption 20 --max-length 64 --json)
node -e "
const [step, probe, tasks, spans] = process.argv.slice(1);
const line = { time: new Date().toISOString(), step: Number(step), probe: JSON.parse(probe), tasks: JSON.parse(tasks), spans: JSON.parse(spans) };
require('fs').appendFileSync('$run/milestones.jsonl', JSON.stringify(line) + '\n');
" "$step" "$probe" "$tasks" "$spans"
echo "$run/milestones.jsonl: step $step appended"
