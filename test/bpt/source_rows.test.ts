// The rows of one source step: BPT's M x K particle-major batch with its per-row particle index
// and objective weights, and the baselines' per-task prompts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sourceRows } from '../../src/bpt/source.js';
import type { Example } from '../../src/tasks/index.js';
import type { Encoded } from '../../src/train/data.js';

const t = suite('bpt/source_rows');

const ex = (id: number): Example => ({ task: 'cola', id: String(id), fields: { sentence: 'a' }, label: 0 });

/** Rows drawn deterministically: task t's n-th draw is example `t * 100 + n`. */
function drawer(): (task: number) => Encoded {
  const counts = new Map<number, number>();
  return (task) => {
    const n = counts.get(task) ?? 0;
    counts.set(task, n + 1);
    return { example: ex(task * 100 + n), task, input: [1], target: [1] };
  };
}

const ids = (rows: readonly Encoded[]): number[] => rows.map((r) => Number(r.example.id));

t('sourceRows bpt: particle-major M x K rows, one example per task, per-row particle index', () => {
  const base = { method: 'bpt' as const, particles: 3, examplesPerTask: 1 };
  const shared = sourceRows({ ...base, particleBatch: 'shared', score: 'sum' }, [0, 2], drawer());
  assert.equal(shared.promptIndex, [0, 0, 1, 1, 2, 2]);
  assert.equal(ids(shared.rows), [0, 200, 0, 200, 0, 200], 'shared: every particle sees the same K examples');
  assert.equal(shared.scale, [1, 1, 1, 1, 1, 1]);
  const indep = sourceRows({ ...base, particleBatch: 'independent', score: 'mean' }, [0, 1], drawer());
  assert.equal(ids(indep.rows), [0, 100, 1, 101, 2, 102], 'independent: each particle draws its own');
  assert.equal(indep.scale, new Array(6).fill(0.5));
  const two = sourceRows({ ...base, examplesPerTask: 2, particleBatch: 'shared', score: 'mean' }, [1], drawer());
  assert.equal(ids(two.rows), [100, 101, 100, 101, 100, 101]);
  assert.equal(two.scale, new Array(6).fill(0.5));
});

t('sourceRows baselines: vanilla shares prompt 0, spot and mpt use the task prompt', () => {
  const o = { particles: 5, examplesPerTask: 2, particleBatch: 'shared' as const, score: 'sum' as const };
  const v = sourceRows({ ...o, method: 'vanilla' }, [0, 1, 2], drawer());
  assert.equal(v.promptIndex, [0, 0, 0, 0, 0, 0]);
  assert.equal(v.scale, new Array(6).fill(1 / 6));
  const s = sourceRows({ ...o, method: 'spot' }, [0, 2], drawer());
  assert.equal(s.promptIndex, [0, 0, 2, 2]);
  assert.equal(s.scale, [0.5, 0.5, 0.5, 0.5], "spot: each prompt's own task mean");
  const m = sourceRows({ ...o, method: 'mpt' }, [1, 2], drawer());
  assert.equal(m.promptIndex, [1, 1, 2, 2]);
  assert.equal(m.scale, [0.25, 0.25, 0.25, 0.25]);
});

t.run();
