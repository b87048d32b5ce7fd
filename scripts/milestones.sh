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
step=$(node -e "
const fs = require('fs'), fd = fs.openSync('$run/checkpoint.safetensors', 'r'), n = Buffer.alloc(8);
fs.readSync(fd, n, 0, 8, 0);
const header = Buffer.alloc(Number(n.readBigUInt64LE(0)));
fs.readSync(fd, header, 0, header.length, 8);
console.log(JSON.parse(JSON.parse(header.toString()).__metadata__.bpt_checkpoint).step);
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
