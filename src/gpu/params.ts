// Builds the bytes of a kernel's uniform `Params` struct in WGSL layout order: scalars are 4-byte
// aligned, vec4s (and arrays of them) 16-byte aligned. Write fields in the struct's order.
export class Params {
  private readonly view = new DataView(new ArrayBuffer(256));
  private at = 0;

  u32(...values: number[]): this {
    for (const v of values) {
      this.view.setUint32(this.at, v, true);
      this.at += 4;
    }
    return this;
  }

  i32(...values: number[]): this {
    for (const v of values) {
      this.view.setInt32(this.at, v, true);
      this.at += 4;
    }
    return this;
  }

  f32(...values: number[]): this {
    for (const v of values) {
      this.view.setFloat32(this.at, v, true);
      this.at += 4;
    }
    return this;
  }

  /** A `vec4<u32>` (or one element of an `array<vec4<u32>, N>`); pads to 16-byte alignment first. */
  vec4u(a: number, b = 0, c = 0, d = 0): this {
    this.at = Math.ceil(this.at / 16) * 16;
    return this.u32(a, b, c, d);
  }

  /** `count` u32 values packed into ceil(count/4) vec4<u32>, padded with `pad`. */
  packU32(values: readonly number[], count: number, pad = 0): this {
    const all = [...values];
    while (all.length < count) all.push(pad);
    for (let i = 0; i < count; i += 4) this.vec4u(all[i]!, all[i + 1] ?? pad, all[i + 2] ?? pad, all[i + 3] ?? pad);
    return this;
  }

  /** The struct's bytes, padded to 16 bytes (uniform structs are 16-byte aligned). */
  get bytes(): ArrayBuffer {
    return this.view.buffer.slice(0, Math.max(16, Math.ceil(this.at / 16) * 16));
  }
}
