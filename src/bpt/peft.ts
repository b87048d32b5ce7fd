// Prompts as Hugging Face PEFT adapters, so that `PeftModel.from_pretrained(t5, dir)` loads what
// we train and we load what PEFT trains:
//   adapter_model.safetensors (F32, metadata {"format": "pt"}) with
//     PROMPT_TUNING:            prompt_embeddings [L, d]
//     MULTITASK_PROMPT_TUNING:  prompt_embeddings [L, d] (the shared P), prefix_task_cols [T, L, r],
//                               prefix_task_rows [T, r, d]; task t's prompt is P o (cols_t rows_t)
//   adapter_config.json as PEFT's save_pretrained writes it (asdict, json.dumps with indent 2,
//   sorted keys).
// Prompts go to the encoder only (num_transformer_submodules 1). Task names of a multitask
// adapter, which PEFT does not record, go into the safetensors metadata as "bpt_tasks".
import { existsSync, readFileSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { writeDirAtomic, writeFileAtomic } from '../io/atomic.js';
import { toFiniteFloat32, type HostTensor } from '../io/dtype.js';
import { readSafetensors } from '../io/safetensors.js';
import { serializeSafetensors } from '../io/safetensors_writer.js';
import type { T5Config } from '../nn/t5/config.js';
import type { LoadedModel } from '../train/model.js';
import { pythonJson } from '../util/py_json.js';

export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const ADAPTER_CONFIG = 'adapter_config.json';

/** A single soft prompt [L, d]. */
export interface PromptAdapter {
  kind: 'prompt';
  prompt: HostTensor<Float32Array>;
}

/** PEFT's multitask prompt: a shared P [L, d] and per-task factors [T, L, r], [T, r, d]. */
export interface MultitaskAdapter {
  kind: 'multitask';
  prompt: HostTensor<Float32Array>;
  cols: HostTensor<Float32Array>;
  rows: HostTensor<Float32Array>;
  /** Task names, index-aligned with the factors (length T). */
  tasks: string[];
}

export type Adapter = PromptAdapter | MultitaskAdapter;

/** What the config records about the base model. */
export interface AdapterModelInfo {
  baseModel: string | null;
  numHeads: number;
  numLayers: number;
}

/**
 * The base model as adapter_config.json records it: the model path as the user gave it (relative
 * paths stay relative); for an absolute path, the checkpoint's own `_name_or_path` when its
 * config.json has one, so that an adapter names a machine's folder only when nothing else names the model.
 */
export function baseModelName(dir: string, config: T5Config): string {
  const own = config.extra._name_or_path;
  return isAbsolute(dir) && typeof own === 'string' && own !== '' ? own : dir;
}

/** The base-model fields of an adapter_config.json. */
export function adapterInfo(m: LoadedModel): AdapterModelInfo {
  const c = m.model.config;
  return { baseModel: baseModelName(m.dir, c), numHeads: c.num_heads, numLayers: c.num_layers };
}

/** An unreadable or inconsistent adapter; the message names the directory and what is wrong. */
export class AdapterError extends Error {
  override name = 'AdapterError';
}

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

function checkAdapter(a: Adapter, where: string): { l: number; d: number } {
  const [l, d] = a.prompt.shape as [number, number];
  const want = (m: HostTensor<Float32Array>, shape: number[], name: string): void => {
    const n = shape.reduce((x, y) => x * y, 1);
    if (m.shape.length !== shape.length || m.shape.some((v, i) => v !== shape[i]) || m.data.length !== n) {
      throw new AdapterError(`${where}: ${name} is ${fmt(m.shape)} (${m.data.length} values), expected ${fmt(shape)}`);
    }
  };
  if (a.prompt.shape.length !== 2) throw new AdapterError(`${where}: prompt_embeddings must be 2-D [L, d], got ${fmt(a.prompt.shape)}`);
  want(a.prompt, [l, d], 'prompt_embeddings');
  if (a.kind === 'multitask') {
    const [t, , r] = a.cols.shape as [number, number, number];
    want(a.cols, [t, l, r], 'prefix_task_cols');
    want(a.rows, [t, r, d], 'prefix_task_rows');
    if (a.tasks.length !== t) throw new AdapterError(`${where}: ${a.tasks.length} task names for ${t} tasks`);
  }
  return { l, d };
}

/** adapter_config.json's object for `a` (PEFT's fields, in its sorted-key layout). */
export function adapterConfig(a: Adapter, info: AdapterModelInfo): Record<string, unknown> {
  const { l, d } = checkAdapter(a, 'adapterConfig');
  const base: Record<string, unknown> = {
    auto_mapping: null,
    base_model_name_or_path: info.baseModel,
    inference_mode: true,
    num_attention_heads: info.numHeads,
    num_layers: info.numLayers,
    num_transformer_submodules: 1,
    num_virtual_tokens: l,
    peft_type: a.kind === 'prompt' ? 'PROMPT_TUNING' : 'MULTITASK_PROMPT_TUNING',
    prompt_tuning_init: 'RANDOM',
    prompt_tuning_init_text: null,
    revision: null,
    task_type: 'SEQ_2_SEQ_LM',
    token_dim: d,
    tokenizer_kwargs: null,
    tokenizer_name_or_path: null,
  };
  if (a.kind === 'multitask') {
    Object.assign(base, {
      num_ranks: a.cols.shape[2],
      num_tasks: a.cols.shape[0],
      prompt_tuning_init_state_dict_path: null,
      prompt_tuning_init_task: 0,
    });
  }
  return Object.fromEntries(Object.keys(base).sort().map((k) => [k, base[k]]));
}

/** Saves `a` as a PEFT adapter directory (both files replaced together). */
export function saveAdapter(dir: string, a: Adapter, info: AdapterModelInfo): void {
  const config = adapterConfig(a, info);
  const tensors = new Map<string, HostTensor<Float32Array>>([['prompt_embeddings', a.prompt]]);
  const metadata: Record<string, string> = { format: 'pt' };
  if (a.kind === 'multitask') {
    tensors.set('prefix_task_cols', a.cols);
    tensors.set('prefix_task_rows', a.rows);
    metadata.bpt_tasks = JSON.stringify(a.tasks);
  }
  const weights = serializeSafetensors(tensors, metadata);
  writeDirAtomic(dir, (tmp) => {
    writeFileAtomic(join(tmp, ADAPTER_WEIGHTS), weights);
    writeFileAtomic(join(tmp, ADAPTER_CONFIG), [pythonJson(config)]);
  });
}

function matrix(tensors: Map<string, HostTensor>, name: string, file: string): HostTensor<Float32Array> {
  const t = tensors.get(name);
  if (!t) throw new AdapterError(`${file}: tensor "${name}" is missing (have: ${[...tensors.keys()].join(', ') || 'none'})`);
  return { data: toFiniteFloat32(t, `${file}: tensor "${name}"`), shape: [...t.shape] };
}

/**
 * Loads a PEFT PROMPT_TUNING or MULTITASK_PROMPT_TUNING adapter. With `dModel`, the prompt's
 * width must equal the model's d_model. Errors name the file and the field.
 */
export function loadAdapter(dir: string, dModel?: number): Adapter {
  const configPath = join(dir, ADAPTER_CONFIG);
  const weightsPath = join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(dir)) throw new AdapterError(`${dir}: adapter directory does not exist`);
  for (const p of [configPath, weightsPath]) if (!existsSync(p)) throw new AdapterError(`${dir}: ${basename(p)} is missing`);
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new AdapterError(`${configPath}: malformed JSON: ${(err as Error).message}`);
  }
  const type = config.peft_type;
  if (type !== 'PROMPT_TUNING' && type !== 'MULTITASK_PROMPT_TUNING') {
    throw new AdapterError(`${configPath}: peft_type ${JSON.stringify(type)} is not supported (PROMPT_TUNING, MULTITASK_PROMPT_TUNING)`);
  }
  const subs = config.num_transformer_submodules;
  if (subs !== undefined && subs !== null && subs !== 1) {
    throw new AdapterError(`${configPath}: num_transformer_submodules ${JSON.stringify(subs)}: only encoder prompts (1) are supported`);
  }
  const { tensors, metadata } = readSafetensors(weightsPath);
  const prompt = matrix(tensors, 'prompt_embeddings', weightsPath);
  let a: Adapter;
  if (type === 'PROMPT_TUNING') a = { kind: 'prompt', prompt };
  else {
    const cols = matrix(tensors, 'prefix_task_cols', weightsPath);
    let tasks: string[];
    try {
      tasks = metadata.bpt_tasks ? (JSON.parse(metadata.bpt_tasks) as string[]) : Array.from({ length: cols.shape[0] ?? 0 }, (_, i) => `task${i}`);
    } catch {
      throw new AdapterError(`${weightsPath}: metadata bpt_tasks is not a JSON list`);
    }
    a = { kind: 'multitask', prompt, cols, rows: matrix(tensors, 'prefix_task_rows', weightsPath), tasks };
  }
  const { l, d } = checkAdapter(a, weightsPath);
  for (const [key, v] of [['num_virtual_tokens', l], ['token_dim', d]] as const) {
    if (config[key] !== undefined && config[key] !== null && config[key] !== v) {
      throw new AdapterError(`${dir}: ${ADAPTER_CONFIG} says ${key} = ${JSON.stringify(config[key])} but prompt_embeddings is ${fmt(a.prompt.shape)}`);
    }
  }
  if (dModel !== undefined && d !== dModel) {
    throw new AdapterError(`${dir}: the prompt is ${fmt(a.prompt.shape)} (token_dim ${d}) but the model's d_model is ${dModel}`);
  }
  return a;
}

/** The prompt of task `t` of a multitask adapter, P o (cols_t rows_t), on the host (float64 sums). */
export function multitaskPrompt(a: MultitaskAdapter, t: number): HostTensor<Float32Array> {
  const [l, d] = a.prompt.shape as [number, number];
  const r = a.cols.shape[2]!;
  const out = new Float32Array(l * d);
  for (let i = 0; i < l; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += a.cols.data[(t * l + i) * r + k]! * a.rows.data[(t * r + k) * d + j]!;
      out[i * d + j] = a.prompt.data[i * d + j]! * s;
    }
  }
  return { data: out, shape: [l, d] };
}
