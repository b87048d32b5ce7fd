// Element types on the host: the safetensors dtypes with their sizes and typed-array storage, the
// one host-side tensor type (HostTensor), and conversions between types (IEEE half and bfloat16
// bits have no JS type, so they are decoded and rounded here).

/** Element types of the safetensors format, in the order of the reference implementation's enum. */
export const DTYPES = [
  'BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64',
] as const;
export type Dtype = (typeof DTYPES)[number];

/** Bytes per element. */
export const DTYPE_SIZE: Readonly<Record<Dtype, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

/**
 * Host storage per dtype. F16/BF16 keep their raw bits in a Uint16Array (JS has no half type);
 * 8-bit floats and BOOL keep raw bytes.
 */
export interface DtypeArray {
  BOOL: Uint8Array; U8: Uint8Array; I8: Int8Array; F8_E5M2: Uint8Array; F8_E4M3: Uint8Array;
  I16: Int16Array; U16: Uint16Array; F16: Uint16Array; BF16: Uint16Array;
  I32: Int32Array; U32: Uint32Array; F32: Float32Array; F64: Float64Array; I64: BigInt64Array; U64: BigUint64Array;
}
export type HostData = DtypeArray[Dtype];

/**
 * A tensor in host memory: its elements in row-major order and its shape. `dtype` names the
 * element type; it may be left out for a Float32Array (F32) or an Int32Array (I32), and must be
 * given where the array type is ambiguous (F16 and BF16 keep raw bits in a Uint16Array).
 */
export interface HostTensor<A extends HostData = HostData> {
  data: A;
  shape: number[];
  dtype?: Dtype;
}

/** A conversion that the tensor's dtype does not allow; `what` in the message names the tensor. */
export class DtypeError extends Error {
  override name = 'DtypeError';
}

/** The dtype of `t`: its own, or F32 / I32 from its array type; `what` names it in errors. */
export function dtypeOf(t: HostTensor, what = 'tensor'): Dtype {
  if (t.dtype) return t.dtype;
  if (t.data instanceof Float32Array) return 'F32';
  if (t.data instanceof Int32Array) return 'I32';
  throw new DtypeError(`${what}: data must be a Float32Array or Int32Array, or give a dtype`);
}

const F16_TO_F32 = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return t;
})();

/** Decodes IEEE half-precision bits. */
export function f16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = F16_TO_F32[bits[i]!]!;
  return out;
}

/** Decodes bfloat16 bits (the upper half of a float32). */
export function bf16BitsToFloat32(bits: Uint16Array): Float32Array {
  const u = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i]! << 16;
  return new Float32Array(u.buffer);
}

/** Rounds float32 values to bfloat16 bits, to nearest even (as torch does); NaN stays NaN. */
export function float32ToBf16Bits(x: Float32Array): Uint16Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = u[i]!;
    if ((v & 0x7f800000) === 0x7f800000 && v & 0x7fffff) out[i] = (v >>> 16) | 0x40;
    else out[i] = (v + 0x7fff + ((v >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** Rounds float32 values to IEEE half bits, to nearest even; overflow becomes +-Infinity. */
export function float32ToF16Bits(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  for (let i = 0; i < x.length; i++) {
    f[0] = x[i]!;
    const v = u[0]!;
    const sign = (v >>> 16) & 0x8000;
    const exp = (v >>> 23) & 0xff;
    let mant = v & 0x7fffff;
    if (exp === 0xff) { out[i] = sign | 0x7c00 | (mant ? 0x200 : 0); continue; }
    const e = exp - 127 + 15;
    if (e >= 31) { out[i] = sign | 0x7c00; continue; }
    if (e <= 0) {
      if (e < -10) { out[i] = sign; continue; }
      mant |= 0x800000;
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      const rem = mant & ((1 << shift) - 1);
      let m = mant >>> shift;
      if (rem > half || (rem === half && m & 1)) m++;
      out[i] = sign | m;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
    out[i] = sign | h;
  }
  return out;
}

/** Converts a floating tensor (F16, BF16, F32, F64) to float32; `what` names it in errors. */
export function toFloat32(t: HostTensor, what = 'tensor'): Float32Array {
  const dtype = dtypeOf(t, what);
  switch (dtype) {
    case 'F32': return t.data as Float32Array;
    case 'F16': return f16BitsToFloat32(t.data as Uint16Array);
    case 'BF16': return bf16BitsToFloat32(t.data as Uint16Array);
    case 'F64': return Float32Array.from(t.data as Float64Array);
    default: throw new DtypeError(`${what}: dtype ${dtype} is not a float type (F16, BF16, F32, F64)`);
  }
}

/** A tensor that must hold finite values holds NaN or +-Infinity; the message names it and the first bad element. */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
}

/**
 * Throws a NonFiniteError unless every value of `data` is finite. The message names `what` (file
 * and tensor), the first bad flat index and its value, and how many values are bad: a NaN loaded
 * into a model spreads to every output it reaches, so it is refused where it enters.
 */
export function assertFinite(data: Float32Array | Float64Array, what: string): void {
  let first = -1, count = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (first >= 0) {
    throw new NonFiniteError(`${what}: value ${data[first]} at flat index ${first} (${count} of ${data.length} values are NaN or infinite); non-finite values are refused`);
  }
}

/** toFloat32 for tensors whose values must be finite (weights, prompts, training state); see assertFinite. */
export function toFiniteFloat32(t: HostTensor, what = 'tensor'): Float32Array {
  const data = toFloat32(t, what);
  assertFinite(data, what);
  return data;
}

/** Converts a floating tensor to float64 (for grading against float64 references). */
export function toFloat64(t: HostTensor, what = 'tensor'): Float64Array {
  if (dtypeOf(t, what) === 'F64') return t.data as Float64Array;
  return Float64Array.from(toFloat32(t, what));
}

/**
 * Converts an integer tensor (I64, I32, and the narrower integer types) to int32; throws, naming
 * the element, when an I64/U64/U32 value does not fit.
 */
export function toInt32(t: HostTensor, what = 'tensor'): Int32Array {
  const dtype = dtypeOf(t, what);
  switch (dtype) {
    case 'I32': return t.data as Int32Array;
    case 'I64': case 'U64': {
      const src = t.data as BigInt64Array | BigUint64Array;
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!;
        if (v > 2147483647n || v < -2147483648n) throw new DtypeError(`${what}: ${dtype} value ${v} at [${i}] does not fit in int32`);
        out[i] = Number(v);
      }
      return out;
    }
    case 'U32': {
      const src = t.data as Uint32Array;
      for (let i = 0; i < src.length; i++) {
        if (src[i]! > 2147483647) throw new DtypeError(`${what}: U32 value ${src[i]} at [${i}] does not fit in int32`);
      }
      return new Int32Array(src);
    }
    case 'I16': case 'U16': case 'I8': case 'U8': case 'BOOL':
      return Int32Array.from(t.data as Int16Array | Uint16Array | Int8Array | Uint8Array);
    default: throw new DtypeError(`${what}: dtype ${dtype} is not an integer type`);
  }
}
