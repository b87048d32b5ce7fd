// T5 span corruption against T5's own definitions: random_spans_helper's lengths (incl. the
// 512 -> 568 / 114 sizes every T5 recipe quotes), noise masks with exactly round(n * density)
// noise tokens in round(noise / mean span) spans that alternate non-noise / noise and start with
// non-noise, all segmentations equally likely, determinism by seed, and sentinel placement on a
// hand-worked example.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { maskedSpansToSentinels, randomSpansHelper, randomSpansNoiseMask, roundHalfEven, spanCorrupt } from '../../src/pretrain/span_corruption.js';

const t = suite('pretrain/span_corruption');

/** Run lengths of a mask: [noise?, length] pairs in order. */
function runs(mask: readonly boolean[]): Array<[boolean, number]> {
  const out: Array<[boolean, number]> = [];
  for (const m of mask) {
    const last = out[out.length - 1];
    if (last && last[0] === m) last[1]++;
    else out.push([m, 1]);
  }
  return out;
}

t('round half to even, as tf.round and Python', () => {
  assert.equal([0.5, 1.5, 2.5, 3.5, 2.4, 2.6, 7].map(roundHalfEven), [0, 2, 2, 4, 2, 3, 7]);
});

t('random_spans_helper lengths', () => {
  assert.equal(randomSpansHelper(512, 0.15, 3), { tokensLength: 568, inputsLength: 512, targetsLength: 114 });
  // 141 raw tokens: 21 noise in 7 spans -> 120 + 7 + EOS = 128 inputs, 21 + 7 + EOS = 29 targets; 142 would give 129.
  assert.equal(randomSpansHelper(128, 0.15, 3), { tokensLength: 141, inputsLength: 128, targetsLength: 29 });
  assert.throws(() => randomSpansHelper(1, 0.15, 3), /inputsLength/);
  assert.throws(() => randomSpansHelper(64, 0, 3), /noise density/);
});

t('masks: noise count, span count, alternation starting with non-noise, ending with noise', () => {
  for (const n of [1, 2, 3, 10, 20, 37, 141, 568]) {
    for (let seed = 0; seed < 20; seed++) {
      const mask = randomSpansNoiseMask(n, 0.15, 3, seed);
      assert.is(mask.length, n);
      if (n < 2) continue;
      const noise = Math.min(Math.max(roundHalfEven(Math.fround(n * Math.fround(0.15))), 1), n - 1);
      const spans = Math.max(roundHalfEven(noise / 3), 1);
      const r = runs(mask);
      assert.is(mask.filter(Boolean).length, noise, `n ${n} seed ${seed}: noise tokens`);
      assert.is(r.filter(([m]) => m).length, spans, `n ${n} seed ${seed}: noise spans`);
      assert.is(r[0]![0], false, 'starts with non-noise');
      assert.is(r[r.length - 1]![0], true, 'ends with noise (random_roll = false)');
    }
  }
});

t('hand-computed masks where only one segmentation exists', () => {
  // n = 10: round(1.5) = 2 noise tokens, round(2/3) = 1 span: the last two tokens, whatever the seed.
  for (const seed of [1, 2, 3]) assert.equal(randomSpansNoiseMask(10, 0.15, 3, seed), [...new Array(8).fill(false), true, true]);
  // n = 20: 3 noise tokens in 1 span.
  assert.equal(randomSpansNoiseMask(20, 0.15, 3, 9), [...new Array(17).fill(false), true, true, true]);
  // n = 1: computed as 2 (one noise, one non-noise) and cut to the first token.
  assert.equal(randomSpansNoiseMask(1, 0.15, 3, 0), [false]);
});

t('mean noise span length and density over many masks; every segmentation about equally likely', () => {
  let noise = 0, spans = 0, total = 0;
  for (let seed = 0; seed < 300; seed++) {
    const mask = randomSpansNoiseMask(141, 0.15, 3, seed);
    total += mask.length;
    noise += mask.filter(Boolean).length;
    spans += runs(mask).filter(([m]) => m).length;
  }
  assert.ok(Math.abs(noise / total - 0.15) < 0.005, `density ${noise / total}`);
  assert.is(noise / spans, 3);
  // n = 40: 6 noise tokens in 2 spans: noise lengths (1,5) ... (5,1), 5 choices, each ~1/5.
  const counts = new Map<string, number>();
  const draws = 5000;
  for (let seed = 0; seed < draws; seed++) {
    const key = runs(randomSpansNoiseMask(40, 0.15, 3, seed)).filter(([m]) => m).map(([, l]) => l).join(',');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.equal([...counts.keys()].sort(), ['1,5', '2,4', '3,3', '4,2', '5,1']);
  for (const [k, c] of counts) assert.ok(Math.abs(c / draws - 0.2) < 0.03, `${k}: ${c / draws}`);
});

t('determinism: a seed fixes the mask, other seeds give others', () => {
  assert.equal(randomSpansNoiseMask(141, 0.15, 3, 7), randomSpansNoiseMask(141, 0.15, 3, 7));
  const distinct = new Set(Array.from({ length: 10 }, (_, s) => randomSpansNoiseMask(141, 0.15, 3, s).map(Number).join('')));
  assert.ok(distinct.size >= 9);
});

t('sentinels: hand-worked example, T5 ids counting down from the last id', () => {
  const tokens = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
  const mask = [0, 0, 1, 1, 0, 0, 0, 1, 0, 1].map(Boolean);
  const sentinel = (k: number): number => 99 - k;
  const { inputs, targets } = spanCorrupt(tokens, mask, sentinel, 1);
  assert.equal(inputs, [10, 11, 99, 14, 15, 16, 98, 18, 97, 1]);
  assert.equal(targets, [99, 12, 13, 98, 17, 97, 19, 1]);
  assert.equal(maskedSpansToSentinels([5, 6], [true, true], sentinel), [99]);
  assert.throws(() => maskedSpansToSentinels([5], [true, false], sentinel), /mask/);
});

t('inputs and targets together rebuild the segment, sentinels in order on both sides', () => {
  for (let seed = 0; seed < 50; seed++) {
    const tokens = Array.from({ length: 141 }, (_, i) => 3 + ((i * 7 + seed) % 256));
    const mask = randomSpansNoiseMask(tokens.length, 0.15, 3, seed);
    const sentinel = (k: number): number => 1000 + k;
    const { inputs, targets } = spanCorrupt(tokens, mask, sentinel, 1);
    assert.is(inputs.length, 128);
    assert.is(targets.length, 29);
    const ins = inputs.filter((x) => x >= 1000), outs = targets.filter((x) => x >= 1000);
    assert.equal(ins, ins.map((_, k) => 1000 + k));
    assert.equal(outs, ins);
    const fill = new Map<number, number[]>();
    let cur = -1;
    for (const x of targets.slice(0, -1)) {
      if (x >= 1000) fill.set((cur = x), []);
      else fill.get(cur)!.push(x);
    }
    assert.equal(inputs.slice(0, -1).flatMap((x) => (x >= 1000 ? fill.get(x)! : [x])), tokens);
  }
});

t.run();
