// Error-message checks for host-side validation: tests name the facts a message must carry (a
// tensor name, a shape, a byte offset) rather than its exact wording.
import * as assert from 'uvu/assert';
import { tidy } from '../../src/tensor/scope.js';

/** Asserts that fn throws an error whose message mentions every one of `parts`. */
export function throwsWith(fn: () => unknown, ...parts: string[]): void {
  try {
    fn();
  } catch (err) {
    const msg = (err as Error).message;
    for (const p of parts) assert.ok(msg.includes(p), `error "${msg}" should mention "${p}"`);
    return;
  }
  assert.unreachable(`expected an error mentioning ${parts.join(', ')}`);
}

/** The message of the error fn throws inside a scope, or '' when it throws none. */
export function messageOf(fn: () => void): string {
  try {
    tidy(fn);
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}
