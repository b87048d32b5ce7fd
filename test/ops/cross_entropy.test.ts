import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { toFloat64, toInt32 } from '../../src/io/dtype.js';
import { mul } from '../../src/ops/elementwise.js';
import { checkLabels, crossEntropy, type Reduction } from '../../src/ops/cross_entropy.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { crossEntropy64, IGNORE } from '../ref/cross_entropy.js';
import { assertClose, numel, randArray, randInt, rng } from '../util/check.js';
import { gradcheck, initGpu, read } from '../util/gpu.js';
import { eachLaneSetting } from '../util/lanes.js';
import { sharedTest } from '../util/shared.js';
import { sum } from '../../src/ops/sum.js';

const t = suite('cross_entropy');
t.before(async () => void (await initGpu()));

function randomLabels(r: () => number, rows: number, vocab: number, ignoredShare = 0.25): Int32Array {
  return Int32Array.from({ length: rows }, () => (r() < ignoredShare ? IGNORE : randInt(r, 0, vocab - 1)));
}

async function lossAndGrad(logits: Float64Array, shape: number[], labels: Int32Array | (() => Tensor), reduction: Reduction, g: Float64Array, ignoreIndex = IGNORE) {
  const { value, grads } = tidy(() => {
    const x = tensor(logits, shape);
    const lab = typeof labels === 'function' ? labels() : labels;
    return valueAndGrad(() => {
      const loss = crossEntropy(x, lab, { reduction, ignoreIndex });
      return reduction === 'none' ? sum(mul(loss, tensor(g, loss.shape))) : mul(loss, tensor(g, []));
    }, [x]);
  });
  const out = { value: await value.item(), dlogits: await read(grads[0]!) };
  value.dispose();
  grads[0]!.dispose();
  return out;
}

// One lane per row (V <= 8), several rows per workgroup, a workgroup per row with many strides
// (T5's vocabulary), and rank-3 logits.
const SHAPES = [[1, 1], [1, 7], [5, 3], [13, 129], [3, 2053], [2, 3, 33], [3, 32128]];

t('loss and dlogits match float64 for every reduction and lanes-per-row variant, with ignored rows', async () => {
  const r = rng(23);
  await eachLaneSetting(async (perLane) => {
    for (const shape of SHAPES) {
      const vocab = shape[shape.length - 1]!, rows = numel(shape) / vocab;
      const logits = randArray(r, numel(shape), -6, 6);
      const labels = randomLabels(r, rows, vocab);
      if (labels.every((l) => l === IGNORE)) labels[0] = vocab - 1;
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        const loss = tidy(() => crossEntropy(tensor(logits, shape), labels, { reduction }));
        assert.equal([...loss.shape], reduction === 'none' ? shape.slice(0, -1) : [], `shape of the ${reduction} loss`);
        const g = randArray(r, reduction === 'none' ? rows : 1, 0.5, 2);
        const want = crossEntropy64(logits, labels, vocab, reduction, g);
        assertClose(await read(loss), want.loss, { rtol: 2e-6, atol: 1e-6, what: `${reduction} loss ${shape} perLane ${perLane}` });
        loss.dispose();
        const got = await lossAndGrad(logits, shape, labels, reduction, g);
        assertClose(got.dlogits, want.dlogits, { rtol: 1e-5, atol: 1e-7, what: `${reduction} dlogits ${shape} perLane ${perLane}` });
      }
    }
  });
});

t('gradcheck for every reduction', async () => {
  const r = rng(8);
  const labels = Int32Array.from([2, IGNORE, 0, 4, 1]);
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    await gradcheck(([x]) => crossEntropy(x!, labels, { reduction }), [{ shape: [5, 6], data: randArray(r, 30, -2, 2) }]);
  }
});

t('an all-ignored batch gives loss 0 and a zero gradient (not NaN); a custom ignoreIndex', async () => {
  const r = rng(9);
  const logits = randArray(r, 4 * 9, -3, 3);
  const ignored = new Int32Array(4).fill(IGNORE);
  for (const reduction of ['mean', 'sum'] as const) {
    const got = await lossAndGrad(logits, [4, 9], ignored, reduction, Float64Array.of(1));
    assert.is(got.value, 0);
    assert.ok(got.dlogits.every((v) => v === 0), `${reduction}: zero gradient`);
  }
  // Ignoring pad id 0, which lies inside the vocabulary.
  const labels = Int32Array.from([0, 3, 0, 8]);
  const got = await lossAndGrad(logits, [4, 9], labels, 'mean', Float64Array.of(1), 0);
  const want = crossEntropy64(logits, labels, 9, 'mean', [1], 0);
  assertClose([got.value], want.loss, { rtol: 2e-6, what: 'loss with ignoreIndex 0' });
  assertClose(got.dlogits, want.dlogits, { rtol: 1e-5, what: 'dlogits with ignoreIndex 0' });
});

t('out-of-range labels: checked on the host, flagged as NaN (never read) on the GPU', async () => {
  assert.throws(() => checkLabels(Int32Array.from([1, IGNORE, 9]), 9), /label 9 at \[2\] is outside \[0, 9\)/);
  assert.throws(() => checkLabels(Int32Array.from([-1]), 9), /label -1 at \[0\]/);
  checkLabels(Int32Array.from([0, 8, IGNORE]), 9);
  assert.throws(() => tidy(() => crossEntropy(tensor(new Float32Array(18), [2, 9]), Int32Array.from([3, 100]))), /crossEntropy: label 100/);

  const logits = randArray(rng(1), 3 * 5, -1, 1);
  const bad = () => tensor(Int32Array.from([2, 1 << 30, -7]), [3]);
  const nll = tidy(() => crossEntropy(tensor(logits, [3, 5]), bad(), { reduction: 'none' }));
  const v = await read(nll);
  nll.dispose();
  const want = crossEntropy64(logits, Int32Array.from([2, IGNORE, IGNORE]), 5, 'none', [1, 1, 1]);
  assertClose([v[0]!], [want.loss[0]!], { rtol: 2e-6, what: 'valid row' });
  assert.ok(Number.isNaN(v[1]) && Number.isNaN(v[2]), `invalid rows flagged: ${v}`);
  const got = await lossAndGrad(logits, [3, 5], bad, 'mean', Float64Array.of(1));
  assert.ok(Number.isNaN(got.value), 'mean loss is NaN');
  assert.ok(got.dlogits.subarray(5).every(Number.isNaN) && got.dlogits.subarray(0, 5).every(Number.isFinite), 'only invalid rows are NaN');
});

t('bad shapes, dtypes and options are reported with the op and shapes', () => {
  const x = () => tensor(new Float32Array(6), [2, 3]);
  const ce = (fn: () => Tensor) => () => tidy(fn);
  assert.throws(ce(() => crossEntropy(x(), tensor(Int32Array.from([0, 1, 2]), [3]))), /^crossEntropy: labels for logits \[2,3\] has shape \[3\], expected \[2\]/);
  assert.throws(ce(() => crossEntropy(x(), tensor([0, 1], [2]))), /^crossEntropy: expected i32, got .*f32\[2\]/);
  assert.throws(ce(() => crossEntropy(tensor(Int32Array.from([0, 1]), [1, 2]), Int32Array.from([0]))), /^crossEntropy: expected f32, got .*i32\[1,2\]/);
  assert.throws(ce(() => crossEntropy(x(), Int32Array.from([0]))), /^crossEntropy: 1 labels for logits .*f32\[2,3\]/);
  assert.throws(ce(() => crossEntropy(x(), Int32Array.from([0, 1]), { reduction: 'avg' as Reduction })), /^crossEntropy: unknown reduction 'avg'/);
  assert.throws(ce(() => crossEntropy(x(), Int32Array.from([0, 1]), { ignoreIndex: 0.5 })), /^crossEntropy: ignoreIndex 0.5 is not a 32-bit integer/);
});

sharedTest(t, "T5 fixture: token NLL and mean loss from Hugging Face's float64 logits", ['fixtures', 't5-parity', 't5_v10_relu_tied', 'reference.safetensors'], async (path) => {
  const ref = readSafetensors(path, (k) => k === 'f64x.logits' || k === 'inputs.labels' || k === 'f64x.token_nll').tensors;
  const logits = ref.get('f64x.logits')!, labels = toInt32(ref.get('inputs.labels')!);
  const tokenNll = toFloat64(ref.get('f64x.token_nll')!);
  const [nll, loss] = tidy(() => {
    const x = tensor(toFloat64(logits), logits.shape);
    return [crossEntropy(x, labels, { reduction: 'none' }), crossEntropy(x, labels)];
  });
  assertClose(await read(nll!), tokenNll, { rtol: 1e-5, atol: 0, what: 'token_nll' });
  // reference.json's f64x loss: the mean over the batch's 24 non-ignored label tokens.
  assertClose([await loss!.item()], [5.874323987311997], { rtol: 1e-6, atol: 0, what: 'loss' });
  nll!.dispose();
  loss!.dispose();
});

t.run();
