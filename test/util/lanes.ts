// Row kernels (softmax, rmsnorm, cross-entropy) reduce in trees whose width launchRows picks from
// the row length and the adapter; their tests run under every kind of choice so that a test
// machine (lavapipe picks few lanes) also covers what a GPU runs.
import { setRowElementsPerLane } from '../../src/ops/rows.js';

/**
 * Runs fn under the adapter's lanes-per-row choice (perLane null), the GPU one (8 elements per
 * lane) and 1 per lane (the widest trees, up to a whole workgroup per row), then restores the
 * adapter's choice even if fn throws.
 */
export async function eachLaneSetting(fn: (perLane: number | null) => Promise<void>): Promise<void> {
  try {
    for (const k of [null, 8, 1]) {
      setRowElementsPerLane(k);
      await fn(k);
    }
  } finally {
    setRowElementsPerLane(null);
  }
}
