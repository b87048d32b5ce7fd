// What each task is: its classes, metrics, how its official files are laid out, how the ATTEMPT
// protocol splits it, and the prefixes / key orders its two text formats use. Pure data, so that
// readers, formats, splits and metrics can all import it without import cycles.
import type { TaskId } from './example.js';

export type TaskKind = 'classification' | 'regression' | 'span';
export type Benchmark = 'glue' | 'superglue' | 'squad' | 'demo';
/**
 * How the ATTEMPT protocol makes validation / test (see splits.ts):
 * small: official dev halved; large: 1000 train rows become validation, dev is test;
 * mnli: dev_mismatched is validation, dev_matched is test; holdout: one file, split by us.
 */
export type SplitKind = 'small' | 'large' | 'mnli' | 'holdout';
export type MetricName =
  | 'accuracy' | 'f1' | 'matthews_correlation' | 'pearson' | 'spearman' | 'f1_macro' | 'f1a' | 'em';
/** A file of a task: the official splits plus the test files (unlabeled for GLUE / SuperGLUE). */
export type SourceName = 'train' | 'dev' | 'dev_matched' | 'dev_mismatched' | 'test' | 'all';

export interface TaskSpec {
  id: TaskId;
  benchmark: Benchmark;
  kind: TaskKind;
  /** Class names (T5's word labels), index = class id; empty for regression and span tasks. */
  classes: readonly string[];
  /** The metrics the paper reports for the task, in its order; their mean is the task score. */
  metrics: readonly MetricName[];
  split: SplitKind;
  /** Folder under the benchmark's data root, and the file of each source. */
  dir: string;
  files: Partial<Record<SourceName, string>>;
  /** ATTEMPT's input prefix (its task name) and field order. */
  attemptPrefix: string;
  attemptKeys: readonly string[];
  /** T5's benchmark name and, where T5 gives one, its explicit feature order (else sorted keys). */
  t5Prefix: string;
  t5Keys?: readonly string[];
}

const GLUE_FILES = { train: 'train.tsv', dev: 'dev.tsv', test: 'test.tsv' } as const;
const SUPERGLUE_FILES = { train: 'train.jsonl', dev: 'val.jsonl', test: 'test.jsonl' } as const;
const NLI2 = ['entailment', 'not_entailment'] as const;
const BOOL = ['False', 'True'] as const;

function glue(id: TaskId, dir: string, classes: readonly string[], metrics: readonly MetricName[],
  split: SplitKind, keys: readonly string[]): TaskSpec {
  return {
    id, benchmark: 'glue', kind: classes.length > 0 ? 'classification' : 'regression', classes, metrics,
    split, dir, files: GLUE_FILES, attemptPrefix: id, attemptKeys: keys, t5Prefix: id,
  };
}

function superglue(name: string, dir: string, classes: readonly string[], metrics: readonly MetricName[],
  keys: readonly string[], extra: Partial<TaskSpec> = {}): TaskSpec {
  return {
    id: `superglue-${name}` as TaskId, benchmark: 'superglue', kind: 'classification', classes, metrics,
    split: 'small', dir, files: SUPERGLUE_FILES, attemptPrefix: `superglue-${name}`, attemptKeys: keys,
    t5Prefix: name, ...extra,
  };
}

const SPECS: readonly TaskSpec[] = [
  glue('cola', 'CoLA', ['unacceptable', 'acceptable'], ['matthews_correlation'], 'small', ['sentence']),
  glue('sst2', 'SST-2', ['negative', 'positive'], ['accuracy'], 'large', ['sentence']),
  glue('mrpc', 'MRPC', ['not_equivalent', 'equivalent'], ['f1', 'accuracy'], 'small', ['sentence1', 'sentence2']),
  glue('qqp', 'QQP', ['not_duplicate', 'duplicate'], ['f1', 'accuracy'], 'large', ['question1', 'question2']),
  glue('stsb', 'STS-B', [], ['pearson', 'spearman'], 'small', ['sentence1', 'sentence2']),
  {
    ...glue('mnli', 'MNLI', ['entailment', 'neutral', 'contradiction'], ['accuracy'], 'mnli', ['premise', 'hypothesis']),
    files: { train: 'train.tsv', dev_matched: 'dev_matched.tsv', dev_mismatched: 'dev_mismatched.tsv', test: 'test_matched.tsv' },
  },
  glue('qnli', 'QNLI', NLI2, ['accuracy'], 'large', ['question', 'sentence']),
  glue('rte', 'RTE', NLI2, ['accuracy'], 'small', ['sentence1', 'sentence2']),
  glue('wnli', 'WNLI', ['not_entailment', 'entailment'], ['accuracy'], 'small', ['sentence1', 'sentence2']),
  superglue('boolq', 'BoolQ', BOOL, ['accuracy'], ['question', 'passage']),
  superglue('cb', 'CB', ['entailment', 'contradiction', 'neutral'], ['f1_macro', 'accuracy'], ['premise', 'hypothesis']),
  // ATTEMPT leaves COPA's cause/effect question out of the input; T5 keeps it.
  superglue('copa', 'COPA', ['choice1', 'choice2'], ['accuracy'], ['premise', 'choice1', 'choice2']),
  superglue('multirc', 'MultiRC', BOOL, ['f1a', 'em'], ['question', 'answer', 'paragraph'],
    { t5Keys: ['question', 'answer', 'paragraph'] }),
  superglue('rte', 'RTE', NLI2, ['accuracy'], ['premise', 'hypothesis']),
  superglue('wic', 'WiC', BOOL, ['accuracy'], ['sentence1', 'sentence2', 'word'],
    { t5Keys: ['sentence1', 'sentence2', 'word'] }),
  superglue('wsc', 'WSC', BOOL, ['accuracy'], ['text'], { attemptPrefix: 'superglue-wsc.fixed' }),
  superglue('record', 'ReCoRD', [], ['f1', 'em'], ['query', 'entities', 'passage'], { kind: 'span', split: 'large' }),
  {
    id: 'squad', benchmark: 'squad', kind: 'span', classes: [], metrics: ['f1', 'em'], split: 'large', dir: '.',
    files: { train: 'train-v1.1.json', dev: 'dev-v1.1.json' },
    attemptPrefix: 'squad', attemptKeys: ['question', 'context'], t5Prefix: '', t5Keys: ['question', 'context'],
  },
  {
    id: 'sentiment', benchmark: 'demo', kind: 'classification', classes: ['negative', 'positive'],
    metrics: ['accuracy'], split: 'holdout', dir: '', files: { all: '' },
    attemptPrefix: 'sentiment', attemptKeys: ['review'], t5Prefix: 'sentiment',
  },
  {
    id: 'spam', benchmark: 'demo', kind: 'classification', classes: ['ham', 'spam'],
    metrics: ['f1', 'accuracy'], split: 'holdout', dir: '', files: { all: '' },
    attemptPrefix: 'spam', attemptKeys: ['email'], t5Prefix: 'spam',
  },
];

const BY_ID = new Map(SPECS.map((s) => [s.id, s]));

/** Every task's spec, in the order above. */
export const TASKS: readonly TaskSpec[] = SPECS;

/** The paper's six source tasks (Section 4 / ATTEMPT). */
export const SOURCE_TASKS: readonly TaskId[] = ['mnli', 'qnli', 'qqp', 'sst2', 'squad', 'superglue-record'];
/** The paper's GLUE targets, in its table order. */
export const GLUE_TARGETS: readonly TaskId[] = ['mnli', 'qqp', 'qnli', 'sst2', 'stsb', 'mrpc', 'rte', 'cola'];
/** The paper's SuperGLUE targets, in its table order. */
export const SUPERGLUE_TARGETS: readonly TaskId[] = [
  'superglue-multirc', 'superglue-boolq', 'superglue-wic', 'superglue-wsc', 'superglue-cb',
];

/** The spec of a task; throws on an unknown id (ids often come from the command line). */
export function taskSpec(id: string): TaskSpec {
  const s = BY_ID.get(id as TaskId);
  if (!s) throw new Error(`unknown task '${id}'; known: ${SPECS.map((t) => t.id).join(', ')}`);
  return s;
}

/** Type guard for task ids read from configs or the command line. */
export function isTaskId(id: string): id is TaskId {
  return BY_ID.has(id as TaskId);
}
