// readAll: several tensors back to the host in one readback, each as an array of its dtype.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { recorder } from '../../src/gpu/recorder.js';
import { scale } from '../../src/ops/elementwise.js';
import { tensor } from '../../src/tensor/create.js';
import { readAll, Tensor } from '../../src/tensor/tensor.js';
import { initGpu } from '../util/gpu.js';

const t = suite('tensor/read');
t.before(async () => void (await initGpu()));

/** Readbacks during `fn`, and its result. */
async function counted<T>(fn: () => Promise<T>): Promise<[T, number]> {
  await recorder().sync();
  const before = recorder().snapshot().readbacks;
  const out = await fn();
  return [out, recorder().snapshot().readbacks - before];
}

t('f32 and i32 tensors, views at offsets and null entries come back in one readback', async () => {
  const base = tensor(Float32Array.from({ length: 200 }, (_, i) => i * 0.5));
  const ids = tensor(Int32Array.from([7, -3, 2 ** 30, 0, 11]), [5], 'i32');
  const a = base.view([2, 3], 64);
  const b = base.view([5], 128);
  // Not yet submitted: readAll must submit the work recorded before it.
  const doubled = scale(base.view([3], 192), 2);
  const [host, n] = await counted(() => readAll({ a, ids, b, none: null, doubled }));
  assert.is(n, 1);
  assert.ok(host.a instanceof Float32Array && host.b instanceof Float32Array && host.doubled instanceof Float32Array);
  assert.ok(host.ids instanceof Int32Array);
  assert.equal(Array.from(host.a), [32, 32.5, 33, 33.5, 34, 34.5]);
  assert.equal(Array.from(host.b), [64, 64.5, 65, 65.5, 66]);
  assert.equal(Array.from(host.ids), [7, -3, 2 ** 30, 0, 11]);
  assert.equal(Array.from(host.doubled), [192, 193, 194]);
  assert.is(host.none, null);
  assert.equal(Object.keys(host), ['a', 'ids', 'b', 'none', 'doubled']);
  const [list, m] = await counted(() => readAll([ids, null, b]));
  assert.is(m, 1);
  assert.ok(Array.isArray(list));
  assert.equal([Array.from(list[0]!), list[1], Array.from(list[2]!)], [[7, -3, 2 ** 30, 0, 11], null, [64, 64.5, 65, 65.5, 66]]);
  [base, ids, a, b, doubled].forEach((x) => x.dispose());
});

t('an empty record reads nothing; an empty tensor comes back empty', async () => {
  const [none, n] = await counted(() => readAll({}));
  assert.equal(none, {});
  assert.is(n, 0);
  const empty = Tensor.empty([0, 3], 'i32');
  const one = tensor([4]);
  const [host, m] = await counted(() => readAll({ empty, one }));
  assert.is(m, 1);
  assert.ok(host.empty instanceof Int32Array);
  assert.is(host.empty.length, 0);
  assert.equal(Array.from(host.one), [4]);
  empty.dispose();
  one.dispose();
});

t('a disposed tensor is an error naming its key, before anything is read', async () => {
  const live = tensor([1, 2]);
  const gone = tensor([3]);
  gone.dispose();
  const [msg, n] = await counted(async () => {
    try {
      await readAll({ live, gone });
    } catch (err) {
      return (err as Error).message;
    }
    return 'no error';
  });
  assert.match(msg, /readAll\(gone\).*used after dispose/);
  assert.is(n, 0);
  live.dispose();
});

t.run();
