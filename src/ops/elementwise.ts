// Elementwise ops as data: one table row per op gives its code (the `OP` override, which
// shaders/elementwise.wgsl switches on through the UNARY_* / BINARY_* constants generated from the
// same table) and its vector-Jacobian product. Unary VJPs run one fused kernel (g * f'(x, y)); binary VJPs are written
// with the forward ops and reduced back over broadcast axes.
import activationWgsl from '../../shaders/activation.wgsl';
import code from '../../shaders/elementwise.wgsl';
import { record } from '../autograd/tape.js';
import { GpuError } from '../gpu/device.js';
import { grid, type Kernel } from '../gpu/kernels.js';
import { padTo, uniformStruct } from '../gpu/params.js';
import { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides } from './broadcast.js';
import { describeOp, expectDType, launch } from './launch.js';
import { sumTo } from './sum.js';

const WG = 256;
const MAX_RANK = 8;

/** Unary op codes (the `OP` override in elementwise.wgsl). */
const UNARY_OPS = {
  neg: 0, exp: 1, log: 2, sqrt: 3, rsqrt: 4, relu: 5, gelu: 6, tanh: 7, sigmoid: 8, abs: 9, square: 10,
  scale: 11, shift: 12, powScalar: 13, reciprocal: 14,
} as const;
/** The unary ops by name. */
export type UnaryName = keyof typeof UNARY_OPS;

const BINARY_OPS = { add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, minimum: 6, equal: 7, greater: 8, less: 9 } as const;
type BinaryName = keyof typeof BINARY_OPS;

/** WGSL constants for a table of op codes: `powScalar: 13` becomes `const UNARY_POW_SCALAR: u32 = 13u;`. */
function opConstants(prefix: string, ops: Readonly<Record<string, number>>): string {
  const upper = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
  return Object.entries(ops).map(([name, op]) => `const ${prefix}_${upper(name)}: u32 = ${op}u;\n`).join('');
}

/**
 * Unary ops read `n` elements and `alpha`; binary ops broadcast through the output `shape` and
 * each input's strides (0 on broadcast axes), right-aligned in MAX_RANK axes.
 */
const ELEMENTWISE_PARAMS = uniformStruct('Params', {
  n: 'u32', rank: 'u32', alpha: 'f32',
  shape: ['vec4<u32>', 2], a_strides: ['vec4<u32>', 2], b_strides: ['vec4<u32>', 2],
});
/**
 * shaders/activation.wgsl with the unary op codes it switches on: appended to every source that
 * applies an activation (here, and the matmul epilogue), so that all compute it alike.
 */
export const ACTIVATION_WGSL = `${activationWgsl}\n// Op codes, from src/ops/elementwise.ts:\n${opConstants('UNARY', UNARY_OPS)}`;
const source = `${code}\n${ACTIVATION_WGSL}${opConstants('BINARY', BINARY_OPS)}`;
const kernel = (name: string, entry: string, inputs: number, outputs = 1): Kernel<typeof ELEMENTWISE_PARAMS.spec> => ({
  name: `elementwise.${name}`, code: source, entry, params: ELEMENTWISE_PARAMS, inputs, outputs,
});
const UNARY = kernel('unary', 'unary_main', 1);
const UNARY_BACKWARD = kernel('unary_backward', 'unary_backward', 3);
const BINARY = kernel('binary', 'binary_main', 2);
const GATED = kernel('gated', 'gated_main', 2);
const GATED_BACKWARD = kernel('gated_backward', 'gated_backward', 3, 2);
/** Unary ops leave the broadcasting fields empty. */
const flat = (n: number, alpha: number) => ({ n, rank: 0, alpha, shape: [], a_strides: [], b_strides: [] });

/** Whether a unary op's derivative is computed from its input x or its output y. */
const UNARY_SAVES: Record<UnaryName, 'x' | 'y'> = {
  neg: 'x', exp: 'y', log: 'x', sqrt: 'y', rsqrt: 'y', relu: 'x', gelu: 'x', tanh: 'y', sigmoid: 'y', abs: 'x',
  square: 'x', scale: 'x', shift: 'x', powScalar: 'x', reciprocal: 'y',
};

/**
 * g * f'(x, y) for unary op `name`, from x or y (UNARY_SAVES says which): the kernel reads only
 * that one, so it fills both bindings.
 */
function unaryBackward(name: UnaryName, xy: Tensor, g: Tensor, alpha: number): Tensor {
  const dx = Tensor.empty(xy.shape, 'f32', `${name}.backward`);
  launch(UNARY_BACKWARD, {
    inputs: [xy, xy, g],
    outputs: [dx],
    params: flat(xy.size, alpha),
    overrides: { OP: UNARY_OPS[name], WG },
    workgroups: grid(Math.ceil(xy.size / WG)),
    label: describeOp(`${name}.backward`, xy),
  });
  return dx;
}

function unary(name: UnaryName, x: Tensor, alpha = 0): Tensor {
  expectDType(name, 'f32', x);
  const out = Tensor.empty(x.shape, 'f32', name);
  launch(UNARY, {
    inputs: [x],
    outputs: [out],
    params: flat(x.size, alpha),
    overrides: { OP: UNARY_OPS[name], WG },
    workgroups: grid(Math.ceil(x.size / WG)),
    label: describeOp(name, x),
  });
  return record(name, [x], out, (g, { saved: [xy] }) => [unaryBackward(name, xy!, g, alpha)], [UNARY_SAVES[name] === 'x' ? x : out]);
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

/** The activations `gated` and the matmul epilogue take (shaders/activation.wgsl). */
export const GATE_ACTIVATIONS = ['relu', 'gelu', 'sigmoid', 'tanh'] as const satisfies readonly UnaryName[];
export type GateActivation = (typeof GATE_ACTIVATIONS)[number];

/** The code an activation has in shaders/activation.wgsl's `activate`. */
export const activationCode = (act: GateActivation): number => UNARY_OPS[act];

/** The activations whose derivative follows from their output (relu: y > 0 exactly where x > 0). */
export const gradFromOutput = (act: GateActivation): boolean => act !== 'gelu';

/**
 * g * act'(x) from the activation's output y = act(x) alone, in one dispatch (unary_backward with
 * y in both bindings): for the activations `gradFromOutput` admits.
 */
export function activationBackward(act: GateActivation, y: Tensor, g: Tensor): Tensor {
  if (!gradFromOutput(act)) throw new GpuError(`activationBackward: ${act}'s derivative needs its input`);
  return unaryBackward(act, y, g, 0);
}

/**
 * act(a) * b over equal shapes in one kernel, its VJP in one more: T5 v1.1's gated feed-forward
 * (gelu(x W0) * (x W1)) without the separate activation, product and their three backward
 * dispatches. The results equal mul(act(a), b) and its gradients bit for bit.
 */
export function gated(act: GateActivation, a: Tensor, b: Tensor): Tensor {
  const op = `gated ${act}`;
  expectDType(op, 'f32', a, b);
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new GpuError(`${op}: a ${a.describe()} and b ${b.describe()} must have one shape`);
  }
  const out = Tensor.empty(a.shape, 'f32', op);
  const run = { params: flat(a.size, 0), overrides: { OP: UNARY_OPS[act], WG }, workgroups: grid(Math.ceil(a.size / WG)) };
  launch(GATED, { ...run, inputs: [a, b], outputs: [out], label: describeOp(op, a, b) });
  return record(
    op,
    [a, b],
    out,
    (g, { saved: [sa, sb], needs }) => {
      const da = Tensor.empty(a.shape, 'f32', `${op}.da`);
      const db = Tensor.empty(b.shape, 'f32', `${op}.db`);
      launch(GATED_BACKWARD, { ...run, inputs: [sa!, sb!, g], outputs: [da, db], label: describeOp(`${op}.backward`, a, b) });
      if (!needs[0]) da.dispose();
      if (!needs[1]) db.dispose();
      return [needs[0] ? da : null, needs[1] ? db : null];
    },
    [a, b],
  );
}

function binaryForward(name: BinaryName, a: Tensor, b: Tensor): Tensor {
  expectDType(name, 'f32', a, b);
  const shape = broadcastShapes(name, a.shape, b.shape);
  if (shape.length > MAX_RANK) throw new GpuError(`${name}: rank ${shape.length} exceeds ${MAX_RANK}`);
  const out = Tensor.empty(shape, 'f32', name);
  const same = a.size === out.size && b.size === out.size;
  launch(BINARY, {
    inputs: [a, b],
    outputs: [out],
    params: {
      n: out.size, rank: shape.length, alpha: 0,
      shape: padTo(shape, MAX_RANK, 1), a_strides: broadcastStrides(a.shape, shape), b_strides: broadcastStrides(b.shape, shape),
    },
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
