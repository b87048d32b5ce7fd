// Test runner: loads every bundled *.test.js under dist/test (or those whose path contains one of
// the command-line arguments), runs their uvu suites in order, and ends with the line
// `N passed, N failed, N skipped` that CI reads.
(globalThis as { UVU_DEFER?: number }).UVU_DEFER = 1;

import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { shutdownGpu } from '../src/gpu/device.js';

type SuiteResult = [errors: string | true, passed: number, skipped: number, total: number];
type Group = [name: string | null, ...runs: Array<() => Promise<SuiteResult>>];
const g = globalThis as unknown as { UVU_QUEUE: Group[]; UVU_INDEX: number };
g.UVU_QUEUE = [];

const here = dirname(fileURLToPath(import.meta.url));
function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.js') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = walk(here)
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

let passed = 0, failed = 0, skipped = 0;
const started = performance.now();
for (const file of files) {
  const name = relative(here, file);
  g.UVU_INDEX = g.UVU_QUEUE.length;
  g.UVU_QUEUE.push([name]);
  const t0 = performance.now();
  try {
    await import(pathToFileURL(file).href);
    const [, ...runs] = g.UVU_QUEUE[g.UVU_INDEX]!;
    process.stdout.write(`${name}\n`);
    for (const run of runs) {
      const [errors, ok, skip, total] = await run();
      passed += ok;
      skipped += skip;
      failed += total - ok;
      if (errors !== true) process.stdout.write(`\n${errors}\n`);
    }
  } catch (err) {
    failed += 1;
    process.stdout.write(`${name}: failed to load: ${(err as Error).stack ?? String(err)}\n`);
  }
  process.stdout.write(`  ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
await shutdownGpu();
process.stdout.write(`\nfiles: ${files.length}, time: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exitCode = failed > 0 || files.length === 0 ? 1 : 0;
