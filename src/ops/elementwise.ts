// Elementwise ops as data: one table row per op gives its code in shaders/elementwise.wgsl and its
// vector-Jacobian product. Unary VJPs run one fused kernel (g * f'(x, y)); binary VJPs are written
// with the forward ops and reduced back over broadcast axes.
import code from '../../shaders/elementwise.wgsl';
import { record } from '../autograd/tape.js';
import { GpuError } from '../gpu/device.js';
import { grid, type Kernel } from '../gpu/kernels.js';
import { Params } from '../gpu/params.js';
import { fmtShape, Tensor, type Shape } from '../tensor/tensor.js';
import { describeOp, expectDType, launch } from './launch.js';
import { sumTo } from './reduce.js';

const WG = 256;
const UNARY: Kernel = { name: 'elementwise.unary', code, entry: 'unary_main', inputs: 1, outputs: 1 };
const UNARY_BACKWARD: Kernel = { name: 'elementwise.unary_backward', code, entry: 'unary_backward', inputs: 3, outputs: 1 };
const BINARY: Kernel = { name: 'elementwise.binary', code, entry: 'binary_main', inputs: 2, outputs: 1 };
const MAX_RANK = 8;

/** Unary op codes (the `OP` override in elementwise.wgsl). */
const UNARY_OPS = {
  neg: 0, exp: 1, log: 2, sqrt: 3, rsqrt: 4, relu: 5, gelu: 6, tanh: 7, sigmoid: 8, abs: 9, square: 10,
  scale: 11, shift: 12, powScalar: 13, reciprocal: 14,
} as const;
type UnaryName = keyof typeof UNARY_OPS;

/** Whether a unary op's derivative is computed from its input x or its output y. */
const UNARY_SAVES: Record<UnaryName, 'x' | 'y'> = {
  neg: 'x', exp: 'y', log: 'x', sqrt: 'y', rsqrt: 'y', relu: 'x', gelu: 'x', tanh: 'y', sigmoid: 'y', abs: 'x',
  square: 'x', scale: 'x', shift: 'x', powScalar: 'x', reciprocal: 'y',
};

const n1d = (n: number) => new Params().u32(n, 0);


function unary(name: UnaryName, x: Tensor, alpha = 0): Tensor {
  expectDType(name, 'f32', x);
  const out = Tensor.empty(x.shape, 'f32', name);
  const op = UNARY_OPS[name];
  launch(UNARY, {
    inputs: [x],
    outputs: [out],
    params: n1d(x.size).f32(alpha),
    overrides: { OP: op, WG },
    workgroups: grid(Math.ceil(x.size / WG)),
    label: describeOp(name, x),
  });
  const saves = UNARY_SAVES[name];
  return record(
    name,
    [x],
    out,
    (g, { saved: [xy] }) => {
      // The kernel reads x or y, never both: the one saved tensor fills both bindings.
      const dx = Tensor.empty(x.shape, 'f32', `${name}.backward`);
      launch(UNARY_BACKWARD, {
        inputs: [xy!, xy!, g],
        outputs: [dx],
        params: n1d(x.size).f32(alpha),
        overrides: { OP: op, WG },
        workgroups: grid(Math.ceil(x.size / WG)),
        label: describeOp(`${name}.backward`, x),
      });
      return [dx];
    },
    [saves === 'x' ? x : out],
  );
}

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** GELU with the tanh approximation (Hugging Face's `gelu_new`, used by T5 v1.1). */
export const gelu = (x: Tensor): Tensor => unary('gelu', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
/** x * alpha. */
export const scale = (x: Tensor, alpha: number): Tensor => unary('scale', x, alpha);
/** x + alpha. */
export const shift = (x: Tensor, alpha: number): Tensor => unary('shift', x, alpha);
/** x ** alpha. */
export const powScalar = (x: Tensor, alpha: number): Tensor => unary('powScalar', x, alpha);

/** The NumPy broadcast of two shapes, or an error naming both. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new GpuError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} are not broadcastable`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides of `shape` (right-aligned in `rank` axes) with 0 on axes that broadcast. */
export function broadcastStrides(shape: Shape, out: Shape): number[] {
  const rank = out.length;
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const axis = rank - shape.length + i;
    strides[axis] = shape[i] === 1 && out[axis] !== 1 ? 0 : s;
    s *= shape[i]!;
  }
  return strides;
}

const BINARY_OPS = { add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, minimum: 6, equal: 7, greater: 8, less: 9 } as const;
type BinaryName = keyof typeof BINARY_OPS;

function binaryForward(name: BinaryName, a: Tensor, b: Tensor): Tensor {
  expectDType(name, 'f32', a, b);
  const shape = broadcastShapes(name, a.shape, b.shape);
  if (shape.length > MAX_RANK) throw new GpuError(`${name}: rank ${shape.length} exceeds ${MAX_RANK}`);
  const out = Tensor.empty(shape, 'f32', name);
  const same = a.size === out.size && b.size === out.size;
  launch(BINARY, {
    inputs: [a, b],
    outputs: [out],
    params: new Params().u32(out.size, shape.length).f32(0).u32(0)
      .packU32(shape, MAX_RANK, 1)
      .packU32(broadcastStrides(a.shape, shape), MAX_RANK)
      .packU32(broadcastStrides(b.shape, shape), MAX_RANK),
    overrides: { OP: BINARY_OPS[name], BROADCAST: !same, WG },
    workgroups: grid(Math.ceil(out.size / WG)),
    label: describeOp(name, a, b),
  });
  return out;
}

/** a + b with broadcasting. */
export function add(a: Tensor, b: Tensor): Tensor {
  const out = binaryForward('add', a, b);
  return record('add', [a, b], out, (g, { needs }) => [needs[0] ? sumTo(g, a.shape) : null, needs[1] ? sumTo(g, b.shape) : null]);
}

/** a - b with broadcasting. */
export function sub(a: Tensor, b: Tensor): Tensor {
  const out = binaryForward('sub', a, b);
  return record('sub', [a, b], out, (g, { needs }) => [needs[0] ? sumTo(g, a.shape) : null, needs[1] ? sumTo(neg(g), b.shape) : null]);
}

/** a * b with broadcasting. */
export function mul(a: Tensor, b: Tensor): Tensor {
  const out = binaryForward('mul', a, b);
  return record(
    'mul',
    [a, b],
    out,
    (g, { saved: [sa, sb], needs }) => [needs[0] ? sumTo(mul(g, sb!), a.shape) : null, needs[1] ? sumTo(mul(g, sa!), b.shape) : null],
    [a, b],
  );
}

/** a / b with broadcasting. */
export function div(a: Tensor, b: Tensor): Tensor {
  const out = binaryForward('div', a, b);
  return record(
    'div',
    [a, b],
    out,
    (g, { saved: [, sb, so], needs }) => {
      const ga = div(g, sb!);
      return [needs[0] ? sumTo(ga, a.shape) : null, needs[1] ? sumTo(neg(mul(ga, so!)), b.shape) : null];
    },
    [a, b, out],
  );
}

/** a ** b with broadcasting (a > 0 where b is not an integer). */
export function pow(a: Tensor, b: Tensor): Tensor {
  const out = binaryForward('pow', a, b);
  return record(
    'pow',
    [a, b],
    out,
    (g, { saved: [sa, sb, so], needs }) => [
      needs[0] ? sumTo(mul(g, mul(sb!, div(so!, sa!))), a.shape) : null,
      needs[1] ? sumTo(mul(g, mul(log(sa!), so!)), b.shape) : null,
    ],
    [a, b, out],
  );
}

function extremum(name: 'maximum' | 'minimum', a: Tensor, b: Tensor): Tensor {
  const out = binaryForward(name, a, b);
  // The gradient goes to the input that was chosen; on ties, to a.
  return record(
    name,
    [a, b],
    out,
    (g, { saved: [sa, so], needs }) => {
      const fromA = binaryForward('equal', sa!, so!);
      return [
        needs[0] ? sumTo(mul(g, fromA), a.shape) : null,
        needs[1] ? sumTo(mul(g, shift(neg(fromA), 1)), b.shape) : null,
      ];
    },
    [a, out],
  );
}

/** Elementwise max with broadcasting. */
export const maximum = (a: Tensor, b: Tensor): Tensor => extremum('maximum', a, b);
/** Elementwise min with broadcasting. */
export const minimum = (a: Tensor, b: Tensor): Tensor => extremum('minimum', a, b);
/** 1 where a == b, else 0 (no gradient). */
export const equal = (a: Tensor, b: Tensor): Tensor => binaryForward('equal', a, b);
/** 1 where a > b, else 0 (no gradient). */
export const greater = (a: Tensor, b: Tensor): Tensor => binaryForward('greater', a, b);
/** 1 where a < b, else 0 (no gradient). */
export const less = (a: Tensor, b: Tensor): Tensor => binaryForward('less', a, b);
