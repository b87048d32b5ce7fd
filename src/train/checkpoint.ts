// Resumable training state in ONE file, checkpoint.safetensors, replaced atomically (temporary
// file, fsync, rename): a crash at any moment leaves either the previous checkpoint or the new
// one. Tensors (trainable parameters, optimizer moments, the best parameters so far) are F32
// entries; everything else (step, data-stream counters, best score, the run's options) is JSON in
// the safetensors metadata under "bpt_checkpoint". Data order and dropout are functions of the
// seed and these counters (sampler.ts), so restoring them continues the run bit for bit.
import { existsSync } from 'node:fs';
import { toFiniteFloat32, type HostTensor } from '../io/dtype.js';
import { readSafetensors } from '../io/safetensors.js';
import { writeSafetensors } from '../io/safetensors_writer.js';
import type { OptimizerState } from '../optim/optimizer.js';
import type { Resolved, Schema } from './config.js';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
const FORMAT = 'bpt-checkpoint/1';

/** Everything a stage needs to continue where it stopped. */
export interface TrainState {
  stage: string;
  /** Steps completed. */
  step: number;
  /** The run's resolved options (a resume must use the same ones). */
  options: Resolved;
  /** Named tensors: parameters, best-so-far copies, optimizer-specific tensors. */
  tensors: Map<string, HostTensor<Float32Array>>;
  /** The optimizer's state (as `Optimizer.state()` returns it), if the stage uses one. */
  optimizer: OptimizerState | null;
  /** Stage-specific JSON (stream counters, best score, ...). */
  extra: Record<string, unknown>;
}

interface Header {
  format: string;
  stage: string;
  step: number;
  options: Resolved;
  optimizer: { groups: OptimizerState['groups']; steps: number[]; keys: string[][] } | null;
  extra: Record<string, unknown>;
}

/** Writes `state` to `path` atomically. */
export function saveTrainState(path: string, state: TrainState): void {
  const tensors = new Map<string, HostTensor<Float32Array>>();
  for (const [name, t] of state.tensors) tensors.set(`param/${name}`, t);
  let optimizer: Header['optimizer'] = null;
  if (state.optimizer) {
    optimizer = { groups: state.optimizer.groups, steps: [], keys: [] };
    state.optimizer.params.forEach((p, i) => {
      optimizer!.steps.push(p.step);
      optimizer!.keys.push(Object.keys(p.tensors));
      for (const [k, data] of Object.entries(p.tensors)) tensors.set(`optim/${i}/${k}`, { data, shape: [data.length] });
    });
  }
  const header: Header = { format: FORMAT, stage: state.stage, step: state.step, options: state.options, optimizer, extra: state.extra };
  writeSafetensors(path, tensors, { format: 'pt', bpt_checkpoint: JSON.stringify(header) });
}

/** Reads a checkpoint written by `saveTrainState`; errors name the file. */
export function loadTrainState(path: string): TrainState {
  if (!existsSync(path)) throw new Error(`${path}: no checkpoint to resume from`);
  const { tensors, metadata } = readSafetensors(path);
  let header: Header;
  try {
    header = JSON.parse(metadata.bpt_checkpoint ?? '') as Header;
  } catch {
    throw new Error(`${path}: not a bpt checkpoint (metadata "bpt_checkpoint" is missing or malformed)`);
  }
  if (header.format !== FORMAT) throw new Error(`${path}: checkpoint format ${JSON.stringify(header.format)}, expected ${FORMAT}`);
  const named = new Map<string, HostTensor<Float32Array>>();
  for (const [name, t] of tensors) {
    if (name.startsWith('param/')) named.set(name.slice(6), { data: toFiniteFloat32(t, `${path}: tensor "${name}"`), shape: [...t.shape] });
  }
  let optimizer: OptimizerState | null = null;
  if (header.optimizer) {
    optimizer = {
      groups: header.optimizer.groups,
      params: header.optimizer.steps.map((step, i) => {
        const out: Record<string, Float32Array> = {};
        for (const k of header.optimizer!.keys[i]!) {
          const t = tensors.get(`optim/${i}/${k}`);
          if (!t) throw new Error(`${path}: optimizer tensor optim/${i}/${k} is missing`);
          out[k] = toFiniteFloat32(t, `${path}: tensor "optim/${i}/${k}"`);
        }
        return { step, tensors: out };
      }),
    };
  }
  return { stage: header.stage, step: header.step, options: header.options, tensors: named, optimizer, extra: header.extra };
}

/** Options whose change does not alter the computation (they may differ on resume). */
const PRESENTATION = new Set(['progress', 'logEvery', 'checkpointEvery', 'keepCheckpoint', 'stopAfter', 'maxMinutes', 'out']);

/**
 * Throws unless a resumed run's options equal the checkpoint's (presentation options aside). With
 * the stage's `schema`, an option the checkpoint does not name (one added since it was written) may
 * be at its default, which is what the run did before the option existed.
 */
export function checkResumeOptions(path: string, saved: Resolved, now: Resolved, schema?: Schema): void {
  const diffs: string[] = [];
  for (const key of new Set([...Object.keys(saved), ...Object.keys(now)])) {
    if (PRESENTATION.has(key)) continue;
    const field = schema?.[key];
    if (!(key in saved) && field && JSON.stringify(field.default) === JSON.stringify(now[key])) continue;
    const a = JSON.stringify(saved[key]), b = JSON.stringify(now[key]);
    if (a !== b) diffs.push(`${key}: checkpoint ${a}, now ${b}`);
  }
  if (diffs.length) throw new Error(`${path}: cannot resume with different options:\n  ${diffs.join('\n  ')}`);
}
