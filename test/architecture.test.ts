// The module graph of src/ as esbuild resolves it (runtime imports only: `import type` is erased):
// no import cycles, and every layer imports only the layers below it: the engine, then train/
// (what every training command shares), then the commands (bpt/ the method, pretrain/, report/),
// the demo (which uses bpt only through its stages' entry points), and the CLI on top.
import { build, type Metafile } from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const t = suite('architecture');

// The bundled test lives in dist/test/.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Layers, lowest first: a module may import from a lower rank or from its own row. The most
 * specific row (longest prefix) holds a module. The tape is below the ops because every op records
 * onto it; valueAndGrad (the rest of autograd) walks it. Rows of equal rank (bpt, pretrain,
 * report) may not import each other. src/index.ts, the public API, is in no row.
 */
const LAYERS: ReadonlyArray<readonly [prefix: string, rank: number]> = [
  ['src/util/', 0],
  ['src/gpu/', 1],
  ['src/tensor/', 2],
  ['src/autograd/tape.ts', 3],
  ['src/ops/', 4],
  ['src/autograd/', 5],
  ['src/optim/', 6],
  ['src/bayes/', 6],
  ['src/jit/', 7],
  ['src/nn/', 8],
  ['src/io/', 9],
  ['src/tasks/', 9],
  ['src/train/', 10],
  ['src/bpt/', 11],
  ['src/pretrain/', 11],
  ['src/report/', 11],
  ['src/demo/', 12],
  ['src/cli/', 13],
];

/** The bpt modules the demo may use: the stages' entry points and their options. */
const BPT_ENTRY_POINTS = new Set(['src/bpt/options.ts', 'src/bpt/source.ts', 'src/bpt/target.ts']);

function layerOf(path: string): readonly [string, number] | undefined {
  return LAYERS.filter(([prefix]) => path.startsWith(prefix)).sort((a, b) => b[0].length - a[0].length)[0];
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** src/ module -> the src/ modules it imports at run time. */
async function moduleGraph(): Promise<Map<string, string[]>> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: walk(join(root, 'src')).map((p) => relative(root, p)),
    bundle: true,
    write: false,
    outdir: 'unused',
    platform: 'node',
    format: 'esm',
    loader: { '.wgsl': 'text' },
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  });
  const inputs: Metafile['inputs'] = result.metafile.inputs;
  const graph = new Map<string, string[]>();
  for (const [path, input] of Object.entries(inputs)) {
    if (!path.startsWith('src/') || !path.endsWith('.ts')) continue;
    graph.set(path, input.imports.map((i) => i.path).filter((p) => p.startsWith('src/') && p.endsWith('.ts')));
  }
  return graph;
}

/** One import cycle of the graph, as the path that closes it, or null. */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of [...graph.keys()].sort()) {
    if (!state.has(node)) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return null;
}

const graph = await moduleGraph();

t('the module graph covers src/', () => {
  assert.ok(graph.has('src/ops/elementwise.ts'));
  assert.ok(graph.get('src/ops/elementwise.ts')!.includes('src/ops/launch.ts'));
});

t('no import cycle among src/ modules', () => {
  const cycle = findCycle(graph);
  assert.ok(cycle === null, `import cycle: ${cycle?.join(' -> ')}`);
});

t('the cycle finder names a cycle', () => {
  const cycle = findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['b']]]));
  assert.equal(cycle, ['b', 'c', 'b']);
});

t('every layer imports only downward; the demo reaches bpt only through its entry points', () => {
  assert.ok(graph.get('src/pretrain/pretrain.ts')!.some((p) => p.startsWith('src/train/')), 'the graph sees pretrain/ -> train/');
  const upward: string[] = [];
  for (const [from, imports] of graph) {
    const a = layerOf(from);
    if (!a) continue;
    for (const to of imports) {
      const b = layerOf(to);
      if (!b) upward.push(`${from} imports ${to}, which is in no layer`);
      else if (b[0] !== a[0] && b[1] >= a[1]) upward.push(`${from} (${a[0]}) imports ${to} (${b[0]})`);
      else if (a[0] === 'src/demo/' && b[0] === 'src/bpt/' && !BPT_ENTRY_POINTS.has(to)) upward.push(`${from} imports bpt internals: ${to}`);
    }
  }
  assert.equal(upward, []);
});

t.run();
