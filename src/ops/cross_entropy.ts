// Cross-entropy over the last axis of the logits against integer labels (fused log-softmax + NLL),
// with Hugging Face's ignore_index convention, and its fused VJP w.r.t. the logits.
import crossEntropyWgsl from '../../shaders/cross_entropy.wgsl';
import { record } from '../autograd/tape.js';
import { GpuError } from '../gpu/device.js';
import { uniformStruct } from '../gpu/params.js';
import { tensor } from '../tensor/create.js';
import { fmtShape, Tensor } from '../tensor/tensor.js';
import { describeOp, expectDType, expectShape, launch } from './launch.js';
import { launchRows, rowKernels } from './rows.js';

/** Logits viewed as [rows, vocab]; labels equal to `ignore` count for nothing; `invalid` is the NaN a bad label gives. */
const CE_PARAMS = uniformStruct('Params', { rows: 'u32', vocab: 'u32', ignore: 'i32', invalid: 'f32' });

const kernel = rowKernels('cross_entropy', 'ce_', crossEntropyWgsl, CE_PARAMS);
const FORWARD = kernel('forward', 2, 2);
const REDUCE = kernel('reduce', 2, 2);
const BACKWARD = kernel('backward', 5, 1);
const WG = 256;
const MODES = { none: 0, sum: 1, mean: 2 } as const;

/** How per-token losses are combined. */
export type Reduction = keyof typeof MODES;

/** Options of `crossEntropy`. */
export interface CrossEntropyOptions {
  /** Label value that contributes no loss and no gradient (Hugging Face / PyTorch: -100). */
  ignoreIndex?: number;
  /**
   * 'mean' (default): mean over the non-ignored labels, as Hugging Face T5 computes its loss; a
   * batch whose every label is ignored gives 0 (PyTorch gives NaN) and a zero gradient.
   * 'sum': sum over the non-ignored labels. 'none': per-label NLL, 0 where ignored.
   */
  reduction?: Reduction;
}

/**
 * Throws a GpuError naming the first label that is neither `ignoreIndex` nor in [0, vocab).
 * `crossEntropy` calls it on labels given as an Int32Array; call it wherever labels are uploaded.
 */
export function checkLabels(labels: Int32Array, vocab: number, ignoreIndex = -100): void {
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l !== ignoreIndex && (l < 0 || l >= vocab)) {
      throw new GpuError(`crossEntropy: label ${l} at [${i}] is outside [0, ${vocab}) and is not the ignore index ${ignoreIndex}`);
    }
  }
}

/**
 * Cross-entropy of `logits` [..., V] against `labels` [...] (i32): -log softmax(logits)[label],
 * fused in one pass over each row. Labels given as an Int32Array are checked on the host
 * (`checkLabels`) and uploaded; a label tensor already on the GPU cannot be checked there, so an
 * out-of-range label (neither ignoreIndex nor in [0, V)) makes its NLL, the loss and its gradient
 * row NaN, and is never used as an index. Returns a scalar for 'mean' and 'sum', else the labels'
 * shape. The gradient flows to the logits only.
 */
export function crossEntropy(logits: Tensor, labels: Tensor | Int32Array, { ignoreIndex = -100, reduction = 'mean' }: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  expectDType(op, 'f32', logits);
  if (logits.rank === 0) throw new GpuError(`${op}: logits ${logits.describe()} need a vocabulary axis`);
  if (!Object.hasOwn(MODES, reduction)) throw new GpuError(`${op}: unknown reduction '${reduction}' (mean, sum or none)`);
  if (!Number.isInteger(ignoreIndex) || Math.abs(ignoreIndex) > 2 ** 31 - 1) throw new GpuError(`${op}: ignoreIndex ${ignoreIndex} is not a 32-bit integer`);
  const vocab = logits.shape[logits.rank - 1]!;
  const labelShape = logits.shape.slice(0, -1);
  const rows = logits.size / Math.max(vocab, 1);
  let uploaded: Tensor | null = null;
  if (labels instanceof Int32Array) {
    if (labels.length !== rows) throw new GpuError(`${op}: ${labels.length} labels for logits ${logits.describe()}`);
    checkLabels(labels, vocab, ignoreIndex);
    uploaded = tensor(labels, labelShape);
  } else {
    expectDType(op, 'i32', labels);
    expectShape(op, labels, labelShape, `labels for logits ${fmtShape(logits.shape)}`);
  }
  const lab = uploaded ?? (labels as Tensor);
  const mode = MODES[reduction];
  const params = { rows, vocab, ignore: ignoreIndex, invalid: NaN };
  const label = describeOp(op, logits, lab);
  const nll = Tensor.empty(labelShape, 'f32', `${op}.nll`);
  const lse = Tensor.empty([rows], 'f32', `${op}.lse`);
  launchRows(FORWARD, { rows, n: vocab, inputs: [logits, lab], outputs: [nll, lse], params, label });
  let out = nll;
  let count: Tensor | null = null;
  if (mode !== MODES.none) {
    out = Tensor.empty([], 'f32', op);
    count = Tensor.empty([1], 'f32', `${op}.count`);
    launch(REDUCE, { inputs: [nll, lab], outputs: [out, count], params, overrides: { MODE: mode, LANES: WG, WG }, workgroups: [1], label: `${label} ${reduction}` });
    nll.dispose();
  }
  const result = record(
    op,
    [logits],
    out,
    (g, { saved: [sl, slab, slse, scount] }) => {
      const dlogits = Tensor.empty(logits.shape, 'f32', `${op}.backward`);
      launchRows(BACKWARD, {
        rows,
        n: vocab,
        // Without a count ('none') the lse fills its binding; MODE keeps the kernel from reading it.
        inputs: [sl!, slab!, slse!, g, scount ?? slse!],
        outputs: [dlogits],
        params,
        overrides: { MODE: mode },
        label: describeOp(`${op}.backward`, logits),
      });
      return [dlogits];
    },
    count ? [logits, lab, lse, count] : [logits, lab, lse],
  );
  // The tape holds its own handles on what the VJP reads.
  for (const t of [uploaded, lse, count]) t?.dispose();
  return result;
}
