// Reader for SQuAD v1.1 JSON ({version, data: [{title, paragraphs: [{context, qas: [{id, question,
// answers: [{text, answer_start}]}]}]}]}). One example per question; all gold answers are kept,
// since the metric takes the best match over them (dev has three per question).
import { readTextFile } from '../util/text.js';
import { DataError, type Example } from './example.js';
import type { ReadOptions } from './glue.js';

function obj(file: string, path: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DataError(file, path, 'should be an object');
  return v as Record<string, unknown>;
}

function list(file: string, path: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new DataError(file, path, v === undefined ? 'is missing' : 'should be a list');
  return v;
}

function str(file: string, path: string, v: unknown): string {
  if (typeof v !== 'string') throw new DataError(file, path, v === undefined ? 'is missing' : 'should be a string');
  return v;
}

/**
 * Parses the text of a SQuAD v1.1 file. Errors name the JSON path (`data[3].paragraphs[0].qas[2]`)
 * since the file is one JSON document. `label` is the first gold answer (T5's training target).
 */
export function parseSquad(text: string, options: ReadOptions = {}): Example[] {
  const file = options.fileName ?? '<text>';
  let root: unknown;
  try {
    root = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new DataError(file, null, `invalid JSON: ${(err as Error).message}`);
  }
  const out: Example[] = [];
  let labeled = options.expectLabels;
  list(file, 'data', obj(file, '(root)', root).data).forEach((article, ai) => {
    const a = obj(file, `data[${ai}]`, article);
    const title = typeof a.title === 'string' ? a.title : '';
    list(file, `data[${ai}].paragraphs`, a.paragraphs).forEach((para, pi) => {
      const pp = `data[${ai}].paragraphs[${pi}]`;
      const p = obj(file, pp, para);
      const context = str(file, `${pp}.context`, p.context);
      list(file, `${pp}.qas`, p.qas).forEach((qa, qi) => {
        const qp = `${pp}.qas[${qi}]`;
        const q = obj(file, qp, qa);
        const answers = list(file, `${qp}.answers`, q.answers ?? []).map((ans, k) =>
          str(file, `${qp}.answers[${k}].text`, obj(file, `${qp}.answers[${k}]`, ans).text));
        labeled ??= answers.length > 0;
        if (labeled !== answers.length > 0) {
          throw new DataError(file, `${qp}.answers`, labeled ? 'missing answers' : 'unexpected answers in an unlabeled file');
        }
        const id = str(file, `${qp}.id`, q.id);
        out.push({
          task: 'squad', id, group: id,
          fields: { question: str(file, `${qp}.question`, q.question), context, title },
          label: labeled ? answers[0]! : null,
          ...(labeled ? { answers } : {}),
        });
      });
    });
  });
  if (out.length === 0) throw new DataError(file, null, 'no questions');
  return out;
}

/** Reads a SQuAD v1.1 JSON file from disk (see `parseSquad`). */
export function readSquad(path: string, options: ReadOptions = {}): Example[] {
  return parseSquad(readTextFile(path), { ...options, fileName: options.fileName ?? path });
}
