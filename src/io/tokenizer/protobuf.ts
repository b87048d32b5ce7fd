// Just enough of the protobuf wire format to read a SentencePiece ModelProto: no schema
// compiler or runtime dependency for one message type.

export const WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5;

const utf8 = new TextDecoder();
// Scratch for little-endian float32 decoding (every platform we run on is little-endian).
const F32 = new Float32Array(1);
const F32_BYTES = new Uint8Array(F32.buffer);

/** Sequential reader over one message's bytes; errors name `what` and the byte offset. */
export class ProtoReader {
  private pos: number;

  constructor(private readonly buf: Uint8Array, start = 0, private readonly end = buf.length, private readonly what = 'protobuf') {
    this.pos = start;
  }

  eof(): boolean {
    return this.pos >= this.end;
  }

  private fail(msg: string): never {
    throw new Error(`${this.what}: malformed protobuf at byte ${this.pos}: ${msg}`);
  }

  /** Field number and wire type of the next field. */
  tag(): { field: number; wire: number } {
    const t = this.varint();
    return { field: t >>> 3, wire: t & 7 };
  }

  /**
   * The low 32 bits of a varint as a signed int32: what int32/enum/bool fields need (negative
   * int32 values are sign-extended to 10 bytes on the wire, and their low 32 bits are the value).
   */
  varint(): number {
    let low = 0;
    for (let i = 0; ; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      if (i >= 10) this.fail('varint longer than 10 bytes');
      const b = this.buf[this.pos++]!;
      if (i < 5) low |= (b & 0x7f) << (7 * i);
      if (!(b & 0x80)) return low | 0;
    }
  }

  float(): number {
    if (this.pos + 4 > this.end) this.fail('truncated fixed32');
    const b = this.buf, p = this.pos;
    this.pos += 4;
    F32_BYTES[0] = b[p]!; F32_BYTES[1] = b[p + 1]!; F32_BYTES[2] = b[p + 2]!; F32_BYTES[3] = b[p + 3]!;
    return F32[0]!;
  }

  bytes(): Uint8Array {
    const len = this.varint() >>> 0;
    if (this.pos + len > this.end) this.fail(`length ${len} runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  /** A reader over the next length-delimited field (an embedded message). */
  message(what: string): ProtoReader {
    const b = this.bytes();
    return new ProtoReader(this.buf, b.byteOffset - this.buf.byteOffset, b.byteOffset - this.buf.byteOffset + b.length, what);
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT: this.varint(); break;
      case WIRE_I64: this.pos += 8; break;
      case WIRE_LEN: this.bytes(); break;
      case WIRE_I32: this.pos += 4; break;
      default: this.fail(`unsupported wire type ${wire}`);
    }
    if (this.pos > this.end) this.fail('field runs past the end');
  }
}
