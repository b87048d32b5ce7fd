// Learning-rate schedules as pure functions from a 0-based step index to a multiplier of each
// group's base lr, with the same values as Hugging Face's LambdaLR schedules. Use them as
// `optimizer.setLrScale(schedule(step))` before the step-th `optimizer.step` (so, as in HF, a
// schedule with warmup gives the very first step an lr of 0).
import { GpuError } from '../gpu/device.js';

/** Step index (0-based) -> lr multiplier. */
export type Schedule = (step: number) => number;

function checkSteps(name: string, ...counts: number[]): void {
  for (const n of counts) if (!Number.isInteger(n) || n < 0) throw new GpuError(`${name}: invalid step count ${n}`);
}

/** Always 1 (HF `get_constant_schedule`). */
export function constantSchedule(): Schedule {
  return () => 1;
}

/** Linear warmup from 0 over `warmupSteps`, then 1 (HF `get_constant_schedule_with_warmup`). */
export function warmupConstantSchedule(warmupSteps: number): Schedule {
  checkSteps('warmupConstantSchedule', warmupSteps);
  return (step) => (step < warmupSteps ? step / Math.max(1, warmupSteps) : 1);
}

/**
 * Linear warmup from 0 over `warmupSteps`, then linear decay to 0 at `totalSteps`
 * (HF `get_linear_schedule_with_warmup`).
 */
export function linearWarmupDecaySchedule(warmupSteps: number, totalSteps: number): Schedule {
  checkSteps('linearWarmupDecaySchedule', warmupSteps, totalSteps);
  return (step) =>
    step < warmupSteps
      ? step / Math.max(1, warmupSteps)
      : Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
}
