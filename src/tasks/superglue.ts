// Readers for the official SuperGLUE JSONL files (one JSON object per line). MultiRC is flattened
// to one example per answer option and ReCoRD to one example per query, which is how TFDS and
// Hugging Face present them and therefore how the ATTEMPT protocol counts and splits them.
import { readTextFile } from '../util/text.js';
import { DataError, labelPresence, textLines, type Example, type TaskId } from './example.js';
import type { ReadOptions } from './glue.js';
import { taskSpec } from './registry.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Field access that turns a missing or mistyped field into a DataError naming file and line. */
class Row {
  constructor(readonly file: string, readonly line: number, readonly obj: JsonObject, readonly path = '') {}

  private fail(key: string, what: string): never {
    throw new DataError(this.file, this.line, `field '${this.path}${key}' ${what}`);
  }
  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }
  str(key: string): string {
    const v = this.obj[key];
    if (v === undefined || v === null) this.fail(key, 'is missing');
    if (typeof v !== 'string') this.fail(key, `should be a string, got ${JSON.stringify(v)}`);
    return v;
  }
  int(key: string): number {
    const v = this.obj[key];
    if (v === undefined || v === null) this.fail(key, 'is missing');
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, `should be an integer, got ${JSON.stringify(v)}`);
    return v;
  }
  bool(key: string): boolean {
    const v = this.obj[key];
    if (typeof v !== 'boolean') this.fail(key, v === undefined ? 'is missing' : `should be true/false, got ${JSON.stringify(v)}`);
    return v;
  }
  sub(key: string): Row {
    const v = this.obj[key];
    if (v === undefined || v === null) this.fail(key, 'is missing');
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(key, 'should be an object');
    return new Row(this.file, this.line, v, `${this.path}${key}.`);
  }
  list(key: string): Row[] {
    const v = this.obj[key];
    if (v === undefined || v === null) this.fail(key, 'is missing');
    if (!Array.isArray(v)) this.fail(key, 'should be a list');
    return v.map((item, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) this.fail(`${key}[${i}]`, 'should be an object');
      return new Row(this.file, this.line, item, `${this.path}${key}[${i}].`);
    });
  }
  /** A class label given as a name from `classes`, a boolean (False/True) or an index. */
  label(key: string, classes: readonly string[]): number {
    const v = this.obj[key];
    if (v === undefined || v === null) this.fail(key, 'is missing');
    const idx = typeof v === 'boolean' ? Number(v)
      : typeof v === 'string' ? classes.indexOf(v)
      : typeof v === 'number' && Number.isInteger(v) ? v : -1;
    if (idx < 0 || idx >= classes.length) this.fail(key, `has unparsable label ${JSON.stringify(v)} (want one of ${classes.join(', ')})`);
    return idx;
  }
}

type SuperGlueTask = 'superglue-boolq' | 'superglue-cb' | 'superglue-copa' | 'superglue-multirc'
  | 'superglue-rte' | 'superglue-wic' | 'superglue-wsc' | 'superglue-record';

/** Builds the examples of one line; `labeled` says whether the label must be read. */
type LineReader = (r: Row, task: SuperGlueTask, labeled: boolean) => Example[];

function simple(keys: readonly string[]): LineReader {
  return (r, task, labeled) => {
    const fields: Record<string, string> = {};
    for (const k of keys) fields[k] = r.str(k);
    return [{ task, id: String(r.int('idx')), fields, label: labeled ? r.label('label', taskSpec(task).classes) : null }];
  };
}

/**
 * The span repair that turns WSC into TFDS / Hugging Face "wsc.fixed" (which T5 and ATTEMPT
 * use): a span text that is not in the text gets the case of the word at its index, loses a
 * trailing period and has newlines made spaces. Two spans with intervening words stay broken.
 */
function fixWscSpan(text: string, span: string, index: number): string {
  if (text.includes(span) || span === 'Kamenev and Zinoviev' || span === 'Kamenev, Zinoviev, and Stalin') return span;
  const first = text.split(/\s+/)[index] ?? '';
  const cased = first[0] !== undefined && first[0] !== first[0].toUpperCase()
    ? span.charAt(0).toLowerCase() + span.slice(1)
    : span.charAt(0).toUpperCase() + span.slice(1);
  return cased.replace(/\.+$/, '').replace(/\n/g, ' ');
}

const readWsc: LineReader = (r, task, labeled) => {
  const t = r.sub('target');
  const text = r.str('text');
  const i1 = t.int('span1_index');
  let i2 = t.int('span2_index');
  const span2 = t.str('span2_text');
  // The reference fix also moves this one pronoun's index (its text fix is a no-op there).
  if (span2.includes('theyscold') && !text.includes(span2)) i2 = 10;
  const fields = {
    text,
    span1_text: fixWscSpan(text, t.str('span1_text'), i1), span1_index: String(i1),
    span2_text: fixWscSpan(text, span2, i2), span2_index: String(i2),
  };
  return [{ task, id: String(r.int('idx')), fields, label: labeled ? r.label('label', taskSpec(task).classes) : null }];
};

const readMultiRc: LineReader = (r, task, labeled) => {
  const p = r.int('idx');
  const passage = r.sub('passage');
  const paragraph = passage.str('text');
  const out: Example[] = [];
  for (const q of passage.list('questions')) {
    const group = `${p}-${q.int('idx')}`;
    const question = q.str('question');
    for (const a of q.list('answers')) {
      out.push({
        task, id: `${group}-${a.int('idx')}`, group,
        fields: { paragraph, question, answer: a.str('text') },
        label: labeled ? a.label('label', taskSpec(task).classes) : null,
      });
    }
  }
  return out;
};

/** Sorted distinct strings, as TFDS stores ReCoRD's entities and answers (entities as a JSON list). */
const sortedUnique = (xs: string[]): string[] => [...new Set(xs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

const readRecord: LineReader = (r, task, labeled) => {
  const passage = r.sub('passage');
  const text = passage.str('text');
  const entities = sortedUnique(passage.list('entities').map((e) => {
    const start = e.int('start');
    const end = e.int('end');
    // ReCoRD's spans are inclusive of `end`.
    if (start < 0 || end < start || end >= text.length) {
      throw new DataError(r.file, r.line, `entity span [${start}, ${end}] outside the passage (${text.length} chars)`);
    }
    return text.slice(start, end + 1);
  }));
  return r.list('qas').map((q) => {
    const id = String(q.int('idx'));
    const answers = labeled ? sortedUnique(q.list('answers').map((a) => a.str('text'))) : [];
    if (labeled && answers.length === 0) throw new DataError(r.file, r.line, `query ${id} has no answers`);
    return {
      task, id, group: id,
      fields: { passage: text, query: q.str('query'), entities: JSON.stringify(entities) },
      label: labeled ? answers[0]! : null,
      ...(labeled ? { answers } : {}),
    };
  });
};

/** Each task's line reader and, where the label is not a top-level `label`, how to see one. */
const READERS: Record<SuperGlueTask, { reader: LineReader; labeled?: (r: Row) => boolean }> = {
  'superglue-boolq': { reader: simple(['question', 'passage']) },
  'superglue-cb': { reader: simple(['premise', 'hypothesis']) },
  'superglue-copa': { reader: simple(['premise', 'choice1', 'choice2', 'question']) },
  'superglue-rte': { reader: simple(['premise', 'hypothesis']) },
  'superglue-wic': { reader: simple(['word', 'sentence1', 'sentence2']) },
  'superglue-wsc': { reader: readWsc },
  'superglue-multirc': {
    reader: readMultiRc,
    labeled: (r) => r.sub('passage').list('questions').some((q) => q.list('answers').some((a) => a.has('label'))),
  },
  'superglue-record': { reader: readRecord, labeled: (r) => r.list('qas').some((q) => q.has('answers')) },
};

/** Whether a task id is one of the SuperGLUE tasks this reader knows. */
export function isSuperGlueTask(task: TaskId): task is SuperGlueTask {
  return task in READERS;
}

/**
 * Parses the text of one SuperGLUE JSONL file of `task`. Ids are the files' `idx` values
 * (MultiRC: "paragraph-question-answer", grouped by "paragraph-question"; ReCoRD: the query idx).
 */
export function parseSuperGlueJsonl(task: TaskId, text: string, options: ReadOptions = {}): Example[] {
  if (!isSuperGlueTask(task)) throw new Error(`parseSuperGlueJsonl: '${task}' is not a SuperGLUE task`);
  const file = options.fileName ?? '<text>';
  const { reader, labeled: hasLabel = (r: Row) => r.has('label') } = READERS[task];
  let labeled = options.expectLabels;
  const out: Example[] = [];
  for (const { line, text: raw } of textLines(text)) {
    if (raw.trim() === '') throw new DataError(file, line, 'empty line');
    let value: Json;
    try {
      value = JSON.parse(raw) as Json;
    } catch (err) {
      throw new DataError(file, line, `invalid JSON: ${(err as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DataError(file, line, 'expected a JSON object');
    }
    const row = new Row(file, line, value);
    labeled = labelPresence(file, hasLabel(row), line, labeled);
    for (const ex of reader(row, task, labeled)) out.push(ex);
  }
  if (out.length === 0) throw new DataError(file, null, 'no examples');
  return out;
}

/** Reads one SuperGLUE JSONL file of `task` from disk (see `parseSuperGlueJsonl`). */
export function readSuperGlueJsonl(task: TaskId, path: string, options: ReadOptions = {}): Example[] {
  return parseSuperGlueJsonl(task, readTextFile(path), { ...options, fileName: options.fileName ?? path });
}
