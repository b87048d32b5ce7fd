// Locates ../shared (the fixtures and real data that live beside the repository, never in it).
// Tests that need it register themselves with `sharedTest`, which turns into a counted skip with a
// message when the folder is absent.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findShared(): string | null {
  if (process.env.BPT_SHARED) return existsSync(process.env.BPT_SHARED) ? process.env.BPT_SHARED : null;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, '..', 'shared');
    if (existsSync(join(candidate, 'fixtures')) || existsSync(join(candidate, 'data'))) return resolve(candidate);
    dir = dirname(dir);
  }
  return null;
}

/** Absolute path of ../shared, or null when it is absent. */
export const SHARED = findShared();

/** Path inside ../shared, or null when ../shared or that path is absent. */
export function sharedPath(...parts: string[]): string | null {
  if (!SHARED) return null;
  const p = join(SHARED, ...parts);
  return existsSync(p) ? p : null;
}

interface UvuTest {
  (name: string, fn: () => void | Promise<void>): void;
  skip(name?: string, fn?: () => void | Promise<void>): void;
}

/** Registers `fn` when the ../shared path exists, otherwise a skip that says what is missing. */
export function sharedTest(t: UvuTest, name: string, parts: string[], fn: (path: string) => void | Promise<void>): void {
  const p = sharedPath(...parts);
  if (p) t(name, () => fn(p));
  else {
    process.stdout.write(`  skip "${name}": ../shared/${parts.join('/')} is absent\n`);
    t.skip(name);
  }
}
