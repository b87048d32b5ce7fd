// Atomic writes: a directory is replaced as a unit, and a failed write leaves the previous one.
// No litter: temporaries are named `.<name>.bpt-tmp-<pid>-<hex>`, go on every error (a full disk is
// injected), and the one a kill -9 leaves (a real one, in a child process) is swept by the next
// write of the same file.
import fs, { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureDirectory, removeTemporaries, temporaryOwner, temporaryPath, writeDirAtomic, writeFileAtomic } from '../../src/io/atomic.js';
import { bundleModule, deadPid, runScript } from '../util/child.js';
import { tempDir } from '../util/fixtures.js';
import { throwsWith } from '../util/throws.js';

const t = suite('io/atomic');
let dir: string;
t.before(() => {
  dir = tempDir('atomic');
  bundleModule('io/atomic.ts', dir, 'atomic');
});
t.after(() => rmSync(dir, { recursive: true, force: true }));

t('writeDirAtomic replaces a directory as a unit and leaves nothing behind on failure', () => {
  const out = join(dir, 'unit');
  writeDirAtomic(out, (tmp) => writeFileSync(join(tmp, 'a'), '1'));
  writeDirAtomic(out, (tmp) => writeFileSync(join(tmp, 'b'), '2'));
  assert.equal(readdirSync(out), ['b'], 'the old file is gone with the old directory');
  assert.throws(() => writeDirAtomic(out, (tmp) => {
    writeFileSync(join(tmp, 'c'), '3');
    throw new Error('disk full');
  }), /disk full/);
  assert.equal(readdirSync(out), ['b'], 'a failed write leaves the previous directory');
  assert.equal(readdirSync(dir).filter((n) => n.includes('.bpt-tmp-')), [], 'no temporary directories left');
  assert.ok(!existsSync(join(dir, 'unit', 'c')));
});

const temporaries = (d: string): string[] => readdirSync(d).filter((n) => temporaryOwner(n) !== null);

/** Runs `fn` while fs.writeSync fails as a full disk does. */
function withFullDisk(fn: () => void): void {
  const real = fs.writeSync;
  fs.writeSync = (() => {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  }) as typeof fs.writeSync;
  syncBuiltinESMExports();
  try {
    fn();
  } finally {
    fs.writeSync = real;
    syncBuiltinESMExports();
  }
}

t('temporaries carry the writer PID in a recognisable name', () => {
  const tmp = temporaryPath(join(dir, 'model.safetensors'));
  assert.match(tmp, new RegExp(`/\\.model\\.safetensors\\.bpt-tmp-${process.pid}-[0-9a-f]{8}$`));
  assert.is(temporaryOwner(tmp.slice(dir.length + 1)), process.pid);
  assert.is(temporaryOwner(`${tmp.slice(dir.length + 1)}.old`), process.pid);
  assert.is(temporaryOwner('model.safetensors'), null);
  assert.is(temporaryOwner('.model.safetensors.1234.tmp'), null);
});

t('a full disk: the error names the file and says the disk is full; no temporary stays, the old file does', () => {
  const d = join(dir, 'full');
  mkdirSync(d);
  const p = join(d, 'run.json');
  writeFileAtomic(p, ['old']);
  withFullDisk(() => throwsWith(() => writeFileAtomic(p, ['new']), p, 'cannot write', 'the disk is full', 'ENOSPC'));
  assert.is(readFileSync(p, 'utf8'), 'old');
  assert.equal(temporaries(d), []);
  withFullDisk(() => throwsWith(() => writeDirAtomic(join(d, 'model'), (tmp) => writeFileAtomic(join(tmp, 'w'), ['x'])), 'w', 'the disk is full'));
  assert.equal(temporaries(d), [], 'the temporary directory goes too');
  throwsWith(() => writeFileAtomic(join(d, 'missing', 'x.json'), ['x']), join(d, 'missing', 'x.json'), `the directory ${join(d, 'missing')} does not exist`);
});

t('kill -9 in the middle of a large write leaves a temporary that the next write of that file removes', async () => {
  const d = join(dir, 'killed');
  mkdirSync(d);
  const target = join(d, 'checkpoint.safetensors');
  const child = runScript(dir, 'writer', `import { writeFileAtomic } from './atomic.mjs';
const chunk = new Uint8Array(16 << 20);
process.stdout.write('writing\\n');
writeFileAtomic(${JSON.stringify(target)}, Array.from({ length: 64 }, () => chunk));
process.stdout.write('done\\n');
`);
  await child.said('writing');
  const owned = (): string[] => temporaries(d).filter((n) => temporaryOwner(n) === child.proc.pid);
  const t0 = Date.now();
  while (owned().length === 0 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 2));
  child.proc.kill('SIGKILL');
  await child.exited;
  assert.ok(!child.out().includes('done'), 'killed before the rename');
  assert.is(owned().length, 1, 'a kill -9 leaves the temporary');
  assert.ok(!existsSync(target));
  writeFileAtomic(target, ['fresh']);
  assert.equal(temporaries(d), [], "the dead writer's temporary is gone");
  assert.is(readFileSync(target, 'utf8'), 'fresh');
});

t("a temporary of a live writer is left alone; removeTemporaries (under a run's lock) sweeps every other one", () => {
  const d = join(dir, 'sweep');
  mkdirSync(join(d, 'adapters', 'particle-0'), { recursive: true });
  const live = `.log.jsonl.bpt-tmp-${process.ppid}-00aa11bb`;
  const dead = `.log.jsonl.bpt-tmp-${deadPid()}-00aa11bc`;
  writeFileSync(join(d, live), 'x');
  writeFileSync(join(d, dead), 'x');
  mkdirSync(join(d, 'adapters', `.particle-1.bpt-tmp-${deadPid()}-0badf00d`));
  writeFileSync(join(d, 'adapters', 'particle-0', `.adapter_model.safetensors.bpt-tmp-${deadPid()}-12345678`), 'x');
  writeFileAtomic(join(d, 'log.jsonl'), ['x']);
  assert.equal(temporaries(d), [live], 'the dead one went with the next write; the live one stayed');
  const removed = removeTemporaries(d);
  assert.is(removed.length, 3);
  assert.equal(temporaries(d), []);
  assert.equal(readdirSync(join(d, 'adapters')), ['particle-0']);
  assert.equal(readdirSync(join(d, 'adapters', 'particle-0')), []);
});

t('ensureDirectory creates missing levels and names a path component that is a file', () => {
  const d = join(dir, 'deep', 'a', 'b');
  ensureDirectory(d);
  assert.ok(existsSync(d));
  writeFileSync(join(dir, 'plain'), 'x');
  throwsWith(() => ensureDirectory(join(dir, 'plain', 'run')), join(dir, 'plain'), 'is not a directory');
});

t.run();
