// Moves a Hugging Face checkpoint between the host (src/io) and GPU tensors named as in HF's
// state_dict, and builds random checkpoints of any T5 variant for tests and benchmarks.
import { disposeMember, uploadParameters } from '../../tensor/arena.js';
import { keep } from '../../tensor/scope.js';
import { tensor } from '../../tensor/create.js';
import { readAll } from '../../tensor/tensor.js';
import type { HfCheckpoint } from '../../io/checkpoint.js';
import type { HostTensor } from '../../io/dtype.js';
import { t5ParameterShapes, type T5Config } from './config.js';
import { disposeExtras } from './extras.js';
import { T5Model } from './model.js';
import { normal, rng } from '../../util/random.js';

/**
 * Uploads every parameter of a loaded checkpoint and returns the model. With `arena` (models whose
 * every weight is trained) the parameters are views of one arena where it fits the device, so the
 * optimizer updates them all at once (src/tensor/arena.ts).
 */
export function modelFromCheckpoint(ckpt: HfCheckpoint, options: { arena?: boolean } = {}): T5Model {
  const entries = [...ckpt.tensors].map(([name, p]) => ({ name, data: p.data, shape: p.shape }));
  const tensors = options.arena
    ? uploadParameters(entries)
    : entries.map((e) => {
        const t = keep(tensor(e.data, e.shape));
        t.name = e.name;
        return t;
      });
  return new T5Model(ckpt.config, new Map(tensors.map((t, i) => [entries[i]!.name, t])));
}

/** Reads every parameter back to the host in one readback (for saving a trained model). */
export async function modelToHost(model: T5Model): Promise<Map<string, HostTensor<Float32Array>>> {
  const params = [...model.params];
  const data = await readAll(params.map(([, t]) => t));
  return new Map(params.map(([name, t], i) => [name, { data: data[i] as Float32Array, shape: [...t.shape] }]));
}

/** Frees the model's parameters, extras included. */
export function disposeModel(model: T5Model): void {
  for (const t of model.params.values()) disposeMember(t);
  disposeExtras(model);
}

/**
 * A random checkpoint of `config` with HF-like initial scales (normal with std factor/sqrt(fan_in)
 * for linears, 1 for norms plus noise so a wrong epsilon or weight shows up in tests).
 */
export function randomCheckpoint(config: T5Config, seed = 1): HfCheckpoint {
  const gauss = normal(rng(seed));
  const tensors = new Map<string, HostTensor<Float32Array>>();
  for (const { name, shape } of t5ParameterShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith('layer_norm.weight')) for (let i = 0; i < n; i++) data[i] = 1 + 0.2 * gauss();
    else if (name.endsWith('relative_attention_bias.weight')) for (let i = 0; i < n; i++) data[i] = gauss();
    else {
      const std = name === 'shared.weight' || name === 'lm_head.weight' ? 1 : 1 / Math.sqrt(shape[1]!);
      for (let i = 0; i < n; i++) data[i] = std * gauss();
    }
    tensors.set(name, { data, shape: [...shape] });
  }
  return { config, tensors, warnings: [] };
}
