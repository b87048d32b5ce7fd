// The layering above the engine, read from the sources' import statements: train/ holds what every
// training command shares and imports none of them; bpt/ (the method) imports no other command;
// pretrain/ and report/ never reach into bpt/; demo/ uses only bpt's public entry points; nothing
// below the CLI imports it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const t = suite('train/layers');

/** src/ of the repository: the bundle runs from dist/test/train/. */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import (type-only ones too) as [importer, imported], both relative to src/ without extension. */
function imports(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const file of sources(SRC)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)\.js';/gms)) {
      out.push([relative(SRC, file).replace(/\.ts$/, ''), relative(SRC, join(dirname(file), m[1]!))]);
    }
  }
  return out;
}

/** What each folder must not import (folder prefixes, or whole modules). */
const FORBIDDEN: Record<string, readonly string[]> = {
  train: ['bpt/', 'pretrain/', 'report/', 'demo/', 'cli/'],
  bpt: ['pretrain/', 'report/', 'demo/', 'cli/'],
  pretrain: ['bpt/', 'report/', 'demo/', 'cli/'],
  report: ['bpt/', 'pretrain/', 'demo/', 'cli/'],
  demo: ['pretrain/', 'cli/'],
};

/** The bpt modules demo/ may use: the stages' entry points and their options. */
const BPT_ENTRY_POINTS = new Set(['bpt/options', 'bpt/source', 'bpt/target']);

t('no module imports a layer above it; demo uses bpt only through its entry points', () => {
  const all = imports();
  assert.ok(all.some(([from, to]) => from.startsWith('pretrain/') && to.startsWith('train/')), 'the scan sees pretrain/ -> train/');
  const bad = all.filter(([from, to]) => {
    const folder = from.split('/')[0]!;
    if ((FORBIDDEN[folder] ?? []).some((p) => to.startsWith(p))) return true;
    if (folder === 'demo' && to.startsWith('bpt/') && !BPT_ENTRY_POINTS.has(to)) return true;
    return folder !== 'cli' && to.startsWith('cli/');
  });
  assert.equal(bad.map(([from, to]) => `${from} -> ${to}`), []);
});

t.run();
