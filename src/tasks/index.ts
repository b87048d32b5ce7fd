// The tasks layer's public surface: readers, formats, splits, metrics and the demo data.
export { DataError, type Example, type TaskId } from './example.js';
export {
  TASKS, SOURCE_TASKS, GLUE_TARGETS, SUPERGLUE_TARGETS, taskSpec, isTaskId,
  type TaskSpec, type TaskKind, type Benchmark, type SplitKind, type MetricName, type SourceName,
} from './registry.js';
export { parseGlueTsv, readGlueTsv, isGlueTask, type ReadOptions } from './glue.js';
export { parseSuperGlueJsonl, readSuperGlueJsonl, isSuperGlueTask } from './superglue.js';
export { parseSquad, readSquad } from './squad.js';
export { loadTaskSource, taskFilePath, type DataRoots } from './load.js';
export {
  formatExample, targetText, labelStrings, candidateTargets, parseTarget, expandAnswers, padPunctuation,
  stsbTarget, markWscSpans, recordEntities, STSB_LABELS, DEFAULT_FORMAT, type FormatStyle, type Formatted,
} from './format.js';
export { Mt19937, torchRandperm, numpyPermutation, permutation, type PermutationKind } from './random.js';
export {
  makeSplits, fewShot, selectSplit, serializeSplits, readSplits,
  type TaskSplits, type SplitPart, type SourceSizes, type SplitOptions,
} from './splits.js';
export {
  evaluate, averageScore, accuracy, f1Binary, macroF1, matthewsCorrelation, pearson, spearman, averageRanks,
  normalizeAnswer, squadScores, groupExactMatch, type EvalResult, type EvaluateOptions,
} from './metrics.js';
export {
  loadSentiment, loadSpamAssassin, emailText, SENTIMENT_SOURCES, type SentimentSource, type SpamOptions,
} from './demo_data.js';
