// Runs the benchmark suites: all of them, or those named on the command line
// (`npm run bench -- matmul`; `families` names every kernel family, `end-to-end` the rest).
// Arguments starting with `--` are passed on to the suites that declare them (each suite says which
// with --describe-flags, bench/lib/args.ts): a flag only some suites have does not stop the others,
// a flag none of them has is an error. With several suites, --out=FILE and --trace=FILE get the
// suite's name before the extension (out.json -> out.matmul.json). Each suite runs in a process of
// its own: it owns the GPU device for its lifetime, and one suite's pipelines and buffers cannot skew
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
/** Whole training steps: an MLP, T5 prompt tuning, a BPT source step, captured steps, a pretraining step. */
const END_TO_END = ['mlp', 't5', 'bpt', 'replay', 'pretrain'];
const GROUPS: Record<string, string[]> = { families: FAMILIES, 'end-to-end': END_TO_END };

const here = dirname(fileURLToPath(import.meta.url));
const all = [...FAMILIES, ...END_TO_END];
const built = new Set(readdirSync(here).filter((f) => f.endsWith('.js')).map((f) => basename(f, '.js')));
const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('--')).flatMap((a) => GROUPS[a] ?? [a]);
const passOn = args.filter((a) => a.startsWith('--'));
const unknown = names.filter((n) => !all.includes(n) || !built.has(n));
if (unknown.length) {
  // A flag's value after a space (`--iters 3`) reads as a suite name: say how to pass it.
  const values = args.flatMap((a, i) => (i > 0 && unknown.includes(a) && args[i - 1]!.startsWith('--') && !args[i - 1]!.includes('=') ? [`${args[i - 1]}=${a}`] : []));
  const hint = values.length ? ` (flag values take '=': ${values.join(', ')})` : '';
  process.stderr.write(`unknown suite(s): ${unknown.join(', ')}${hint}; available: ${all.join(', ')}, or ${Object.keys(GROUPS).join(', ')}\n`);
  process.exit(2);
}
const suites = names.length ? names : all;
const flagName = (arg: string) => arg.slice(2).split('=', 1)[0]!;

/** The flags a suite declares, from the suite itself. */
function flagsOf(suite: string): Set<string> {
  const res = spawnSync(process.execPath, [join(here, `${suite}.js`), '--describe-flags'], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${suite} --describe-flags failed: ${res.stderr}`);
  return new Set(Object.keys(JSON.parse(res.stdout) as Record<string, string>));
}
const declared = new Map(suites.map((s) => [s, flagsOf(s)]));
const nobody = passOn.filter((a) => ![...declared.values()].some((f) => f.has(flagName(a))));
if (nobody.length) {
  process.stderr.write(`no suite of this run takes ${nobody.join(', ')}; see node dist/bench/<suite>.js --help\n`);
  process.exit(2);
}

/** `path` with `.suite` before its extension when several suites share the run. */
const perSuite = (path: string, suite: string) => (suites.length === 1 ? path : path.replace(/(\.[^./\\]*)?$/, (ext) => `.${suite}${ext}`));

/** The arguments `suite` gets: the flags it declares, --out and --trace made per suite. */
function argsFor(suite: string): string[] {
  const flags = declared.get(suite)!;
  const skipped = passOn.filter((a) => !flags.has(flagName(a)));
  if (skipped.length) process.stdout.write(`(${suite} has no ${skipped.map(flagName).map((f) => `--${f}`).join(', ')}: not passed on)\n`);
  return passOn
    .filter((a) => flags.has(flagName(a)))
    .map((a) => (['out', 'trace'].includes(flagName(a)) && a.includes('=') ? `--${flagName(a)}=${perSuite(a.slice(a.indexOf('=') + 1), suite)}` : a));
}

const failed: string[] = [];
for (const suite of suites) {
  process.stdout.write(`\n== ${suite} ==\n`);
  const res = spawnSync(process.execPath, [join(here, `${suite}.js`), ...argsFor(suite)], { stdio: 'inherit' });
  if (res.status !== 0) failed.push(`${suite} (exit ${res.status ?? res.signal})`);
}
if (failed.length) {
  process.stderr.write(`\nfailed: ${failed.join(', ')}\n`);
  process.exitCode = 1;
}
