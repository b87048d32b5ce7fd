// Runs the benchmark suites: every bench/*.ts other than this one (bundled as dist/bench/*.js), or
// only those named on the command line (`npm run bench -- matmul`). Arguments starting with `--`
// are passed on to every suite. Each suite runs in a process of its own: it owns the GPU device
// for its lifetime, and one suite's pipelines and buffers cannot skew another's numbers.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here)
  .filter((f) => f.endsWith('.js') && f !== 'run.js')
  .map((f) => basename(f, '.js'))
  .sort();
const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('--'));
const passOn = args.filter((a) => a.startsWith('--'));
const unknown = names.filter((n) => !all.includes(n));
if (unknown.length) {
  process.stderr.write(`unknown suite(s): ${unknown.join(', ')}; available: ${all.join(', ')}\n`);
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
