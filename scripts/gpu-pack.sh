#!/usr/bin/env bash
# Packs what a run on a lent GPU machine needs into .gpu/ (git-ignored; name it in the device
# tool's `carry`): the node binary (xz), the built bundles, and the webgpu package with its native
# dawn.node. The GPU machine has no Node.js and no network. See docs/GPU_RUNS.md.
#   scripts/gpu-pack.sh [--no-node]   --no-node: leave node out (a dry run on this machine uses its own)
set -euo pipefail
cd "$(dirname "$0")/.."
with_node=1
for a in "$@"; do
  case "$a" in
    --no-node) with_node=0 ;;
    *) echo "gpu-pack.sh: unknown argument $a (takes --no-node)" >&2; exit 2 ;;
  esac
done
# The bundles only: the GPU run needs no type declarations.
node build.mjs
rm -rf .gpu && mkdir -p .gpu/node_modules
if [ "$with_node" = 1 ]; then xz -T2 -c "$(command -v node)" > .gpu/node.xz; fi
cp -r dist .gpu/dist
find .gpu/dist -name "*.map" -delete
# Only the linux-x64 binding travels (the GPU machines are x86-64).
mkdir -p .gpu/node_modules/webgpu/dist
cp node_modules/webgpu/package.json node_modules/webgpu/index.js .gpu/node_modules/webgpu/
cp -r node_modules/webgpu/dist/linux-x64 .gpu/node_modules/webgpu/dist/
cp package.json .gpu/
du -sh .gpu
