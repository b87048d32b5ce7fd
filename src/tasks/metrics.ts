// The paper's metrics, all scaled by 100 as in its tables, and `evaluate`, which scores a task's
// predictions the way T5 / ATTEMPT do. A prediction that is not a valid label is wrong in every
// metric: for binary tasks it becomes the opposite of the gold class (T5's
// f1_score_with_invalid, so it is a false positive or false negative, never a true negative);
// for multi-class tasks it becomes -1, a class that never matches; for STS-B it becomes -1 as in
// T5's string_to_float.
import type { Example, TaskId } from './example.js';
import { DEFAULT_FORMAT, padPunctuation, parseTarget, type FormatStyle } from './format.js';
import { taskSpec, type MetricName } from './registry.js';

type Labels = readonly (number | string)[];

function sameLength(a: { length: number }, b: { length: number }, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: ${a.length} predictions for ${b.length} gold labels`);
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length);

/** Percentage of exact matches. */
export function accuracy(pred: Labels, gold: Labels): number {
  sameLength(pred, gold, 'accuracy');
  return 100 * mean(pred.map((p, i) => (p === gold[i] ? 1 : 0)));
}

/** F1 of class `positive` (sklearn's f1_score: 0 when there is no true positive). */
function classF1(pred: Labels, gold: Labels, positive: number | string): number {
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] === positive, g = gold[i] === positive;
    if (p && g) tp++;
    else if (p) fp++;
    else if (g) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/** Binary F1 with class 1 as the positive class, x100. */
export function f1Binary(pred: Labels, gold: Labels): number {
  sameLength(pred, gold, 'f1');
  return 100 * classF1(pred, gold, 1);
}

/** Unweighted mean of the per-class F1 over classes 0..numClasses-1 (sklearn average='macro'), x100. */
export function macroF1(pred: Labels, gold: Labels, numClasses: number): number {
  sameLength(pred, gold, 'macro F1');
  return 100 * mean(Array.from({ length: numClasses }, (_, c) => classF1(pred, gold, c)));
}

/** Matthews correlation coefficient (sklearn's multi-class form; 0 when undefined), x100. */
export function matthewsCorrelation(pred: Labels, gold: Labels): number {
  sameLength(pred, gold, 'matthews');
  const n = pred.length;
  const t = new Map<number | string, number>(), p = new Map<number | string, number>();
  let correct = 0;
  for (let i = 0; i < n; i++) {
    t.set(gold[i]!, (t.get(gold[i]!) ?? 0) + 1);
    p.set(pred[i]!, (p.get(pred[i]!) ?? 0) + 1);
    if (pred[i] === gold[i]) correct++;
  }
  let tp = 0, pp = 0, tt = 0;
  for (const [k, tk] of t) { tp += tk * (p.get(k) ?? 0); tt += tk * tk; }
  for (const pk of p.values()) pp += pk * pk;
  const covYtYp = correct * n - tp, covYpYp = n * n - pp, covYtYt = n * n - tt;
  return covYpYp * covYtYt === 0 ? 0 : (100 * covYtYp) / Math.sqrt(covYtYt * covYpYp);
}

/** Pearson correlation, x100; 0 when a side is constant (as ATTEMPT guards NaN). */
export function pearson(x: readonly number[], y: readonly number[]): number {
  sameLength(x, y, 'pearson');
  const mx = mean(x), my = mean(y);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < x.length; i++) {
    const dx = x[i]! - mx, dy = y[i]! - my;
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? 0 : (100 * sxy) / Math.sqrt(sxx * syy);
}

/** 1-based ranks with ties given their average rank (scipy.stats.rankdata 'average'). */
export function averageRanks(x: readonly number[]): number[] {
  const order = x.map((_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const ranks = new Array<number>(x.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && x[order[j + 1]!] === x[order[i]!]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

/** Spearman rank correlation (Pearson of average ranks), x100. */
export function spearman(x: readonly number[], y: readonly number[]): number {
  sameLength(x, y, 'spearman');
  return pearson(averageRanks(x), averageRanks(y));
}

const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/**
 * The SQuAD evaluation script's normalize_answer: lowercase, drop ASCII punctuation, drop the
 * articles a / an / the as whole words, collapse whitespace.
 */
export function normalizeAnswer(s: string): string {
  const noPunct = [...s.toLowerCase()].filter((ch) => !PUNCTUATION.has(ch)).join('');
  // Python's \b is Unicode-aware; JavaScript's is not, hence the explicit look-arounds.
  const noArticles = noPunct.replace(/(?<![\p{L}\p{N}_])(a|an|the)(?![\p{L}\p{N}_])/gu, ' ');
  return noArticles.split(/\s+/).filter((w) => w !== '').join(' ');
}

/** Token-overlap F1 of normalised strings (0 when nothing is shared), in [0, 1]. */
function tokenF1(pred: string, gold: string): number {
  const p = normalizeAnswer(pred).split(' ').filter((w) => w !== '');
  const g = normalizeAnswer(gold).split(' ').filter((w) => w !== '');
  const counts = new Map<string, number>();
  for (const w of g) counts.set(w, (counts.get(w) ?? 0) + 1);
  let same = 0;
  for (const w of p) {
    const c = counts.get(w) ?? 0;
    if (c > 0) { same++; counts.set(w, c - 1); }
  }
  if (same === 0) return 0;
  const precision = same / p.length, recall = same / g.length;
  return (2 * precision * recall) / (precision + recall);
}

/** SQuAD F1 and exact match, each the best over the gold answers, averaged, x100. */
export function squadScores(pred: readonly string[], golds: readonly (readonly string[])[]): { f1: number; em: number } {
  sameLength(pred, golds, 'squad');
  const best = (i: number, f: (p: string, g: string) => number): number =>
    Math.max(0, ...golds[i]!.map((g) => f(pred[i]!, g)));
  return {
    f1: 100 * mean(pred.map((_, i) => best(i, tokenF1))),
    em: 100 * mean(pred.map((_, i) => best(i, (p, g) => (normalizeAnswer(p) === normalizeAnswer(g) ? 1 : 0)))),
  };
}

/** Mean over groups of exact match of the whole group (MultiRC's EM), x100. */
export function groupExactMatch(pred: Labels, gold: Labels, groups: readonly string[]): number {
  sameLength(pred, gold, 'group exact match');
  const ok = new Map<string, boolean>();
  groups.forEach((g, i) => ok.set(g, (ok.get(g) ?? true) && pred[i] === gold[i]));
  return 100 * mean([...ok.values()].map((v) => (v ? 1 : 0)));
}

/** A task's scores: the paper's metrics, their mean (the task score), and how many predictions were invalid. */
export interface EvalResult {
  metrics: Partial<Record<MetricName, number>>;
  score: number;
  count: number;
  invalid: number;
}

export interface EvaluateOptions {
  /** How string predictions are read (class digits or class words). */
  format?: FormatStyle;
}

/** Keeps the first example of each group (ReCoRD / SQuAD rows duplicated per answer for training). */
function deduplicate<T>(examples: readonly Example[], preds: readonly T[]): [Example[], T[]] {
  const seen = new Set<string>();
  const ex: Example[] = [], ps: T[] = [];
  examples.forEach((e, i) => {
    const key = e.group ?? e.id;
    if (seen.has(key)) return;
    seen.add(key);
    ex.push(e);
    ps.push(preds[i]!);
  });
  return [ex, ps];
}

/**
 * Scores predictions for `examples` of `task`. A prediction is either generated text (read with
 * the format's label strings) or a label value (a class index, an STS-B score).
 */
export function evaluate(task: TaskId, predictions: readonly (string | number)[], examples: readonly Example[],
  options: EvaluateOptions = {}): EvalResult {
  sameLength(predictions, examples, `evaluate(${task})`);
  const spec = taskSpec(task);
  const style = options.format ?? DEFAULT_FORMAT;
  for (const ex of examples) {
    if (ex.task !== task) throw new Error(`evaluate(${task}): example ${ex.id} belongs to ${ex.task}`);
    if (ex.label === null) throw new Error(`evaluate(${task}): example ${ex.id} has no label`);
  }
  let invalid = 0;
  const metrics: Partial<Record<MetricName, number>> = {};

  if (spec.kind === 'span') {
    const [ex, ps] = deduplicate(examples, predictions);
    const text = ps.map((p) => (typeof p === 'string' ? p.trim() : (invalid++, '')));
    // T5 pads SQuAD's gold answers like its targets, so both sides are compared padded.
    const golds = ex.map((e) => (e.answers ?? [String(e.label)]).map((a) => (task === 'squad' ? padPunctuation(a) : a)));
    Object.assign(metrics, squadScores(text, golds));
  } else if (spec.kind === 'regression') {
    const gold = examples.map((e) => Number(e.label));
    const pred = predictions.map((p) => {
      const v = typeof p === 'number' ? p : parseTarget(task, p, style);
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      invalid++;
      return -1;
    });
    metrics.pearson = pearson(pred, gold);
    metrics.spearman = spearman(pred, gold);
  } else {
    const k = spec.classes.length;
    const gold = examples.map((e) => e.label as number);
    const pred = predictions.map((p, i) => {
      const v = typeof p === 'number' ? p : parseTarget(task, p, style);
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < k) return v;
      invalid++;
      return k === 2 ? 1 - gold[i]! : -1;
    });
    for (const m of spec.metrics) {
      if (m === 'accuracy') metrics.accuracy = accuracy(pred, gold);
      else if (m === 'f1' || m === 'f1a') metrics[m] = f1Binary(pred, gold);
      else if (m === 'f1_macro') metrics.f1_macro = macroF1(pred, gold, k);
      else if (m === 'matthews_correlation') metrics.matthews_correlation = matthewsCorrelation(pred, gold);
      else if (m === 'em') metrics.em = groupExactMatch(pred, gold, examples.map((e) => e.group ?? e.id));
    }
  }
  const score = mean(spec.metrics.map((m) => metrics[m] ?? 0));
  return { metrics, score, count: examples.length, invalid };
}

/** The benchmark average the paper reports: the mean of task scores. */
export function averageScore(results: readonly EvalResult[]): number {
  return mean(results.map((r) => r.score));
}
