// The writing half of protobuf.ts: just enough of the wire format to serialise a SentencePiece
// ModelProto (varints, fixed32 floats, length-delimited strings and embedded messages).
import { WIRE_I32, WIRE_LEN, WIRE_VARINT } from './protobuf.js';

const utf8 = new TextEncoder();

/** Appends fields to a growing buffer; `finish()` returns the message bytes. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;
  private readonly f32 = new DataView(new ArrayBuffer(4));

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    bigger.set(this.buf.subarray(0, this.len));
    this.buf = bigger;
  }

  private rawVarint(v: number): void {
    this.reserve(10);
    // int32 negatives go on the wire sign-extended to 64 bits: ten bytes, as protobuf requires.
    let lo = v >>> 0, hi = v < 0 ? 0xffffffff : Math.floor(v / 2 ** 32) >>> 0;
    while (hi !== 0 || lo > 0x7f) {
      this.buf[this.len++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.len++] = lo;
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** An int32, enum or bool field. */
  varint(field: number, v: number | boolean): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(typeof v === 'boolean' ? Number(v) : v);
    return this;
  }

  /** A float field (fixed32, little-endian). */
  float(field: number, v: number): this {
    this.tag(field, WIRE_I32);
    this.reserve(4);
    this.f32.setFloat32(0, v, true);
    for (let i = 0; i < 4; i++) this.buf[this.len++] = this.f32.getUint8(i);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  /** An embedded message field. */
  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
