// Where a task's official files live and which reader parses them: the one place that maps a
// (task, source) pair to examples, so that callers never pick readers by hand.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadSentiment, loadSpamAssassin } from './demo_data.js';
import type { Example, TaskId } from './example.js';
import { readGlueTsv, type ReadOptions } from './glue.js';
import { taskSpec, type SourceName } from './registry.js';
import { readSquad } from './squad.js';
import { readSuperGlueJsonl } from './superglue.js';

/**
 * Data roots: `glue` holds CoLA/, SST-2/, MNLI/, ... as the GLUE script writes them; `superglue`
 * holds BoolQ/, CB/, ... with train/val/test.jsonl; `squad` holds train-v1.1.json, dev-v1.1.json.
 */
export interface DataRoots {
  glue?: string;
  superglue?: string;
  squad?: string;
}

/** The path of a task's source file under `roots` (the file need not exist). */
export function taskFilePath(task: TaskId, source: SourceName, roots: DataRoots): string {
  const spec = taskSpec(task);
  const name = spec.files[source];
  if (name === undefined || spec.benchmark === 'demo') {
    throw new Error(`${task} has no '${source}' file (it has: ${Object.keys(spec.files).join(', ')})`);
  }
  const root = roots[spec.benchmark];
  if (!root) throw new Error(`${task}: no data root given for ${spec.benchmark}`);
  return join(root, spec.dir, name);
}

/**
 * Reads one source of a task. Train and dev sources must be labeled; test files must not be.
 * Demo tasks ignore `roots` and read from their npm packages (source 'all').
 */
export function loadTaskSource(task: TaskId, source: SourceName, roots: DataRoots = {}): Example[] {
  const spec = taskSpec(task);
  if (spec.benchmark === 'demo') {
    if (source !== 'all') throw new Error(`${task} has only the source 'all'`);
    return task === 'sentiment' ? loadSentiment() : loadSpamAssassin();
  }
  const path = taskFilePath(task, source, roots);
  if (!existsSync(path)) throw new Error(`${task}: ${path} does not exist`);
  const options: ReadOptions = { expectLabels: source !== 'test' };
  if (spec.benchmark === 'glue') return readGlueTsv(task, path, options);
  if (spec.benchmark === 'superglue') return readSuperGlueJsonl(task, path, options);
  return readSquad(path, options);
}
