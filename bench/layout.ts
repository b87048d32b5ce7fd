// The layout family (shaders/layout.wgsl): copy_strided (scalar runs), copy_strided4 (vec4 runs)
// and transpose_tiled through permute, slice and concat on T5's attention shapes; cast_f32_i32,
// cast_i32_f32; where_select with an f32 and an i32 mask (MASK_F32). Each is checked against
// test/ref/layout.ts on the timed inputs first, exactly (copies move bits). GB/s: bytes read plus
// written.
//   node dist/bench/layout.js [--quick] [--trace=FILE] [--out=FILE]
import { cast, concat, permute, slice, where } from '../src/ops/layout.js';
import { tensor } from '../src/tensor/create.js';
import { keep } from '../src/tensor/scope.js';
import { numel } from '../test/ref/compare.js';
import { randF32, rng } from '../test/ref/data.js';
import { cast64, concat64, permute64, slice64, where64 } from '../test/ref/layout.js';
import { suiteArgs } from './lib/args.js';
import { Family } from './lib/family.js';

const args = suiteArgs('layout', {});
const B = args.quick ? 2 : 8, T = args.quick ? 57 : 228;
const fam = new Family('layout', args.quick);
await fam.start(`[${B}, 8, ${T}, 64] attention tensors`);
const EXACT = { rtol: 0, atol: 0 };
const r = rng(21);

// Head split [B, T, H, dk] -> [B, H, T, dk] moves 64-float runs (vec4); the key transpose swaps the
// last two axes (tiled); an odd innermost run of 5 can only go a float at a time.
const PERMS: Array<[string, number[], number[]]> = [
  ['copy_strided4', [B, T, 8, 64], [0, 2, 1, 3]],
  ['transpose_tiled', [B, 8, T, 64], [0, 1, 3, 2]],
  ['copy_strided', [B * 8, T, 5], [1, 0, 2]],
];
for (const [entry, shape, perm] of PERMS) {
  const x = randF32(r, numel(shape));
  const xt = keep(tensor(x, shape));
  await fam.outputs({ case: `permute [${shape}] by [${perm}]`, variant: entry, bytes: 8 * x.length }, () => [permute(xt, perm)], [permute64(x, shape, perm)], EXACT);
  xt.dispose();
}

// The prompt's rows of a [B, 100 + T, 512] activation, and joining them back.
const shape = [B, 100 + T, 512];
const x = randF32(r, numel(shape));
const xt = keep(tensor(x, shape));
const s = [0, 100, 0], e = shape;
const sliced = slice64(x, shape, s, e);
await fam.outputs({ case: `slice [${shape}] from ${s}`, variant: 'copy_strided4', bytes: 8 * sliced.res.length }, () => [slice(xt, s, e)], [sliced.res], EXACT);
const prompt = randF32(r, B * 100 * 512);
const pt = keep(tensor(prompt, [B, 100, 512]));
const joined = concat64([[prompt, [B, 100, 512]], [sliced.res, sliced.out]], 1);
await fam.outputs({ case: `concat [${B},100,512] + [${sliced.out}] axis 1`, variant: 'copy_strided4', bytes: 8 * joined.res.length },
  () => [concat([pt, slice(xt, s, e)], 1)], [joined.res], EXACT);

// Casts and selects over the same activation (f32 -> i32 truncates: scale so it matters).
const n = x.length;
const big = x.map((v) => Math.fround(v * 1000));
const bt = keep(tensor(big, shape));
const ints = cast64(big, 'i32');
const it = keep(tensor(Int32Array.from(ints), shape, 'i32'));
await fam.outputs({ case: `[${shape}]`, variant: 'cast_f32_i32', bytes: 8 * n }, () => [cast(bt, 'i32')], [ints], EXACT);
await fam.outputs({ case: `[${shape}]`, variant: 'cast_i32_f32', bytes: 8 * n }, () => [cast(it, 'f32')], [cast64(ints, 'f32')], EXACT);
const mask = Float64Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0));
const mf = keep(tensor(mask, shape)), mi = keep(tensor(Int32Array.from(mask), shape, 'i32'));
for (const [m, f32] of [[mf, true], [mi, false]] as const) {
  await fam.outputs({ case: `[${shape}]`, variant: `where_select MASK_F32=${f32}`, bytes: 16 * n }, () => [where(m, xt, bt)], [where64(mask, x, big)], EXACT);
}
for (const v of [xt, pt, bt, it, mf, mi]) v.dispose();
await fam.finish({ b: B, t: T });
