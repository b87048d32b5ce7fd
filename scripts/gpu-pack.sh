#!/usr/bin/env bash
# Packs what a run on a lent GPU machine needs into .gpu/ (git-ignored; name it in the device
# tool's `carry`): the node binary (xz), the built bundles, and the webgpu package with its native
# dawn.node. The GPU machine has no Node.js and no network. See docs/GPU_RUNS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
npm run build --silent
rm -rf .gpu && mkdir -p .gpu/node_modules
xz -T2 -c "$(command -v node)" > .gpu/node.xz
cp -r dist .gpu/dist
find .gpu/dist -name "*.map" -delete
# Only the linux-x64 binding travels (the GPU machines are x86-64).
mkdir -p .gpu/node_modules/webgpu/dist
cp node_modules/webgpu/package.json node_modules/webgpu/index.js .gpu/node_modules/webgpu/
cp -r node_modules/webgpu/dist/linux-x64 .gpu/node_modules/webgpu/dist/
cp package.json .gpu/
du -sh .gpu
