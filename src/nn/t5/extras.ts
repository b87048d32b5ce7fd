// Trainable additions for the parameter-efficient baselines of the paper's Table 1, on top of a
// frozen T5 (which has no biases of its own):
//   BitFit:   a zero-initialised bias on every attention and feed-forward linear.
//   Adapters: a bottleneck (Houlsby et al.) after every sublayer's output projection,
//             out + up(relu(down(out))), with `up` zero-initialised so training starts from T5.
// They live in `model.extras` under HF-style names, so they save and load as one safetensors map,
// and each set is one arena's views (src/tensor/arena.ts): the optimizer updates them all at once.
import { GpuError } from '../../gpu/device.js';
import type { HostTensor } from '../../io/dtype.js';
import { disposeMember, uploadParameters } from '../../tensor/arena.js';
import { tensor } from '../../tensor/create.js';
import { keep } from '../../tensor/scope.js';
import type { Tensor } from '../../tensor/tensor.js';
import { normal, rng } from '../../util/random.js';
import { t5ParameterShapes } from './config.js';
import type { T5Model } from './model.js';

const LINEAR = /\.(SelfAttention|EncDecAttention)\.[qkvo]\.weight$|\.DenseReluDense\.(wi|wi_0|wi_1|wo)\.weight$/;

function put(model: T5Model, name: string, t: Tensor): void {
  if (model.extras.has(name)) throw new GpuError(`T5 extras: ${name} already exists`);
  t.name = name;
  model.extras.set(name, keep(t));
}

/** Uploads `entries` as one set of extras (an arena where it fits); returns the new parameters. */
function putAll(model: T5Model, entries: Array<{ name: string; data: Float32Array; shape: number[] }>): Tensor[] {
  for (const e of entries) if (model.extras.has(e.name)) throw new GpuError(`T5 extras: ${e.name} already exists`);
  const added = uploadParameters(entries);
  added.forEach((t, i) => put(model, entries[i]!.name, t));
  return added;
}

const zeros = (name: string, shape: number[]) => ({ name, data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape });

/** BitFit: adds a zero bias to every attention and feed-forward linear; returns the new parameters. */
export function addBiases(model: T5Model): Tensor[] {
  const biases = t5ParameterShapes(model.config).filter(({ name }) => LINEAR.test(name));
  return putAll(model, biases.map(({ name, shape }) => zeros(name.replace(/\.weight$/, '.bias'), [shape[0]!])));
}

/** The sublayers an adapter follows, as `<stack>.block.<i>.layer.<j>`. */
function adapterSites(model: T5Model): string[] {
  const sites: string[] = [];
  for (let i = 0; i < model.config.num_layers; i++) sites.push(`encoder.block.${i}.layer.0`, `encoder.block.${i}.layer.1`);
  for (let i = 0; i < model.config.num_decoder_layers; i++) {
    sites.push(`decoder.block.${i}.layer.0`, `decoder.block.${i}.layer.1`, `decoder.block.${i}.layer.2`);
  }
  return sites;
}

/** Adds a bottleneck adapter of width `bottleneck` after every sublayer; returns the new parameters. */
export function addAdapters(model: T5Model, bottleneck: number, seed = 0): Tensor[] {
  if (!Number.isInteger(bottleneck) || bottleneck < 1) throw new GpuError(`T5 adapters: bottleneck must be a positive integer, got ${bottleneck}`);
  const d = model.config.d_model;
  const gauss = normal(rng(seed));
  return putAll(model, adapterSites(model).flatMap((site) => {
    const a = `adapters.${site}`;
    // Small random `down`, zero `up`: the adapter starts as the identity and still gets gradients.
    return [
      { name: `${a}.down.weight`, data: Float32Array.from({ length: bottleneck * d }, () => 1e-2 * gauss()), shape: [bottleneck, d] },
      zeros(`${a}.down.bias`, [bottleneck]),
      zeros(`${a}.up.weight`, [d, bottleneck]),
      zeros(`${a}.up.bias`, [d]),
    ];
  }));
}

/** Loads saved extras (e.g. from a BitFit or adapter run) into a model, checking names and shapes. */
export function loadExtras(model: T5Model, host: ReadonlyMap<string, HostTensor<Float32Array>>): void {
  for (const [name, p] of host) {
    const existing = model.extras.get(name);
    if (existing && existing.shape.join() !== p.shape.join()) {
      throw new GpuError(`T5 extras: ${name} is [${p.shape}] but the model has ${existing.describe()}`);
    }
    if (existing) disposeMember(existing);
    model.extras.delete(name);
    put(model, name, tensor(p.data, p.shape));
  }
}

/** Frees every extra parameter. */
export function disposeExtras(model: T5Model): void {
  for (const t of model.extras.values()) disposeMember(t);
  model.extras.clear();
}
