// Child processes for the failure tests: a real process that holds a lock or is half-way through a
// write, so the test can kill -9 it. The child's script imports one src/ module, bundled on the
// fly with esbuild (the test bundles' chunk names are hashed, so they cannot be imported by name).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/** The repository root (the nearest folder above this bundle with a package.json). */
export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
}

/** Bundles src/`module` into `dir`/`name`.mjs, for a child script to import as './`name`.mjs'. */
export function bundleModule(module: string, dir: string, name: string): void {
  const root = repoRoot();
  buildSync({
    absWorkingDir: root, entryPoints: [join(root, 'src', module)], bundle: true, platform: 'node', format: 'esm',
    outfile: join(dir, `${name}.mjs`), logLevel: 'warning',
  });
}

/** The PID of a process that has exited, so that no process runs under it (barring reuse). */
export function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

/** A running child and its stdout so far. */
export interface Child {
  proc: ChildProcess;
  out: () => string;
  /** Resolves once stdout contains `text`. */
  said(text: string): Promise<void>;
  /** Resolves with the exit code and the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs ES module `code` as `dir`/`name`.mjs in a new node process. */
export function runScript(dir: string, name: string, code: string): Child {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, code);
  const proc = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: Array<() => void> = [];
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    waiters.splice(0).forEach((w) => w());
  });
  proc.stderr!.on('data', (d: Buffer) => void (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.on('exit', (code, signal) => res({ code, signal })));
  const said = (text: string): Promise<void> => new Promise((res, rej) => {
    const check = (): void => {
      if (out.includes(text)) res();
      else if (proc.exitCode !== null || proc.signalCode !== null) rej(new Error(`child exited before saying "${text}": ${out}`));
      else waiters.push(check);
    };
    void exited.then(() => waiters.splice(0).forEach((w) => w()));
    check();
  });
  return { proc, out: () => out, said, exited };
}
