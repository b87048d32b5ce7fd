// GLUE / SuperGLUE / SQuAD readers: every row of every real file parses with the counts of
// ../shared/data/SOURCES.md, and malformed input fails with the file, the line and the problem.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DataError, type Example, type TaskId } from '../../src/tasks/example.js';
import { parseGlueTsv } from '../../src/tasks/glue.js';
import { loadTaskSource, type DataRoots } from '../../src/tasks/load.js';
import type { SourceName } from '../../src/tasks/registry.js';
import { parseSquad } from '../../src/tasks/squad.js';
import { parseSuperGlueJsonl } from '../../src/tasks/superglue.js';
import { sharedPath, sharedTest } from '../util/shared.js';

const roots = (): DataRoots => ({ glue: sharedPath('data', 'glue') ?? '', superglue: sharedPath('data', 'superglue') ?? '' });

/** Asserts that `fn` throws a DataError whose message names `file`, `line` and contains `what`. */
function throwsDataError(fn: () => unknown, file: string, line: number | null, what: string): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, DataError);
    const e = err as DataError;
    assert.is(e.file, file);
    assert.is(e.line, line);
    assert.ok(e.message.startsWith(line === null ? file : `${file}:${line}:`), e.message);
    assert.ok(e.message.includes(what), `'${e.message}' should mention '${what}'`);
    return;
  }
  assert.unreachable(`expected a DataError about ${what}`);
}

const real = suite('tasks: real files');

// [task, source, rows, labeled] from SOURCES.md (GLUE test files: their line counts minus the header).
const FILES: Array<[TaskId, SourceName, number, boolean]> = [
  ['cola', 'train', 8551, true], ['cola', 'dev', 1043, true], ['cola', 'test', 1063, false],
  ['sst2', 'train', 67349, true], ['sst2', 'dev', 872, true], ['sst2', 'test', 1821, false],
  ['stsb', 'train', 5749, true], ['stsb', 'dev', 1500, true], ['stsb', 'test', 1379, false],
  ['rte', 'train', 2490, true], ['rte', 'dev', 277, true], ['rte', 'test', 3000, false],
  ['mrpc', 'train', 3668, true], ['mrpc', 'dev', 408, true], ['mrpc', 'test', 1725, false],
  ['qnli', 'dev', 5463, true], ['qnli', 'test', 5463, false],
  ['wnli', 'train', 635, true], ['wnli', 'dev', 71, true], ['wnli', 'test', 146, false],
  ['superglue-boolq', 'dev', 3270, true], ['superglue-cb', 'dev', 56, true], ['superglue-copa', 'dev', 100, true],
  ['superglue-rte', 'dev', 277, true], ['superglue-wsc', 'dev', 104, true], ['superglue-wic', 'dev', 638, true],
  // MultiRC's 83 validation paragraphs hold 953 questions and 4848 answer options.
  ['superglue-multirc', 'dev', 4848, true],
  ['superglue-boolq', 'train', 32, true], ['superglue-cb', 'train', 32, true], ['superglue-record', 'train', 32, true],
];

const DIRS: Partial<Record<TaskId, string>> = {
  cola: 'glue/CoLA', sst2: 'glue/SST-2', stsb: 'glue/STS-B', rte: 'glue/RTE', mrpc: 'glue/MRPC', qnli: 'glue/QNLI',
  wnli: 'glue/WNLI', 'superglue-boolq': 'superglue/BoolQ', 'superglue-cb': 'superglue/CB', 'superglue-copa': 'superglue/COPA',
  'superglue-rte': 'superglue/RTE', 'superglue-wsc': 'superglue/WSC', 'superglue-wic': 'superglue/WiC',
  'superglue-multirc': 'superglue/MultiRC', 'superglue-record': 'superglue/ReCoRD',
};

function checkExamples(task: TaskId, ex: Example[], labeled: boolean): void {
  const ids = new Set(ex.map((e) => e.id));
  assert.is(ids.size, ex.length, `${task}: ids are unique`);
  for (const e of ex) {
    assert.is(e.task, task);
    if (!labeled) assert.is(e.label, null);
    else if (task === 'stsb') assert.ok(typeof e.label === 'number' && e.label >= 0 && e.label <= 5);
    else if (task !== 'superglue-record') assert.ok(Number.isInteger(e.label));
    for (const [k, v] of Object.entries(e.fields)) assert.type(v, 'string', `${task} ${e.id}.${k}`);
  }
}

for (const [task, source, rows, labeled] of FILES) {
  const file = source === 'dev' && task.startsWith('superglue') ? 'val' : source;
  const ext = task.startsWith('superglue') ? 'jsonl' : 'tsv';
  sharedTest(real, `${task} ${source}: ${rows} rows`, ['data', ...DIRS[task]!.split('/'), `${file}.${ext}`], () => {
    const ex = loadTaskSource(task, source, roots());
    assert.is(ex.length, rows);
    checkExamples(task, ex, labeled);
  });
}

sharedTest(real, 'known rows: label mapping and column quirks', ['data', 'glue', 'MRPC', 'dev.tsv'], () => {
  const mrpc = loadTaskSource('mrpc', 'dev', roots());
  // First row (after the BOM-prefixed header): Quality 1 and an unbalanced quote kept verbatim.
  assert.is(mrpc[0]!.label, 1);
  assert.ok(mrpc[0]!.fields.sentence2!.startsWith('" The foodservice pie business'));
  const rte = loadTaskSource('rte', 'dev', roots());
  assert.is(rte[0]!.label, 1, 'not_entailment is class 1');
  assert.is(rte[1]!.label, 0, 'entailment is class 0');
  const cola = loadTaskSource('cola', 'dev', roots());
  assert.equal(cola[0]!.fields, { sentence: 'The sailors rode the breeze clear of the rocks.' });
  const stsb = loadTaskSource('stsb', 'dev', roots());
  assert.is(stsb[1]!.label, 4.75);
  const cb = loadTaskSource('superglue-cb', 'dev', roots());
  assert.is(cb[0]!.label, 1, 'contradiction is CB class 1');
  const mrc = loadTaskSource('superglue-multirc', 'dev', roots());
  assert.is(mrc[0]!.id, '0-0-0');
  assert.is(mrc[0]!.group, '0-0');
  assert.is(new Set(mrc.map((e) => e.group)).size, 953);
  const rec = loadTaskSource('superglue-record', 'train', roots());
  // 32 passages with one query each; every gold answer is one of the passage's entities.
  for (const e of rec) {
    const entities = JSON.parse(e.fields.entities!) as string[];
    for (const a of e.answers!) assert.ok(entities.includes(a), `${e.id}: answer '${a}' is an entity`);
  }
});

real.run();

const bad = suite('tasks: malformed input');

bad('GLUE: wrong column count names file and line', () => {
  const text = 'index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\ta\tb\n';
  throwsDataError(() => parseGlueTsv('rte', text, { fileName: 'RTE/dev.tsv' }), 'RTE/dev.tsv', 3, 'expected 4 tab-separated columns, found 3');
});

bad('GLUE: unparsable labels', () => {
  throwsDataError(() => parseGlueTsv('rte', 'index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentails\n', { fileName: 'f' }), 'f', 2, "unparsable label 'entails'");
  throwsDataError(() => parseGlueTsv('sst2', 'sentence\tlabel\nok\t1\nbad\t2\n', { fileName: 'f' }), 'f', 3, "unparsable label '2'");
  const stsbHeader = 'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore';
  throwsDataError(() => parseGlueTsv('stsb', `${stsbHeader}\n0\tg\tf\ty\to\ts\ts\ta\tb\t\n`, { fileName: 'f' }), 'f', 2, "unparsable label ''");
  throwsDataError(() => parseGlueTsv('stsb', `${stsbHeader}\n0\tg\tf\ty\to\ts\ts\ta\tb\t5.5\n`, { fileName: 'f' }), 'f', 2, "unparsable label '5.5'");
  throwsDataError(() => parseGlueTsv('cola', 'gj04\t1\t\tfine\ngj04\tx\t\tbad\n', { fileName: 'f' }), 'f', 2, "unparsable label 'x'");
});

bad('GLUE: missing column, missing label, empty line', () => {
  throwsDataError(() => parseGlueTsv('qnli', 'index\tquestion\tlabel\n', { fileName: 'f' }), 'f', 1, "missing column 'sentence'");
  throwsDataError(() => parseGlueTsv('rte', 'index\tsentence1\tsentence2\n0\ta\tb\n', { fileName: 'f', expectLabels: true }), 'f', 1, 'missing label');
  throwsDataError(() => parseGlueTsv('sst2', 'sentence\tlabel\nok\t1\n\nok\t0\n', { fileName: 'f' }), 'f', 3, 'found 1');
});

bad('GLUE: quotes are data, CR line ends and BOM are not', () => {
  const ex = parseGlueTsv('mrpc', '\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n1\t1\t2\t" a\tb "\r\n');
  assert.equal(ex, [{ task: 'mrpc', id: '0', fields: { sentence1: '" a', sentence2: 'b "' }, label: 1 }]);
  // CoLA without header and with a final line lacking its newline, as in the real dev file.
  assert.is(parseGlueTsv('cola', 'gj04\t1\t\tA.\ngj04\t0\t*\tB.').length, 2);
});

bad('SuperGLUE: bad JSON, missing field, bad label, mixed labels', () => {
  throwsDataError(() => parseSuperGlueJsonl('superglue-cb', '{"premise": "p", "hypothesis": "h", "label": "neutral", "idx": 0}\n{oops\n', { fileName: 'CB/val.jsonl' }), 'CB/val.jsonl', 2, 'invalid JSON');
  throwsDataError(() => parseSuperGlueJsonl('superglue-cb', '{"premise": "p", "label": "neutral", "idx": 0}\n', { fileName: 'f' }), 'f', 1, "field 'hypothesis' is missing");
  throwsDataError(() => parseSuperGlueJsonl('superglue-cb', '{"premise": "p", "hypothesis": "h", "label": "maybe", "idx": 0}\n', { fileName: 'f' }), 'f', 1, 'unparsable label "maybe"');
  throwsDataError(() => parseSuperGlueJsonl('superglue-boolq', '{"question": "q", "passage": "p", "label": true, "idx": 0}\n{"question": "q", "passage": "p", "idx": 1}\n', { fileName: 'f' }), 'f', 2, 'missing label');
  throwsDataError(() => parseSuperGlueJsonl('superglue-wsc', '{"text": "t", "target": {"span1_index": 0, "span1_text": "t", "span2_index": 0}, "idx": 0, "label": true}\n', { fileName: 'f' }), 'f', 1, "field 'target.span2_text' is missing");
  throwsDataError(() => parseSuperGlueJsonl('superglue-multirc', '{"idx": 0, "passage": {"text": "p", "questions": [{"question": "q", "idx": 0, "answers": [{"text": "a", "idx": 0, "label": 1}, {"text": "b", "idx": 1, "label": 3}]}]}}\n', { fileName: 'f' }), 'f', 1, "field 'passage.questions[0].answers[1].label' has unparsable label 3");
  throwsDataError(() => parseSuperGlueJsonl('superglue-record', '{"idx": 0, "passage": {"text": "abc", "entities": [{"start": 1, "end": 5}]}, "qas": []}\n', { fileName: 'f' }), 'f', 1, 'entity span [1, 5] outside the passage');
  throwsDataError(() => parseSuperGlueJsonl('superglue-rte', '{"premise": "p", "hypothesis": "h", "label": "entailment", "idx": 0}\n\n', { fileName: 'f' }), 'f', 2, 'empty line');
});

bad('SuperGLUE: MultiRC flattening and ReCoRD entities / answers', () => {
  const mrc = parseSuperGlueJsonl('superglue-multirc', '{"idx": 4, "passage": {"text": "P", "questions": [{"question": "Q1", "idx": 7, "answers": [{"text": "A", "idx": 0, "label": 1}, {"text": "B", "idx": 1, "label": 0}]}, {"question": "Q2", "idx": 8, "answers": [{"text": "C", "idx": 2, "label": 0}]}]}}\n');
  assert.equal(mrc.map((e) => [e.id, e.group, e.fields.answer, e.label]), [['4-7-0', '4-7', 'A', 1], ['4-7-1', '4-7', 'B', 0], ['4-8-2', '4-8', 'C', 0]]);
  const text = 'Bob met Ann, then Bob left.';
  const rec = parseSuperGlueJsonl('superglue-record', JSON.stringify({
    idx: 1, passage: { text, entities: [{ start: 18, end: 20 }, { start: 8, end: 10 }, { start: 0, end: 2 }] },
    qas: [{ idx: 9, query: '@placeholder left.', answers: [{ start: 18, end: 20, text: 'Bob' }, { start: 0, end: 2, text: 'Bob' }] }],
  }));
  // Entities: distinct and sorted (TFDS); end offsets inclusive; answers deduplicated.
  assert.equal(rec, [{ task: 'superglue-record', id: '9', group: '9', fields: { passage: text, query: '@placeholder left.', entities: '["Ann","Bob"]' }, label: 'Bob', answers: ['Bob'] }]);
});

bad('SQuAD v1.1: questions with all answers; errors name the JSON path', () => {
  const doc = { version: '1.1', data: [{ title: 'T', paragraphs: [{ context: 'C', qas: [
    { id: 'q1', question: 'Q?', answers: [{ text: 'x', answer_start: 0 }, { text: 'y', answer_start: 0 }] },
  ] }] }] };
  assert.equal(parseSquad(JSON.stringify(doc)), [{ task: 'squad', id: 'q1', group: 'q1', fields: { question: 'Q?', context: 'C', title: 'T' }, label: 'x', answers: ['x', 'y'] }]);
  delete (doc.data[0]!.paragraphs[0]!.qas[0] as { question?: string }).question;
  try {
    parseSquad(JSON.stringify(doc), { fileName: 'dev-v1.1.json' });
    assert.unreachable('should throw');
  } catch (err) {
    assert.is((err as Error).message, 'dev-v1.1.json at data[0].paragraphs[0].qas[0].question: is missing');
  }
});

bad('loadTaskSource: unknown sources and roots are named', () => {
  assert.throws(() => loadTaskSource('sentiment', 'train'), /only the source 'all'/);
  assert.throws(() => loadTaskSource('rte', 'dev_matched', { glue: '/x' }), /rte has no 'dev_matched' file/);
  assert.throws(() => loadTaskSource('squad', 'dev', {}), /no data root given for squad/);
  assert.throws(() => loadTaskSource('rte', 'dev', { glue: '/nonexistent' }), /\/nonexistent\/RTE\/dev\.tsv does not exist/);
});

bad.run();
