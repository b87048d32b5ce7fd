#!/usr/bin/env bash
# The benchmark run on a lent GPU machine in one device call (docs/GPU_RUNS.md):
#   scripts/gpu-run.sh prepare              here: packs .gpu/ (scripts/gpu-pack.sh), fetches the Vulkan
#                                           loader into .gl/ once, checks what travels against the device
#                                           tool's 64 MiB, and prints the call to make
#   scripts/gpu-run.sh run [flags]          there (the call's command): the Vulkan loader, node, `bpt info`,
#                                           then the t5, bpt, matmul and t5_attention suites, each in its
#                                           time budget (6 minutes in all), JSON under $OUT
#   scripts/gpu-run.sh dry-run [flags]      here, CI-like: the files the device tool would send (tracked and
#                                           untracked-not-ignored), packed without node and run against this
#                                           machine's adapter; $OUT defaults to a fresh temporary directory
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
  echo 'the device call: run(command: "bash scripts/gpu-run.sh run", carry: [".gpu", ".gl"], timeout_s: 420)'
}

run() {
  parse_flags "$@"
  local out="${OUT:-}"
  [ -n "$out" ] || out=$(mktemp -d)
  mkdir -p "$out"
  # grep reads all of ldconfig's list (-q could end it early, and pipefail would take that for a miss).
  if ! ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null; then
    compgen -G '.gl/*.deb' >/dev/null || die "no Vulkan loader here and no .gl/*.deb carried (scripts/gpu-run.sh prepare fetches it)"
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -e "$icd" ]; then export VK_DRIVER_FILES="$icd"; fi
  [ -d .gpu/dist ] || die "no .gpu/ (scripts/gpu-run.sh prepare packs it)"
  local node_bin
  if [ -e .gpu/node.xz ]; then
    unpacked=$(mktemp -d)
    trap 'rm -rf "$unpacked"' EXIT
    node_bin="$unpacked/node"
    xz -dc .gpu/node.xz >"$node_bin"
    chmod +x "$node_bin"
  else
    node_bin=$(command -v node) || die "no .gpu/node.xz and no node on this machine"
  fi
  cd .gpu
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

dry_run() {
  parse_flags "$@"
  local modules
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  tree_files | tar --null -T - -cf - | tar -xf - -C "$work"
  # CI installs the dependencies (npm ci); here the checkout's own install serves.
  modules=$(readlink -f node_modules)
  ln -s "$modules" "$work/node_modules"
  export OUT="${OUT:-$(mktemp -d)}"
  (cd "$work" && bash scripts/gpu-pack.sh --no-node && bash scripts/gpu-run.sh run --no-budget "$@")
}

mode="${1:-}"
[ $# -gt 0 ] && shift
case "$mode" in
  prepare) [ $# -eq 0 ] || die "prepare takes no flags"; prepare ;;
  run) run "$@" ;;
  dry-run) dry_run "$@" ;;
  *) die "usage: scripts/gpu-run.sh prepare | run [--quick] [--suites=a,b] [--no-budget] | dry-run [same flags]" ;;
esac
