// Runs the benchmark suites: all of them, or those named on the command line
// (`npm run bench -- matmul`; `families` names every kernel family, `end-to-end` the rest).
// Arguments starting with `--` are passed on to every suite. Each suite runs in a process of its
// own: it owns the GPU device for its lifetime, and one suite's pipelines and buffers cannot skew
// another's numbers.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * One suite per kernel family (shaders/<family>.wgsl, test/ref/<family>.ts): each checks every
 * variant against its float64 reference before timing it (bench/lib/family.ts).
 */
const FAMILIES = ['matmul', 'elementwise', 'reduce', 'softmax', 'rmsnorm', 'cross_entropy', 'embedding', 'dropout', 'layout', 'fill', 't5_attention', 'rbf_svgd', 'optim'];
/** Whole training steps: an MLP, T5 prompt tuning, a BPT source step. */
const END_TO_END = ['mlp', 't5', 'bpt', 'replay'];
const GROUPS: Record<string, string[]> = { families: FAMILIES, 'end-to-end': END_TO_END };

const here = dirname(fileURLToPath(import.meta.url));
const all = [...FAMILIES, ...END_TO_END];
const built = new Set(readdirSync(here).filter((f) => f.endsWith('.js')).map((f) => basename(f, '.js')));
const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('--')).flatMap((a) => GROUPS[a] ?? [a]);
const passOn = args.filter((a) => a.startsWith('--'));
const unknown = names.filter((n) => !all.includes(n) || !built.has(n));
if (unknown.length) {
  process.stderr.write(`unknown suite(s): ${unknown.join(', ')}; available: ${all.join(', ')}, or ${Object.keys(GROUPS).join(', ')}\n`);
  process.exit(2);
}
const suites = names.length ? names : all;
const failed: string[] = [];
for (const suite of suites) {
  process.stdout.write(`\n== ${suite} ==\n`);
  const res = spawnSync(process.execPath, [join(here, `${suite}.js`), ...passOn], { stdio: 'inherit' });
  if (res.status !== 0) failed.push(`${suite} (exit ${res.status ?? res.signal})`);
}
if (failed.length) {
  process.stderr.write(`\nfailed: ${failed.join(', ')}\n`);
  process.exitCode = 1;
}
