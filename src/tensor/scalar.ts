// A host number that a captured step reads anew at every replay (a dropout seed, a step count).
// Ops that take one pack it inside `recorder().dynamic`, so the replay re-packs their parameters
// from its current value instead of the value seen at capture.

/** A mutable host number; `capture` hands one to the step for every number input. */
export class Scalar {
  constructor(public value: number) {}
}

/** The current value of a number or Scalar. */
export function valueOf(x: number | Scalar): number {
  return typeof x === 'number' ? x : x.value;
}
