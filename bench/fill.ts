// The fill family (shaders/fill.wgsl): its one kernel writing a value's bit pattern, f32 and i32.
// Checked against test/ref/fill.ts (exactly) on the timed size first. GB/s: 4 bytes written an
// element.
//   node dist/bench/fill.js [--quick] [--n 4194304] [--trace=FILE] [--out=FILE]
import { fill } from '../src/ops/fill.js';
import { fill64 } from '../test/ref/fill.js';
import { numberFlag, suiteArgs } from './lib/args.js';
import { Family } from './lib/family.js';

const args = suiteArgs('fill', { n: { type: 'string', help: 'elements (default 4194304, 262144 with --quick)' } });
const N = numberFlag('n', args.n, args.quick ? 1 << 18 : 1 << 22);
const fam = new Family('fill', args.quick);
await fam.start(`${N} elements`);
for (const [value, dtype] of [[0.1, 'f32'], [-7, 'i32']] as const) {
  await fam.outputs({ case: `[${N}] ${value}`, variant: `main ${dtype}`, bytes: 4 * N }, () => [fill([N], value, dtype)], [fill64(N, value, dtype)], { rtol: 0, atol: 0 });
}
await fam.finish({ n: N });
