// Text formats on known examples: the examples in T5's preprocessor docstrings and its paper's
// appendix, ATTEMPT's task-name prefixes with digit labels, and STS-B's half-to-even rounding.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Example, TaskId } from '../../src/tasks/example.js';
import {
  candidateTargets, expandAnswers, formatExample, labelStrings, padPunctuation, parseTarget, stsbTarget, STSB_LABELS,
} from '../../src/tasks/format.js';
import { loadTaskSource } from '../../src/tasks/load.js';
import { TASKS } from '../../src/tasks/registry.js';
import { parseSuperGlueJsonl } from '../../src/tasks/superglue.js';
import { sharedPath, sharedTest } from '../util/shared.js';

const ex = (task: TaskId, fields: Record<string, string>, label: Example['label'], extra: Partial<Example> = {}): Example =>
  ({ task, id: '0', fields, label, ...extra });

const t = suite('tasks: formats');

t('T5 GLUE: benchmark name, sorted keys, word labels', () => {
  // t5.data.preprocessors.glue docstring.
  const qqp = ex('qqp', { question1: 'Why do I easily get bored of my friends?', question2: 'Why do I get bored of my friends so quickly?' }, 1);
  assert.equal(formatExample(qqp, 't5'), {
    input: 'qqp question1: Why do I easily get bored of my friends? question2: Why do I get bored of my friends so quickly?',
    target: 'duplicate',
  });
  // T5 paper, appendix D (MNLI): keys sorted, so hypothesis precedes premise.
  const mnli = ex('mnli', { premise: 'yeah well losing is', hypothesis: 'The St. Louis Cardinals have always won.' }, 2);
  assert.equal(formatExample(mnli, 't5'), { input: 'mnli hypothesis: The St. Louis Cardinals have always won. premise: yeah well losing is', target: 'contradiction' });
  assert.equal(formatExample(ex('rte', { sentence1: 'A.', sentence2: 'B.' }, 1), 't5'), { input: 'rte sentence1: A. sentence2: B.', target: 'not_entailment' });
  assert.is(formatExample(ex('wnli', { sentence1: 'A.', sentence2: 'B.' }, 1), 't5').target, 'entailment');
  assert.is(formatExample(ex('cola', { sentence: 'A.' }, 0), 't5').target, 'unacceptable');
});

t('T5 SuperGLUE: sorted keys unless T5 lists them', () => {
  assert.is(formatExample(ex('superglue-boolq', { question: 'q', passage: 'p' }, 1), 't5').input, 'boolq passage: p question: q');
  assert.equal(formatExample(ex('superglue-cb', { premise: 'p', hypothesis: 'h' }, 2), 't5'), { input: 'cb hypothesis: h premise: p', target: 'neutral' });
  assert.equal(formatExample(ex('superglue-copa', { premise: 'p', choice1: 'a', choice2: 'b', question: 'cause' }, 1), 't5'),
    { input: 'copa choice1: a choice2: b premise: p question: cause', target: 'choice2' });
  assert.is(formatExample(ex('superglue-rte', { premise: 'p', hypothesis: 'h' }, 0), 't5').input, 'rte hypothesis: h premise: p');
  assert.equal(formatExample(ex('superglue-wic', { word: 'w', sentence1: 'a', sentence2: 'b' }, 0), 't5'), { input: 'wic sentence1: a sentence2: b word: w', target: 'False' });
  // MultiRC: T5's explicit order, and the HTML markup removed.
  const mrc = ex('superglue-multirc', { paragraph: '<b>Sent 1: </b>Hi.<br><b>Sent 2: </b>Bye.<br>', question: 'q', answer: 'a' }, 1);
  assert.equal(formatExample(mrc, 't5'), { input: 'multirc question: q answer: a paragraph: Sent 1: Hi. Sent 2: Bye. ', target: 'True' });
});

t('WSC span marks (t5.data.preprocessors.wsc docstring)', () => {
  const wsc = ex('superglue-wsc', { text: 'This is a test sentence .', span1_text: 'test', span1_index: '3', span2_text: 'This', span2_index: '0' }, 0);
  assert.equal(formatExample(wsc, 't5'), { input: 'wsc text: # This # is a * test * sentence .', target: 'False' });
  assert.equal(formatExample(wsc, 'attempt'), { input: 'superglue-wsc.fixed text: # This # is a * test * sentence .', target: '0' });
  // span1 before span2: the pronoun index shifts by the two marks added; metacharacters are literal.
  const w2 = ex('superglue-wsc', { text: 'Mr. Bond saw him .', span1_text: 'Mr.', span1_index: '0', span2_text: 'him', span2_index: '3' }, 1);
  assert.is(formatExample(w2, 't5').input, 'wsc text: * Mr. * Bond saw # him # .');
});

t('WSC spans repaired as in wsc.fixed before marking', () => {
  // "The table" is not in the text; the word at index 5 is lower-case, so the span becomes "the table".
  const line = JSON.stringify({ text: 'The ball crashed right through the table because it was light.', idx: 0, label: false,
    target: { span1_text: 'The table', span1_index: 5, span2_text: 'it.', span2_index: 8 } });
  const [w] = parseSuperGlueJsonl('superglue-wsc', line);
  assert.equal([w!.fields.span1_text, w!.fields.span2_text], ['the table', 'it']);
  assert.is(formatExample(w!, 't5').input, 'wsc text: The ball crashed right through * the table * because # it # was light.');
});

sharedTest(t, 'WSC validation: all but the two rows with wrong indices get both marks', ['data', 'superglue', 'WSC', 'val.jsonl'], () => {
  const rows = loadTaskSource('superglue-wsc', 'dev', { superglue: sharedPath('data', 'superglue')! });
  const unmarked = rows.filter((e) => !/ \* .+ \* /.test(formatExample(e, 't5').input) || !/ # \S+ # /.test(formatExample(e, 't5').input));
  assert.is(unmarked.length, 2);
});

t('ReCoRD (t5.data.preprocessors.record docstring) and answer expansion', () => {
  const rec = ex('superglue-record', { passage: 'This is the passage.', query: 'A @placeholder is a bird.', entities: '["penguin","potato","pigeon"]' },
    'penguin', { answers: ['penguin', 'pigeon'], group: '7' });
  const input = 'record query: A @placeholder is a bird. entities: penguin, potato, pigeon passage: This is the passage.';
  assert.equal(formatExample(rec, 't5'), { input, target: 'penguin' });
  assert.equal(formatExample(rec, 'attempt'), { input: `superglue-record ${input}`, target: 'penguin' });
  assert.equal(expandAnswers([rec]).map((e) => [formatExample(e, 't5').target, e.group]), [['penguin', '7'], ['pigeon', '7']]);
  assert.equal(candidateTargets(rec), ['penguin', 'potato', 'pigeon']);
  const hl = ex('superglue-record', { passage: 'Story.\n@highlight\nPoint one\n@highlight\nPoint two', query: 'q', entities: '[]' }, null);
  assert.is(formatExample(hl, 't5').input, 'record query: q entities:  passage: Story. Point one. Point two');
});

t('SQuAD: punctuation padded as T5 does', () => {
  assert.is(padPunctuation("U.S. don't  stop, François!"), "U . S . don ' t stop , François ! ");
  const sq = ex('squad', { question: 'What is U.S.?', context: 'The U.S. is big.', title: 'T' }, 'U.S.', { answers: ['U.S.'] });
  assert.equal(formatExample(sq, 't5'), { input: 'question: What is U . S . ? context: The U . S . is big .', target: 'U . S .' });
  assert.is(formatExample(sq, 'attempt').input, 'squad question: What is U . S . ? context: The U . S . is big .');
});

t('ATTEMPT: task-name prefix, its own key order, digit labels', () => {
  assert.equal(formatExample(ex('mnli', { premise: 'p', hypothesis: 'h' }, 2), 'attempt'), { input: 'mnli premise: p hypothesis: h', target: '2' });
  assert.equal(formatExample(ex('superglue-cb', { premise: 'p', hypothesis: 'h' }, 1), 'attempt'), { input: 'superglue-cb premise: p hypothesis: h', target: '1' });
  assert.equal(formatExample(ex('superglue-boolq', { question: 'q', passage: 'p' }, 1), 'attempt'), { input: 'superglue-boolq question: q passage: p', target: '1' });
  // ATTEMPT leaves COPA's question out.
  assert.is(formatExample(ex('superglue-copa', { premise: 'p', choice1: 'a', choice2: 'b', question: 'effect' }, 0), 'attempt').input,
    'superglue-copa premise: p choice1: a choice2: b');
  assert.equal(formatExample(ex('sentiment', { review: 'Great.' }, 1), 't5'), { input: 'sentiment review: Great.', target: 'positive' });
  assert.equal(formatExample(ex('spam', { email: 'Win $$$' }, 1), 't5'), { input: 'spam email: Win $$$', target: 'spam' });
  assert.is(formatExample(ex('rte', { sentence1: 'a', sentence2: 'b' }, null), 'attempt').target, null);
});

t('STS-B: round(label * 5) / 5, half to even, one decimal', () => {
  // 1.8 is the T5 docstring's example. Ties: 2.5*5 = 12.5 -> 12 -> 2.4; 3.5*5 = 17.5 -> 18 -> 3.6;
  // 0.5*5 = 2.5 -> 2 -> 0.4; 4.5*5 = 22.5 -> 22 -> 4.4. Non-ties: 4.75*5 = 23.75 -> 24 -> 4.8;
  // 3.1*5 = 15.5 in float32 (15.500000) -> 16 -> 3.2; 0.7*5 = 3.5 in float32 -> 4 -> 0.8.
  const cases: Array<[number, string]> = [[1.8, '1.8'], [2.5, '2.4'], [3.5, '3.6'], [0.5, '0.4'], [4.5, '4.4'],
    [4.75, '4.8'], [3.1, '3.2'], [0.7, '0.8'], [0, '0.0'], [5, '5.0'], [3.8, '3.8']];
  for (const [score, want] of cases) assert.is(stsbTarget(score), want, `stsb ${score}`);
  assert.is(STSB_LABELS.length, 26);
  assert.is(STSB_LABELS[7], '1.4');
  assert.equal(formatExample(ex('stsb', { sentence1: 'Three more US soldiers killed in Afghanistan', sentence2: 'NATO Soldier Killed in Afghanistan' }, 1.8), 't5'),
    { input: 'stsb sentence1: Three more US soldiers killed in Afghanistan sentence2: NATO Soldier Killed in Afghanistan', target: '1.8' });
});

t('label strings and parsing generations', () => {
  assert.equal(labelStrings('rte', 't5'), ['entailment', 'not_entailment']);
  assert.equal(labelStrings('superglue-cb', 'attempt'), ['0', '1', '2']);
  assert.is(labelStrings('squad'), null);
  assert.is(parseTarget('rte', ' not_entailment ', 't5'), 1);
  assert.is(parseTarget('rte', 'neutral', 't5'), null);
  assert.is(parseTarget('rte', '1', 't5'), null);
  assert.is(parseTarget('rte', '1', 'attempt'), 1);
  assert.is(parseTarget('superglue-cb', '3', 'attempt'), null);
  assert.is(parseTarget('stsb', '3.4'), 3.4);
  assert.is(parseTarget('stsb', 'high'), null);
  assert.is(parseTarget('squad', ' Denver '), 'Denver');
  // Every classification task's targets parse back to their class index, in both styles.
  for (const spec of TASKS.filter((s) => s.kind === 'classification')) {
    for (const style of ['t5', 'attempt'] as const) {
      labelStrings(spec.id, style)!.forEach((s, i) => assert.is(parseTarget(spec.id, s, style), i, `${spec.id} ${style} ${s}`));
    }
  }
});

t.run();
