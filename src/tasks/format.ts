// Text-to-text formats: each example becomes an input string and a target string.
//   'attempt': ATTEMPT's seq2seq_format: "<task name> key: value key: value", targets are the class
//              index as a digit ("0" / "1" / "2").
//   't5':      T5's own preprocessors (t5/data/preprocessors.py): "<benchmark> key: value ..." with
//              keys sorted unless T5 lists them, targets are class names (entailment, not_entailment).
// Both share the task-specific rewrites T5 defined (WSC span marks, ReCoRD highlights, MultiRC
// markup, SQuAD punctuation padding) and STS-B's rounding to the nearest 0.2.
import type { Example, TaskId } from './example.js';
import { taskSpec, type TaskSpec } from './registry.js';

export type FormatStyle = 'attempt' | 't5';

/** The protocol's default (BPT follows ATTEMPT). */
export const DEFAULT_FORMAT: FormatStyle = 'attempt';

/** An example as model input and (for labeled examples) training target. */
export interface Formatted {
  input: string;
  /** null for unlabeled examples (T5 would write "<unk>"). */
  target: string | null;
}

/**
 * T5's _pad_punctuation: spaces around every character that is not a letter, digit, mark,
 * underscore or space, then whitespace runs collapsed (so "U.S." becomes "U . S .").
 */
export function padPunctuation(text: string): string {
  return text.replace(/([^_\s\p{N}\p{L}\p{M}])/gu, ' $1 ').replace(/\s+/g, ' ');
}

/** Round half to even, as tf.round and Python's round do. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * STS-B's target: tf.as_string(tf.round(label * 5) / 5, precision=1). The product is taken in
 * float32 as TF does (its labels are float32); about 15% of STS-B scores (x.5, e.g. 2.5 -> "2.4")
 * land exactly on a tie, where half-to-even rounding matters.
 */
export function stsbTarget(score: number): string {
  return (roundHalfEven(Math.fround(Math.fround(score) * 5)) / 5).toFixed(1);
}

/** The 26 STS-B target strings "0.0", "0.2", ..., "5.0". */
export const STSB_LABELS: readonly string[] = Array.from({ length: 26 }, (_, i) => (i / 5).toFixed(1));

/** T5's MultiRC markup removal (applied to the joined input). */
function removeMarkup(text: string): string {
  return text.replace(/<br>/g, ' ').replace(/<(\/)?b>/g, '');
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * T5's WSC rewrite: " * " around the noun (span1) and " # " around the pronoun (span2), located
 * as the span text after `index` whitespace-separated words. T5 pastes the span into its regex
 * unescaped; we escape it, which differs only for spans with regex metacharacters. As in T5, a
 * span that is not found leaves the text unmarked.
 */
export function markWscSpans(f: Record<string, string>): string {
  const mark = (text: string, span: string, index: number, m: string): string =>
    text.replace(new RegExp(`^((?:\\S+\\s){${index}})(${escapeRegExp(span)})`), `$1${m} $2 ${m}`);
  const i1 = Number(f.span1_index);
  const i2 = Number(f.span2_index);
  const once = mark(f.text ?? '', f.span1_text ?? '', i1, '*');
  // The first mark added two words before span2 if span1 came first.
  return mark(once, f.span2_text ?? '', i2 + (i1 < i2 ? 2 : 0), '#');
}

/** T5's ReCoRD passage rewrite: "@highlight" bullet lines become sentences. */
function recordPassage(passage: string): string {
  return passage.replace(/([.?!"'])\n@highlight\n/g, '$1 ').replace(/\n@highlight\n/g, '. ');
}

/** ReCoRD's entity list, kept as JSON in `fields.entities` since entities may contain ", ". */
export function recordEntities(f: Record<string, string>): string[] {
  return f.entities ? (JSON.parse(f.entities) as string[]) : [];
}

function keyValues(keys: readonly string[], f: Record<string, string>): string[] {
  return keys.flatMap((k) => [`${k}:`, f[k] ?? '']);
}

function inputParts(spec: TaskSpec, ex: Example, style: FormatStyle): string[] {
  const f = ex.fields;
  const prefix = style === 'attempt' ? spec.attemptPrefix : spec.t5Prefix;
  switch (spec.id) {
    case 'superglue-wsc':
      return [prefix, 'text:', markWscSpans(f)];
    case 'superglue-record':
      // ATTEMPT puts its task name in front of T5's own "record query: ..." string.
      return [...(style === 'attempt' ? [prefix] : []), 'record', 'query:', f.query ?? '',
        'entities:', recordEntities(f).join(', '), 'passage:', recordPassage(f.passage ?? '')];
    case 'squad':
      return [...(style === 'attempt' ? [prefix] : []), 'question:', padPunctuation(f.question ?? ''),
        'context:', padPunctuation(f.context ?? '')];
    default: {
      const keys = style === 'attempt' ? spec.attemptKeys : spec.t5Keys ?? Object.keys(f).sort();
      return [prefix, ...keyValues(keys, f)];
    }
  }
}

/** The target string of a label value (class index, STS-B score or answer text). */
export function targetText(task: TaskId, label: number | string, style: FormatStyle): string {
  const spec = taskSpec(task);
  if (spec.kind === 'span') return task === 'squad' ? padPunctuation(String(label)).trim() : String(label);
  if (spec.kind === 'regression') return stsbTarget(Number(label));
  const idx = Number(label);
  if (!Number.isInteger(idx) || idx < 0 || idx >= spec.classes.length) {
    throw new Error(`${task}: label ${JSON.stringify(label)} is not a class index`);
  }
  return style === 'attempt' ? String(idx) : spec.classes[idx]!;
}

/** Formats one example as input text and target text in `style`. */
export function formatExample(ex: Example, style: FormatStyle = DEFAULT_FORMAT): Formatted {
  const spec = taskSpec(ex.task);
  let input = inputParts(spec, ex, style).join(' ');
  if (ex.task === 'superglue-multirc') input = removeMarkup(input);
  // T5 joins SQuAD's padded parts and collapses whitespace once more.
  if (ex.task === 'squad') input = input.replace(/\s+/g, ' ').trim();
  return { input, target: ex.label === null ? null : targetText(ex.task, ex.label, style) };
}

/**
 * The task's valid target strings, index-aligned with its classes (for rank classification and
 * validity checks); for STS-B the 26 rounded scores; null for span tasks (see `candidateTargets`).
 */
export function labelStrings(task: TaskId, style: FormatStyle = DEFAULT_FORMAT): readonly string[] | null {
  const spec = taskSpec(task);
  if (spec.kind === 'span') return null;
  if (spec.kind === 'regression') return STSB_LABELS;
  return style === 'attempt' ? spec.classes.map((_, i) => String(i)) : spec.classes;
}

/** The strings a prediction for this example may take: the label set, or ReCoRD's entities. */
export function candidateTargets(ex: Example, style: FormatStyle = DEFAULT_FORMAT): readonly string[] | null {
  if (ex.task === 'superglue-record') return recordEntities(ex.fields);
  return labelStrings(ex.task, style);
}

/**
 * Maps a generated string back to a label value: the class index, the STS-B score, or the
 * (trimmed) answer text for span tasks. Returns null for text that is not a valid label, which
 * the metrics count as wrong. STS-B accepts any decimal number, as T5's string_to_float does.
 */
export function parseTarget(task: TaskId, text: string, style: FormatStyle = DEFAULT_FORMAT): number | string | null {
  const spec = taskSpec(task);
  const t = text.trim();
  if (spec.kind === 'span') return t;
  if (spec.kind === 'regression') return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : null;
  const idx = labelStrings(task, style)!.indexOf(t);
  return idx >= 0 ? idx : null;
}

/**
 * T5's training expansion for span tasks: one example per gold answer (the target), keeping the
 * group so that evaluation can deduplicate. Other examples pass through unchanged.
 */
export function expandAnswers(examples: readonly Example[]): Example[] {
  return examples.flatMap((ex) =>
    ex.answers && ex.answers.length > 1 ? ex.answers.map((a) => ({ ...ex, label: a })) : [ex]);
}
