// The reduce family (shaders/reduce.wgsl): reduce_rows (a workgroup per output, long axes),
// reduce_cols (an invocation per output, short axes with many outputs), each with OP sum (mean is
// sum with a scale) and max, and argmax_rows, each checked against test/ref/reduce.ts on the
// timed inputs first. GB/s counts reading the input once.
//   node dist/bench/reduce.js [--quick] [--n 1048576] [--trace=FILE] [--out=FILE]
import { argmax, max, mean } from '../src/ops/reduce.js';
import { sum } from '../src/ops/sum.js';
import { tensor } from '../src/tensor/create.js';
import { keep } from '../src/tensor/scope.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { randF32, rng } from '../test/ref/data.js';
import { reduce64, total } from '../test/ref/reduce.js';
import { numberFlag, suiteArgs } from './lib/args.js';
import { Family } from './lib/family.js';

const args = suiteArgs('reduce', { n: { type: 'string', help: 'elements (default 1048576, 65536 with --quick)' } });
const N = numberFlag('n', args.n, args.quick ? 1 << 16 : 1 << 20);
const fam = new Family('reduce', args.quick);
await fam.start(`sum, mean, max and argmax over ${N} elements`);

// The host picks rows (WG 256) for an axis of 256 or more, rows (WG 64) from 64, else cols (or
// rows when there are under 4096 outputs).
const ROWS_SHAPE = [N / 4096, 4096], COLS_SHAPE = [16, N / 16];
interface Op {
  name: string;
  entry: string;
  shape: number[];
  axis: number;
  op: (x: Tensor) => Tensor;
  ref: (v: number[]) => number;
  exact?: boolean;
}
const OPS: Op[] = [];
for (const [entry, shape, axis] of [['reduce_rows', ROWS_SHAPE, 1], ['reduce_cols', COLS_SHAPE, 0]] as const) {
  const n = shape[axis]!;
  OPS.push({ name: 'sum', entry, shape: [...shape], axis, op: (x) => sum(x, axis), ref: total });
  OPS.push({ name: 'mean', entry, shape: [...shape], axis, op: (x) => mean(x, axis), ref: (v) => total(v) / n });
  OPS.push({ name: 'max', entry, shape: [...shape], axis, op: (x) => max(x, axis), ref: (v) => Math.max(...v), exact: true });
}
// Axes of 64 to 255 take a workgroup of 64 (WG).
const SHORT_ROWS = [N / 128, 128];
OPS.push({ name: 'sum', entry: 'reduce_rows WG=64', shape: SHORT_ROWS, axis: 1, op: (x) => sum(x, 1), ref: total });
OPS.push({ name: 'argmax', entry: 'argmax_rows', shape: ROWS_SHAPE, axis: 1, op: (x) => argmax(x, 1), ref: (v) => v.indexOf(Math.max(...v)), exact: true });

const r = rng(3);
for (const o of OPS) {
  const x = randF32(r, N, -2, 2);
  const xt = keep(tensor(x, o.shape));
  await fam.outputs({ case: `[${o.shape}] axis ${o.axis}`, variant: `${o.entry} ${o.name}`, bytes: 4 * N }, () => [o.op(xt)],
    [reduce64(x, o.shape, o.axis, o.ref)], o.exact ? { rtol: 0, atol: 0 } : { rtol: 1e-6, atol: 1e-6 });
  xt.dispose();
}
await fam.finish({ n: N });
