// The demo's protocol, fixed before any result was seen: real labelled data that npm brings, a
// held-out review domain as a few-shot target, the four methods on the same frozen model, the
// same splits and the same target examples, three seeds each.
//   sources: UCI sentiment sentences from Amazon and Yelp, and SpamAssassin e-mails (all training
//            rows of the ATTEMPT-style holdout splits: 80% of each set);
//   target:  IMDb sentences, 32 training examples (a fixed sample of its training split),
//            validation (100) to pick the best epoch, test for the table: every other row (868:
//            the split's 100 test rows and the 768 training rows not sampled), so that a 10-point
//            gap between methods is well outside the noise of a 100-row test set (+-10 points at 95%);
//   multi-target BPT: IMDb and Yelp (32 examples each) with one shared P and per-task U, V, as
//            the paper's multi-target variant (which also adapts to tasks seen as sources).
// The seeds vary the target stage (prompt init, batch order); the source prompts are learned once
// (seed 42) and shared by every seed, as a source posterior would be.

/** What a demo run uses; `quickProtocol` shrinks it for smoke tests. */
export interface DemoProtocol {
  sources: readonly string[];
  target: string;
  multiTargets: readonly string[];
  shots: number;
  seeds: readonly number[];
  promptLength: number;
  maxInputLength: number;
  sourceSteps: number;
  particles: number;
  epochs: number;
  batchSize: number;
  /** Cap on validation / test examples per task (null: the whole split). */
  maxEval: number | null;
  /** Test the target (not the other multi-target task, a source too) on every row outside its training examples and validation. */
  testRest: boolean;
}

export const DEMO_PROTOCOL: DemoProtocol = {
  sources: ['sentiment:amazon', 'sentiment:yelp', 'spam'],
  target: 'sentiment:imdb',
  multiTargets: ['sentiment:imdb', 'sentiment:yelp'],
  shots: 32,
  seeds: [1, 2, 3],
  promptLength: 20,
  maxInputLength: 128,
  sourceSteps: 120,
  particles: 5,
  epochs: 6,
  batchSize: 8,
  maxEval: null,
  testRest: true,
};

/** The same stages at toy sizes: one seed, a few steps, a few evaluation examples. */
export function quickProtocol(p: DemoProtocol = DEMO_PROTOCOL): DemoProtocol {
  return { ...p, shots: 8, seeds: [1], promptLength: 4, maxInputLength: 48, sourceSteps: 3, particles: 3, epochs: 1, batchSize: 8, maxEval: 8 };
}

/** The demo's methods in table order. */
export const DEMO_METHODS = [
  { key: 'pt', label: 'PT (from scratch)' },
  { key: 'vanilla', label: 'Vanilla transfer' },
  { key: 'bpt', label: 'BPT' },
  { key: 'bpt-multi', label: 'BPT multi-target' },
] as const;

export type DemoMethod = (typeof DEMO_METHODS)[number]['key'];

/** One row of the demo table. */
export interface DemoRow {
  method: DemoMethod;
  label: string;
  /** Target test accuracy per seed (x100). */
  scores: number[];
  mean: number;
  /** Sample standard deviation over seeds (0 for one seed). */
  sd: number;
  /** Mean target-stage wall time per seed, seconds. */
  targetSeconds: number;
  /** Wall time of the source stage it builds on (once for all seeds), seconds; null for PT. */
  sourceSeconds: number | null;
  /** Per-seed test scores of the other targets of a multi-target run. */
  others: Record<string, number[]>;
}

/** What a demo run produced: the protocol, the model it ran on, the table rows, its wall time. */
export interface DemoResult {
  protocol: DemoProtocol;
  model: string;
  rows: DemoRow[];
  wallSeconds: number;
}
