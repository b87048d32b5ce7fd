// Readers for the GLUE task files exactly as the standard GLUE download script writes them.
// Rows are split on tabs only: the files contain unbalanced quotes (MNLI, QQP, MRPC's `" The ...`)
// that a CSV reader would treat as quoting, which is why Hugging Face reads them with QUOTE_NONE.
// Every data row must have exactly the header's column count; nothing is skipped silently.
import { readTextFile } from '../util/text.js';
import { DataError, labelPresence, textLines, type Example, type TaskId } from './example.js';
import { taskSpec } from './registry.js';

type GlueTask = 'cola' | 'sst2' | 'mrpc' | 'qqp' | 'stsb' | 'mnli' | 'qnli' | 'rte' | 'wnli';
type LabelFormat = 'digit' | 'name' | 'score';

interface GlueLayout {
  /** Our field name (the TFDS / Hugging Face feature name) -> the file's column name. */
  fields: Record<string, string>;
  label: string;
  labelFormat: LabelFormat;
}

const LAYOUTS: Record<GlueTask, GlueLayout> = {
  cola: { fields: { sentence: 'sentence' }, label: 'label', labelFormat: 'digit' },
  sst2: { fields: { sentence: 'sentence' }, label: 'label', labelFormat: 'digit' },
  mrpc: { fields: { sentence1: '#1 String', sentence2: '#2 String' }, label: 'Quality', labelFormat: 'digit' },
  qqp: { fields: { question1: 'question1', question2: 'question2' }, label: 'is_duplicate', labelFormat: 'digit' },
  stsb: { fields: { sentence1: 'sentence1', sentence2: 'sentence2' }, label: 'score', labelFormat: 'score' },
  mnli: { fields: { premise: 'sentence1', hypothesis: 'sentence2' }, label: 'gold_label', labelFormat: 'name' },
  qnli: { fields: { question: 'question', sentence: 'sentence' }, label: 'label', labelFormat: 'name' },
  rte: { fields: { sentence1: 'sentence1', sentence2: 'sentence2' }, label: 'label', labelFormat: 'name' },
  wnli: { fields: { sentence1: 'sentence1', sentence2: 'sentence2' }, label: 'label', labelFormat: 'digit' },
};

// CoLA's train and dev files have no header line (its test file does): source, label, the
// author's original acceptability mark, sentence.
const COLA_COLUMNS = ['source', 'label', 'original_label', 'sentence'];

/** Options for the GLUE and SuperGLUE readers. */
export interface ReadOptions {
  /** Require labels (true) or their absence (false); by default the file's first row decides. */
  expectLabels?: boolean;
  /** Name used in error messages; defaults to the path (or '<text>' for parse functions). */
  fileName?: string;
}

/** Whether a task id is one of the GLUE tasks this reader knows. */
export function isGlueTask(task: TaskId): task is GlueTask {
  return task in LAYOUTS;
}

function parseLabel(task: GlueTask, format: LabelFormat, raw: string, file: string, line: number): number {
  const classes = taskSpec(task).classes;
  if (format === 'score') {
    // Number('') is 0, so require the shape of a decimal number first.
    const v = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    if (!(v >= 0 && v <= 5)) throw new DataError(file, line, `unparsable label '${raw}' (want a score in [0, 5])`);
    return v;
  }
  const idx = format === 'digit'
    ? (/^\d$/.test(raw) ? Number(raw) : -1)
    : classes.indexOf(raw);
  if (idx < 0 || idx >= classes.length) {
    const want = format === 'digit' ? classes.map((_, i) => String(i)) : classes;
    throw new DataError(file, line, `unparsable label '${raw}' (want one of ${want.join(', ')})`);
  }
  return idx;
}

/**
 * Parses the text of one GLUE TSV file (train, dev, dev_matched, dev_mismatched or test) of `task`.
 * Ids are the 0-based data-row numbers, which are the `idx` Hugging Face assigns.
 */
export function parseGlueTsv(task: TaskId, text: string, options: ReadOptions = {}): Example[] {
  if (!isGlueTask(task)) throw new Error(`parseGlueTsv: '${task}' is not a GLUE task`);
  const file = options.fileName ?? '<text>';
  const layout = LAYOUTS[task];
  const lines = textLines(text);
  if (lines.length === 0) throw new DataError(file, null, 'empty file');
  const headerless = task === 'cola' && lines[0]!.text.split('\t')[0] !== 'index';
  const columns = headerless ? COLA_COLUMNS : lines[0]!.text.split('\t');
  const col = (name: string): number => columns.indexOf(name);
  for (const name of Object.values(layout.fields)) {
    if (col(name) < 0) throw new DataError(file, 1, `missing column '${name}' in header [${columns.join(', ')}]`);
  }
  const labelCol = col(layout.label);
  const hasLabels = labelPresence(file, labelCol >= 0, 1, options.expectLabels);
  const out: Example[] = [];
  for (const { line, text: row } of headerless ? lines : lines.slice(1)) {
    const cells = row.split('\t');
    if (cells.length !== columns.length) {
      throw new DataError(file, line, `expected ${columns.length} tab-separated columns, found ${cells.length}`);
    }
    const fields: Record<string, string> = {};
    for (const [key, name] of Object.entries(layout.fields)) fields[key] = cells[col(name)]!;
    const label = hasLabels ? parseLabel(task, layout.labelFormat, cells[labelCol]!, file, line) : null;
    out.push({ task, id: String(out.length), fields, label });
  }
  return out;
}

/** Reads one GLUE TSV file of `task` from disk (see `parseGlueTsv`). */
export function readGlueTsv(task: TaskId, path: string, options: ReadOptions = {}): Example[] {
  return parseGlueTsv(task, readTextFile(path), { ...options, fileName: options.fileName ?? path });
}
