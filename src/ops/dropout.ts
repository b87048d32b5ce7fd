// Dropout whose mask is regenerated from (seed, offset, element index) by a counter-based RNG
// (Philox4x32-10): no mask buffer, no RNG state on the GPU, and the VJP is the same kernel run on
// the output gradient.
import code from '../../shaders/dropout.wgsl';
import { record } from '../autograd/tape.js';
import { GpuError } from '../gpu/device.js';
import { grid } from '../gpu/kernels.js';
import { uniformStruct } from '../gpu/params.js';
import { recorder } from '../gpu/recorder.js';
import { valueOf, type Scalar } from '../tensor/scalar.js';
import { Tensor } from '../tensor/tensor.js';
import { add } from './elementwise.js';
import { describeOp, expectDType, expectShape, launch } from './launch.js';

/** Philox key (seed_lo, seed_hi) and counter offset; elements whose word is below `threshold` drop. */
const DROPOUT_PARAMS = uniformStruct('Params', { n: 'u32', seed_lo: 'u32', seed_hi: 'u32', offset: 'u32', threshold: 'u32', scale: 'f32' });
const KERNEL = { name: 'dropout', code, params: DROPOUT_PARAMS, inputs: 1, outputs: 1 };
const ADD_KERNEL = { name: 'dropout.add', code, entry: 'add_main', params: DROPOUT_PARAMS, inputs: 2, outputs: 1 };
const WG = 256;
const TWO_32 = 2 ** 32;

/** Options of `dropout`. */
export interface DropoutOptions {
  /**
   * Philox key: an integer in [0, 2^53). The same seed and offset give the same mask. A Scalar is
   * read at each replay of a captured step (a new mask per step without a new capture).
   */
  seed: number | Scalar;
  /**
   * Philox counter word in [0, 2^32): calls that share a seed need distinct offsets (e.g. the
   * step and layer) to get independent masks. Default 0.
   */
  offset?: number;
  /** Without training, dropout is the identity. */
  training: boolean;
}

/** Philox key and keep threshold for a dropout call; exported for tests that rebuild the mask. */
export function dropoutConstants(p: number, seed: number): { key: [number, number]; threshold: number; scale: number } {
  return {
    key: [seed % TWO_32, Math.floor(seed / TWO_32)],
    // p = 1 would need threshold 2^32: keep only the words equal to 2^32 - 1, scaled by 0.
    threshold: Math.min(Math.round(p * TWO_32), TWO_32 - 1),
    scale: p === 1 ? 0 : 1 / (1 - p),
  };
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new GpuError(`dropout: seed must be an integer in [0, 2^53), got ${seed}`);
}

/** dropout(x), or residual + dropout(x) in one kernel. */
function apply(x: Tensor, p: number, seed: number | Scalar, offset: number, what: string, residual?: Tensor): Tensor {
  const out = Tensor.empty(x.shape, 'f32', what);
  recorder().dynamic(() => {
    const s = valueOf(seed);
    checkSeed(s);
    const { key, threshold, scale } = dropoutConstants(p, s);
    launch(residual ? ADD_KERNEL : KERNEL, {
      inputs: residual ? [x, residual] : [x],
      outputs: [out],
      params: { n: x.size, seed_lo: key[0], seed_hi: key[1], offset, threshold, scale },
      overrides: { WG },
      workgroups: grid(Math.ceil(x.size / 4 / WG)),
      label: `${describeOp(what, x)} p=${p}`,
    });
  });
  return out;
}

/**
 * Inverted dropout: while training, zeroes each element with probability p and scales the others
 * by 1 / (1 - p); element i's fate depends only on (seed, offset, i). Not training, or p = 0, it is
 * the identity (a view of x).
 */
export function dropout(x: Tensor, p: number, { seed, offset = 0, training }: DropoutOptions): Tensor {
  checkArgs('dropout', x, p, seed, offset);
  if (!training || p === 0) return record('dropout', [x], x.view(x.shape), (g) => [g]);
  const out = apply(x, p, seed, offset, 'dropout');
  return record('dropout', [x], out, (g) => [apply(g, p, seed, offset, 'dropout.backward')]);
}

function checkArgs(op: string, x: Tensor, p: number, seed: number | Scalar, offset: number): void {
  expectDType(op, 'f32', x);
  if (!(p >= 0 && p <= 1)) throw new GpuError(`${op}: p must be in [0, 1], got ${p}`);
  checkSeed(valueOf(seed));
  if (!Number.isInteger(offset) || offset < 0 || offset >= TWO_32) throw new GpuError(`${op}: offset must be an integer in [0, 2^32), got ${offset}`);
}

/**
 * residual + dropout(x, p, options) in one kernel, bit for bit add(residual, dropout(x, ...)):
 * the residual update of a pre-norm block while training, one dispatch instead of two. The VJP is
 * dropout's for x and the identity for the residual. Not training, or p = 0, it is add(residual, x).
 */
export function dropoutAdd(residual: Tensor, x: Tensor, p: number, { seed, offset = 0, training }: DropoutOptions): Tensor {
  checkArgs('dropoutAdd', x, p, seed, offset);
  expectDType('dropoutAdd', 'f32', residual);
  expectShape('dropoutAdd', residual, x.shape, 'residual');
  if (!training || p === 0) return add(residual, x);
  const out = apply(x, p, seed, offset, 'dropoutAdd', residual);
  return record('dropoutAdd', [residual, x], out, (g, { needs }) => [needs[0] ? g.view(g.shape) : null, needs[1] ? apply(g, p, seed, offset, 'dropout.backward') : null]);
}
