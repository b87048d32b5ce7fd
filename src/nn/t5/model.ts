// T5 encoder-decoder on the engine, following Hugging Face's T5ForConditionalGeneration layer for
// layer so that its checkpoints load by name and its outputs match (see test/nn/t5_parity.test.ts).
//
// Facts of T5 that matter here: pre-norm residual blocks with RMSNorm (no mean, no bias); no
// 1/sqrt(d) attention scaling; one relative-position bias table per stack, owned by block 0 and
// reused by the later blocks; bidirectional buckets in the encoder, causal ones in the decoder;
// cross-attention without position bias; relu (v1.0) or gated-gelu_new (v1.1, flan, mT5, ByT5)
// feed-forward; a tied lm_head scales the decoder output by d_model^-0.5.
import { GpuError } from '../../gpu/device.js';
import { gated, gelu, mul, relu, scale, sigmoid, type GateActivation } from '../../ops/elementwise.js';
import { dropout, dropoutAdd } from '../../ops/dropout.js';
import { embedding } from '../../ops/embedding.js';
import { concat } from '../../ops/layout.js';
import { matmul, type MatmulOptions } from '../../ops/matmul.js';
import { rmsNorm } from '../../ops/rmsnorm.js';
import type { Scalar } from '../../tensor/scalar.js';
import type { Tensor } from '../../tensor/tensor.js';
import { t5Attention } from './attention.js';
import type { T5Config } from './config.js';
import { reshape } from '../../ops/reshape.js';

/** Dropout settings for a forward pass; T5 applies `config.dropout_rate` in training mode. */
export interface RunMode {
  training: boolean;
  /**
   * Seed of the counter-based dropout RNG; each dropout site derives its own stream from it. A
   * Scalar is read at each replay of a captured step.
   */
  seed?: number | Scalar;
}

/** Keys and values of one decoder layer, grown by one position per generation step. */
export interface LayerCache {
  selfK: Tensor | null;
  selfV: Tensor | null;
  crossK: Tensor;
  crossV: Tensor;
}

/** The per-layer caches of an incremental decode, and how many positions they hold. */
export interface DecoderCache {
  layers: LayerCache[];
  length: number;
}

type Act = (x: Tensor) => Tensor;

/** The activation, and the `gated` kernel's name for it where it has one. */
function activation(name: string): { act: Act; gate: GateActivation | null } {
  switch (name) {
    case 'relu':
      return { act: relu, gate: 'relu' };
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return { act: gelu, gate: 'gelu' };
    case 'silu':
    case 'swish':
      return { act: (x) => mul(x, sigmoid(x)), gate: null };
    default:
      throw new GpuError(`T5: feed-forward activation "${name}" is not supported (relu, gelu_new, silu are)`);
  }
}

/** A T5 model whose parameters are GPU tensors named as in Hugging Face's state_dict. */
export class T5Model {
  readonly config: T5Config;
  readonly params: ReadonlyMap<string, Tensor>;
  /**
   * Parameters T5 itself does not have, added for parameter-efficient baselines: linear biases
   * (`<linear>.bias`, BitFit) and bottleneck adapters (`adapters.<sublayer>.{down,up}.{weight,bias}`).
   * See extras.ts. Empty for plain T5.
   */
  readonly extras = new Map<string, Tensor>();
  private readonly act: Act;
  private readonly gate: GateActivation | null;
  private dropoutSite = 0;

  constructor(config: T5Config, params: ReadonlyMap<string, Tensor>) {
    this.config = config;
    this.params = params;
    ({ act: this.act, gate: this.gate } = activation(config.dense_act_fn));
  }

  /** A parameter by its Hugging Face name (T5's own, or one of the extras). */
  p(name: string): Tensor {
    const t = this.params.get(name) ?? this.extras.get(name);
    if (!t) throw new GpuError(`T5: parameter ${name} is missing`);
    return t;
  }

  /** Token embeddings [B, S, d] of i32 ids [B, S] (no scaling, as in T5). */
  embed(ids: Tensor): Tensor {
    return embedding(this.p('shared.weight'), ids);
  }

  /** x W^T (+ bias where BitFit or an adapter has one), with a fused residual or activation. */
  private linear(x: Tensor, name: string, epilogue: Pick<MatmulOptions, 'residual' | 'activation'> = {}): Tensor {
    const bias = this.extras.get(`${name}.bias`);
    return matmul(x, this.p(`${name}.weight`), { transB: true, ...(bias ? { bias } : {}), ...epilogue });
  }

  /**
   * The residual update of one sublayer: x + dropout(adapter(inner W_o^T)), W_o being `linear`.
   * The bottleneck adapter of `site` (Houlsby et al.: out + up(relu(down(out)))) exists only when
   * `addAdapters` made it. Without either, the sum is the projection's epilogue.
   */
  private residual(x: Tensor, inner: Tensor, linear: string, site: string, mode: RunMode): Tensor {
    const a = `adapters.${site}`;
    const drop = this.dropOptions(mode);
    const adapter = this.extras.has(`${a}.down.weight`);
    if (!adapter && !drop.training) return this.linear(inner, linear, { residual: x });
    const out = this.linear(inner, linear);
    const adapted = adapter ? this.linear(this.linear(out, `${a}.down`, { activation: 'relu' }), `${a}.up`, { residual: out }) : out;
    // The dropout and the sum in one kernel while training.
    return dropoutAdd(x, adapted, this.config.dropout_rate, drop);
  }

  private drop(x: Tensor, mode: RunMode): Tensor {
    const opts = this.dropOptions(mode);
    return opts.training ? dropout(x, this.config.dropout_rate, opts) : x;
  }

  /** The next dropout site's options; training only while training with a nonzero rate. */
  private dropOptions(mode: RunMode) {
    const offset = this.dropoutSite++;
    return { seed: mode.seed ?? 0, offset, training: mode.training && this.config.dropout_rate > 0 };
  }

  private norm(x: Tensor, name: string): Tensor {
    return rmsNorm(x, this.p(`${name}.weight`), this.config.layer_norm_epsilon);
  }

  /**
   * [B, T, H*dk] -> [B, T, H, dk]: a view. Attention runs in its tokens-first layout ('bthd'), so
   * no head split or merge copies the projections.
   */
  private splitHeads(x: Tensor): Tensor {
    const [b, t] = x.shape as [number, number, number];
    return reshape(x, [b, t, this.config.num_heads, this.config.d_kv]);
  }

  /** [B, T, H, dk] -> [B, T, H*dk]: a view. */
  private mergeHeads(x: Tensor): Tensor {
    const [b, t, h, dk] = x.shape as [number, number, number, number];
    return reshape(x, [b, t, h * dk]);
  }

  private biasFor(stack: 'encoder' | 'decoder', queryOffset = 0) {
    return {
      table: this.p(`${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`),
      bidirectional: stack === 'encoder',
      numBuckets: this.config.relative_attention_num_buckets,
      maxDistance: this.config.relative_attention_max_distance,
      queryOffset,
    };
  }

  /** act(a) * b: one kernel each way where the activation has one. */
  private gated(a: Tensor, b: Tensor): Tensor {
    return this.gate ? gated(this.gate, a, b) : mul(this.act(a), b);
  }

  private feedForward(x: Tensor, prefix: string, mode: RunMode): Tensor {
    const h = this.norm(x, `${prefix}.layer_norm`);
    const ff = `${prefix}.DenseReluDense`;
    const inner = this.config.is_gated_act
      ? this.gated(this.linear(h, `${ff}.wi_0`), this.linear(h, `${ff}.wi_1`))
      : this.gate ? this.linear(h, `${ff}.wi`, { activation: this.gate }) : this.act(this.linear(h, `${ff}.wi`));
    return this.residual(x, this.drop(inner, mode), `${ff}.wo`, prefix, mode);
  }

  /**
   * Encoder stack over input embeddings [B, S, d] (tokens, or a soft prompt followed by tokens)
   * with a key mask [B, S] (1 = attend). Returns the final-normed hidden states [B, S, d].
   */
  encode(inputsEmbeds: Tensor, mask: Tensor, mode: RunMode = { training: false }): Tensor {
    this.dropoutSite = 0;
    let x = this.drop(inputsEmbeds, mode);
    const bias = this.biasFor('encoder');
    for (let i = 0; i < this.config.num_layers; i++) {
      const a = `encoder.block.${i}.layer.0`;
      const h = this.norm(x, `${a}.layer_norm`);
      const att = t5Attention(
        this.splitHeads(this.linear(h, `${a}.SelfAttention.q`)),
        this.splitHeads(this.linear(h, `${a}.SelfAttention.k`)),
        this.splitHeads(this.linear(h, `${a}.SelfAttention.v`)),
        { bias, keyMask: mask, layout: 'bthd' },
      );
      x = this.residual(x, this.mergeHeads(att), `${a}.SelfAttention.o`, a, mode);
      x = this.feedForward(x, `encoder.block.${i}.layer.1`, mode);
    }
    return this.drop(this.norm(x, 'encoder.final_layer_norm'), mode);
  }

  /**
   * Decoder stack under teacher forcing or one step of incremental decoding.
   * `decoderIds` [B, T]; `encoderHidden` [B, S, d] with its mask [B, S]. With a cache, the ids are
   * the new positions only; keys and values of earlier positions come from the cache, which is
   * updated in place (its old tensors disposed). Returns hidden states [B, T, d] before the head.
   */
  decode(decoderIds: Tensor, encoderHidden: Tensor, encoderMask: Tensor, mode: RunMode = { training: false }, cache?: DecoderCache): Tensor {
    this.dropoutSite = 1 << 16;
    let x = this.drop(this.embed(decoderIds), mode);
    const offset = cache?.length ?? 0;
    const bias = this.biasFor('decoder', offset);
    for (let i = 0; i < this.config.num_decoder_layers; i++) {
      const b = `decoder.block.${i}`;
      const h = this.norm(x, `${b}.layer.0.layer_norm`);
      let k = this.splitHeads(this.linear(h, `${b}.layer.0.SelfAttention.k`));
      let v = this.splitHeads(this.linear(h, `${b}.layer.0.SelfAttention.v`));
      const layer = cache?.layers[i];
      if (layer) {
        if (layer.selfK && layer.selfV) {
          k = concat([layer.selfK, k], 1);
          v = concat([layer.selfV, v], 1);
          layer.selfK.dispose();
          layer.selfV.dispose();
        }
        layer.selfK = k.ref();
        layer.selfV = v.ref();
      }
      const self = t5Attention(this.splitHeads(this.linear(h, `${b}.layer.0.SelfAttention.q`)), k, v, { bias, causal: true, layout: 'bthd' });
      x = this.residual(x, this.mergeHeads(self), `${b}.layer.0.SelfAttention.o`, `${b}.layer.0`, mode);

      const c = `${b}.layer.1`;
      const hc = this.norm(x, `${c}.layer_norm`);
      const ck = layer?.crossK ?? this.splitHeads(this.linear(encoderHidden, `${c}.EncDecAttention.k`));
      const cv = layer?.crossV ?? this.splitHeads(this.linear(encoderHidden, `${c}.EncDecAttention.v`));
      const cross = t5Attention(this.splitHeads(this.linear(hc, `${c}.EncDecAttention.q`)), ck, cv, { keyMask: encoderMask, layout: 'bthd' });
      x = this.residual(x, this.mergeHeads(cross), `${c}.EncDecAttention.o`, c, mode);
      x = this.feedForward(x, `${b}.layer.2`, mode);
    }
    if (cache) cache.length += decoderIds.shape[1]!;
    return this.drop(this.norm(x, 'decoder.final_layer_norm'), mode);
  }

  /** Vocabulary logits [B, T, V] from decoder hidden states. */
  logits(hidden: Tensor): Tensor {
    if (this.config.tie_word_embeddings) {
      return matmul(scale(hidden, this.config.d_model ** -0.5), this.p('shared.weight'), { transB: true });
    }
    return matmul(hidden, this.p('lm_head.weight'), { transB: true });
  }

  /** Cross-attention keys and values of every decoder layer, computed once for generation. */
  newCache(encoderHidden: Tensor): DecoderCache {
    const layers: LayerCache[] = [];
    for (let i = 0; i < this.config.num_decoder_layers; i++) {
      const c = `decoder.block.${i}.layer.1.EncDecAttention`;
      layers.push({
        selfK: null,
        selfV: null,
        crossK: this.splitHeads(this.linear(encoderHidden, `${c}.k`)),
        crossV: this.splitHeads(this.linear(encoderHidden, `${c}.v`)),
      });
    }
    return { layers, length: 0 };
  }
}
