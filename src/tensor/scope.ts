// Scopes free intermediates deterministically: every tensor made inside `tidy(fn)` is disposed
// when fn returns, except the tensors in fn's result and those passed to `keep`. This keeps a long
// training loop's memory flat without relying on garbage-collector timing.
import type { Tensor } from './tensor.js';

const stack: Array<Set<Tensor>> = [];

/** Called by Tensor's constructor: the new tensor belongs to the innermost scope, if any. */
export function track(t: Tensor): void {
  stack[stack.length - 1]?.add(t);
}

/** Takes a tensor out of every scope: it lives until `dispose()` is called on it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of stack) s.delete(t);
  return t;
}

function collect(value: unknown, out: Set<Tensor>, seen: Set<unknown>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isTensor(value)) out.add(value);
  else if (Array.isArray(value)) for (const v of value) collect(v, out, seen);
  else if (value instanceof Map) for (const v of value.values()) collect(v, out, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, out, seen);
}

function isTensor(v: object): v is Tensor {
  return 'shape' in v && 'dtype' in v && typeof (v as Tensor).dispose === 'function';
}

/**
 * Runs `fn` and disposes every tensor it created except those reachable from its result
 * (tensors, arrays, Maps and plain objects are searched) and those passed to `keep`.
 * Surviving tensors move to the enclosing scope. `fn` must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  stack.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    stack.pop();
    for (const t of scope) t.dispose();
    throw err;
  }
  stack.pop();
  if (result instanceof Promise) throw new Error('tidy: fn must be synchronous (it returned a Promise)');
  const survivors = new Set<Tensor>();
  collect(result, survivors, new Set());
  const parent = stack[stack.length - 1];
  for (const t of scope) {
    if (survivors.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}
