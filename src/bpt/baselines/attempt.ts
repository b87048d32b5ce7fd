// ATTEMPT (Asai et al., 2022): an instance-wise mixture of frozen source prompts and a trainable
// target prompt. For input x with token embeddings X:
//   H = LayerNorm(W_up SiLU(W_down maxpool(X)))            (pad tokens excluded from the pool)
//   a = softmax_j(maxpool(P_j) . H / T), j over the t source prompts and the target prompt
//   P(x) = P_target + sum_j a_j P_j
// with T = d e by default. Each row of a batch gets its own prompt: the model receives them as
// [B, L, d]. Only P_target and the attention sub-network train.
import { toFiniteFloat32, type HostTensor } from '../../io/dtype.js';
import { readSafetensors } from '../../io/safetensors.js';
import { writeSafetensors } from '../../io/safetensors_writer.js';
import type { PromptInput } from '../../nn/prompt.js';
import type { T5Model } from '../../nn/t5/model.js';
import type { Seq2SeqBatch } from '../../nn/t5/seq2seq.js';
import { add, mul, rsqrt, shift, sigmoid, square, sub, scale as scaleBy } from '../../ops/elementwise.js';
import { fill } from '../../ops/fill.js';
import { concat, where } from '../../ops/layout.js';
import { matmul } from '../../ops/matmul.js';
import { max, mean } from '../../ops/reduce.js';
import { softmax } from '../../ops/softmax.js';
import { keep } from '../../tensor/scope.js';
import type { Tensor } from '../../tensor/tensor.js';
import { namedToHost, toHost, upload } from '../../train/host.js';
import type { ParamGroupDef } from '../../train/optimizers.js';
import { normal, rng } from '../../util/random.js';
import type { Adapter } from '../peft.js';
import type { PromptLrs, PromptModule } from '../prompts.js';
import { reshape } from '../../ops/reshape.js';

const LN_EPS = 1e-5;
/** Pad positions get this before the max-pool. */
const MASKED = -1e9;

export interface AttemptSpec {
  /** Down-projection size. */
  dim: number;
  /** Softmax temperature; null = d_model * e. */
  temperature: number | null;
  seed: number;
}

export class AttemptPrompt implements PromptModule {
  readonly P: Tensor;
  readonly sources: Tensor;
  readonly wDown: Tensor;
  readonly wUp: Tensor;
  readonly lnWeight: Tensor;
  readonly lnBias: Tensor;
  readonly temperature: number;

  /**
   * `target` [L, d] and `sources` [t, L, d] (frozen) are taken over; the attention sub-network
   * starts from `state` or, without it, from N(0, 1/fan_in) weights and an identity LayerNorm.
   */
  constructor(private readonly model: T5Model, target: Tensor, sources: Tensor, spec: AttemptSpec, state?: Map<string, HostTensor<Float32Array>>) {
    const [l, d] = target.shape as [number, number];
    if (sources.rank !== 3 || sources.shape[1] !== l || sources.shape[2] !== d) {
      throw new Error(`ATTEMPT: source prompts ${sources.describe()} do not match the target prompt ${target.describe()}`);
    }
    if (d !== model.config.d_model) throw new Error(`ATTEMPT: prompts of width ${d} for a model with d_model ${model.config.d_model}`);
    this.P = keep(target);
    this.sources = keep(sources);
    const g = normal(rng(spec.seed));
    const init = (rows: number, cols: number): HostTensor<Float32Array> =>
      ({ data: Float32Array.from({ length: rows * cols }, () => g() / Math.sqrt(rows)), shape: [rows, cols] });
    const pick = (name: string, fallback: HostTensor<Float32Array>): Tensor => upload(state?.get(name) ?? fallback);
    this.wDown = pick('w_down', init(d, spec.dim));
    this.wUp = pick('w_up', init(spec.dim, d));
    this.lnWeight = pick('ln_weight', { data: new Float32Array(d).fill(1), shape: [d] });
    this.lnBias = pick('ln_bias', { data: new Float32Array(d), shape: [d] });
    this.temperature = spec.temperature ?? d * Math.E;
  }

  get promptLength(): number {
    return this.P.shape[0]!;
  }

  get dModel(): number {
    return this.P.shape[1]!;
  }

  /** Each row's prompt is made from its input: the prompt index is not read. */
  get promptCount(): null {
    return null;
  }

  groups(lr: PromptLrs): ParamGroupDef[] {
    return [{ name: 'attempt', params: [this.P, this.wDown, this.wUp, this.lnWeight, this.lnBias], lr: lr.p }];
  }

  named(): Map<string, Tensor> {
    return new Map([['P', this.P], ['w_down', this.wDown], ['w_up', this.wUp], ['ln_weight', this.lnWeight], ['ln_bias', this.lnBias]]);
  }

  /** The attention weights [B, t + 1] over (sources..., target) for a batch. */
  weights(batch: Pick<Seq2SeqBatch, 'inputIds' | 'attentionMask'>): Tensor {
    const [b, s] = batch.inputIds.shape as [number, number];
    const [l, d] = [this.promptLength, this.dModel];
    const x = this.model.embed(batch.inputIds);
    const pooled = max(where(reshape(batch.attentionMask, [b, s, 1]), x, fill([], MASKED)), 1);
    const down = matmul(pooled, this.wDown);
    const up = matmul(mul(down, sigmoid(down)), this.wUp);
    const centered = sub(up, mean(up, -1, true));
    const normed = mul(centered, rsqrt(shift(mean(square(centered), -1, true), LN_EPS)));
    const h = add(mul(normed, this.lnWeight), this.lnBias);
    const keys = max(this.all(l, d), 1);
    return softmax(scaleBy(matmul(h, keys, { transB: true }), 1 / this.temperature));
  }

  private all(l: number, d: number): Tensor {
    return concat([this.sources, reshape(this.P, [1, l, d])], 0);
  }

  prompt(batch: Pick<Seq2SeqBatch, 'inputIds' | 'attentionMask'>): PromptInput {
    const [l, d] = [this.promptLength, this.dModel];
    const a = this.weights(batch);
    const t1 = this.sources.shape[0]! + 1;
    // P is every row's bias: the sum is the product's epilogue.
    const mixed = matmul(a, reshape(this.all(l, d), [t1, l * d]), { bias: reshape(this.P, [l * d]) });
    return reshape(mixed, [batch.inputIds.shape[0]!, l, d]);
  }

  thetas(): Tensor {
    return reshape(this.P, [1, this.promptLength, this.dModel]);
  }

  base(): Tensor {
    return reshape(this.P, this.P.shape);
  }

  toAdapter(): Promise<Adapter> {
    return Promise.reject(new Error('ATTEMPT prompts depend on the input; they have no PEFT adapter (see attempt.safetensors)'));
  }

  /** Writes everything (trainable state and the frozen source prompts) to one safetensors file. */
  async save(path: string, sourceNames: readonly string[]): Promise<void> {
    const tensors = await namedToHost(this.named());
    tensors.set('sources', await toHost(this.sources));
    writeSafetensors(path, tensors, { format: 'pt', bpt_method: 'attempt', temperature: String(this.temperature), sources: JSON.stringify(sourceNames) });
  }

  dispose(): void {
    for (const t of [this.P, this.sources, this.wDown, this.wUp, this.lnWeight, this.lnBias]) t.dispose();
  }
}

/** Loads what `AttemptPrompt.save` wrote, for evaluation. */
export function loadAttempt(path: string, model: T5Model): AttemptPrompt {
  const { tensors, metadata } = readSafetensors(path);
  const host = new Map<string, HostTensor<Float32Array>>();
  for (const name of ['P', 'sources', 'w_down', 'w_up', 'ln_weight', 'ln_bias']) {
    const t = tensors.get(name);
    if (!t) throw new Error(`${path}: tensor "${name}" is missing; not an ATTEMPT prompt file`);
    host.set(name, { data: toFiniteFloat32(t, `${path}: tensor "${name}"`), shape: [...t.shape] });
  }
  const temperature = Number(metadata.temperature);
  if (!(temperature > 0)) throw new Error(`${path}: metadata "temperature" is missing or invalid`);
  const dim = host.get('w_down')!.shape[1]!;
  return new AttemptPrompt(model, upload(host.get('P')!), upload(host.get('sources')!), { dim, temperature, seed: 0 }, host);
}
