// The step loop every training stage shares: progress display, the loss read back each step (one
// scalar, which also bounds how far the host runs ahead of the GPU and surfaces GPU errors at the
// step that caused them), a stop on the first non-finite value the step's check found (the loss, a
// gradient, an updated tensor: the run fails naming the step and the tensor, and no checkpoint is
// written from that state), JSONL step records, checkpoints every N
// steps and at the stage's boundaries. What a step does, and what a boundary does (evaluation),
// belongs to the stage.
import type { ProgressMode } from './options.js';
import { Progress, type ProgressInfo } from './progress.js';
import type { Run } from './run.js';

/** What one step reports: its loss and, on log steps, the fields of its log record. */
export interface StepReport {
  loss: number;
  /** The first tensor of the step's finiteness check that is not finite, described; null or absent when all are. */
  nonFinite?: string | null;
  fields?: Record<string, unknown>;
}

/** The loop settings every stage's options carry (a stage passes its options object). */
export interface LoopSettings {
  logEvery: number;
  checkpointEvery: number;
  /** Stop (with a checkpoint) after this many steps of this call; null = run to the end. */
  stopAfter: number | null;
  /** Stop (with a checkpoint) after the first step that ends this many minutes into this call; null or absent = no time limit. */
  maxMinutes?: number | null;
  progress: ProgressMode;
}

export interface LoopSpec {
  label: string;
  totalSteps: number;
  /** Steps already done (a resumed run). */
  startStep: number;
  settings: LoopSettings;
  /** Runs step `s` (0-based); `log` says whether to read back statistics for the log. */
  step(s: number, log: boolean): Promise<StepReport>;
  /** Writes a checkpoint after `done` steps. */
  checkpoint(done: number): Promise<void>;
  /** Called after each step with the steps done; returns true at a boundary that checkpoints (an epoch end). */
  after?(done: number, progress: Progress): Promise<boolean>;
}

/** A step produced a NaN or an infinity: the run stops (exit code != 0) without a checkpoint of that state. */
export class NonFiniteStepError extends Error {
  override name = 'NonFiniteStepError';
}

/**
 * Runs steps startStep..totalSteps-1 (see the file comment), or stops early after `stopAfter`
 * steps, after `maxMinutes` of wall time, or on SIGINT / SIGTERM (the current step finishes and a
 * checkpoint is written; a second signal quits at once). Returns true when the run reached its last step.
 */
export async function trainLoop(run: Run, spec: LoopSpec): Promise<boolean> {
  const progress = new Progress(spec.label, spec.totalSteps, spec.settings.progress, spec.startStep);
  const end = spec.settings.stopAfter === null ? spec.totalSteps : Math.min(spec.totalSteps, spec.startStep + spec.settings.stopAfter);
  const maxMinutes = spec.settings.maxMinutes ?? null;
  const deadline = maxMinutes === null ? Infinity : performance.now() + maxMinutes * 60_000;
  let smoothed: number | null = null;
  let signal: string | null = null;
  let outOfTime = false;
  const onSignal = (sig: string): void => {
    if (signal) {
      progress.stop();
      process.exit(130);
    }
    signal = sig;
    progress.log(`${sig}: finishing this step and writing a checkpoint (send it again to quit at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let stopped = end;
  let saved = spec.startStep;
  try {
    for (let s = spec.startStep; s < end; s++) {
      const done = s + 1;
      const logStep = done % spec.settings.logEvery === 0 || done === spec.totalSteps;
      const report = await spec.step(s, logStep);
      const bad = report.nonFinite ?? (Number.isFinite(report.loss) ? null : `the loss is ${report.loss}`);
      if (bad) {
        const kept = saved > 0 ? `the last checkpoint (step ${saved}) is left as it was` : 'no checkpoint was written';
        const message = `step ${done}: ${bad}; the run stopped, ${kept} (lower the lr, or check the data and the model)`;
        run.log.write({ kind: 'event', step: done, event: 'non-finite', message });
        throw new NonFiniteStepError(`${run.dir}: ${message}`);
      }
      smoothed = smoothed === null ? report.loss : 0.98 * smoothed + 0.02 * report.loss;
      if (logStep) run.log.write({ kind: 'step', step: done, loss: report.loss, ...report.fields });
      const info: ProgressInfo = { loss: smoothed };
      progress.update(done, info);
      const boundary = spec.after ? await spec.after(done, progress) : false;
      outOfTime = performance.now() >= deadline;
      if (boundary || signal || outOfTime || (spec.settings.checkpointEvery > 0 && done % spec.settings.checkpointEvery === 0) || done === end) {
        await spec.checkpoint(done);
        saved = done;
      }
      if (signal || outOfTime) {
        stopped = done;
        break;
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.stop();
  }
  if (stopped < spec.totalSteps) {
    const why = signal ? `interrupted (${signal})` : outOfTime ? `stopped at its time limit (${maxMinutes} minutes)` : 'stopped';
    const message = `${why} after step ${stopped} of ${spec.totalSteps}; continue with --resume`;
    run.log.write({ kind: 'event', step: stopped, event: 'stopped', message });
    process.stderr.write(`${run.dir}: ${message}\n`);
    return false;
  }
  return true;
}
