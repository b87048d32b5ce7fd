// Hugging Face T5 checkpoint directories: config.json plus model.safetensors, or shards listed by
// model.safetensors.index.json. Every tensor is checked against the parameter list the config
// implies, so a config/weights mismatch fails at load time with the file and tensor named, not as
// a wrong number deep inside a forward pass. Every header is read and checked (names, shapes,
// dtypes, byte ranges against the file size) before a byte of tensor data is allocated, and the
// tensors are then read one at a time.
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { parseT5Config, t5ConfigToJson, t5ParameterShapes, T5_FLOAT_KEYS, type T5Config } from '../nn/t5/config.js';
import { floatPaths, pythonJson } from '../util/py_json.js';
import { writeFileAtomic } from './atomic.js';
import { toFiniteFloat32, type HostTensor } from './dtype.js';
import { SafetensorsReader, type TensorInfo } from './safetensors.js';
import { writeSafetensors } from './safetensors_writer.js';

/** File names save_pretrained uses. */
export const CONFIG_NAME = 'config.json';
export const WEIGHTS_NAME = 'model.safetensors';
export const WEIGHTS_INDEX_NAME = 'model.safetensors.index.json';

/** A loaded checkpoint: parsed config, float32 parameters, and non-fatal findings. */
export interface HfCheckpoint {
  config: T5Config;
  /** Canonical names only (see t5ParameterShapes), in state_dict order; tied aliases removed. */
  tensors: Map<string, HostTensor<Float32Array>>;
  /** Things HF would also accept silently or with a log line (ignored keys, differing tied copies). */
  warnings: string[];
}

export interface LoadOptions {
  /** Report unexpected tensors as warnings instead of failing (HF only logs them). Default false. */
  allowUnexpected?: boolean;
}

/** A checkpoint directory that does not match its config or cannot be read; the message names file and tensor. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** Keys HF's T5 drops on load without a word (_keys_to_ignore_on_load_unexpected). */
const HF_IGNORED = new Set(['decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight']);

/** Names that hold the same matrix as shared.weight in HF's module tree. */
const EMBED_ALIASES = ['encoder.embed_tokens.weight', 'decoder.embed_tokens.weight'];

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CheckpointError(`${path}: cannot read (${(err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(`${path}: malformed JSON: ${(err as Error).message}`);
  }
}

/** config.json, remembering which numbers of its unmodelled keys it wrote as floats. */
function readConfig(path: string): T5Config {
  const config = parseT5Config(readJson(path), path);
  const floats = floatPaths(readFileSync(path, 'utf8')).filter((p) => p.split('.')[0]! in config.extra);
  return floats.length ? { ...config, extraFloats: floats } : config;
}

/** A tensor of the checkpoint: its header entry and the open file that holds it. */
interface RawTensor {
  info: TensorInfo;
  reader: SafetensorsReader;
  file: string;
}

function openFile(path: string, readers: SafetensorsReader[]): SafetensorsReader {
  const reader = SafetensorsReader.open(path);
  readers.push(reader);
  return reader;
}

function addTensors(reader: SafetensorsReader, into: Map<string, RawTensor>): void {
  for (const [name, info] of reader.header.tensors) into.set(name, { info, reader, file: reader.path });
}

/**
 * Opens the weights of `dir` (single file or shards) as name -> (header entry, file), reading no
 * tensor data yet; the readers it opened are pushed on `readers` for the caller to close.
 */
function openWeights(dir: string, readers: SafetensorsReader[]): { raw: Map<string, RawTensor>; label: string } {
  const single = join(dir, WEIGHTS_NAME);
  if (existsSync(single)) {
    const raw = new Map<string, RawTensor>();
    addTensors(openFile(single, readers), raw);
    return { raw, label: single };
  }
  const indexPath = join(dir, WEIGHTS_INDEX_NAME);
  if (existsSync(indexPath)) return { raw: openShards(dir, indexPath, readers), label: indexPath };
  const others = readdirSync(dir).filter((f) => /\.(bin|pt|pth|h5|msgpack|ckpt)$/.test(f));
  throw new CheckpointError(
    `${dir}: neither ${WEIGHTS_NAME} nor ${WEIGHTS_INDEX_NAME} found` +
      (others.length ? ` (found ${others.join(', ')}: only safetensors weights can be read; re-save with safe_serialization=True)` : ''),
  );
}

function openShards(dir: string, indexPath: string, readers: SafetensorsReader[]): Map<string, RawTensor> {
  const index = readJson(indexPath) as { weight_map?: unknown };
  const wm = index?.weight_map;
  if (wm === null || typeof wm !== 'object' || Array.isArray(wm)) throw new CheckpointError(`${indexPath}: "weight_map" is missing or not an object`);
  const weightMap = wm as Record<string, unknown>;
  const shards = new Set<string>();
  for (const [name, file] of Object.entries(weightMap)) {
    if (typeof file !== 'string' || file === '' || isAbsolute(file) || normalize(file).startsWith('..')) {
      throw new CheckpointError(`${indexPath}: weight_map["${name}"] = ${JSON.stringify(file)} is not a file name inside the checkpoint directory`);
    }
    shards.add(file);
  }
  const raw = new Map<string, RawTensor>();
  for (const shard of [...shards].sort()) {
    const path = join(dir, shard);
    if (!existsSync(path)) throw new CheckpointError(`${indexPath}: shard ${shard} listed in weight_map does not exist`);
    const reader = openFile(path, readers);
    for (const name of reader.header.tensors.keys()) {
      const listed = weightMap[name];
      if (listed === undefined) throw new CheckpointError(`${path}: tensor "${name}" is not listed in ${WEIGHTS_INDEX_NAME}'s weight_map`);
      if (listed !== shard) throw new CheckpointError(`${path}: tensor "${name}" is listed in weight_map under ${listed}, not ${shard}`);
      if (raw.has(name)) throw new CheckpointError(`${path}: tensor "${name}" also appears in ${raw.get(name)!.file}`);
    }
    addTensors(reader, raw);
  }
  for (const [name, file] of Object.entries(weightMap)) {
    if (!raw.has(name)) throw new CheckpointError(`${indexPath}: weight_map lists tensor "${name}" in ${file as string}, but that shard does not hold it`);
  }
  return raw;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

function checkFloat(r: RawTensor, name: string): void {
  if (!['F16', 'BF16', 'F32', 'F64'].includes(r.info.dtype)) {
    throw new CheckpointError(`${r.file}: tensor "${name}" has dtype ${r.info.dtype}, expected a float type (F16, BF16, F32, F64)`);
  }
}

/** Reads one tensor (its dtype already checked) as float32. */
function floatData(r: RawTensor, name: string): Float32Array {
  return toFiniteFloat32(r.reader.read(name), `${r.file}: tensor "${name}"`);
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

/**
 * Loads a Hugging Face T5 checkpoint directory: config.json, then model.safetensors or the shards
 * of model.safetensors.index.json. Tensors of any float dtype come back as float32, checked one by
 * one against t5ParameterShapes(config). Tied copies (encoder/decoder.embed_tokens, lm_head when
 * tied) stand in for shared.weight when it is absent and are otherwise compared with it and
 * dropped. Throws a CheckpointError naming the file and tensor for a missing tensor, a shape
 * mismatch, a non-float dtype or (unless allowUnexpected) an unexpected tensor, all before any
 * tensor data is read.
 */
export function loadHfCheckpoint(dir: string, opts: LoadOptions = {}): HfCheckpoint {
  const configPath = join(dir, CONFIG_NAME);
  if (!existsSync(configPath)) throw new CheckpointError(`${dir}: ${CONFIG_NAME} not found`);
  const config = readConfig(configPath);
  const expected = t5ParameterShapes(config);
  const expectedNames = new Set(expected.map((p) => p.name));
  const aliases = new Set(EMBED_ALIASES);
  if (config.tie_word_embeddings) aliases.add('lm_head.weight');
  const readers: SafetensorsReader[] = [];
  try {
    const { raw, label } = openWeights(dir, readers);
    const warnings: string[] = [];

    const unexpected: string[] = [];
    for (const [name, r] of raw) {
      if (expectedNames.has(name) || aliases.has(name)) continue;
      if (HF_IGNORED.has(name)) warnings.push(`${r.file}: tensor "${name}" ignored (HF ignores it too)`);
      else unexpected.push(`${r.file}: unexpected tensor "${name}" ${fmt(r.info.shape)}`);
    }
    if (unexpected.length && !opts.allowUnexpected) {
      throw new CheckpointError(`${unexpected.join('\n')}\n(${unexpected.length} tensor(s) that a T5 with this ${CONFIG_NAME} does not have: is the config right?)`);
    }
    warnings.push(...unexpected);

    let sharedSource = 'shared.weight';
    if (!raw.has('shared.weight')) {
      const stand = [...aliases].find((a) => raw.has(a));
      if (stand) sharedSource = stand;
    }

    // Every check on the headers first: nothing is read until the whole checkpoint fits the config.
    const missing: string[] = [];
    for (const { name, shape } of expected) {
      const source = name === 'shared.weight' ? sharedSource : name;
      const r = raw.get(source);
      if (!r) { missing.push(name); continue; }
      if (!sameShape(r.info.shape, shape)) {
        throw new CheckpointError(`${r.file}: tensor "${source}" has shape ${fmt(r.info.shape)} but ${CONFIG_NAME} implies ${fmt(shape)}`);
      }
      checkFloat(r, source);
    }
    if (missing.length) {
      const shown = missing.slice(0, 8).map((n) => `"${n}"`).join(', ');
      throw new CheckpointError(`${label}: missing tensor(s) ${shown}${missing.length > 8 ? ` and ${missing.length - 8} more` : ''}`);
    }
    const sharedShape = expected.find((p) => p.name === 'shared.weight')!.shape;
    const tied = [...aliases].filter((alias) => alias !== sharedSource && raw.has(alias));
    for (const alias of tied) {
      const r = raw.get(alias)!;
      if (!sameShape(r.info.shape, sharedShape)) {
        throw new CheckpointError(`${r.file}: tensor "${alias}" has shape ${fmt(r.info.shape)} but it is tied to shared.weight ${fmt(sharedShape)}`);
      }
      checkFloat(r, alias);
    }

    const tensors = new Map<string, HostTensor<Float32Array>>();
    for (const { name, shape } of expected) {
      const source = name === 'shared.weight' ? sharedSource : name;
      tensors.set(name, { data: floatData(raw.get(source)!, source), shape: [...shape] });
    }
    const shared = tensors.get('shared.weight')!;
    for (const alias of tied) {
      if (!sameValues(floatData(raw.get(alias)!, alias), shared.data)) {
        warnings.push(`${raw.get(alias)!.file}: tensor "${alias}" differs from ${sharedSource}, to which HF ties it; it was ignored`);
      }
    }
    return { config, tensors, warnings };
  } finally {
    for (const r of readers) r.close();
  }
}

const SHARD_FILE = /^model-\d{5}-of-\d{5}\.safetensors$/;

/**
 * Writes `config` and `tensors` as HF's save_pretrained(safe_serialization=True) lays them out:
 * config.json (as Python's json.dumps writes it: float-typed fields and numbers that were floats in
 * the config.json read stay floats) and a single model.safetensors (metadata format "pt") holding each parameter once
 * (tied: only shared.weight). Both files are written atomically, weights first, and shards of an
 * earlier sharded save in `dir` are removed as HF does, so the directory never mixes two saves.
 */
export function saveHfCheckpoint(dir: string, config: T5Config, tensors: ReadonlyMap<string, HostTensor<Float32Array>>): void {
  const expected = t5ParameterShapes(config);
  const expectedNames = new Set(expected.map((p) => p.name));
  const aliases = new Set(EMBED_ALIASES);
  if (config.tie_word_embeddings) aliases.add('lm_head.weight');
  const out = new Map<string, HostTensor<Float32Array>>();
  for (const { name, shape } of expected) {
    const t = tensors.get(name);
    if (!t) throw new CheckpointError(`saveHfCheckpoint(${dir}): missing tensor "${name}"`);
    if (!sameShape(t.shape, shape)) throw new CheckpointError(`saveHfCheckpoint(${dir}): tensor "${name}" has shape ${fmt(t.shape)}, config implies ${fmt(shape)}`);
    if (t.data.length !== shape.reduce((a, b) => a * b, 1)) throw new CheckpointError(`saveHfCheckpoint(${dir}): tensor "${name}" has ${t.data.length} elements for shape ${fmt(shape)}`);
    out.set(name, { data: t.data, shape: [...shape] });
  }
  for (const [name, t] of tensors) {
    if (expectedNames.has(name)) continue;
    if (aliases.has(name) && sameValues(t.data, out.get('shared.weight')!.data)) continue;
    throw new CheckpointError(`saveHfCheckpoint(${dir}): tensor "${name}" is not a parameter of this config${aliases.has(name) ? ' (a tied copy that differs from shared.weight)' : ''}`);
  }
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, WEIGHTS_NAME), out, { format: 'pt' });
  const floats = new Set(config.extraFloats);
  writeFileAtomic(join(dir, CONFIG_NAME), [`${pythonJson(t5ConfigToJson(config), (p) => T5_FLOAT_KEYS.has(p) || floats.has(p))}\n`]);
  for (const f of readdirSync(dir)) {
    if (f === WEIGHTS_INDEX_NAME || SHARD_FILE.test(f)) unlinkSync(join(dir, f));
  }
}
