// The elementwise family (shaders/elementwise.wgsl): every unary op (each its own `OP` pipeline of
// unary_main) forward and, through valueAndGrad, its unary_backward kernel; every binary op of
// binary_main on equal shapes and with BROADCAST (a row vector against a matrix), and the
// comparisons (equal, greater, less) with BROADCAST. Each is checked
// against test/ref/elementwise.ts on the timed inputs first. GB/s counts the kernel's compulsory
// traffic: 8 bytes an element for unary, 12 for binary and unary backward (plus, for backward, the
// forward and the loss ops it is timed with).
//   node dist/bench/elementwise.js [--quick] [--n 1048576] [--trace=FILE] [--out=FILE]
import { valueAndGrad } from '../src/autograd/grad.js';
import * as ew from '../src/ops/elementwise.js';
import { sum } from '../src/ops/sum.js';
import { tensor } from '../src/tensor/create.js';
import { keep } from '../src/tensor/scope.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { randF32, rng } from '../test/ref/data.js';
import { BINARY64, broadcast64, COMPARE64, UNARY64, unaryGrad64 } from '../test/ref/elementwise.js';
import { numberFlag, suiteArgs } from './lib/args.js';
import { Family } from './lib/family.js';

const args = suiteArgs('elementwise', { n: { type: 'string', help: 'elements (default 1048576, 65536 with --quick)' } });
const N = numberFlag('n', args.n, args.quick ? 1 << 16 : 1 << 20);
const COLS = 1024, ROWS = Math.max(1, Math.floor(N / COLS));
const fam = new Family('elementwise', args.quick);
await fam.start(`unary and binary ops over ${N} elements, broadcast [${ROWS},${COLS}] x [${COLS}]`);

type UnaryName = keyof typeof UNARY64;
const UNARY: Record<UnaryName, [(x: Tensor) => Tensor, [number, number]]> = {
  neg: [ew.neg, [-3, 3]], exp: [ew.exp, [-3, 3]], log: [ew.log, [0.2, 4]], sqrt: [ew.sqrt, [0.2, 4]], rsqrt: [ew.rsqrt, [0.2, 4]],
  relu: [ew.relu, [-3, 3]], gelu: [ew.gelu, [-4, 4]], tanh: [ew.tanh, [-4, 4]], sigmoid: [ew.sigmoid, [-4, 4]], abs: [ew.abs, [-3, 3]],
  square: [ew.square, [-3, 3]], reciprocal: [ew.reciprocal, [0.3, 3]], scale: [(x) => ew.scale(x, -1.7), [-3, 3]],
  shift: [(x) => ew.shift(x, 0.3), [-3, 3]], powScalar: [(x) => ew.powScalar(x, 1.5), [0.2, 3]],
};
const BINARY: Record<keyof typeof BINARY64, [(a: Tensor, b: Tensor) => Tensor, number]> = {
  add: [ew.add, -2], sub: [ew.sub, -2], mul: [ew.mul, -2], div: [ew.div, 0.5], pow: [ew.pow, 0.5], maximum: [ew.maximum, -2], minimum: [ew.minimum, -2],
};
const TOL = { rtol: 2e-6, atol: 1e-6 };
const COMPARE: Record<keyof typeof COMPARE64, (a: Tensor, b: Tensor) => Tensor> = { equal: ew.equal, greater: ew.greater, less: ew.less };

const r = rng(1);
const g = randF32(r, N);
const gt = keep(tensor(g, [N]));
for (const [name, [op, [lo, hi]]] of Object.entries(UNARY) as Array<[UnaryName, (typeof UNARY)[UnaryName]]>) {
  // Away from the relu/abs kinks, where the reference's derivative is not the kernel's.
  const x = randF32(r, N, lo, hi).map((v) => (Math.abs(v) < 0.1 ? v + 0.3 : v));
  const xt = keep(tensor(x, [N]));
  await fam.outputs({ case: `[${N}]`, variant: `unary_main OP=${name}`, bytes: 8 * N }, () => [op(xt)], [x.map(UNARY64[name])], TOL);
  await fam.outputs({ case: `[${N}]`, variant: `unary_backward OP=${name}`, bytes: 12 * N }, () => valueAndGrad(() => sum(ew.mul(op(xt), gt)), [xt]).grads,
    [unaryGrad64(UNARY64[name], x, g)], { rtol: 1e-5, atol: 1e-6 });
  xt.dispose();
}
gt.dispose();

for (const [name, [op, lo]] of Object.entries(BINARY) as Array<[keyof typeof BINARY64, (typeof BINARY)[keyof typeof BINARY64]]>) {
  for (const bshape of [[ROWS, COLS], [COLS]]) {
    const shape = [ROWS, COLS];
    const a = randF32(r, ROWS * COLS, lo, 2), b = randF32(r, bshape.length === 1 ? COLS : ROWS * COLS, lo, 2);
    const [at, bt] = [keep(tensor(a, shape)), keep(tensor(b, bshape))];
    const variant = `binary_main OP=${name}${bshape.length === 1 ? ' BROADCAST' : ''}`;
    await fam.outputs({ case: `[${shape}] x [${bshape}]`, variant, bytes: 4 * (2 * a.length + b.length) }, () => [op(at, bt)],
      [broadcast64(a, shape, b, bshape, BINARY64[name]).res], TOL);
    at.dispose();
    bt.dispose();
  }
}
// Comparisons on halves (exact in f32, so ties are common), exactly.
for (const [name, op] of Object.entries(COMPARE) as Array<[keyof typeof COMPARE64, (a: Tensor, b: Tensor) => Tensor]>) {
  const shape = [ROWS, COLS];
  const a = randF32(r, ROWS * COLS, -2, 2).map((v) => Math.round(v * 2) / 2), b = randF32(r, COLS, -2, 2).map((v) => Math.round(v * 2) / 2);
  const [at, bt] = [keep(tensor(a, shape)), keep(tensor(b, [COLS]))];
  await fam.outputs({ case: `[${shape}] x [${COLS}]`, variant: `binary_main OP=${name} BROADCAST`, bytes: 4 * (2 * a.length + b.length) }, () => [op(at, bt)],
    [broadcast64(a, shape, b, [COLS], COMPARE64[name]).res], { rtol: 0, atol: 0 });
  at.dispose();
  bt.dispose();
}
await fam.finish({ n: N });
