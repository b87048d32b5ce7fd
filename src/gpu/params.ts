// A kernel's per-dispatch parameters (its `var<uniform>` at binding 0), declared once by name in
// TypeScript. The declaration packs the bytes by field name in WGSL's uniform layout and emits the
// WGSL struct, which `pipelineFor` appends to the shader source; the .wgsl files only use it. A
// renamed, reordered or forgotten field is therefore an error at launch, not wrong numbers.
import { BUFFER_ALIGN } from './buffers.js';
import { GpuError } from './device.js';

/** A 4-byte scalar field. */
export type ScalarType = 'u32' | 'i32' | 'f32';
/** A 16-byte vector field. */
export type VectorType = 'vec4<u32>' | 'vec4<i32>' | 'vec4<f32>';
/** A field: a scalar, a vec4, or `[vec4 type, count]` for `array<vec4<T>, count>`. */
export type FieldType = ScalarType | VectorType | readonly [VectorType, number];
/** Field names to types, in the struct's order. */
export type Fields = Readonly<Record<string, FieldType>>;
/**
 * The values `pack` takes: a number per scalar, a list per vec4 (at most 4 numbers) or array (at
 * most 4·count, flattened). Lists shorter than the field are zero-filled: kernels read them up to a
 * length carried in another field (a rank, say).
 */
export type ParamValues<F extends Fields> = {
  readonly [K in keyof F]: F[K] extends ScalarType ? number : F[K] extends Exclude<FieldType, ScalarType> ? readonly number[] : number | readonly number[];
};

/** Where a field lives in the struct. */
export interface FieldLayout {
  readonly name: string;
  readonly offset: number;
  /** Bytes it occupies (4 for a scalar, 16 per vec4). */
  readonly size: number;
  /** The element type every 4 bytes are written as. */
  readonly scalar: ScalarType;
}

/** A WGSL uniform struct declared by name: its layout, its WGSL text and its packer. */
export interface UniformStruct<F extends Fields = Fields> {
  /** The WGSL struct's name, e.g. `CopyParams`. */
  readonly name: string;
  /** The fields as declared (`Kernel<typeof S.spec>` types a kernel's launch values). */
  readonly spec: F;
  readonly fields: readonly FieldLayout[];
  /** The struct's size in WGSL: the end of the last field rounded up to the struct's alignment. */
  readonly size: number;
  /** `struct Name { field: type, ... }` as WGSL. */
  readonly wgsl: string;
  /**
   * The uniform bytes for `values`, padded to 16 bytes. Throws, naming `kernel` and the field, when
   * a field is missing or unknown, or a list is longer than its field.
   */
  pack(values: ParamValues<F>, kernel?: string): ArrayBuffer;
}

const scalarOf = (t: ScalarType | VectorType): ScalarType => (t.startsWith('vec4<') ? (t.slice(5, 8) as ScalarType) : (t as ScalarType));
const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

/**
 * Declares a uniform struct. Offsets follow WGSL's uniform address space: scalars are 4-byte
 * aligned, vec4s and arrays of them 16-byte aligned (array stride 16), and the struct's size is
 * rounded to its largest alignment.
 */
export function uniformStruct<const F extends Fields>(name: string, fields: F): UniformStruct<F> {
  const layout: FieldLayout[] = [];
  const lines: string[] = [];
  let at = 0;
  let align = 4;
  for (const [field, type] of Object.entries(fields)) {
    if (typeof type === 'string' && !type.startsWith('vec4<')) {
      layout.push({ name: field, offset: at, size: 4, scalar: type as ScalarType });
      lines.push(`  ${field}: ${type},`);
      at += 4;
      continue;
    }
    const [vector, count] = typeof type === 'string' ? [type, 0] : type;
    if (typeof type !== 'string' && !(Number.isInteger(count) && count > 0)) {
      throw new GpuError(`${name}.${field}: array length ${count} is not a positive integer`);
    }
    at = roundUp(at, 16);
    align = 16;
    layout.push({ name: field, offset: at, size: 16 * Math.max(count, 1), scalar: scalarOf(vector) });
    lines.push(`  ${field}: ${count ? `array<${vector}, ${count}>` : vector},`);
    at += 16 * Math.max(count, 1);
  }
  const size = roundUp(at, align);
  const bytes = Math.max(16, roundUp(at, 16));
  if (bytes > BUFFER_ALIGN) throw new GpuError(`${name}: ${bytes} bytes of parameters exceed the ${BUFFER_ALIGN}-byte slot of a dispatch`);
  const byName = new Map(layout.map((f) => [f.name, f]));
  return {
    name,
    spec: fields,
    fields: layout,
    size,
    wgsl: `struct ${name} {\n${lines.join('\n')}\n}\n`,
    pack(values, kernel = name) {
      const view = new DataView(new ArrayBuffer(bytes));
      for (const key of Object.keys(values)) {
        if (!byName.has(key)) throw new GpuError(`${kernel}: ${name} has no field "${key}" (fields: ${[...byName.keys()].join(', ')})`);
      }
      for (const f of layout) {
        const v = (values as Readonly<Record<string, number | readonly number[] | undefined>>)[f.name];
        if (v === undefined) throw new GpuError(`${kernel}: ${name}.${f.name} is missing`);
        const list = typeof v === 'number' ? [v] : v;
        if (f.size === 4 ? typeof v !== 'number' : typeof v === 'number' || list.length > f.size / 4) {
          throw new GpuError(`${kernel}: ${name}.${f.name} takes ${f.size === 4 ? 'a number' : `at most ${f.size / 4} numbers`}`);
        }
        list.forEach((x, i) => {
          const o = f.offset + 4 * i;
          if (f.scalar === 'f32') view.setFloat32(o, x, true);
          else if (f.scalar === 'i32') view.setInt32(o, x, true);
          else view.setUint32(o, x, true);
        });
      }
      return view.buffer;
    },
  };
}

/** `values` followed by `fill` up to `length` (e.g. a shape padded with 1s to a fixed rank). */
export function padTo(values: readonly number[], length: number, fill: number): number[] {
  return [...values, ...new Array<number>(Math.max(0, length - values.length)).fill(fill)];
}
