// The harness of the kernel-family suites (bench/<family>.ts): each variant of a family is first
// checked against its float64 reference in test/ref/<family>.ts, on the benchmark's own inputs or
// on a smaller case of the same variant, and only then timed. A variant that fails its check is
// not timed, and the suite exits non-zero with the variant and its max error; the results file is
// written either way, with every check in it.
import { gpu, initGpu, shutdownGpu } from '../../src/gpu/device.js';
import { tidy } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { discrepancy, type Tolerance } from '../../test/ref/compare.js';
import { measureOurs, printTable, writeResults, type Measured, type Row, type TimingOptions } from './harness.js';

/** One variant on one case: what it records per iteration, how it is checked, the work it does. */
export interface Variant {
  /** The case, e.g. a shape. */
  case: string;
  /** The variant: entry point, override setting, layout or backward mode. */
  variant: string;
  /** Records one iteration without submitting. */
  run: () => void;
  /** Compares the variant with its reference through `Family.expect`. */
  check: () => Promise<void>;
  flops?: number;
  bytes?: number;
}

/** A check's outcome, as kept in the results file. */
export interface CheckResult {
  variant: string;
  what: string;
  maxError: number;
  tol: number;
  ok: boolean;
}

/** A reference comparison that failed: it names the variant and the max error. */
export class CheckFailed extends Error {}

/** A tensor's values as float64. */
export async function read64(t: Tensor): Promise<Float64Array> {
  return Float64Array.from(await t.toArray());
}

export class Family {
  private readonly rows: Row[] = [];
  private readonly checks: CheckResult[] = [];
  private readonly failed: string[] = [];
  private current = '';

  constructor(
    readonly suite: string,
    readonly quick: boolean,
  ) {}

  /** Opens the device and prints the adapter. */
  async start(description: string): Promise<void> {
    await initGpu();
    process.stdout.write(`adapter: ${gpu().report.description}\n${this.suite}: ${description}${this.quick ? ' (quick)' : ''}\n`);
  }

  /** Compares `actual` with the reference; throws CheckFailed beyond the tolerance. */
  expect(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): void {
    const d = actual.length === expected.length ? discrepancy(actual, expected, tol) : { worst: Infinity, tol: 0, ok: false };
    this.checks.push({ variant: this.current, what, maxError: d.worst, tol: d.tol, ok: d.ok });
    if (!d.ok) {
      const why = actual.length === expected.length ? `max error ${d.worst.toExponential(3)} exceeds ${d.tol.toExponential(3)}` : `length ${actual.length}, reference ${expected.length}`;
      throw new CheckFailed(`${this.suite}: variant ${this.current} failed its check against test/ref/${this.suite}.ts (${what}): ${why}`);
    }
  }

  /** Runs a variant's check; a failure is recorded (and reported at finish) and gives false. */
  async check(variant: string, caseName: string, check: () => Promise<void>): Promise<boolean> {
    this.current = `${variant} @ ${caseName}`;
    try {
      await check();
      return true;
    } catch (e) {
      if (!(e instanceof CheckFailed)) throw e;
      this.failed.push(e.message);
      process.stderr.write(`${e.message}\n`);
      return false;
    }
  }

  /** A row measured by the suite itself (a peer, a summary). */
  row(r: Row): void {
    this.rows.push(r);
  }

  /** Checks the variant, then times it (with the iterations its gpu ms came from); null when its check failed. */
  async add(v: Variant, opts?: TimingOptions): Promise<Measured | null> {
    if (!(await this.check(v.variant, v.case, v.check))) return null;
    const measured = await measureOurs(v.run, opts ?? (this.quick ? { warmup: 1, gpuIters: 3, minSamples: 3, maxTime: 0.3 } : { warmup: 2, gpuIters: 10, minSamples: 5, maxTime: 1 }));
    this.rows.push({ case: v.case, impl: `ours:${v.variant}`, timing: measured.timing, ...(v.flops ? { flops: v.flops } : {}), ...(v.bytes ? { bytes: v.bytes } : {}) });
    return measured;
  }

  /**
   * The common case: the variant is `outputs` (run inside a scope), checked output by output
   * against `expected`, then timed.
   */
  async outputs(v: Omit<Variant, 'run' | 'check'>, outputs: () => Tensor[], expected: Array<ArrayLike<number>>, tol: Tolerance, opts?: TimingOptions): Promise<Measured | null> {
    return this.add({
      ...v,
      run: () => tidy(() => void outputs()),
      check: async () => {
        const got = tidy(outputs);
        try {
          for (const [i, t] of got.entries()) this.expect(got.length > 1 ? `output ${i}` : 'output', await read64(t), expected[i]!, tol);
        } finally {
          for (const t of got) t.dispose();
        }
      },
    }, opts);
  }

  /** Prints the table, writes the results file, closes the device; a failed check fails the suite. */
  async finish(extra: Record<string, unknown> = {}): Promise<void> {
    printTable(this.rows);
    const path = writeResults(this.suite, this.rows, { quick: this.quick, ...extra, checks: this.checks, failed: this.failed });
    process.stdout.write(`\n${this.checks.filter((c) => c.ok).length} of ${this.checks.length} checks passed\nwrote ${path}\n`);
    await shutdownGpu();
    if (this.failed.length) {
      process.stderr.write(`${this.suite}: ${this.failed.length} variant(s) failed their checks:\n  ${this.failed.join('\n  ')}\n`);
      process.exitCode = 1;
    }
  }
}
