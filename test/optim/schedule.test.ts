import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { constantSchedule, linearWarmupDecaySchedule, warmupConstantSchedule } from '../../src/optim/schedule.js';

const t = suite('optim/schedule');
const at = (f: (s: number) => number, steps: number[]) => steps.map(f);

t('constant', () => {
  assert.equal(at(constantSchedule(), [0, 1, 1000]), [1, 1, 1]);
});

t('warmup then constant, as HF get_constant_schedule_with_warmup', () => {
  assert.equal(at(warmupConstantSchedule(4), [0, 1, 2, 3, 4, 5, 100]), [0, 0.25, 0.5, 0.75, 1, 1, 1]);
  assert.equal(at(warmupConstantSchedule(0), [0, 3]), [1, 1]);
});

t('linear warmup then linear decay to 0, as HF get_linear_schedule_with_warmup', () => {
  const f = linearWarmupDecaySchedule(10, 110);
  assert.equal(at(f, [0, 5, 10, 60, 100, 110, 200]), [0, 0.5, 1, 0.5, 0.1, 0, 0]);
  assert.equal(at(linearWarmupDecaySchedule(0, 4), [0, 1, 4]), [1, 0.75, 0]);
  assert.throws(() => linearWarmupDecaySchedule(-1, 10), /invalid step count -1/);
  assert.throws(() => warmupConstantSchedule(2.5), /invalid step count 2.5/);
});

t.run();
