// The record every reader produces and every format, split and metric consumes, and the one error
// type that all readers throw. Keeping them in one small module lets the readers stay independent.

/** Identifier of every task the project knows (see registry.ts for what each one is). */
export type TaskId =
  | 'cola' | 'sst2' | 'mrpc' | 'qqp' | 'stsb' | 'mnli' | 'qnli' | 'rte' | 'wnli'
  | 'superglue-boolq' | 'superglue-cb' | 'superglue-copa' | 'superglue-multirc' | 'superglue-rte'
  | 'superglue-wic' | 'superglue-wsc' | 'superglue-record'
  | 'squad'
  | 'sentiment' | 'spam';

/**
 * One example as read from an official file.
 * `label` is the class index for classification (the index into the task's class list, as in
 * TFDS / Hugging Face), the score for STS-B, the first gold answer for span tasks, and null for
 * unlabeled (test) rows. `group` ties rows that are scored together (a MultiRC question, a ReCoRD
 * or SQuAD query); `answers` holds every gold answer of span tasks.
 */
export interface Example {
  task: TaskId;
  id: string;
  fields: Record<string, string>;
  label: number | string | null;
  group?: string;
  answers?: string[];
}

/** A malformed input: names the file, the line (or JSON path) and what is wrong. */
export class DataError extends Error {
  readonly file: string;
  readonly line: number | null;
  readonly where: string | null;
  constructor(file: string, where: number | string | null, problem: string) {
    const at = where === null ? '' : typeof where === 'number' ? `:${where}` : ` at ${where}`;
    super(`${file}${at}: ${problem}`);
    this.name = 'DataError';
    this.file = file;
    this.line = typeof where === 'number' ? where : null;
    this.where = typeof where === 'string' ? where : null;
  }
}

/**
 * Splits a text file into lines with 1-based numbers. A final newline ends the last line rather
 * than starting an empty one; a UTF-8 byte order mark (MRPC's files carry one) and CR line ends
 * are removed so that column names and last fields compare cleanly.
 */
export function textLines(text: string): Array<{ line: number; text: string }> {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const parts = body.split('\n');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.map((t, i) => ({ line: i + 1, text: t.endsWith('\r') ? t.slice(0, -1) : t }));
}

/** Whether the examples carry labels: all do, none do, or (an error) some do. */
export function labelPresence(file: string, present: boolean, line: number | string, expect: boolean | undefined): boolean {
  if (expect === undefined) return present;
  if (present !== expect) {
    throw new DataError(file, line, expect ? 'missing label' : 'unexpected label in an unlabeled file');
  }
  return expect;
}
