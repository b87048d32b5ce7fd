// Seeded permutations against outputs of the real tools, and the ATTEMPT splits: sizes,
// determinism, disjointness, the file written by writeSplits, and few-shot subsets.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadTaskSource, type DataRoots } from '../../src/tasks/load.js';
import { Mt19937, numpyPermutation, torchRandperm } from '../../src/tasks/random.js';
import { fewShot, makeSplits, readSplits, selectSplit, type TaskSplits } from '../../src/tasks/splits.js';
import { writeSplits } from '../../src/train/datasets.js';
import { sharedPath, sharedTest } from '../util/shared.js';

const rng = suite('tasks: seeded permutations');

rng('MT19937 seeded 42 matches numpy RandomState(42) raw draws', () => {
  // numpy.random.RandomState(42)._bit_generator.random_raw(5); the first value is also the first
  // output of C++ std::mt19937(42).
  const m = new Mt19937(42);
  assert.equal(Array.from({ length: 5 }, () => m.nextUint32()), [1608637542, 3421126067, 4083286876, 787846414, 3143890026]);
  // Past the first twist: raw draw 625 (index 624) and 1000 (index 999).
  const m2 = new Mt19937(42);
  const draws = Array.from({ length: 1000 }, () => m2.nextUint32());
  assert.is(draws[624], 108880612);
  assert.is(draws[999], 1946654618);
});

rng('torch.randperm(10, generator seeded s) for s = 0, 1, 42, 2^32 + 1', () => {
  // PyTorch CPU outputs, as recorded in public tests that compare against torch.randperm.
  assert.equal(torchRandperm(10, 42), [2, 6, 1, 8, 4, 5, 0, 9, 3, 7]);
  assert.equal(torchRandperm(10, 0), [4, 1, 7, 5, 3, 9, 0, 8, 6, 2]);
  assert.equal(torchRandperm(10, 1), [5, 6, 1, 2, 0, 8, 9, 3, 7, 4]);
  // Only the low 32 bits of the seed count.
  assert.equal(torchRandperm(10, 2 ** 32 + 1), [5, 6, 1, 2, 0, 8, 9, 3, 7, 4]);
  assert.equal(torchRandperm(0, 42), []);
  assert.equal(torchRandperm(1, 42), [0]);
});

rng('numpy RandomState(42).permutation(n)', () => {
  // numpy 2.4 (the legacy RandomState stream is frozen across versions).
  assert.equal(numpyPermutation(10, 42), [8, 1, 5, 0, 7, 2, 9, 4, 3, 6]);
  const p277 = numpyPermutation(277, 42);
  assert.equal(p277.slice(0, 12), [30, 126, 220, 142, 255, 236, 97, 215, 256, 144, 79, 208]);
  // sum(i * p[i]) pins the whole permutation: numpy gives 5264454 for n = 277, 251374799 for n = 1000.
  const weighted = (p: number[]): number => p.reduce((s, v, i) => s + i * v, 0);
  assert.is(weighted(p277), 5264454);
  const p1000 = numpyPermutation(1000, 42);
  assert.equal(p1000.slice(0, 12), [521, 737, 740, 660, 411, 678, 626, 513, 859, 136, 811, 76]);
  assert.is(weighted(p1000), 251374799);
});

rng.run();

const sp = suite('tasks: ATTEMPT splits');

function assertPartition(s: TaskSplits, n: number, parts: Array<keyof Pick<TaskSplits, 'train' | 'validation' | 'test'>>): void {
  const all = parts.flatMap((p) => s[p].indices);
  assert.is(all.length, n);
  assert.is(new Set(all).size, n, 'no row in two splits');
  assert.ok(all.every((i) => i >= 0 && i < n));
}

sp('small set: dev halved into validation / test; train untouched', () => {
  // RTE: 2490 train, 277 dev -> 138 validation (floor(277 / 2)), 139 test.
  const s = makeSplits('rte', { train: 2490, dev: 277 });
  assert.is(s.train.indices.length, 2490);
  assert.equal(s.train.indices.slice(0, 3), [0, 1, 2]);
  assert.is(s.validation.indices.length, 138);
  assert.is(s.test.indices.length, 139);
  assert.is(s.validation.source, 'dev');
  assertPartition(s, 277, ['validation', 'test']);
  // The first rows are torch.randperm(277) seeded 42: same as the permutation itself.
  assert.equal(s.validation.indices.slice(0, 3), torchRandperm(277, 42).slice(0, 3));
  assert.equal(makeSplits('rte', { train: 2490, dev: 277 }), s, 'deterministic');
  assert.not.equal(makeSplits('rte', { train: 2490, dev: 277 }, { seed: 7 }).validation.indices, s.validation.indices);
});

sp('large set: 1000 train rows validate, dev is test; MNLI uses both dev sets', () => {
  const s = makeSplits('sst2', { train: 67349, dev: 872 });
  assert.equal([s.train.indices.length, s.validation.indices.length, s.test.indices.length], [66349, 1000, 872]);
  assert.is(s.validation.source, 'train');
  assertPartition(s, 67349, ['train', 'validation']);
  const m = makeSplits('mnli', { train: 392702, dev_mismatched: 9832, dev_matched: 9815 });
  assert.equal([m.validation.source, m.validation.indices.length, m.test.source, m.test.indices.length],
    ['dev_mismatched', 9832, 'dev_matched', 9815]);
  const h = makeSplits('sentiment', { all: 3000 });
  assert.equal([h.train.indices.length, h.validation.indices.length, h.test.indices.length], [2400, 300, 300]);
  assertPartition(h, 3000, ['train', 'validation', 'test']);
  assert.throws(() => makeSplits('sst2', { train: 500, dev: 10 }), /cannot give 1000/);
  assert.throws(() => makeSplits('rte', { train: 10 }), /row count of 'dev'/);
});

sp('few-shot subsets follow ATTEMPT subsample()', () => {
  const small = makeSplits('superglue-cb', { train: 250, dev: 56 });
  const k = fewShot(small, 16);
  assert.is(k.indices.length, 16);
  assert.equal(k.indices, torchRandperm(250, 42).slice(0, 16));
  const large = makeSplits('qnli', { train: 104743, dev: 5463 });
  assert.equal(fewShot(large, 4).indices, large.train.indices.slice(0, 4));
  assert.equal(fewShot(small, 16), k, 'deterministic');
});

sp('writeSplits writes JSON that readSplits reads back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpt-splits-'));
  try {
    const splits = [makeSplits('rte', { train: 20, dev: 9 }), makeSplits('mrpc', { train: 30, dev: 8 })];
    const path = writeSplits(join(dir, 'run1'), splits);
    assert.is(path, join(dir, 'run1', 'splits.json'));
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { format: string; splits: TaskSplits[] };
    assert.is(doc.format, 'bpt-splits/1');
    assert.equal(doc.splits[0]!.validation, splits[0]!.validation);
    assert.equal(readSplits(path), splits);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

sp('selectSplit maps indices to examples and refuses another file version', () => {
  const rows = Array.from({ length: 9 }, (_, i) => ({ task: 'rte' as const, id: String(i), fields: {}, label: 0 }));
  const s = makeSplits('rte', { train: 3, dev: 9 });
  assert.equal(selectSplit(s, s.test, { dev: rows }).map((e) => Number(e.id)), s.test.indices);
  assert.throws(() => selectSplit(s, s.test, { dev: rows.slice(1) }), /made for 9 rows of 'dev', got 8/);
  assert.throws(() => selectSplit(s, s.train, { dev: rows }), /source 'train' was not given/);
});

const roots = (): DataRoots => ({ glue: sharedPath('data', 'glue') ?? '', superglue: sharedPath('data', 'superglue') ?? '' });

sharedTest(sp, 'real files: split sizes of every target present in ../shared', ['data'], () => {
  const sizes: Array<[Parameters<typeof makeSplits>[0], number, number]> = [];
  for (const task of ['cola', 'stsb', 'mrpc', 'rte', 'superglue-boolq', 'superglue-cb', 'superglue-multirc', 'superglue-wic', 'superglue-wsc'] as const) {
    const dev = loadTaskSource(task, 'dev', roots());
    const s = makeSplits(task, { train: 1, dev: dev.length });
    sizes.push([task, s.validation.indices.length, s.test.indices.length]);
    assert.equal(selectSplit(s, s.validation, { dev }).length, Math.floor(dev.length / 2));
  }
  // Dev sizes 1043, 1500, 408, 277, 3270, 56, 4848, 638, 104 halved (floor for validation).
  assert.equal(sizes, [['cola', 521, 522], ['stsb', 750, 750], ['mrpc', 204, 204], ['rte', 138, 139],
    ['superglue-boolq', 1635, 1635], ['superglue-cb', 28, 28], ['superglue-multirc', 2424, 2424],
    ['superglue-wic', 319, 319], ['superglue-wsc', 52, 52]]);
});

sp.run();
