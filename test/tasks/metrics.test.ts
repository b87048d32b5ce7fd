// Each metric on small cases whose expected values are derived by hand in the comments, and
// `evaluate` on every kind of task, including invalid generations.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Example, TaskId } from '../../src/tasks/example.js';
import {
  accuracy, averageRanks, averageScore, evaluate, f1Binary, groupExactMatch, macroF1, matthewsCorrelation,
  normalizeAnswer, pearson, spearman, squadScores,
} from '../../src/tasks/metrics.js';

const close = (got: number, want: number, what: string): void =>
  assert.ok(Math.abs(got - want) < 1e-9, `${what}: got ${got}, want ${want}`);

const m = suite('tasks: metrics');

m('accuracy, binary F1, Matthews on one confusion matrix', () => {
  const gold = [1, 0, 0, 1, 1];
  const pred = [1, 1, 0, 1, 0];
  // TP = 2 (rows 0, 3), FP = 1 (row 1), TN = 1 (row 2), FN = 1 (row 4).
  close(accuracy(pred, gold), 60, 'accuracy = 3 / 5');
  close(f1Binary(pred, gold), 200 / 3, 'F1 = 2TP / (2TP + FP + FN) = 4 / 6');
  // MCC = (TP*TN - FP*FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) = (2 - 1) / sqrt(3*3*2*2) = 1/6.
  close(matthewsCorrelation(pred, gold), 100 / 6, 'MCC');
  close(matthewsCorrelation(gold, gold), 100, 'MCC of a perfect prediction');
  close(matthewsCorrelation([1, 1, 1], [1, 0, 1]), 0, 'MCC with a constant prediction is 0 (sklearn)');
  close(f1Binary([0, 0], [0, 0]), 0, 'F1 without positives is 0 (sklearn)');
});

m('macro F1 over three classes', () => {
  const gold = [0, 0, 1, 1, 2, 2];
  const pred = [0, 1, 1, 1, 2, 0];
  // class 0: TP 1, FP 1 (row 5), FN 1 (row 1) -> 2/4 = 0.5
  // class 1: TP 2, FP 1 (row 1), FN 0        -> 4/5 = 0.8
  // class 2: TP 1, FP 0, FN 1 (row 5)        -> 2/3
  // mean = (0.5 + 0.8 + 2/3) / 3
  close(macroF1(pred, gold, 3), (100 * (0.5 + 0.8 + 2 / 3)) / 3, 'macro F1');
  // A class never predicted nor present still counts (as 0) in the mean, as with sklearn's labels=range(3).
  close(macroF1([0, 1], [0, 1], 3), (100 * 2) / 3, 'absent class counts as 0');
});

m('Pearson and Spearman with ties', () => {
  // x = 1..4, y = 2, 4, 5, 9: deviations (-1.5, -.5, .5, 1.5) and (-3, -1, 0, 4):
  // sxy = 4.5 + .5 + 0 + 6 = 11, sxx = 5, syy = 26 -> r = 11 / sqrt(130).
  close(pearson([1, 2, 3, 4], [2, 4, 5, 9]), (100 * 11) / Math.sqrt(130), 'pearson');
  close(pearson([1, 1, 1], [1, 2, 3]), 0, 'constant side gives 0');
  // Ties share their average rank: x = 1, 2, 2, 3 -> ranks 1, 2.5, 2.5, 4.
  assert.equal(averageRanks([1, 2, 2, 3]), [1, 2.5, 2.5, 4]);
  assert.equal(averageRanks([3, 1, 3, 3]), [3, 1, 3, 3]);
  // Ranks (1, 2.5, 2.5, 4) vs (1, 3, 2, 4): deviations (-1.5, 0, 0, 1.5) and (-1.5, .5, -.5, 1.5):
  // sxy = 4.5, sxx = 4.5, syy = 5 -> rho = 4.5 / sqrt(22.5).
  close(spearman([1, 2, 2, 3], [1, 3, 2, 4]), (100 * 4.5) / Math.sqrt(22.5), 'spearman');
  close(spearman([10, 20, 30], [1, 5, 100]), 100, 'monotone gives 100');
});

m('SQuAD normalisation, F1 and exact match (max over gold answers)', () => {
  assert.is(normalizeAnswer('The  Cat\'s hat!'), 'cats hat');
  assert.is(normalizeAnswer('An apple, a day; theory'), 'apple day theory');
  assert.is(normalizeAnswer('Ángel the\tan'), 'ángel');
  // pred "a cat hat" -> "cat hat"; gold "the cat's hat" -> "cats hat": 1 shared token of 2 and 2,
  // P = R = 1/2, F1 = 1/2; the second gold "Cat hat" matches exactly -> F1 1, EM 1 for question 1.
  // Question 2: pred "Paris" vs gold "London": F1 0, EM 0. Means: F1 (1 + 0)/2, EM (1 + 0)/2.
  const s = squadScores(['a cat hat', 'Paris'], [["the cat's hat", 'Cat hat'], ['London']]);
  close(s.f1, 50, 'f1');
  close(s.em, 50, 'em');
  const one = squadScores(['a cat hat'], [["the cat's hat"]]);
  close(one.f1, 50, 'partial overlap F1');
  close(one.em, 0, 'partial overlap EM');
  // pred "red red car", gold "red car": shared = min counts = 2 tokens; P = 2/3, R = 1, F1 = 0.8.
  close(squadScores(['red red car'], [['red car']]).f1, 80, 'multiset overlap');
});

m('MultiRC exact match per question group', () => {
  // Group a: both right -> 1; group b: one of two wrong -> 0; group c: right -> 1. EM = 2/3.
  close(groupExactMatch([1, 0, 1, 1, 0], [1, 0, 1, 0, 0], ['a', 'a', 'b', 'b', 'c']), 200 / 3, 'em');
});

const ex = (task: TaskId, label: Example['label'], extra: Partial<Example> = {}, id = '0'): Example =>
  ({ task, id, fields: {}, label, ...extra });
const many = (task: TaskId, labels: Example['label'][], extra: (i: number) => Partial<Example> = () => ({})): Example[] =>
  labels.map((l, i) => ex(task, l, extra(i), String(i)));

const e = suite('tasks: evaluate');

e('MRPC: F1 and accuracy, averaged; invalid generations are wrong', () => {
  const examples = many('mrpc', [1, 0, 0, 1]);
  // Predictions: "1" right, "banana" invalid on a 0 -> becomes 1 (a false positive), "0" right,
  // "equivalent" is not an ATTEMPT label -> invalid on a 1 -> becomes 0 (a false negative).
  // TP 1, FP 1, FN 1, TN 1: accuracy 50, F1 = 2 / 4 = 50.
  const r = evaluate('mrpc', ['1', 'banana', '0', 'equivalent'], examples, { format: 'attempt' });
  close(r.metrics.accuracy!, 50, 'accuracy');
  close(r.metrics.f1!, 50, 'f1');
  close(r.score, 50, 'score');
  assert.is(r.invalid, 2);
  // The same generations read as T5 words: only 'equivalent' is valid (class 1, right).
  const t5 = evaluate('mrpc', ['1', 'banana', '0', 'equivalent'], examples, { format: 't5' });
  assert.is(t5.invalid, 3);
  close(t5.metrics.accuracy!, 25, 't5 accuracy: one right of four');
});

e('CoLA: Matthews; class indices accepted as predictions', () => {
  const r = evaluate('cola', [1, 1, 0, 1, 0], many('cola', [1, 0, 0, 1, 1]));
  close(r.metrics.matthews_correlation!, 100 / 6, 'same confusion as above');
  close(r.score, 100 / 6, 'score is the single metric');
});

e('CB: macro F1 + accuracy; an invalid multi-class prediction matches no class', () => {
  // Gold 0, 1, 2, 2; predictions 0 right, invalid (-1, never matches), 2 right, 0 wrong.
  // class 0: TP 1, FP 1, FN 0 -> 2/3; class 1: TP 0 -> 0; class 2: TP 1, FN 1 -> 2/3.
  // macro = (2/3 + 0 + 2/3) / 3 = 4/9; accuracy 2/4.
  const r = evaluate('superglue-cb', ['entailment', 'maybe', 'neutral', 'entailment'], many('superglue-cb', [0, 1, 2, 2]), { format: 't5' });
  close(r.metrics.f1_macro!, 400 / 9, 'macro F1');
  close(r.metrics.accuracy!, 50, 'accuracy');
  close(r.score, (400 / 9 + 50) / 2, 'score');
});

e('STS-B: Pearson and Spearman of parsed scores; unparsable -> -1', () => {
  const r = evaluate('stsb', ['1.0', '2.0', '3.0', '4.0'], many('stsb', [2, 4, 5, 9]));
  close(r.metrics.pearson!, (100 * 11) / Math.sqrt(130), 'pearson');
  close(r.metrics.spearman!, 100, 'spearman (monotone)');
  // 'x' becomes -1: predictions (-1, 2, 3) vs gold (1, 2, 3); ranks equal -> Spearman 100.
  const bad = evaluate('stsb', ['x', '2', '3'], many('stsb', [1, 2, 3]));
  assert.is(bad.invalid, 1);
  close(bad.metrics.spearman!, 100, 'spearman with -1');
});

e('MultiRC: F1 over all answers and per-question exact match', () => {
  const examples = many('superglue-multirc', [1, 0, 1, 0], (i) => ({ group: i < 2 ? 'q1' : 'q2' }));
  // q1 all right; q2: 1 right, 1 -> predicted 1 on gold 0 (FP). TP 2, FP 1, FN 0: F1 = 4/5; EM 1/2.
  const r = evaluate('superglue-multirc', ['True', 'False', 'True', 'True'], examples, { format: 't5' });
  close(r.metrics.f1a!, 80, 'f1a');
  close(r.metrics.em!, 50, 'em');
  close(r.score, 65, 'score');
});

e('ReCoRD: deduplicated by query, best over answers; SQuAD golds padded like T5', () => {
  const a = ex('superglue-record', 'Ann', { group: 'q1', answers: ['Ann', 'Anna'] }, 'q1');
  const b = ex('superglue-record', 'Bob', { group: 'q2', answers: ['Bob'] }, 'q2');
  // The duplicate of q1 (as produced for training) is ignored: q1 "anna" = gold 2 -> 1; q2 wrong -> 0.
  const r = evaluate('superglue-record', ['anna', 'ignored', 'Rob'], [a, { ...a, label: 'Anna' }, b]);
  close(r.metrics.em!, 50, 'em');
  close(r.metrics.f1!, 50, 'f1');
  // "1,000" is padded to "1 , 000" -> normalised "1 000": the prediction "1 , 000" matches, "1000" does not.
  const q = ex('squad', '1,000', { group: 'x', answers: ['1,000'] }, 'x');
  close(evaluate('squad', ['1 , 000'], [q]).metrics.em!, 100, 'padded match');
  close(evaluate('squad', ['1000'], [q]).metrics.em!, 0, 'unpadded is another token');
});

e('errors: length mismatch, unlabeled example, wrong task', () => {
  assert.throws(() => evaluate('rte', ['0'], many('rte', [0, 1])), /1 predictions for 2/);
  assert.throws(() => evaluate('rte', ['0'], many('rte', [null])), /has no label/);
  assert.throws(() => evaluate('rte', ['0'], many('cola', [0])), /belongs to cola/);
  close(averageScore([evaluate('rte', [0], many('rte', [0])), evaluate('rte', [1], many('rte', [0]))]), 50, 'average');
});

m.run();
e.run();
