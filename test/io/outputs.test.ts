// File-system failures in words, and output locations checked before any work: a missing
// directory, a path through a file, a read-only file system (a real read-only mount where the
// machine allows one, in a private mount namespace; else injected), permission denied (injected:
// the tests run as root, which chmod does not stop).
import { spawnSync } from 'node:child_process';
import fs, { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkOutputDirectory, checkOutputFile } from '../../src/io/outputs.js';
import { fsError, FileSystemError } from '../../src/util/fs_errors.js';
import { bundleModule } from '../util/child.js';
import { tempDir } from '../util/fixtures.js';
import { throwsWith } from '../util/throws.js';

const t = suite('io/outputs');
let root: string;
t.before(() => void (root = tempDir('outputs')));
t.after(() => rmSync(root, { recursive: true, force: true }));

const errno = (code: string): Error => Object.assign(new Error(`${code}: raw text, open`), { code });

t('errno codes become the path, the action and the cause in words', () => {
  const cases: Array<[string, string]> = [
    ['ENOSPC', 'the disk is full'], ['EROFS', 'read-only'], ['EACCES', 'permission denied'], ['EPERM', 'permission denied'],
    ['ENOTDIR', 'not a directory'], ['EISDIR', 'is a directory'], ['EEXIST', 'already exists'], ['EDQUOT', 'quota'],
  ];
  for (const [code, words] of cases) {
    const e = fsError(errno(code), '/x/run.json', 'write');
    assert.ok(e instanceof FileSystemError);
    assert.is(e.message, `/x/run.json: cannot write: ${e.message.split(': cannot write: ')[1]}`);
    assert.ok(e.message.includes(words) && e.message.includes(code), e.message);
  }
  assert.match(fsError(errno('ENOENT'), '/x/y/run.json', 'write').message, /the directory \/x\/y does not exist/);
  assert.match(fsError(errno('ENOENT'), '/x/data.tsv', 'read').message, /\/x\/data\.tsv: cannot read: no such file or directory/);
  const plain = new Error('not a file-system error');
  assert.is(fsError(plain, '/x', 'write'), plain);
});

t('a missing directory or a path through a file is refused at once, naming it; nothing is created', () => {
  const missing = join(root, 'nope', 'eval.json');
  throwsWith(() => checkOutputFile(missing), missing, `the directory ${join(root, 'nope')} does not exist`);
  writeFileSync(join(root, 'file'), 'x');
  throwsWith(() => checkOutputFile(join(root, 'file', 'eval.json')), join(root, 'file'), 'not a directory');
  throwsWith(() => checkOutputDirectory(join(root, 'file', 'run'), 'the run directory'), join(root, 'file'), 'not a directory');
  mkdirSync(join(root, 'adir'));
  throwsWith(() => checkOutputFile(join(root, 'adir')), 'is a directory');
  checkOutputFile(join(root, 'eval.json'));
  checkOutputDirectory(join(root, 'new', 'run'), 'the run directory');
  assert.ok(!existsSync(join(root, 'new')), 'a check creates nothing');
  assert.equal(readdirSync(root).filter((n) => n.includes('bpt-tmp')), [], 'the probe file is gone');
});

t('read-only and permission denied (injected) are named as such', () => {
  const real = fs.openSync;
  for (const [code, words] of [['EROFS', 'the file system is read-only'], ['EACCES', 'permission denied']] as const) {
    fs.openSync = (() => { throw errno(code); }) as typeof fs.openSync;
    syncBuiltinESMExports();
    try {
      throwsWith(() => checkOutputDirectory(join(root, 'ro-run'), 'the run directory'), root, `create the run directory ${join(root, 'ro-run')}`, words);
      throwsWith(() => checkOutputFile(join(root, 'e.json')), `cannot create ${join(root, 'e.json')}`, words);
    } finally {
      fs.openSync = real;
      syncBuiltinESMExports();
    }
  }
});

t('a real read-only mount is refused at once (skipped where the machine allows no private mount)', () => {
  const ro = join(root, 'ro');
  mkdirSync(ro);
  bundleModule('io/outputs.ts', root, 'outputs');
  writeFileSync(join(root, 'probe.mjs'), `import { checkOutputDirectory, checkOutputFile } from './outputs.mjs';
for (const f of [() => checkOutputDirectory(${JSON.stringify(join(ro, 'run'))}, 'the run directory'), () => checkOutputFile(${JSON.stringify(join(ro, 'e.json'))})]) {
  try { f(); console.log('accepted'); } catch (e) { console.log(e.message); }
}
`);
  const script = `mount --bind "${ro}" "${ro}" && mount -o remount,bind,ro "${ro}" && exec "${process.execPath}" "${join(root, 'probe.mjs')}"`;
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8' });
  if (r.status !== 0 || r.error) {
    process.stdout.write(`  (skipped: no private read-only mount here: ${(r.error?.message ?? r.stderr).trim()})\n`);
    return;
  }
  const lines = r.stdout.trim().split('\n');
  assert.is(lines.length, 2, r.stdout);
  assert.match(lines[0]!, /cannot create the run directory .*ro\/run: the file system is read-only \(EROFS\)/);
  assert.match(lines[1]!, /cannot create .*ro\/e\.json: the file system is read-only \(EROFS\)/);
});

t.run();
