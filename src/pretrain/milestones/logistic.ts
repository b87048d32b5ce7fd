// L2-regularised binary logistic regression in float64 on the host, the classifier of the linear
// probe. It minimises mean_i softplus(-s_i (w.x_i + b)) + (lambda / 2) |w|^2 (s_i = +-1, the bias
// unpenalised) by Newton's method with a Cholesky solve and a backtracking line search: the
// objective is strictly convex for lambda > 0, so the minimiser is unique, and Newton reaches it to
// round-off in a few dozen steps even on separable data, where plain gradient descent crawls.

/** Rows of features, row-major: `data[r * cols + c]`. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** Per-feature shift and scale: x' = (x - mean) / scale. */
export interface Standardizer {
  mean: Float64Array;
  scale: Float64Array;
}

/** A fitted classifier: P(y = 1 | x) = sigmoid(w.x + b). */
export interface LogisticModel {
  w: Float64Array;
  b: number;
  /** Newton steps taken. */
  iterations: number;
  /** The objective at the solution. */
  objective: number;
}

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function checkLabels(x: Matrix, y: ArrayLike<number>): void {
  if (y.length !== x.rows) throw new RangeError(`logistic regression: ${x.rows} rows but ${y.length} labels`);
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw new RangeError(`logistic regression: label ${i} is ${y[i]}, want 0 or 1`);
  }
}

/** Mean and standard deviation of each column (a constant column keeps scale 1). */
export function fitStandardizer(x: Matrix): Standardizer {
  const { rows: n, cols: d, data } = x;
  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) mean[c]! += data[r * d + c]! / n;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < d; c++) scale[c]! += (data[r * d + c]! - mean[c]!) ** 2 / n;
  }
  for (let c = 0; c < d; c++) scale[c] = scale[c]! > 0 ? Math.sqrt(scale[c]!) : 1;
  return { mean, scale };
}

/** `x` standardised with `s`, as a new matrix. */
export function standardize(x: Matrix, s: Standardizer): Matrix {
  const d = x.cols;
  if (s.mean.length !== d) throw new RangeError(`standardize: ${d} columns but statistics of ${s.mean.length}`);
  return { rows: x.rows, cols: d, data: x.data.map((v, i) => (v - s.mean[i % d]!) / s.scale[i % d]!) };
}

/** The rows of `x` at `index`, in that order. */
export function selectRows(x: Matrix, index: readonly number[]): Matrix {
  const d = x.cols;
  const data = new Float64Array(index.length * d);
  index.forEach((r, i) => data.set(x.data.subarray(r * d, (r + 1) * d), i * d));
  return { rows: index.length, cols: d, data };
}

/** Scores w.x + b of every row. */
export function decision(m: Pick<LogisticModel, 'w' | 'b'>, x: Matrix): Float64Array {
  const d = x.cols;
  if (m.w.length !== d) throw new RangeError(`logistic regression: a model of ${m.w.length} features on ${d} columns`);
  const out = new Float64Array(x.rows);
  for (let r = 0; r < x.rows; r++) {
    let z = m.b;
    for (let c = 0; c < d; c++) z += m.w[c]! * x.data[r * d + c]!;
    out[r] = z;
  }
  return out;
}

/** Share of rows whose predicted class (score > 0 means 1) is the label. */
export function accuracy(m: Pick<LogisticModel, 'w' | 'b'>, x: Matrix, y: ArrayLike<number>): number {
  const z = decision(m, x);
  let right = 0;
  for (let i = 0; i < z.length; i++) if ((z[i]! > 0 ? 1 : 0) === y[i]) right++;
  return right / z.length;
}

/** Mean log-loss of the rows. */
export function logLoss(m: Pick<LogisticModel, 'w' | 'b'>, x: Matrix, y: ArrayLike<number>): number {
  const z = decision(m, x);
  let loss = 0;
  for (let i = 0; i < z.length; i++) loss += softplus(y[i] === 1 ? -z[i]! : z[i]!);
  return loss / z.length;
}

/** The regularised objective at parameters theta = [w..., b]. */
function objective(x: Matrix, y: ArrayLike<number>, lambda: number, theta: Float64Array): number {
  const d = x.cols;
  const m = { w: theta.subarray(0, d), b: theta[d]! };
  let reg = 0;
  for (let c = 0; c < d; c++) reg += theta[c]! ** 2;
  return logLoss(m, x, y) + (lambda / 2) * reg;
}

/** Solves A z = g for symmetric positive definite A (k x k, row-major) by Cholesky. */
export function choleskySolve(a: Float64Array, g: Float64Array, k: number): Float64Array {
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * k + j]!;
      for (let p = 0; p < j; p++) s -= l[i * k + p]! * l[j * k + p]!;
      if (i === j) {
        if (!(s > 0)) throw new RangeError(`cholesky: the matrix is not positive definite (pivot ${i} is ${s})`);
        l[i * k + i] = Math.sqrt(s);
      } else l[i * k + j] = s / l[j * k + j]!;
    }
  }
  const z = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = g[i]!;
    for (let p = 0; p < i; p++) s -= l[i * k + p]! * z[p]!;
    z[i] = s / l[i * k + i]!;
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let p = i + 1; p < k; p++) s -= l[p * k + i]! * z[p]!;
    z[i] = s / l[i * k + i]!;
  }
  return z;
}

/** Options of fitLogistic. */
export interface FitOptions {
  /** Stop when the gradient's largest entry falls below this. */
  tolerance?: number;
  maxIterations?: number;
}

/**
 * The minimiser of the regularised log-loss of `x` (rows) against labels `y` (0/1) for L2
 * strength `lambda` > 0 (see the file comment). The bias column is handled here; `x` is used as given.
 */
export function fitLogistic(x: Matrix, y: ArrayLike<number>, lambda: number, opts: FitOptions = {}): LogisticModel {
  const { tolerance = 1e-10, maxIterations = 200 } = opts;
  if (!(lambda > 0)) throw new RangeError(`logistic regression: the L2 strength must be > 0, got ${lambda}`);
  if (x.rows === 0) throw new RangeError('logistic regression: no rows');
  checkLabels(x, y);
  const { rows: n, cols: d, data } = x;
  const k = d + 1;
  const theta = new Float64Array(k);
  let f = objective(x, y, lambda, theta);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const grad = new Float64Array(k);
    const hess = new Float64Array(k * k);
    const z = decision({ w: theta.subarray(0, d), b: theta[d]! }, x);
    for (let r = 0; r < n; r++) {
      const p = sigmoid(z[r]!);
      const e = (p - y[r]!) / n;
      const v = (p * (1 - p)) / n;
      const row = data.subarray(r * d, (r + 1) * d);
      for (let i = 0; i < d; i++) {
        grad[i]! += e * row[i]!;
        const vi = v * row[i]!;
        for (let j = 0; j <= i; j++) hess[i * k + j]! += vi * row[j]!;
        hess[d * k + i]! += vi;
      }
      grad[d]! += e;
      hess[d * k + d]! += v;
    }
    for (let i = 0; i < d; i++) {
      grad[i]! += lambda * theta[i]!;
      hess[i * k + i]! += lambda;
    }
    // The bias row was accumulated below the diagonal; mirror the lower triangle.
    for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) hess[j * k + i] = hess[i * k + j]!;
    if (grad.reduce((m, g) => Math.max(m, Math.abs(g)), 0) < tolerance) break;
    const step = choleskySolve(hess, grad, k);
    let slope = 0;
    for (let i = 0; i < k; i++) slope += grad[i]! * step[i]!;
    let t = 1;
    let next = theta.map((v, i) => v - step[i]!);
    let fNext = objective(x, y, lambda, next);
    // Armijo backtracking: the full Newton step is taken near the optimum.
    while (fNext > f - 1e-4 * t * slope && t > 1e-12) {
      t /= 2;
      next = theta.map((v, i) => v - t * step[i]!);
      fNext = objective(x, y, lambda, next);
    }
    // Round-off: no step lowers the objective any more.
    if (!(fNext < f)) break;
    theta.set(next);
    f = fNext;
  }
  return { w: theta.slice(0, d), b: theta[d]!, iterations, objective: f };
}
