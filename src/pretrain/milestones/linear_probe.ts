// The linear probe's protocol on features already computed: standardise with the statistics of the
// rows a classifier is fitted on, choose the L2 strength from a grid by accuracy on a seeded
// held-out part of the TRAIN rows (ties: lower held-out log-loss, then the stronger penalty), refit
// on all train rows with it, and score train and test. The test rows choose nothing.
import { permutation } from '../../tasks/random.js';
import { accuracy, fitLogistic, fitStandardizer, logLoss, selectRows, standardize, type Matrix } from './logistic.js';

/** Features and their 0/1 labels. */
export interface Labelled {
  x: Matrix;
  y: Uint8Array;
}

/** The default grid of L2 strengths (on standardised features, loss averaged over rows). */
export const L2_GRID: readonly number[] = [1e-4, 1e-3, 1e-2, 1e-1, 1, 10];

export interface LinearProbeOptions {
  grid?: readonly number[];
  /** Share of the train rows held out to choose the L2 strength. */
  heldOut?: number;
  seed?: number;
}

/** One grid point as the held-out part scored it. */
export interface GridPoint {
  l2: number;
  heldOutAccuracy: number;
  heldOutLoss: number;
}

export interface LinearProbeResult {
  /** The chosen L2 strength. */
  l2: number;
  trainAccuracy: number;
  testAccuracy: number;
  grid: GridPoint[];
}

function rowsOf(d: Labelled, index: readonly number[]): Labelled {
  return { x: selectRows(d.x, index), y: Uint8Array.from(index, (i) => d.y[i]!) };
}

/** A classifier fitted on `fit` standardised with its own statistics, and that standardisation. */
function fitStandardized(fit: Labelled, l2: number): { model: ReturnType<typeof fitLogistic>; prepare: (x: Matrix) => Matrix } {
  const stats = fitStandardizer(fit.x);
  const prepare = (x: Matrix): Matrix => standardize(x, stats);
  return { model: fitLogistic(prepare(fit.x), fit.y, l2), prepare };
}

/** Runs the protocol of the file comment. */
export function linearProbe(train: Labelled, test: Labelled, opts: LinearProbeOptions = {}): LinearProbeResult {
  const { grid = L2_GRID, heldOut = 0.2, seed = 0 } = opts;
  if (grid.length === 0) throw new RangeError('linear probe: an empty L2 grid');
  if (!(heldOut > 0 && heldOut < 1)) throw new RangeError(`linear probe: the held-out share must be in (0, 1), got ${heldOut}`);
  const n = train.x.rows;
  const nHeld = Math.round(n * heldOut);
  if (nHeld < 1 || n - nHeld < 2) throw new RangeError(`linear probe: ${n} train rows cannot give a held-out share of ${heldOut}`);
  if (test.x.rows === 0) throw new RangeError('linear probe: no test rows');
  const order = permutation(n, seed);
  const held = rowsOf(train, order.slice(0, nHeld));
  const fit = rowsOf(train, order.slice(nHeld));
  const points: GridPoint[] = [];
  let best: GridPoint | null = null;
  // Strongest penalty first, so that only a strictly better score moves the choice to a weaker one.
  for (const l2 of [...grid].sort((a, b) => b - a)) {
    const { model, prepare } = fitStandardized(fit, l2);
    const hx = prepare(held.x);
    const p = { l2, heldOutAccuracy: accuracy(model, hx, held.y), heldOutLoss: logLoss(model, hx, held.y) };
    points.push(p);
    if (!best || p.heldOutAccuracy > best.heldOutAccuracy || (p.heldOutAccuracy === best.heldOutAccuracy && p.heldOutLoss < best.heldOutLoss)) best = p;
  }
  const { model, prepare } = fitStandardized(train, best!.l2);
  return {
    l2: best!.l2,
    trainAccuracy: accuracy(model, prepare(train.x), train.y),
    testAccuracy: accuracy(model, prepare(test.x), test.y),
    grid: points.sort((a, b) => a.l2 - b.l2),
  };
}

/** The share of the most frequent label: what always answering it scores. */
export function majorityShare(y: ArrayLike<number>): number {
  let ones = 0;
  for (let i = 0; i < y.length; i++) ones += y[i]!;
  return Math.max(ones, y.length - ones) / y.length;
}
