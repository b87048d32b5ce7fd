// Where the host's time goes while recording a step: Dawn's entry points that every eager dispatch
// calls (createBindGroup, the pass encoder's setPipeline / setBindGroup / dispatchWorkgroups) and
// the buffer pool are timed by wrapping them; the rest is the engine's JS (op logic, parameter
// packing, the tape, scopes, pipeline lookups) and the submit.
import { gpu } from '../../src/gpu/device.js';
import { recorder } from '../../src/gpu/recorder.js';

/** Milliseconds per step by part, and the step's total record + submit time. */
export interface HostBreakdown {
  totalMs: number;
  dispatches: number;
  parts: Record<'bindGroups' | 'encoderCalls' | 'pool' | 'rest', number>;
}

/** Records `run` `iters` times (each submitted and waited for) with the wrappers in place. */
export async function hostBreakdown(run: () => void, iters: number): Promise<HostBreakdown> {
  const rec = recorder();
  const device = gpu().device;
  const spent = { bindGroups: 0, encoderCalls: 0, pool: 0 };
  const timed = <A extends unknown[], R>(part: keyof typeof spent, f: (...a: A) => R) => function (this: unknown, ...a: A): R {
    const t0 = performance.now();
    try {
      return f.apply(this, a);
    } finally {
      spent[part] += performance.now() - t0;
    }
  };
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  const proto = Object.getPrototypeOf(pass) as Record<'setPipeline' | 'setBindGroup' | 'dispatchWorkgroups', (...a: unknown[]) => unknown>;
  pass.end();
  encoder.finish();
  const methods = ['setPipeline', 'setBindGroup', 'dispatchWorkgroups'] as const;
  const saved = { createBindGroup: device.createBindGroup, acquire: rec.pool.acquire, pass: methods.map((m) => proto[m]) };
  device.createBindGroup = timed('bindGroups', saved.createBindGroup);
  rec.pool.acquire = timed('pool', saved.acquire);
  methods.forEach((m, i) => (proto[m] = timed('encoderCalls', saved.pass[i]!)));
  let total = 0;
  let dispatches = 0;
  try {
    for (let i = 0; i < iters; i++) {
      await rec.sync();
      const d0 = rec.snapshot().dispatches;
      const t0 = performance.now();
      run();
      rec.submit();
      total += performance.now() - t0;
      dispatches += rec.snapshot().dispatches - d0;
    }
    await rec.sync();
  } finally {
    device.createBindGroup = saved.createBindGroup;
    rec.pool.acquire = saved.acquire;
    methods.forEach((m, i) => (proto[m] = saved.pass[i]!));
  }
  const per = (ms: number) => ms / iters;
  const known = spent.bindGroups + spent.encoderCalls + spent.pool;
  return {
    totalMs: per(total),
    dispatches: dispatches / iters,
    parts: { bindGroups: per(spent.bindGroups), encoderCalls: per(spent.encoderCalls), pool: per(spent.pool), rest: per(total - known) },
  };
}
