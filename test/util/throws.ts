// Error-message checks for host-side validation: tests name the facts a message must carry (a
// tensor name, a shape, a byte offset) rather than its exact wording.
import * as assert from 'uvu/assert';

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
