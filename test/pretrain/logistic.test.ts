// The linear probe's classifier against float64 references: a 1-D case whose optimum solves a
// scalar equation (found here by bisection), a 2-D separable set whose symmetry fixes the direction
// (1, 1)/sqrt(2) and the bias 0, the optimality condition (zero gradient, computed here from the
// definition) on random unbalanced data, Cholesky against a known solution, standardisation, and
// the probe protocol: the L2 strength is chosen on train rows only.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { choleskySolve, fitLogistic, fitStandardizer, standardize, accuracy, type Matrix } from '../../src/pretrain/milestones/logistic.js';
import { linearProbe, majorityShare, L2_GRID } from '../../src/pretrain/milestones/linear_probe.js';
import { rng } from '../util/check.js';
import { throwsWith } from '../util/throws.js';

const t = suite('pretrain/logistic');

const matrix = (rows: number[][]): Matrix => ({ rows: rows.length, cols: rows[0]!.length, data: Float64Array.from(rows.flat()) });
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

function gaussianRows(r: () => number, n: number, d: number): number[][] {
  const g = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return Array.from({ length: n }, () => Array.from({ length: d }, g));
}

t('1-D: the optimum solves lambda w = a sigmoid(-w a), the bias is 0', () => {
  // Points +a (label 1) and -a (label 0): the mean gradient in w is -a sigmoid(-w a) + lambda w.
  const a = 1.7, lambda = 0.05;
  let lo = 0, hi = 100;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (lambda * mid - a * sigmoid(-mid * a) < 0) lo = mid;
    else hi = mid;
  }
  const m = fitLogistic(matrix([[a], [-a], [a], [-a]]), [1, 0, 1, 0], lambda);
  assert.ok(Math.abs(m.w[0]! - lo) < 1e-9, `w ${m.w[0]} vs ${lo}`);
  assert.ok(Math.abs(m.b) < 1e-12, `b ${m.b}`);
});

t('2-D separable and symmetric under swapping the coordinates: w along (1, 1), b = 0, all right', () => {
  const pos = [[2, 1], [1, 2], [3, 0.5], [0.5, 3], [1.2, 1.2]];
  const x = matrix([...pos, ...pos.map(([u, v]) => [-u!, -v!])]);
  const y = [...pos.map(() => 1), ...pos.map(() => 0)];
  for (const lambda of [1e-4, 1e-2, 1]) {
    const m = fitLogistic(x, y, lambda);
    const norm = Math.hypot(m.w[0]!, m.w[1]!);
    assert.ok(Math.abs(m.w[0]! / norm - Math.SQRT1_2) < 1e-9 && Math.abs(m.w[1]! / norm - Math.SQRT1_2) < 1e-9, `direction ${[...m.w]}`);
    assert.ok(Math.abs(m.b) < 1e-9, `b ${m.b}`);
    assert.is(accuracy(m, x, y), 1);
  }
  // A weaker penalty lets the separable data push |w| up.
  const sizes = [1, 1e-2, 1e-4].map((l) => fitLogistic(x, y, l).w[0]!);
  assert.ok(sizes[0]! < sizes[1]! && sizes[1]! < sizes[2]!, `${sizes}`);
});

t('the gradient of the objective vanishes at the solution (random, unbalanced, d = 7)', () => {
  const r = rng(11);
  const rows = gaussianRows(r, 90, 7);
  const y = rows.map((row) => (row[0]! + 0.5 * row[3]! + r() - 0.2 > 0.6 ? 1 : 0));
  const x = matrix(rows);
  const lambda = 0.03;
  const m = fitLogistic(x, y, lambda);
  const gw = new Array<number>(7).fill(0);
  let gb = 0;
  rows.forEach((row, i) => {
    const e = sigmoid(row.reduce((s, v, c) => s + v * m.w[c]!, m.b)) - y[i]!;
    row.forEach((v, c) => (gw[c]! += (e * v) / rows.length));
    gb += e / rows.length;
  });
  gw.forEach((g, c) => assert.ok(Math.abs(g + lambda * m.w[c]!) < 1e-9, `dw[${c}] = ${g + lambda * m.w[c]!}`));
  assert.ok(Math.abs(gb) < 1e-9, `db = ${gb}`);
  assert.ok(m.iterations < 50, `${m.iterations} Newton steps`);
});

t('Cholesky solve of a random SPD system', () => {
  const r = rng(3);
  const k = 6;
  const b = gaussianRows(r, k, k);
  const a = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) a[i * k + j] = b[i]!.reduce((s, v, p) => s + v * b[j]![p]!, i === j ? 0.5 : 0);
  const z = Float64Array.from({ length: k }, () => r() - 0.5);
  const g = Float64Array.from({ length: k }, (_, i) => z.reduce((s, v, j) => s + a[i * k + j]! * v, 0));
  choleskySolve(a, g, k).forEach((v, i) => assert.ok(Math.abs(v - z[i]!) < 1e-10, `z[${i}] ${v} vs ${z[i]}`));
  throwsWith(() => choleskySolve(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]), 2), 'not positive definite');
});

t('standardisation: train statistics give mean 0 and variance 1; a constant column is only shifted', () => {
  const x = matrix([[1, 5, 2], [3, 5, 4], [8, 5, 0], [0, 5, 1]]);
  const s = fitStandardizer(x);
  const z = standardize(x, s);
  for (let c = 0; c < 3; c++) {
    const col = [0, 1, 2, 3].map((r) => z.data[r * 3 + c]!);
    const mean = col.reduce((a, b) => a + b) / 4;
    const variance = col.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
    assert.ok(Math.abs(mean) < 1e-12);
    assert.ok(Math.abs(variance - (c === 1 ? 0 : 1)) < 1e-12, `column ${c}: variance ${variance}`);
  }
  assert.is(s.scale[1], 1);
});

t('refused: a non-positive L2 strength, labels other than 0/1, mismatched rows', () => {
  const x = matrix([[1], [2]]);
  throwsWith(() => fitLogistic(x, [0, 1], 0), 'L2 strength must be > 0');
  throwsWith(() => fitLogistic(x, [0, 2], 1), 'label 1 is 2');
  throwsWith(() => fitLogistic(x, [0], 1), '2 rows but 1 labels');
});

t('probe protocol: high accuracy on separable features, chance on noise, and the test rows choose nothing', () => {
  const r = rng(5);
  const make = (n: number, shift: number) => {
    const rows = gaussianRows(r, n, 4);
    const y = Uint8Array.from(rows, (_, i) => i % 2);
    rows.forEach((row, i) => (row[2]! += y[i]! ? shift : -shift));
    return { x: matrix(rows), y };
  };
  const train = make(200, 3), test = make(100, 3);
  const res = linearProbe(train, test, { seed: 1 });
  assert.ok(res.testAccuracy >= 0.97 && res.trainAccuracy >= 0.97, JSON.stringify(res));
  assert.equal(res.grid.map((p) => p.l2), [...L2_GRID]);
  assert.ok(L2_GRID.includes(res.l2));
  // Flipped test labels: accuracy flips, the choice stays.
  const flipped = linearProbe(train, { x: test.x, y: test.y.map((v) => 1 - v) }, { seed: 1 });
  assert.is(flipped.l2, res.l2);
  assert.ok(Math.abs(flipped.testAccuracy - (1 - res.testAccuracy)) < 1e-12);
  const noise = linearProbe(make(200, 0), make(400, 0), { seed: 1 });
  assert.ok(Math.abs(noise.testAccuracy - 0.5) < 0.1, `noise features: ${noise.testAccuracy}`);
  assert.is(majorityShare([1, 1, 0, 1]), 0.75);
  throwsWith(() => linearProbe(train, test, { heldOut: 1 }), 'held-out share');
});

t.run();
