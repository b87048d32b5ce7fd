// Bundles the library, the CLI, the tests and the benchmarks with esbuild.
// WGSL files are inlined as text so the bundles need nothing from shaders/ at run time.
// Tests and benchmarks share chunks (splitting) so that every test file in one process
// talks to the same GPU device singleton.
import { build } from 'esbuild';
import { readdirSync, statSync, rmSync } from 'node:fs';

import { join } from 'node:path';

function walk(dir, pred) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, pred));
    else if (pred(p)) out.push(p);
  }
  return out;
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  loader: { '.wgsl': 'text' },
  // dawn.node is a native addon; bundled CommonJS dependencies need a real `require`.
  // esbuild: the architecture test runs its API on the sources.
  external: ['webgpu', 'esbuild'],
  banner: { js: "import { createRequire as __bptCreateRequire } from 'node:module'; const require = __bptCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  metafile: true,
};

const results = await Promise.all([
  build({ ...common, entryPoints: { index: 'src/index.ts', t5: 'src/t5.ts', bpt: 'src/bpt.ts', cli: 'src/cli/main.ts' }, outdir: 'dist', splitting: true, chunkNames: 'chunks/[name]-[hash]' }),
  build({
    ...common,
    entryPoints: [
      ...walk('test', (p) => p.endsWith('.test.ts')),
      'test/run.ts',
      ...walk('bench', (p) => /\.ts$/.test(p) && !p.includes('/lib/')),
    ],
    outdir: 'dist',
    outbase: '.',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
  }),
]);

// Remove outputs of earlier builds (deleted tests, old chunks). Files younger than ten minutes stay:
// a test run started from an earlier build in the same tree may still be loading them.
const produced = new Set(results.flatMap((r) => Object.keys(r.metafile.outputs)).map((p) => join(p)));
// dist/types is written by tsc (npm run build), not by esbuild.
for (const file of walk('dist', (p) => !p.startsWith(join('dist', 'types')))) {
  if (!produced.has(join(file)) && Date.now() - statSync(file).mtimeMs > 10 * 60 * 1000) rmSync(file);
}
