// The ATTEMPT / MPT / BPT data protocol (seed 42), reproduced row for row:
//   small sets (ATTEMPT's list: CoLA, STS-B, MRPC, RTE, WNLI and the SuperGLUE tasks): the official
//     dev set is shuffled and halved: first floor(n/2) = validation, the rest = test; train is
//     the official train set in file order.
//   large sets (SST-2, QQP, QNLI, ReCoRD, SQuAD): the train set is shuffled; its first 1000 rows
//     are validation, the rest (in shuffled order) train; the official dev set is test.
//   MNLI: train; dev_mismatched = validation; dev_matched = test.
//   holdout (our demo tasks, one file): shuffled; 10% validation, 10% test, the rest train.
// The shuffle is torch.randperm with a generator seeded 42, as ATTEMPT's `shuffled_indices`.
// Indices refer to rows of the source files as the readers return them (MultiRC: answer options,
// ReCoRD: queries, as in Hugging Face's datasets that ATTEMPT split).
import { readTextFile } from '../util/text.js';
import type { Example, TaskId } from './example.js';
import { permutation, type PermutationKind } from './random.js';
import { isTaskId, taskSpec, type SourceName, type SplitKind } from './registry.js';

/** Rows of one source file, in the order the split uses them. */
export interface SplitPart {
  source: SourceName;
  indices: number[];
}

/** Row counts of a task's source files (only those the task's split kind uses are needed). */
export type SourceSizes = Partial<Record<SourceName, number>>;

/** A task's train / validation / test rows and everything needed to remake them. */
export interface TaskSplits {
  task: TaskId;
  kind: SplitKind;
  seed: number;
  permutation: PermutationKind;
  sizes: SourceSizes;
  train: SplitPart;
  validation: SplitPart;
  test: SplitPart;
}

export interface SplitOptions {
  seed?: number;
  permutation?: PermutationKind;
  /** Rows taken from train for validation in large sets (ATTEMPT: 1000). */
  largeValidation?: number;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

function size(task: TaskId, sizes: SourceSizes, source: SourceName): number {
  const n = sizes[source];
  if (n === undefined || !Number.isInteger(n) || n < 0) {
    throw new Error(`${task}: splits need the row count of '${source}', got ${String(n)}`);
  }
  return n;
}

/** Makes a task's splits from the row counts of its files (see the protocol above). */
export function makeSplits(task: TaskId, sizes: SourceSizes, options: SplitOptions = {}): TaskSplits {
  const { seed = 42, permutation: kind = 'torch', largeValidation = 1000 } = options;
  const split = taskSpec(task).split;
  const base = { task, kind: split, seed, permutation: kind };
  switch (split) {
    case 'small': {
      const nDev = size(task, sizes, 'dev');
      const perm = permutation(nDev, seed, kind);
      const half = Math.floor(nDev / 2);
      return {
        ...base, sizes: { train: size(task, sizes, 'train'), dev: nDev },
        train: { source: 'train', indices: range(size(task, sizes, 'train')) },
        validation: { source: 'dev', indices: perm.slice(0, half) },
        test: { source: 'dev', indices: perm.slice(half) },
      };
    }
    case 'large': {
      const nTrain = size(task, sizes, 'train');
      if (nTrain <= largeValidation) throw new Error(`${task}: ${nTrain} training rows cannot give ${largeValidation} to validation`);
      const perm = permutation(nTrain, seed, kind);
      return {
        ...base, sizes: { train: nTrain, dev: size(task, sizes, 'dev') },
        train: { source: 'train', indices: perm.slice(largeValidation) },
        validation: { source: 'train', indices: perm.slice(0, largeValidation) },
        test: { source: 'dev', indices: range(size(task, sizes, 'dev')) },
      };
    }
    case 'mnli': {
      const s = {
        train: size(task, sizes, 'train'),
        dev_mismatched: size(task, sizes, 'dev_mismatched'),
        dev_matched: size(task, sizes, 'dev_matched'),
      };
      return {
        ...base, sizes: s,
        train: { source: 'train', indices: range(s.train) },
        validation: { source: 'dev_mismatched', indices: range(s.dev_mismatched) },
        test: { source: 'dev_matched', indices: range(s.dev_matched) },
      };
    }
    case 'holdout': {
      const n = size(task, sizes, 'all');
      const perm = permutation(n, seed, kind);
      const tenth = Math.round(n / 10);
      return {
        ...base, sizes: { all: n },
        train: { source: 'all', indices: perm.slice(2 * tenth) },
        validation: { source: 'all', indices: perm.slice(0, tenth) },
        test: { source: 'all', indices: perm.slice(tenth, 2 * tenth) },
      };
    }
  }
}

/**
 * The k-shot training subset, as ATTEMPT's `subsample(n_obs=k)`: for large sets the first k rows
 * of the (already shuffled) train part; otherwise the first k of a fresh seeded permutation of
 * the train rows. Not class-balanced, like ATTEMPT's.
 */
export function fewShot(splits: TaskSplits, k: number, seed = splits.seed): SplitPart {
  const rows = splits.train.indices;
  if (!Number.isInteger(k) || k < 0) throw new Error(`fewShot: k must be a non-negative integer, got ${k}`);
  const picked = splits.kind === 'large'
    ? rows.slice(0, k)
    : permutation(rows.length, seed, splits.permutation).slice(0, k).map((i) => rows[i]!);
  return { source: splits.train.source, indices: picked };
}

/**
 * The examples of one split part, given the examples of the task's source files. Throws if a
 * file's row count differs from the one the splits were made for (a different file version).
 */
export function selectSplit(splits: TaskSplits, part: SplitPart, sources: Partial<Record<SourceName, readonly Example[]>>): Example[] {
  const rows = sources[part.source];
  if (!rows) throw new Error(`${splits.task}: source '${part.source}' was not given`);
  const want = splits.sizes[part.source];
  if (want !== undefined && rows.length !== want) {
    throw new Error(`${splits.task}: splits were made for ${want} rows of '${part.source}', got ${rows.length}`);
  }
  return part.indices.map((i) => {
    const ex = rows[i];
    if (!ex) throw new Error(`${splits.task}: index ${i} is outside '${part.source}' (${rows.length} rows)`);
    return ex;
  });
}

const FORMAT_TAG = 'bpt-splits/1';

/** The splits as the text of a splits.json file (train/datasets.ts writes it into a run directory). */
export function serializeSplits(splits: TaskSplits | readonly TaskSplits[]): string {
  const list = Array.isArray(splits) ? splits : [splits as TaskSplits];
  return `${JSON.stringify({ format: FORMAT_TAG, protocol: 'attempt', splits: list })}\n`;
}

function checkPart(path: string, task: string, name: string, p: unknown): SplitPart {
  const part = p as Partial<SplitPart> | null;
  if (!part || typeof part.source !== 'string' || !Array.isArray(part.indices)
    || !part.indices.every((i) => Number.isInteger(i) && i >= 0)) {
    throw new Error(`${path}: ${task}.${name} is not a {source, indices} split`);
  }
  return part as SplitPart;
}

/** Reads splits written by `serializeSplits`, checking their shape. */
export function readSplits(path: string): TaskSplits[] {
  const doc = JSON.parse(readTextFile(path)) as { format?: unknown; splits?: unknown };
  if (doc.format !== FORMAT_TAG || !Array.isArray(doc.splits)) throw new Error(`${path}: not a ${FORMAT_TAG} file`);
  return doc.splits.map((s: Partial<TaskSplits>, i: number) => {
    if (typeof s.task !== 'string' || !isTaskId(s.task)) throw new Error(`${path}: splits[${i}] has an unknown task`);
    for (const name of ['train', 'validation', 'test'] as const) checkPart(path, s.task, name, s[name]);
    return s as TaskSplits;
  });
}
