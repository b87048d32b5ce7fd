// Initial weights of a T5 to pretrain, with the scales of Hugging Face's T5PreTrainedModel
//._init_weights (factor 1): embeddings N(0, 1); q N(0, (d_model * d_kv)^-1/2); k, v, wi
// N(0, d_model^-1/2); o N(0, (heads * d_kv)^-1/2); wo N(0, d_ff^-1/2); relative-position bias
// N(0, d_model^-1/2); norms 1. One choice is ours: an untied lm_head starts at N(0, d_model^-1/2)
// (HF draws N(0, 1)), so the first logits are O(1) and the first steps are not spent shrinking them.
import type { HfCheckpoint } from '../io/checkpoint.js';
import type { HostTensor } from '../io/dtype.js';
import { t5ParameterShapes, type T5Config } from '../nn/t5/config.js';
import { normal, rng } from '../util/random.js';

/** The standard deviation HF's init gives parameter `name` (0 for norms, which start at 1). */
export function initStd(name: string, c: T5Config): number {
  if (name.endsWith('layer_norm.weight')) return 0;
  if (name === 'shared.weight') return 1;
  if (name === 'lm_head.weight') return c.d_model ** -0.5;
  if (/\.(SelfAttention|EncDecAttention)\.q\.weight$/.test(name)) return (c.d_model * c.d_kv) ** -0.5;
  if (/\.o\.weight$/.test(name)) return (c.num_heads * c.d_kv) ** -0.5;
  if (/\.wo\.weight$/.test(name)) return c.d_ff ** -0.5;
  return c.d_model ** -0.5;
}

/** A freshly initialised checkpoint of `config`, reproducible from `seed`. */
export function initCheckpoint(config: T5Config, seed: number): HfCheckpoint {
  const gauss = normal(rng(seed));
  const tensors = new Map<string, HostTensor<Float32Array>>();
  for (const { name, shape } of t5ParameterShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const std = initStd(name, config);
    for (let i = 0; i < data.length; i++) data[i] = std === 0 ? 1 : std * gauss();
    tensors.set(name, { data, shape: [...shape] });
  }
  return { config, tensors, warnings: [] };
}
