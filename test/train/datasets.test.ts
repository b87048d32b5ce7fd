// loadTaskData's few-shot protocol with the rest in test: the k training examples, validation and
// test are disjoint and cover the task's file; tasks split across files are refused.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeSplits } from '../../src/tasks/splits.js';
import { loadTaskData, withRestInTest } from '../../src/train/datasets.js';

const t = suite('train/datasets');

t('k-shot with the rest in test: disjoint parts covering the file', () => {
  const splits = makeSplits('sentiment', { all: 50 });
  const shots = { source: 'all' as const, indices: splits.train.indices.slice(3, 7) };
  const rest = withRestInTest(splits, shots);
  assert.equal(rest.validation, splits.validation);
  const all = [...shots.indices, ...rest.validation.indices, ...rest.test.indices].sort((a, b) => a - b);
  assert.equal(all, Array.from({ length: 50 }, (_, i) => i));
  assert.equal(rest.test.indices.slice(0, splits.test.indices.length), splits.test.indices);
  const small = makeSplits('rte', { train: 20, dev: 10 });
  assert.throws(() => withRestInTest(small, { source: 'train', indices: [0] }), /rte: testing on the rest needs train and test rows from one file; this task's are 'train' and 'dev'/);
});

t('the demo target: 32 shots, 100 validation, 868 test rows of IMDb', () => {
  const d = loadTaskData('sentiment:imdb', { dataDir: null, splitSeed: 42, maxTrain: 32, maxEval: null, testRest: true });
  assert.equal([d.train.length, d.validation.length, d.test.length], [32, 100, 868]);
  const ids = new Set([...d.train, ...d.validation, ...d.test].map((e) => e.id));
  assert.is(ids.size, 1000);
  const plain = loadTaskData('sentiment:imdb', { dataDir: null, splitSeed: 42, maxTrain: 32, maxEval: null });
  assert.equal(plain.train.map((e) => e.id), d.train.map((e) => e.id));
  assert.is(plain.test.length, 100);
});

t.run();
