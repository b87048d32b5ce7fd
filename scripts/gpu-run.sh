#!/usr/bin/env bash
# The benchmark run, or the embedded model's pretraining, on a lent GPU machine in one device call (docs/GPU_RUNS.md):
#   scripts/gpu-run.sh prepare              here: packs .gpu/ (scripts/gpu-pack.sh), fetches the Vulkan
#                                           loader into .gl/ once, checks what travels against the device
#                                           tool's 64 MiB, and prints the calls to make
#   scripts/gpu-run.sh run [flags]          there (the call's command): the Vulkan loader, node, `bpt info`,
#                                           then the t5, bpt, matmul and t5_attention suites, each in its
#                                           time budget (6 minutes in all), JSON under $OUT
#   scripts/gpu-run.sh pretrain [--minutes=N]
#                                           there: the same set-up, then scripts/pretrain-embedded.sh resumed
#                                           from models/t5-8k-state for N minutes of training (default 6), a
#                                           held-out evaluation where it stops, and under $OUT what continues
#                                           the run: checkpoint.safetensors, run.json, log.jsonl, with
#                                           adapter.json, pretrain.log and summary.json
#   scripts/gpu-run.sh dry-run [flags]      here, CI-like: the files the device tool would send (tracked and
#                                           untracked-not-ignored), packed without node and run against this
#                                           machine's adapter; $OUT defaults to a fresh temporary directory
#   scripts/gpu-run.sh dry-run-pretrain [--minutes=N]
#                                           here, CI-like, the pretrain mode as dry-run does the run mode
#   scripts/gpu-run.sh adopt DIR            here: a pretrain call's files (DIR) become the run state, in
#                                           runs/pretrain-t5-8k and models/t5-8k-state, when they continue it
# Flags of run and dry-run: --quick (the suites' small shapes), --suites=a,b (a subset, in that order),
# --no-budget (no per-suite time limits; always so in a dry run: a software adapter is far slower).
# $OUT receives adapter.json (`bpt info`), <suite>.json per suite (its rows and the adapter report),
# summary.json (each suite's status and seconds) and run.log.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  echo "gpu-run.sh: $*" >&2
  exit 1
}

# Seconds each suite may take on the GPU: 325 in all, leaving the rest of 6 minutes to the set-up.
declare -A BUDGET=([t5]=120 [bpt]=75 [matmul]=75 [t5_attention]=55)
DEFAULT_SUITES=(t5 bpt matmul t5_attention)
LIMIT=$((64 * 1024 * 1024))
# The embedded model's run here, and its state that travels (scripts/pretrain-embedded.sh).
RUN=runs/pretrain-t5-8k
STATE=models/t5-8k-state
RUN_FILES=(checkpoint.safetensors run.json log.jsonl)

quick=''
budget=1
suites=("${DEFAULT_SUITES[@]}")
parse_flags() {
  for a in "$@"; do
    case "$a" in
      --quick) quick=--quick ;;
      --no-budget) budget=0 ;;
      --suites=*) IFS=, read -r -a suites <<<"${a#--suites=}" ;;
      *) die "unknown flag $a (run and dry-run take --quick, --suites=a,b, --no-budget)" ;;
    esac
  done
  for s in "${suites[@]}"; do [ -n "${BUDGET[$s]:-}" ] || BUDGET[$s]=60; done
}

# The files of the working tree the device tool sends: tracked ones and untracked ones git does not ignore.
tree_files() {
  git ls-files -co --exclude-standard -z | while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done
}

prepare() {
  bash scripts/gpu-pack.sh
  if ! compgen -G '.gl/*.deb' >/dev/null; then
    # The GPU machine has no Vulkan loader; its driver comes with the machine (see the device tool's README).
    mkdir -p .gl /tmp/amd64/partial
    local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
    apt-get "${o[@]}" update >/dev/null || die "apt-get update failed: the Vulkan loader cannot be fetched"
    (cd .gl && apt-get "${o[@]}" download libvulkan1) || die "apt-get download libvulkan1 failed"
  fi
  local tree carry total
  tree=$(tree_files | du -cb --files0-from=- | tail -1 | cut -f1)
  carry=$(du -sb .gpu .gl | awk '{ s += $1 } END { print s }')
  total=$((tree + carry))
  printf 'travels: working tree %d MiB + .gpu and .gl %d MiB = %d MiB of %d MiB\n' $((tree >> 20)) $((carry >> 20)) $((total >> 20)) $((LIMIT >> 20))
  [ "$total" -le "$LIMIT" ] || die "over the device tool's limit: leave out or ignore files"
  echo 'the benchmark call: run(command: "bash scripts/gpu-run.sh run", carry: [".gpu", ".gl"], timeout_s: 420)'
  echo 'the pretraining call: run(command: "bash scripts/gpu-run.sh pretrain --minutes=6", carry: [".gpu", ".gl"], timeout_s: 540)'
  if [ -f "$RUN/log.jsonl" ] && ! cmp -s "$RUN/log.jsonl" "$STATE/log.jsonl"; then
    echo "note: $RUN differs from $STATE, which is what a pretraining call resumes: stop that run," \
      "then \`scripts/gpu-run.sh adopt $RUN\` (it checks that $RUN continues $STATE) before the call"
  fi
}

# What both modes need there: the Vulkan loader, the NVIDIA driver's ICD, node (sets node_bin) and
# the pack with dawn.node unpacked (sets pack, a copy of .gpu/ without node, which stays as packed);
# tmp is a directory removed on exit.
setup() {
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # grep reads all of ldconfig's list (-q could end it early, and pipefail would take that for a miss).
  if ! ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null; then
    compgen -G '.gl/*.deb' >/dev/null || die "no Vulkan loader here and no .gl/*.deb carried (scripts/gpu-run.sh prepare fetches it)"
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -e "$icd" ]; then export VK_DRIVER_FILES="$icd"; fi
  [ -d .gpu/dist ] || die "no .gpu/ (scripts/gpu-run.sh prepare packs it)"
  if [ -e .gpu/node.xz ]; then
    node_bin="$tmp/node"
    xz -dc .gpu/node.xz >"$node_bin"
    chmod +x "$node_bin"
  else
    node_bin=$(command -v node) || die "no .gpu/node.xz and no node on this machine"
  fi
  pack="$tmp/gpu"
  mkdir "$pack"
  cp -r .gpu/dist .gpu/node_modules .gpu/package.json "$pack/"
  local dawn="$pack/node_modules/webgpu/dist/linux-x64/dawn.node"
  xz -dc "$dawn.xz" >"$dawn"
}

out_dir() {
  local out="${OUT:-}"
  [ -n "$out" ] || out=$(mktemp -d)
  mkdir -p "$out"
  echo "$out"
}

run() {
  parse_flags "$@"
  local out
  out=$(out_dir)
  setup
  cd "$pack"
  "$node_bin" dist/cli.js info >"$out/adapter.json"
  grep '"description"' "$out/adapter.json"
  # Files a suite writes besides its --out (its default results directory) stay out of $OUT.
  local scratch rows='' failed=0
  scratch=$(mktemp -d)
  for s in "${suites[@]}"; do
    local t0=$SECONDS rc=0 status=ok
    echo "== $s ==" | tee -a "$out/run.log"
    local cmd=("$node_bin" "dist/bench/$s.js" ${quick:+"$quick"} "--out=$out/$s.json")
    if [ "$budget" = 1 ]; then cmd=(timeout -k 5 "${BUDGET[$s]}" "${cmd[@]}"); fi
    BPT_BENCH_OUT="$scratch" "${cmd[@]}" 2>&1 | tee -a "$out/run.log" || rc=${PIPESTATUS[0]}
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status="timed out after ${BUDGET[$s]} s"; elif [ "$rc" != 0 ]; then status="failed (exit $rc)"; fi
    [ "$status" = ok ] || failed=1
    rows+="${rows:+,}{\"suite\":\"$s\",\"status\":\"$status\",\"seconds\":$((SECONDS - t0))}"
  done
  rm -rf "$scratch"
  printf '{"quick":%s,"budget":%s,"seconds":%d,"suites":[%s]}\n' "$([ -n "$quick" ] && echo true || echo false)" \
    "$([ "$budget" = 1 ] && echo true || echo false)" "$SECONDS" "$rows" >"$out/summary.json"
  echo "results in $out: $(cd "$out" && echo *)"
  return "$failed"
}

minutes=6
parse_pretrain_flags() {
  for a in "$@"; do
    case "$a" in
      --minutes=*) minutes=${a#--minutes=} ;;
      *) die "unknown flag $a (pretrain and dry-run-pretrain take --minutes=N)" ;;
    esac
  done
  [[ "$minutes" =~ ^[0-9]*[.]?[0-9]+$ && ! "$minutes" =~ ^[0.]*$ ]] || die "--minutes takes a number of minutes > 0, not '$minutes'"
}

# The step of a pretraining checkpoint (in its safetensors header), read by the packed library.
checkpoint_step() {
  "$node_bin" --input-type=module -e "
import { SafetensorsReader } from '$pack/dist/index.js';
const r = SafetensorsReader.open(process.argv[1]);
console.log(JSON.parse(r.header.metadata.bpt_checkpoint).step);
r.close();" "$1"
}

# summary.json of a pretraining call: steps, training seconds and tokens/s of this invocation (from
# its step records: each carries the seconds since its training loop began), the last held-out evaluation.
SUMMARY_JS='
const fs = require("fs");
const [dir, startArg, endArg, minutes, exit, seconds] = process.argv.slice(1);
const [start, end] = [Number(startArg), Number(endArg)];
const records = fs.readFileSync(dir + "/log.jsonl", "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
const run = JSON.parse(fs.readFileSync(dir + "/run.json", "utf8"));
const adapter = JSON.parse(fs.readFileSync(dir + "/adapter.json", "utf8"));
const tokensPerStep = run.options.batchSize * (run.info.lengths.input + run.info.lengths.target);
const last = records.filter((r) => r.kind === "step" && r.step > start).pop();
const timed = last ? { steps: last.step - start, seconds: last.seconds } : null;
const heldOut = records.filter((r) => r.kind === "eval" && r.step > start).pop();
const summary = {
  adapter: adapter.description ?? null, minutes: Number(minutes), exit: Number(exit), call_seconds: Number(seconds),
  start_step: start, end_step: end, steps: end - start, tokens_per_step: tokensPerStep,
  train_seconds: timed && timed.seconds, ms_per_step: timed && (1000 * timed.seconds) / timed.steps,
  tokens_per_s: timed && (timed.steps * tokensPerStep) / timed.seconds,
  held_out: heldOut ? { step: heldOut.step, loss: heldOut.loss, objectives: heldOut.objectives, input_gain: heldOut.input_gain } : null,
};
fs.writeFileSync(dir + "/summary.json", JSON.stringify(summary, null, 1) + "\n");
console.log(JSON.stringify(summary));
'

pretrain() {
  parse_pretrain_flags "$@"
  local out
  out=$(out_dir)
  setup
  [ -e .gpu/corpus.tar.xz ] || die "no .gpu/corpus.tar.xz (scripts/gpu-run.sh prepare packs it)"
  xz -dc .gpu/corpus.tar.xz | tar -xf - -C "$pack/node_modules"
  "$node_bin" "$pack/dist/cli.js" info >"$out/adapter.json"
  grep '"description"' "$out/adapter.json"
  # The run goes on in a scratch directory: its snapshot/ holds more files than $OUT brings back.
  local run start end rc=0
  run="$tmp/pretrain-t5-8k"
  start=$(checkpoint_step "$STATE/checkpoint.safetensors")
  echo "resuming $STATE at step $start for $minutes minutes of training" | tee "$out/pretrain.log"
  BPT_NODE="$node_bin" BPT_CLI="$pack/dist/cli.js" BPT_RUN="$run" bash scripts/pretrain-embedded.sh --max-minutes "$minutes" --progress none 2>&1 |
    tee -a "$out/pretrain.log" || rc=${PIPESTATUS[0]}
  for f in "${RUN_FILES[@]}"; do cp "$run/$f" "$out/"; done
  end=$(checkpoint_step "$out/checkpoint.safetensors")
  "$node_bin" -e "$SUMMARY_JS" "$out" "$start" "$end" "$minutes" "$rc" "$SECONDS"
  echo "results in $out: $(cd "$out" && echo *)"
  return "$rc"
}

dry_run() {
  local mode=$1 modules
  shift
  local pack=(--no-node) args=("$@")
  if [ "$mode" = run ]; then
    parse_flags "$@"
    pack+=(--no-corpus)
    args=(--no-budget "$@")
  else
    parse_pretrain_flags "$@"
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  tree_files | tar --null -T - -cf - | tar -xf - -C "$work"
  # CI installs the dependencies (npm ci) to build and pack; here the checkout's own install serves.
  # The run then finds only what .gpu/ holds, as on the GPU machine, where no node_modules travels.
  modules=$(readlink -f node_modules)
  ln -s "$modules" "$work/node_modules"
  export OUT="${OUT:-$(mktemp -d)}"
  (cd "$work" && bash scripts/gpu-pack.sh "${pack[@]}" && rm node_modules && bash scripts/gpu-run.sh "$mode" "${args[@]}")
}

# The pid of the live process holding a run directory's lock (src/io/dir_lock.ts), or nothing.
lock_holder() {
  local lock="$1/.bpt.lock" pid
  [ -f "$lock" ] || return 0
  pid=$(grep -o '"pid":[0-9]*' "$lock" | cut -d: -f2)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

# A pretraining call's files become the run state, here and in the state that travels, if they continue both.
adopt() {
  local dir="${1:-}" holder
  [ $# -eq 1 ] && [ -d "$dir" ] || die "usage: scripts/gpu-run.sh adopt DIR (a pretraining call's files, or $RUN)"
  for f in "${RUN_FILES[@]}"; do [ -f "$dir/$f" ] || die "$dir has no $f"; done
  # A run that continued a state keeps that state's log lines as they were (a resume keeps the records
  # up to its checkpoint): a log that does not begin with them comes from a run that forked.
  for d in "$STATE" "$RUN"; do
    [ -f "$d/log.jsonl" ] || continue
    cmp -s -n "$(stat -c %s "$d/log.jsonl")" "$d/log.jsonl" "$dir/log.jsonl" ||
      die "$dir/log.jsonl does not begin with $d/log.jsonl: it does not continue $d (adopt nothing, or move $d away first)"
  done
  holder=$(lock_holder "$RUN")
  [ -z "$holder" ] || die "$RUN is in use by process $holder: stop it (SIGTERM writes a checkpoint), then adopt"
  mkdir -p "$RUN"
  for d in "$STATE" "$RUN"; do
    [ "$(realpath "$dir")" = "$(realpath "$d")" ] && continue
    for f in "${RUN_FILES[@]}"; do cp "$dir/$f" "$d/$f"; done
  done
  # The snapshot held the replaced checkpoint's weights; the run's next checkpoint writes it again.
  rm -rf "$RUN/snapshot"
  echo "$dir -> $RUN and $STATE ($(wc -l <"$dir/log.jsonl") log records); continue with scripts/pretrain-embedded.sh" \
    "here or another pretraining call; commit $STATE with its PROVENANCE.md when milestones move"
}

mode="${1:-}"
[ $# -gt 0 ] && shift
case "$mode" in
  prepare) [ $# -eq 0 ] || die "prepare takes no flags"; prepare ;;
  run) run "$@" ;;
  pretrain) pretrain "$@" ;;
  dry-run) dry_run run "$@" ;;
  dry-run-pretrain) dry_run pretrain "$@" ;;
  adopt) adopt "$@" ;;
  *) die "usage: scripts/gpu-run.sh prepare | run [--quick] [--suites=a,b] [--no-budget] | pretrain [--minutes=N]" \
    "| dry-run [flags of run] | dry-run-pretrain [--minutes=N] | adopt DIR" ;;
esac
