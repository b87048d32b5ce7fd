// The pretraining mixture: rates and batch composition, WordNet records and the tasks made from
// them, fixed-length collation, and the per-example loss weights of seq2seq.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { batchComposition, parseMixture, supervisedPairs, unigramEntropy } from '../../src/pretrain/mixture.js';
import { parseWordnetData, synsetText } from '../../src/pretrain/wordnet.js';
import { collate } from '../../src/train/data.js';

const t = suite('pretrain/mixture');

t('mixture rates are normalised and bad entries named', () => {
  assert.equal([...parseMixture(['span=3', 'copy=1'])], [['span', 0.75], ['copy', 0.25]]);
  assert.throws(() => parseMixture(['span']), /'span': expected name=rate/);
  assert.throws(() => parseMixture(['spam=1']), /unknown objective 'spam'/);
  assert.throws(() => parseMixture(['span=1', 'span=2']), /'span' is named twice/);
  assert.throws(() => parseMixture(['span=0']), /above 0/);
  assert.throws(() => parseMixture([]), /at least one/);
});

t('batch composition: largest remainder, every objective at least one row', () => {
  const rates = parseMixture(['span=0.25', 'copy=0.1', 'topic=0.15', 'word=0.15', 'similar=0.1', 'opposite=0.1', 'genre=0.15']);
  const c = batchComposition(rates, 32);
  assert.equal([...c.values()].reduce((a, b) => a + b, 0), 32);
  assert.equal(Object.fromEntries(c), { span: 8, copy: 3, topic: 5, word: 5, similar: 3, opposite: 3, genre: 5 });
  assert.equal(Object.fromEntries(batchComposition(parseMixture(['span=0.98', 'copy=0.02']), 4)), { span: 3, copy: 1 });
  assert.throws(() => batchComposition(rates, 5), /5 rows cannot hold 7 objectives/);
});

// Three adjective synsets (data.adj layout): "good" with antonym "bad", a satellite "superb" similar to "good".
const ADJ = [
  '  1 licence header line',
  '00001 00 a 01 good 0 002 ! 00002 a 0101 & 00003 a 0000 | having desirable qualities; "a good book"',
  '00002 00 a 01 bad 0 001 ! 00001 a 0101 | having undesirable qualities',
  '00003 00 s 02 superb 0 excellent(a) 0 001 & 00001 a 0000 | of surpassing excellence; "a superb actor"',
].join('\n');

t('WordNet lines parse into synsets with pointers, definitions and lexnames', () => {
  const s = parseWordnetData(ADJ, 'data.adj');
  assert.is(s.length, 3);
  assert.equal(s[2]!.lemmas, ['superb', 'excellent']);
  assert.is(s[2]!.key, 'a:00003');
  assert.is(s[2]!.type, 's');
  assert.is(s[0]!.lexname, 'adj.all');
  assert.is(s[0]!.definition, 'having desirable qualities');
  assert.equal(s[0]!.pointers[0], { symbol: '!', target: 'a:00002', sourceWord: 1, targetWord: 1 });
  assert.is(synsetText(s[2]!), 'superb, excellent: of surpassing excellence; "a superb actor"');
  assert.throws(() => parseWordnetData('00001 99 a 01 x 0 000 | y', 'data.adj'), /data\.adj:1: not a WordNet synset line/);
  assert.throws(() => parseWordnetData('00001 00 a 01 x 0 001 ! 0002 | y', 'data.adj'), /data\.adj:1/);
});

t('tasks from synsets: similar, opposite, topic, word', () => {
  const s = parseWordnetData(ADJ);
  assert.equal(supervisedPairs('similar', () => s), [{ input: 'similar: superb', target: 'good' }, { input: 'similar: excellent', target: 'good' }]);
  assert.equal(supervisedPairs('opposite', () => s), [{ input: 'opposite: good', target: 'bad' }, { input: 'opposite: bad', target: 'good' }]);
  assert.equal(supervisedPairs('topic', () => s)[0], { input: 'topic: having desirable qualities', target: 'adj general' });
  assert.equal(supervisedPairs('word', () => s)[2], { input: 'word: of surpassing excellence', target: 'superb' });
});

t('fixed-length collation pads to the lengths and refuses longer rows', () => {
  const h = collate([{ task: 0, input: [5, 6, 1], target: [7, 1] }], { padId: 0, decoderStartId: 0, padMultiple: 1, lengths: { input: 5, target: 4 } });
  assert.equal([h.inputLength, h.targetLength], [5, 4]);
  assert.equal([...h.labels], [7, 1, -100, -100]);
  assert.throws(() => collate([{ task: 0, input: [1, 2, 3, 4, 5, 6], target: [1] }], { padId: 0, decoderStartId: 0, padMultiple: 1, lengths: { input: 5, target: 4 } }),
    /6 input \/ 1 target tokens exceeds the fixed 5 \/ 4/);
});

t('unigram entropy', () => {
  assert.ok(Math.abs(unigramEntropy(Int32Array.from([1, 2, 3, 4])) - Math.log(4)) < 1e-12);
  assert.is(unigramEntropy(Int32Array.from([7, 7, 7])), 0);
});

t.run();
