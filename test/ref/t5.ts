// A float64 T5 on the host, written from Hugging Face's modeling_t5.py, as the reference for
// T5 variants the fixtures do not cover. Its agreement with HF's own float64 outputs on the fixture
// is tested first (test/nn/t5_parity.test.ts), so it can stand in for HF elsewhere.
import { relativePositionBucket } from '../../src/nn/t5/attention.js';
import type { T5Config } from '../../src/nn/t5/config.js';

export type Params = Map<string, { data: Float32Array | Float64Array; shape: readonly number[] }>;

/** A row-major float64 matrix. */
interface Mat {
  rows: number;
  cols: number;
  d: Float64Array;
}

const mat = (rows: number, cols: number, d = new Float64Array(rows * cols)): Mat => ({ rows, cols, d });

/** x [n, in] times W^T for an HF Linear weight W [out, in]. */
function linear(x: Mat, w: { data: ArrayLike<number>; shape: readonly number[] }): Mat {
  const [out, inn] = w.shape as [number, number];
  const y = mat(x.rows, out);
  for (let i = 0; i < x.rows; i++)
    for (let o = 0; o < out; o++) {
      let s = 0;
      for (let k = 0; k < inn; k++) s += x.d[i * inn + k]! * w.data[o * inn + k]!;
      y.d[i * out + o] = s;
    }
  return y;
}

function rmsNorm(x: Mat, w: ArrayLike<number>, eps: number): Mat {
  const y = mat(x.rows, x.cols);
  for (let i = 0; i < x.rows; i++) {
    let ss = 0;
    for (let j = 0; j < x.cols; j++) ss += x.d[i * x.cols + j]! ** 2;
    const r = 1 / Math.sqrt(ss / x.cols + eps);
    for (let j = 0; j < x.cols; j++) y.d[i * x.cols + j] = x.d[i * x.cols + j]! * r * w[j]!;
  }
  return y;
}

const addInto = (a: Mat, b: Mat) => a.d.forEach((v, i) => (a.d[i] = v + b.d[i]!));
const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

export class RefT5 {
  constructor(
    readonly config: T5Config,
    readonly params: Params,
  ) {}

  private p(name: string) {
    const t = this.params.get(name);
    if (!t) throw new Error(`reference T5: missing ${name}`);
    return t;
  }

  /** Multi-head attention of one sequence: x [T, d] queries, kv [S, d], keyMask [S], bias from table or none. */
  private attention(prefix: string, x: Mat, kv: Mat, keyMask: ArrayLike<number>, bias: { bidirectional: boolean } | null, causal: boolean): Mat {
    const { num_heads: H, d_kv: dk } = this.config;
    const q = linear(x, this.p(`${prefix}.q.weight`));
    const k = linear(kv, this.p(`${prefix}.k.weight`));
    const v = linear(kv, this.p(`${prefix}.v.weight`));
    const T = x.rows, S = kv.rows;
    const out = mat(T, H * dk);
    const stack = prefix.startsWith('encoder') ? 'encoder' : 'decoder';
    const table = bias ? this.p(`${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`) : null;
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++) {
        const scores = new Float64Array(S);
        for (let s = 0; s < S; s++) {
          let dot = 0;
          for (let j = 0; j < dk; j++) dot += q.d[t * H * dk + h * dk + j]! * k.d[s * H * dk + h * dk + j]!;
          if (table && bias) {
            const bucket = relativePositionBucket(s - t, bias.bidirectional, this.config.relative_attention_num_buckets, this.config.relative_attention_max_distance);
            dot += table.data[bucket * H + h]!;
          }
          const masked = keyMask[s] === 0 || (causal && s > t);
          scores[s] = masked ? -Infinity : dot;
        }
        const m = Math.max(...scores);
        let z = 0;
        for (let s = 0; s < S; s++) z += scores[s] === -Infinity ? 0 : Math.exp(scores[s]! - m);
        for (let s = 0; s < S; s++) {
          const pr = scores[s] === -Infinity ? 0 : Math.exp(scores[s]! - m) / z;
          for (let j = 0; j < dk; j++) out.d[t * H * dk + h * dk + j] += pr * v.d[s * H * dk + h * dk + j]!;
        }
      }
    return linear(out, this.p(`${prefix}.o.weight`));
  }

  private feedForward(prefix: string, x: Mat): Mat {
    const h = rmsNorm(x, this.p(`${prefix}.layer_norm.weight`).data, this.config.layer_norm_epsilon);
    const ff = `${prefix}.DenseReluDense`;
    let inner: Mat;
    if (this.config.is_gated_act) {
      const a = linear(h, this.p(`${ff}.wi_0.weight`));
      const b = linear(h, this.p(`${ff}.wi_1.weight`));
      inner = mat(a.rows, a.cols, a.d.map((v, i) => gelu(v) * b.d[i]!));
    } else {
      const a = linear(h, this.p(`${ff}.wi.weight`));
      inner = mat(a.rows, a.cols, a.d.map((v) => Math.max(v, 0)));
    }
    return linear(inner, this.p(`${ff}.wo.weight`));
  }

  private embed(ids: ArrayLike<number>): Mat {
    const w = this.p('shared.weight');
    const d = this.config.d_model;
    const x = mat(ids.length, d);
    for (let i = 0; i < ids.length; i++) for (let j = 0; j < d; j++) x.d[i * d + j] = w.data[ids[i]! * d + j]!;
    return x;
  }

  /** Encoder output [L+S, d] of one row: prompt rows (L x d, may be empty) then token embeddings. */
  encode(prompt: Float64Array, ids: ArrayLike<number>, mask: ArrayLike<number>): Mat {
    const d = this.config.d_model;
    const L = prompt.length / d;
    const tok = this.embed(ids);
    const x = mat(L + ids.length, d);
    x.d.set(prompt, 0);
    x.d.set(tok.d, L * d);
    const fullMask = [...new Array<number>(L).fill(1), ...Array.from(mask)];
    for (let i = 0; i < this.config.num_layers; i++) {
      const b = `encoder.block.${i}`;
      const h = rmsNorm(x, this.p(`${b}.layer.0.layer_norm.weight`).data, this.config.layer_norm_epsilon);
      addInto(x, this.attention(`${b}.layer.0.SelfAttention`, h, h, fullMask, { bidirectional: true }, false));
      addInto(x, this.feedForward(`${b}.layer.1`, x));
    }
    return rmsNorm(x, this.p('encoder.final_layer_norm.weight').data, this.config.layer_norm_epsilon);
  }

  /** Logits [T, V] of one row under teacher forcing. */
  decode(decoderIds: ArrayLike<number>, enc: Mat, encMask: ArrayLike<number>): Mat {
    const x = this.embed(decoderIds);
    const ones = new Array<number>(decoderIds.length).fill(1);
    for (let i = 0; i < this.config.num_decoder_layers; i++) {
      const b = `decoder.block.${i}`;
      const h = rmsNorm(x, this.p(`${b}.layer.0.layer_norm.weight`).data, this.config.layer_norm_epsilon);
      addInto(x, this.attention(`${b}.layer.0.SelfAttention`, h, h, ones, { bidirectional: false }, true));
      const hc = rmsNorm(x, this.p(`${b}.layer.1.layer_norm.weight`).data, this.config.layer_norm_epsilon);
      addInto(x, this.attention(`${b}.layer.1.EncDecAttention`, hc, enc, encMask, null, false));
      addInto(x, this.feedForward(`${b}.layer.2`, x));
    }
    let out = rmsNorm(x, this.p('decoder.final_layer_norm.weight').data, this.config.layer_norm_epsilon);
    if (this.config.tie_word_embeddings) {
      out = mat(out.rows, out.cols, out.d.map((v) => v * this.config.d_model ** -0.5));
      return linear(out, this.p('shared.weight'));
    }
    return linear(out, this.p('lm_head.weight'));
  }

  /**
   * Encoder states, logits, per-token NLL and the batch loss (mean over labels != -100) for a
   * batch given as per-row arrays, with one prompt [L*d] shared by all rows.
   */
  forward(prompt: Float64Array, rows: Array<{ ids: number[]; mask: number[]; decoderIds: number[]; labels: number[] }>) {
    const L = prompt.length / this.config.d_model;
    let total = 0, count = 0;
    const out = rows.map((r) => {
      const enc = this.encode(prompt, r.ids, r.mask);
      const logits = this.decode(r.decoderIds, enc, [...new Array<number>(L).fill(1), ...r.mask]);
      const V = logits.cols;
      const nll = r.labels.map((label, t) => {
        if (label === -100) return 0;
        let m = -Infinity;
        for (let j = 0; j < V; j++) m = Math.max(m, logits.d[t * V + j]!);
        let z = 0;
        for (let j = 0; j < V; j++) z += Math.exp(logits.d[t * V + j]! - m);
        const v = m + Math.log(z) - logits.d[t * V + label]!;
        total += v;
        count++;
        return v;
      });
      return { enc, logits, nll };
    });
    return { rows: out, loss: total / count };
  }
}
