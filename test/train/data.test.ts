// Tokenising, collating and sampling: shapes, padding, label masking, the decoder shift, the
// per-row prompt index, loss weights, and data-order determinism.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ByT5Tokenizer } from '../../src/io/tokenizer/byt5_tokenizer.js';
import type { Example } from '../../src/tasks/index.js';
import { collate, encodeExamples, encodeText, IGNORE, lossWeights, type Encoded } from '../../src/train/data.js';
import { epochBatches, mixSeed, sampleTasks, TaskStream } from '../../src/train/sampler.js';

const t = suite('train/data');
const tok = new ByT5Tokenizer();

const ex = (task: 'rte' | 'cola', id: number, s1: string, label: number): Example =>
  task === 'rte'
    ? { task, id: String(id), fields: { sentence1: s1, sentence2: 'x' }, label }
    : { task, id: String(id), fields: { sentence: s1 }, label };

t('encodeText cuts long inputs and keeps EOS last', () => {
  assert.equal(encodeText(tok, 'abc', 10), [100, 101, 102, 1]);
  assert.equal(encodeText(tok, 'abcdef', 4), [100, 101, 102, 1]);
  assert.equal(encodeText(tok, '', 4), [1]);
});

t('encodeExamples formats with the task format and tokenises input and target', () => {
  const [e] = encodeExamples(tok, [ex('rte', 0, 'ab', 1)], 3, { format: 'attempt', maxInputLength: 64, maxTargetLength: 8 });
  assert.is(e!.task, 3);
  assert.is(tok.decode(e!.input, { skipSpecial: true }), 'rte sentence1: ab sentence2: x');
  assert.equal(e!.target, [...tok.encode('1', { addEos: false }), 1]);
});

t('collate pads inputs with pad/0-mask, labels with -100, shifts decoder inputs right', () => {
  const rows: Encoded[] = [
    { example: ex('cola', 0, 'a', 0), task: 0, input: [5, 6, 1], target: [7, 1] },
    { example: ex('cola', 1, 'b', 1), task: 1, input: [8, 1], target: [9, 10, 11, 1] },
  ];
  const h = collate(rows, { padId: 0, decoderStartId: 0, padMultiple: 4 });
  assert.is(h.rows, 2);
  assert.is(h.inputLength, 4);
  assert.is(h.targetLength, 4);
  assert.equal([...h.inputIds], [5, 6, 1, 0, 8, 1, 0, 0]);
  assert.equal([...h.attentionMask], [1, 1, 1, 0, 1, 1, 0, 0]);
  assert.equal([...h.labels], [7, 1, IGNORE, IGNORE, 9, 10, 11, 1]);
  assert.equal([...h.decoderInputIds], [0, 7, 1, 0, 0, 9, 10, 11]);
  assert.equal([...h.tasks], [0, 1]);
  assert.equal([...h.promptIndex], [0, 1], 'the prompt index defaults to the task');
  const h3 = collate(rows, { padId: 0, decoderStartId: 0, padMultiple: 3, promptIndex: [4, 2] });
  assert.is(h3.inputLength, 3);
  assert.is(h3.targetLength, 6);
  assert.equal([...h3.promptIndex], [4, 2]);
  assert.throws(() => collate(rows, { padId: 0, decoderStartId: 0, padMultiple: 1, promptIndex: [1] }), /2 rows/);
  assert.throws(() => collate([], { padId: 0, decoderStartId: 0, padMultiple: 1 }), /empty/);
  // Prompt indices are checked on the host (a replayed step runs no host code), when a count is given.
  assert.throws(() => collate(rows, { padId: 0, decoderStartId: 0, padMultiple: 1, promptIndex: [4, 2], promptCount: 4 }), /row 0's prompt index 4 is outside \[0, 4\)/);
  assert.throws(() => collate(rows, { padId: 0, decoderStartId: 0, padMultiple: 1, promptIndex: [0, -1], promptCount: 4 }), /row 1's prompt index -1/);
  assert.equal([...collate(rows, { padId: 0, decoderStartId: 0, padMultiple: 1, promptIndex: [3, 0], promptCount: 4 }).promptIndex], [3, 0]);
  assert.equal([...collate(rows, { padId: 0, decoderStartId: 0, padMultiple: 1, promptIndex: [9, 9], promptCount: null }).promptIndex], [9, 9]);
});

t('lossWeights: per-example token mean or sum, times the row scale, zero on ignored labels', () => {
  const rows: Encoded[] = [
    { example: ex('cola', 0, 'a', 0), task: 0, input: [1], target: [7, 1] },
    { example: ex('cola', 1, 'b', 1), task: 0, input: [1], target: [9, 10, 11, 1] },
  ];
  const h = collate(rows, { padId: 0, decoderStartId: 0, padMultiple: 1 });
  assert.equal([...lossWeights(h, [1, 1], 'mean')], [0.5, 0.5, 0, 0, 0.25, 0.25, 0.25, 0.25]);
  assert.equal([...lossWeights(h, [2, 0.5], 'sum')], [2, 2, 0, 0, 0.5, 0.5, 0.5, 0.5]);
});

t('TaskStream: a permutation per pass, reproducible from saved counters', () => {
  const a = new TaskStream(7, 42, 1);
  const first = Array.from({ length: 7 }, () => a.next());
  assert.equal([...first].sort(), [0, 1, 2, 3, 4, 5, 6]);
  const second = Array.from({ length: 7 }, () => a.next());
  assert.equal([...second].sort(), [0, 1, 2, 3, 4, 5, 6]);
  assert.not.equal(first, second, 'reshuffled each pass');
  const b = new TaskStream(7, 42, 1);
  for (let i = 0; i < 10; i++) b.next();
  const saved = b.save();
  const rest = Array.from({ length: 9 }, () => b.next());
  const c = new TaskStream(7, 42, 1);
  c.load(saved);
  assert.equal(Array.from({ length: 9 }, () => c.next()), rest);
  assert.throws(() => c.load({ epoch: 0, position: 8 }), /invalid state/);
  const pass = (s: TaskStream) => Array.from({ length: 7 }, () => s.next());
  assert.not.equal(pass(new TaskStream(7, 42, 2)), pass(new TaskStream(7, 42, 1)), 'each task stream has its own order');
});

t('sampleTasks: kappa distinct sorted tasks per step, a function of (seed, step)', () => {
  for (let s = 0; s < 50; s++) {
    const k = sampleTasks(12, 6, 7, s);
    assert.is(new Set(k).size, 6);
    assert.ok(k.every((x, i) => x >= 0 && x < 12 && (i === 0 || x > k[i - 1]!)));
    assert.equal(sampleTasks(12, 6, 7, s), k);
  }
  assert.equal(sampleTasks(4, null, 7, 3), [0, 1, 2, 3]);
  const counts = new Array(12).fill(0);
  for (let s = 0; s < 600; s++) for (const x of sampleTasks(12, 6, 1, s)) counts[x]++;
  assert.ok(counts.every((c) => c > 230 && c < 370), `roughly uniform: ${counts.join(',')}`);
});

t('epochBatches cover the data once per epoch; mixSeed separates streams', () => {
  const b = epochBatches(10, 4, 42, 0);
  assert.equal(b.map((x) => x.length), [4, 4, 2]);
  assert.equal(b.flat().sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.not.equal(epochBatches(10, 4, 42, 1), b);
  assert.equal(epochBatches(10, 4, 42, 0), b);
  assert.is.not(mixSeed(1, 2), mixSeed(2, 1));
  assert.is.not(mixSeed(0), mixSeed(0, 0));
});

t.run();
