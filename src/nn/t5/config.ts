// The T5 family's config.json as Hugging Face reads it (T5Config), and the parameter list that a
// config implies. Field names are HF's own so that a config.json maps one to one.
//
// Variants covered: T5 v1.0 (relu, lm_head tied to the embedding and the decoder output scaled by
// d_model^-0.5), T5 v1.1 / flan-t5 / mT5 (gated-gelu i.e. gelu_new, untied lm_head), ByT5 (v1.1
// layout with a 384-token byte vocabulary). umT5 is rejected: it has a relative-attention bias in
// every block, a different parameter layout.

/** Activations HF's ACT2FN knows that a T5 feed-forward may name. */
export const T5_ACTIVATIONS = [
  'relu', 'gelu', 'gelu_new', 'gelu_fast', 'gelu_pytorch_tanh', 'gelu_accurate', 'quick_gelu',
  'silu', 'swish', 'tanh', 'sigmoid', 'relu6', 'relu2', 'mish', 'linear',
] as const;
export type T5Activation = (typeof T5_ACTIVATIONS)[number];

/** A T5-family config.json, parsed and completed with HF's defaults. */
export interface T5Config {
  model_type: 't5' | 'mt5';
  vocab_size: number;
  d_model: number;
  /** Size of one attention head; q/k/v project to num_heads * d_kv (not necessarily d_model). */
  d_kv: number;
  d_ff: number;
  num_layers: number;
  /** Decoder depth; config.json may omit it, meaning num_layers. */
  num_decoder_layers: number;
  num_heads: number;
  relative_attention_num_buckets: number;
  relative_attention_max_distance: number;
  dropout_rate: number;
  layer_norm_epsilon: number;
  /** As written in config.json: 'relu', 'gated-gelu', 'gated-silu', ... */
  feed_forward_proj: string;
  /** Derived as HF does: the part after 'gated-', and 'gated-gelu' means gelu_new (tanh approximation). */
  dense_act_fn: T5Activation;
  /** True for 'gated-*': wi_0 (activated) times wi_1 (linear) instead of a single wi. */
  is_gated_act: boolean;
  /** Absent means true. When tied, lm_head is shared.weight and the decoder output is scaled by d_model^-0.5. */
  tie_word_embeddings: boolean;
  decoder_start_token_id: number;
  pad_token_id: number;
  eos_token_id: number;
  /** Keys of config.json this type does not model, kept so that saving round-trips them. */
  extra: Record<string, unknown>;
  /**
   * Paths ("key" or "key.nested.key") into `extra` of numbers that config.json wrote as floats
   * (1.0, not 1), so that saving writes them as floats again: a JavaScript number cannot tell.
   */
  extraFloats?: string[];
}

/** Fields of HF's T5Config typed float: written as floats (1.0, not 1) whatever their value. */
export const T5_FLOAT_KEYS: ReadonlySet<string> = new Set(['dropout_rate', 'layer_norm_epsilon', 'initializer_factor', 'classifier_dropout']);

/** An invalid config.json; the message names the file and the key. */
export class T5ConfigError extends Error {
  override name = 'T5ConfigError';
}

/** HF's T5Config defaults (t5-small's sizes) for keys a config.json leaves out. */
const DEFAULTS = {
  vocab_size: 32128, d_model: 512, d_kv: 64, d_ff: 2048, num_layers: 6, num_heads: 8,
  relative_attention_num_buckets: 32, relative_attention_max_distance: 128, dropout_rate: 0.1,
  layer_norm_epsilon: 1e-6, feed_forward_proj: 'relu', tie_word_embeddings: true,
  decoder_start_token_id: 0, pad_token_id: 0, eos_token_id: 1,
} as const;

/** Keys that are derived from others or describe nothing we model; HF rewrites them on load too. */
const DERIVED = new Set(['dense_act_fn', 'is_gated_act']);

const MODELLED = new Set([
  'model_type', 'vocab_size', 'd_model', 'd_kv', 'd_ff', 'num_layers', 'num_decoder_layers', 'num_heads',
  'relative_attention_num_buckets', 'relative_attention_max_distance', 'dropout_rate', 'layer_norm_epsilon',
  'feed_forward_proj', 'tie_word_embeddings', 'decoder_start_token_id', 'pad_token_id', 'eos_token_id',
]);

/** Splits feed_forward_proj the way T5Config.__init__ does, with its error for bad values. */
export function parseFeedForwardProj(proj: string, fileName = 'config'): { act: T5Activation; gated: boolean } {
  const parts = proj.split('-');
  const gated = parts[0] === 'gated';
  if ((parts.length > 1 && !gated) || parts.length > 2 || parts[parts.length - 1] === '') {
    throw new T5ConfigError(`${fileName}: feed_forward_proj ${JSON.stringify(proj)} is not a valid activation; use 'gated-{ACT}' or '{ACT}', e.g. 'gated-gelu' or 'relu'`);
  }
  let act = parts[parts.length - 1]!;
  // HF keeps this for backward compatibility: v1.1 checkpoints were trained with the tanh approximation.
  if (proj === 'gated-gelu') act = 'gelu_new';
  if (!(T5_ACTIVATIONS as readonly string[]).includes(act)) {
    throw new T5ConfigError(`${fileName}: feed_forward_proj ${JSON.stringify(proj)}: unknown activation '${act}' (known: ${T5_ACTIVATIONS.join(', ')})`);
  }
  return { act: act as T5Activation, gated };
}

/**
 * Parses a T5 config.json object, applying HF's defaults for absent keys; throws a T5ConfigError
 * naming `fileName` and the key for wrong types or impossible values.
 */
export function parseT5Config(json: unknown, fileName = 'config.json'): T5Config {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new T5ConfigError(`${fileName}: not a JSON object`);
  const j = json as Record<string, unknown>;
  const bad = (key: string, want: string): never => {
    throw new T5ConfigError(`${fileName}: "${key}" must be ${want}, got ${JSON.stringify(j[key])}`);
  };
  const int = (key: keyof typeof DEFAULTS | 'num_decoder_layers', min: number, dflt: number): number => {
    const v = j[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) bad(key, `an integer >= ${min}`);
    return v as number;
  };
  const num = (key: 'dropout_rate' | 'layer_norm_epsilon', ok: (x: number) => boolean, want: string): number => {
    const v = j[key];
    if (v === undefined || v === null) return DEFAULTS[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) bad(key, want);
    return v as number;
  };

  const modelType = j.model_type ?? 't5';
  if (modelType !== 't5' && modelType !== 'mt5') {
    throw new T5ConfigError(`${fileName}: model_type ${JSON.stringify(modelType)} is not supported (only "t5" and "mt5"; umt5 has a different parameter layout)`);
  }
  const proj = j.feed_forward_proj ?? DEFAULTS.feed_forward_proj;
  if (typeof proj !== 'string') bad('feed_forward_proj', "a string like 'relu' or 'gated-gelu'");
  const { act, gated } = parseFeedForwardProj(proj as string, fileName);
  const tie = j.tie_word_embeddings ?? DEFAULTS.tie_word_embeddings;
  if (typeof tie !== 'boolean') bad('tie_word_embeddings', 'true or false');

  const numLayers = int('num_layers', 1, DEFAULTS.num_layers);
  const cfg: T5Config = {
    model_type: modelType,
    vocab_size: int('vocab_size', 1, DEFAULTS.vocab_size),
    d_model: int('d_model', 1, DEFAULTS.d_model),
    d_kv: int('d_kv', 1, DEFAULTS.d_kv),
    d_ff: int('d_ff', 1, DEFAULTS.d_ff),
    num_layers: numLayers,
    num_decoder_layers: int('num_decoder_layers', 1, numLayers),
    num_heads: int('num_heads', 1, DEFAULTS.num_heads),
    relative_attention_num_buckets: int('relative_attention_num_buckets', 1, DEFAULTS.relative_attention_num_buckets),
    relative_attention_max_distance: int('relative_attention_max_distance', 1, DEFAULTS.relative_attention_max_distance),
    dropout_rate: num('dropout_rate', (x) => x >= 0 && x < 1, 'a number in [0, 1)'),
    layer_norm_epsilon: num('layer_norm_epsilon', (x) => x > 0, 'a positive number'),
    feed_forward_proj: proj as string,
    dense_act_fn: act,
    is_gated_act: gated,
    tie_word_embeddings: tie as boolean,
    decoder_start_token_id: int('decoder_start_token_id', 0, DEFAULTS.decoder_start_token_id),
    pad_token_id: int('pad_token_id', 0, DEFAULTS.pad_token_id),
    eos_token_id: int('eos_token_id', 0, DEFAULTS.eos_token_id),
    extra: {},
  };
  for (const key of ['decoder_start_token_id', 'pad_token_id', 'eos_token_id'] as const) {
    if (cfg[key] >= cfg.vocab_size) bad(key, `below vocab_size (${cfg.vocab_size})`);
  }
  if (cfg.relative_attention_num_buckets < 2) bad('relative_attention_num_buckets', 'at least 2 (half of them per direction)');
  for (const [k, v] of Object.entries(j)) if (!MODELLED.has(k) && !DERIVED.has(k)) cfg.extra[k] = v;
  return cfg;
}

/** Builds a complete config from the fields that matter, with HF's defaults for the rest. */
export function makeT5Config(fields: Partial<Omit<T5Config, 'dense_act_fn' | 'is_gated_act'>>): T5Config {
  const { extra, extraFloats, ...rest } = fields;
  return { ...parseT5Config(rest, 'makeT5Config'), extra: { ...(extra ?? {}) }, ...(extraFloats ? { extraFloats: [...extraFloats] } : {}) };
}

/**
 * The config.json object HF would write for `config` (derived keys included, the way
 * save_pretrained writes them, plus the unmodelled keys kept in `extra`). Keys are sorted as HF sorts them.
 */
export function t5ConfigToJson(config: T5Config): Record<string, unknown> {
  const out: Record<string, unknown> = {
    architectures: ['T5ForConditionalGeneration'],
    ...config.extra,
    model_type: config.model_type,
    vocab_size: config.vocab_size,
    d_model: config.d_model,
    d_kv: config.d_kv,
    d_ff: config.d_ff,
    num_layers: config.num_layers,
    num_decoder_layers: config.num_decoder_layers,
    num_heads: config.num_heads,
    relative_attention_num_buckets: config.relative_attention_num_buckets,
    relative_attention_max_distance: config.relative_attention_max_distance,
    dropout_rate: config.dropout_rate,
    layer_norm_epsilon: config.layer_norm_epsilon,
    feed_forward_proj: config.feed_forward_proj,
    dense_act_fn: config.dense_act_fn,
    is_gated_act: config.is_gated_act,
    decoder_start_token_id: config.decoder_start_token_id,
    pad_token_id: config.pad_token_id,
    eos_token_id: config.eos_token_id,
    is_encoder_decoder: config.extra.is_encoder_decoder ?? true,
  };
  // HF writes only what differs from PretrainedConfig's defaults, and tying is the default.
  if (!config.tie_word_embeddings) out.tie_word_embeddings = false;
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(out).sort()) sorted[k] = out[k];
  return sorted;
}

/** A parameter's HF state_dict name and shape. */
export interface ParamShape {
  name: string;
  shape: number[];
}

/**
 * Every parameter HF's T5ForConditionalGeneration stores for `config`, in state_dict order, without
 * the tied aliases (encoder/decoder.embed_tokens.weight, and lm_head.weight when tied). Linear
 * weights are [out_features, in_features]; the relative-attention bias ([buckets, heads]) exists
 * only in block 0 of each stack, the other blocks reuse it.
 */
export function t5ParameterShapes(config: T5Config): ParamShape[] {
  const { d_model: d, d_ff: ff, num_heads: h, d_kv: dk, vocab_size: v } = config;
  const inner = h * dk;
  const out: ParamShape[] = [{ name: 'shared.weight', shape: [v, d] }];
  const attention = (prefix: string, withBias: boolean) => {
    out.push(
      { name: `${prefix}.q.weight`, shape: [inner, d] },
      { name: `${prefix}.k.weight`, shape: [inner, d] },
      { name: `${prefix}.v.weight`, shape: [inner, d] },
      { name: `${prefix}.o.weight`, shape: [d, inner] },
    );
    if (withBias) out.push({ name: `${prefix}.relative_attention_bias.weight`, shape: [config.relative_attention_num_buckets, h] });
  };
  const feedForward = (prefix: string) => {
    if (config.is_gated_act) {
      out.push({ name: `${prefix}.DenseReluDense.wi_0.weight`, shape: [ff, d] }, { name: `${prefix}.DenseReluDense.wi_1.weight`, shape: [ff, d] });
    } else {
      out.push({ name: `${prefix}.DenseReluDense.wi.weight`, shape: [ff, d] });
    }
    out.push({ name: `${prefix}.DenseReluDense.wo.weight`, shape: [d, ff] }, { name: `${prefix}.layer_norm.weight`, shape: [d] });
  };
  for (let i = 0; i < config.num_layers; i++) {
    const b = `encoder.block.${i}`;
    attention(`${b}.layer.0.SelfAttention`, i === 0);
    out.push({ name: `${b}.layer.0.layer_norm.weight`, shape: [d] });
    feedForward(`${b}.layer.1`);
  }
  out.push({ name: 'encoder.final_layer_norm.weight', shape: [d] });
  for (let i = 0; i < config.num_decoder_layers; i++) {
    const b = `decoder.block.${i}`;
    attention(`${b}.layer.0.SelfAttention`, i === 0);
    out.push({ name: `${b}.layer.0.layer_norm.weight`, shape: [d] });
    attention(`${b}.layer.1.EncDecAttention`, false);
    out.push({ name: `${b}.layer.1.layer_norm.weight`, shape: [d] });
    feedForward(`${b}.layer.2`);
  }
  out.push({ name: 'decoder.final_layer_norm.weight', shape: [d] });
  if (!config.tie_word_embeddings) out.push({ name: 'lm_head.weight', shape: [v, d] });
  return out;
}

/** Total number of stored parameters (tied ones counted once). */
export function t5ParameterCount(config: T5Config): number {
  return t5ParameterShapes(config).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
}
