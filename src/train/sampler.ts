// Data order as a pure function of (seed, counters): every random choice of a run (epoch shuffles,
// task sampling, dropout seeds) is derived by hashing the run seed with what it is for and the
// step or epoch it belongs to. A checkpoint therefore only has to store the counters, and a
// resumed run draws exactly the examples and masks the uninterrupted run would have drawn.
import { permutation } from '../tasks/index.js';
import { rng } from '../util/random.js';

/** A 32-bit hash of integers (murmur3's finaliser over a running mix): independent streams per purpose. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    let k = Math.imul(p >>> 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Purposes of derived seeds (distinct streams). */
export const STREAM = { epoch: 1, taskSampling: 2, dropout: 3, init: 4, taskStream: 5 } as const;

/** The shuffled order of epoch `epoch` over n items. */
export function epochOrder(n: number, seed: number, epoch: number, stream = 0): number[] {
  return permutation(n, mixSeed(seed, STREAM.epoch, stream, epoch));
}

/** Position of a task stream: how many full passes and where in the current one. */
export interface StreamState {
  epoch: number;
  position: number;
}

/**
 * An endless stream over n examples of one task, reshuffled each pass. Its state is two counters,
 * so it checkpoints as JSON.
 */
export class TaskStream {
  private order: number[];
  private state: StreamState = { epoch: 0, position: 0 };

  constructor(readonly n: number, readonly seed: number, readonly stream: number) {
    if (n < 1) throw new Error('TaskStream: a task needs at least one example');
    this.order = epochOrder(n, seed, 0, stream);
  }

  /** The next example index. */
  next(): number {
    if (this.state.position === this.n) {
      this.state = { epoch: this.state.epoch + 1, position: 0 };
      this.order = epochOrder(this.n, this.seed, this.state.epoch, this.stream);
    }
    return this.order[this.state.position++]!;
  }

  save(): StreamState {
    return { ...this.state };
  }

  load(s: StreamState): void {
    if (!Number.isInteger(s.epoch) || s.epoch < 0 || !Number.isInteger(s.position) || s.position < 0 || s.position > this.n) {
      throw new Error(`TaskStream: invalid state ${JSON.stringify(s)} for ${this.n} examples`);
    }
    this.state = { ...s };
    this.order = epochOrder(this.n, this.seed, s.epoch, this.stream);
  }
}

/** kappa of the K task indices drawn without replacement for `step` (sorted); all K when kappa is null. */
export function sampleTasks(k: number, kappa: number | null, seed: number, step: number): number[] {
  const all = Array.from({ length: k }, (_, i) => i);
  if (kappa === null || kappa >= k) return all;
  const u = rng(mixSeed(seed, STREAM.taskSampling, step));
  for (let i = 0; i < kappa; i++) {
    const j = i + Math.floor(u() * (k - i));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, kappa).sort((a, b) => a - b);
}

/** The dropout seed of a training step. */
export function dropoutSeed(seed: number, step: number): number {
  return mixSeed(seed, STREAM.dropout, step);
}

/** Batches of one epoch over n examples: index lists of `batchSize` (the last may be shorter). */
export function epochBatches(n: number, batchSize: number, seed: number, epoch: number): number[][] {
  const order = epochOrder(n, seed, epoch);
  const out: number[][] = [];
  for (let i = 0; i < n; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
}
