// The examples a run trains and evaluates on: a task reference from the config ('rte',
// 'superglue-cb', 'sentiment:yelp', ...) becomes train / validation / test examples under the
// ATTEMPT splits (src/tasks/splits.ts), read from a data root that holds the official files in
// glue/, superglue/ and squad/ (the demo tasks need none).
import { join } from 'node:path';
import { ensureDirectory, writeFileAtomic } from '../io/atomic.js';
import {
  expandAnswers, fewShot, isTaskId, loadSentiment, loadTaskSource, makeSplits, selectSplit, SENTIMENT_SOURCES, serializeSplits, taskSpec,
  type DataRoots, type Example, type SentimentSource, type SourceName, type SplitPart, type TaskId, type TaskSplits,
} from '../tasks/index.js';

/** A task as a run names it: the task id, and for the sentiment demo which review sources. */
export interface TaskRef {
  /** The name in the config and in logs, e.g. 'rte' or 'sentiment:yelp'. */
  key: string;
  id: TaskId;
  sentimentSources?: readonly SentimentSource[];
}

/** Parses a config task name; throws naming the valid choices. */
export function parseTaskRef(key: string): TaskRef {
  const [name, sub] = key.split(':', 2) as [string, string | undefined];
  if (!isTaskId(name)) taskSpec(name);
  const id = name as TaskId;
  if (sub === undefined) return { key, id };
  if (id !== 'sentiment') throw new Error(`task '${key}': only sentiment takes a ':source' suffix`);
  const sources = sub.split('+');
  for (const s of sources) {
    if (!SENTIMENT_SOURCES.includes(s as SentimentSource)) {
      throw new Error(`task '${key}': unknown sentiment source '${s}' (${SENTIMENT_SOURCES.join(', ')}; join several with '+')`);
    }
  }
  return { key, id, sentimentSources: sources as SentimentSource[] };
}

/** A task's examples under its splits. */
export interface TaskData {
  ref: TaskRef;
  splits: TaskSplits;
  /** Training examples (span tasks: one per gold answer). */
  train: Example[];
  validation: Example[];
  test: Example[];
}

export interface LoadOptions {
  dataDir: string | null;
  splitSeed: number;
  /** ATTEMPT's k-shot subsample of the training rows; null = all. */
  maxTrain: number | null;
  /** The first n validation and test examples; null = all. */
  maxEval: number | null;
  /** Skip reading training files (evaluation only). */
  evalOnly?: boolean;
  /**
   * Test on the split's test rows and every training row the k-shot subsample left out (a few-shot
   * protocol with a larger test set; the train and test rows must come from one file).
   */
  testRest?: boolean;
}

/** `splits` with the training rows outside `trainPart` added to its test rows. */
export function withRestInTest(splits: TaskSplits, trainPart: SplitPart): TaskSplits {
  if (splits.train.source !== splits.test.source) {
    throw new Error(`${splits.task}: testing on the rest needs train and test rows from one file; this task's are '${splits.train.source}' and '${splits.test.source}'`);
  }
  const used = new Set(trainPart.indices);
  return { ...splits, test: { source: splits.test.source, indices: [...splits.test.indices, ...splits.train.indices.filter((i) => !used.has(i))] } };
}

/** The benchmarks' data roots under `dataDir`: its glue/, superglue/ and squad/ folders. */
export function dataRoots(dataDir: string | null): DataRoots {
  return dataDir === null ? {} : { glue: join(dataDir, 'glue'), superglue: join(dataDir, 'superglue'), squad: join(dataDir, 'squad') };
}

function readSource(ref: TaskRef, source: SourceName, dataDir: string | null): Example[] {
  const spec = taskSpec(ref.id);
  if (spec.benchmark !== 'demo' && dataDir === null) {
    throw new Error(`task ${ref.key} reads its files from a data root: set --data-dir (a folder with the official files in glue/, superglue/ and squad/)`);
  }
  if (ref.id === 'sentiment' && ref.sentimentSources) return loadSentiment(ref.sentimentSources);
  return loadTaskSource(ref.id, source, dataRoots(dataDir));
}

/** The source files a task's split kind reads. */
function sourcesOf(splits: TaskSplits['kind'], evalOnly: boolean): SourceName[] {
  switch (splits) {
    case 'small': return evalOnly ? ['dev'] : ['train', 'dev'];
    case 'large': return ['train', 'dev'];
    case 'mnli': return evalOnly ? ['dev_matched', 'dev_mismatched'] : ['train', 'dev_matched', 'dev_mismatched'];
    case 'holdout': return ['all'];
  }
}

/**
 * Reads a task's files and makes its ATTEMPT splits. Errors name the task and the file (a missing
 * file, a malformed row). With `evalOnly`, small sets skip their training file.
 */
export function loadTaskData(key: string, opts: LoadOptions): TaskData {
  const ref = parseTaskRef(key);
  const kind = taskSpec(ref.id).split;
  const sources: Partial<Record<SourceName, Example[]>> = {};
  for (const s of sourcesOf(kind, opts.evalOnly ?? false)) sources[s] = readSource(ref, s, opts.dataDir);
  const sizes = Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, v.length]));
  if (kind === 'small' && opts.evalOnly) sizes.train = 0;
  const made = makeSplits(ref.id, sizes, { seed: opts.splitSeed });
  const trainPart = opts.maxTrain === null ? made.train : fewShot(made, opts.maxTrain);
  const splits = opts.testRest ? withRestInTest(made, trainPart) : made;
  const cap = <T>(xs: T[]): T[] => (opts.maxEval === null ? xs : xs.slice(0, opts.maxEval));
  const train = opts.evalOnly ? [] : expandAnswers(selectSplit(splits, trainPart, sources));
  const data = {
    ref,
    splits,
    train,
    validation: cap(selectSplit(splits, splits.validation, sources)),
    test: cap(selectSplit(splits, splits.test, sources)),
  };
  for (const part of ['validation', 'test'] as const) {
    const unlabeled = data[part].find((e) => e.label === null);
    if (unlabeled) throw new Error(`task ${key}: ${part} example ${unlabeled.id} has no label`);
  }
  if (!opts.evalOnly && train.length === 0) throw new Error(`task ${key}: no training examples`);
  return data;
}

/** Writes the splits to `<dir>/splits.json` (created or replaced atomically); returns the path. */
export function writeSplits(dir: string, splits: TaskSplits | readonly TaskSplits[]): string {
  ensureDirectory(dir);
  const path = join(dir, 'splits.json');
  writeFileAtomic(path, [serializeSplits(splits)]);
  return path;
}
