// Atomic writes: a directory is replaced as a unit, and a failed write leaves the previous one.
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeDirAtomic } from '../../src/io/atomic.js';
import { tempDir } from '../util/fixtures.js';

const t = suite('io/atomic');
let dir: string;
t.before(() => void (dir = tempDir('atomic')));
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
  assert.equal(readdirSync(dir).filter((n) => n.startsWith('.')), [], 'no temporary directories left');
  assert.ok(!existsSync(join(dir, 'unit', 'c')));
});

t.run();
