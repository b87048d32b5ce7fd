// A SentencePiece processor for unigram models in TypeScript: the same ids as the C++ library's
// EncodeAsIds/DecodeIds for a given spiece.model (verified against it on the GLUE and SuperGLUE
// texts in test/io), without native code or wasm at run time.
import { readFileSync } from 'node:fs';
import { ByteTrie } from './byte_trie.js';
import { Normalizer, validUtf8Length } from './normalizer.js';
import { parseSentencePieceModel, PieceType, type SentencePieceModelProto } from './sentencepiece_model.js';
import { UnigramModel } from './unigram.js';

const SPACE_SYMBOL = '\u2581';
const utf8 = new TextEncoder();
const lenientUtf8 = new TextDecoder('utf-8');

/** Encoder/decoder for one unigram spiece.model, matching the C++ SentencePieceProcessor. */
export class SentencePieceProcessor {
  private readonly normalizer: Normalizer;
  private readonly unigram: UnigramModel;
  /** Control, unknown and byte pieces take precedence in piece -> id, as in the C++ library. */
  private readonly reserved = new Map<string, number>();
  private readonly normal = new Map<string, number>();
  private readonly byteIds: Int32Array | null;
  readonly unkId: number;

  constructor(readonly model: SentencePieceModelProto) {
    const userDefined: Uint8Array[] = [], userIds: number[] = [];
    let unk = -1;
    const byteIds = model.trainer.byteFallback ? new Int32Array(256).fill(-1) : null;
    model.pieces.forEach((p, i) => {
      const isNormal = p.type === PieceType.NORMAL || p.type === PieceType.USER_DEFINED || p.type === PieceType.UNUSED;
      (isNormal ? this.normal : this.reserved).set(p.piece, i);
      if (p.type === PieceType.USER_DEFINED) { userDefined.push(p.bytes); userIds.push(i); }
      if (p.type === PieceType.UNKNOWN) unk = i;
      if (p.type === PieceType.BYTE) {
        const m = /^<0x([0-9A-F]{2})>$/.exec(p.piece);
        if (!m) throw new Error(`byte piece ${i} is ${JSON.stringify(p.piece)}, not <0xXX>`);
        byteIds![parseInt(m[1]!, 16)] = i;
      }
    });
    this.unkId = unk;
    this.byteIds = byteIds;
    this.normalizer = new Normalizer(model.normalizer, userDefined.length ? new ByteTrie(userDefined, userIds) : null);
    this.unigram = new UnigramModel(model.pieces, unk);
  }

  /** Loads a serialized ModelProto (spiece.model). */
  static fromFile(path: string): SentencePieceProcessor {
    return new SentencePieceProcessor(parseSentencePieceModel(readFileSync(path), path));
  }

  /** Number of pieces. */
  get size(): number {
    return this.model.pieces.length;
  }

  idToPiece(id: number): string {
    const p = this.model.pieces[id];
    if (!p) throw new RangeError(`piece id ${id} is out of range [0, ${this.size})`);
    return p.piece;
  }

  /** Id of a piece string; unknown strings map to the unk id. */
  pieceToId(piece: string): number {
    return this.reserved.get(piece) ?? this.normal.get(piece) ?? this.unkId;
  }

  isControl(id: number): boolean {
    return this.model.pieces[id]?.type === PieceType.CONTROL;
  }

  /** The normalized form of `text`, with U+2581 for spaces (useful to explain a segmentation). */
  normalize(text: string): string {
    return lenientUtf8.decode(this.normalizer.normalize(utf8.encode(text)));
  }

  /** Pieces (as text) and ids of `text`; runs of unknown characters merge into one <unk> piece. */
  encodeWithPieces(text: string): { pieces: string[]; ids: number[] } {
    const pieces: string[] = [];
    return { ids: this.encodeInto(text, pieces), pieces };
  }

  private encodeInto(text: string, pieces: string[] | null): number[] {
    const norm = this.normalizer.normalize(utf8.encode(text));
    const ids: number[] = [];
    if (norm.length === 0) return ids;
    let prevUnk = false;
    for (const seg of this.unigram.encode(norm)) {
      const isUnk = seg.id === this.unkId;
      if (isUnk && this.byteIds) {
        for (let i = seg.start; i < seg.end; i++) {
          const id = this.byteIds[norm[i]!]!;
          ids.push(id);
          pieces?.push(this.model.pieces[id]!.piece);
        }
        prevUnk = false;
        continue;
      }
      // Merged so that a decoder can copy an unknown span back as one piece, as the library does.
      if (isUnk && prevUnk) {
        if (pieces) pieces[pieces.length - 1] += lenientUtf8.decode(norm.subarray(seg.start, seg.end));
      } else {
        ids.push(seg.id);
        pieces?.push(isUnk ? lenientUtf8.decode(norm.subarray(seg.start, seg.end)) : this.model.pieces[seg.id]!.piece);
      }
      prevUnk = isUnk;
    }
    return ids;
  }

  /** SentencePiece EncodeAsIds: no BOS/EOS are added. */
  encodeIds(text: string): number[] {
    return this.encodeInto(text, null);
  }

  /** SentencePiece EncodeAsPieces. */
  encodePieces(text: string): string[] {
    return this.encodeWithPieces(text).pieces;
  }

  /**
   * SentencePiece DecodeIds: control pieces vanish, <unk> prints as the model's unk surface, U+2581
   * becomes a space and the leading one of the text is dropped, byte pieces are reassembled into
   * UTF-8 (a byte that starts no valid character becomes U+FFFD).
   */
  decodeIds(ids: readonly number[]): string {
    let text = '';
    const bytes: number[] = [];
    const flushBytes = () => {
      let i = 0;
      const buf = Uint8Array.from(bytes);
      while (i < buf.length) {
        const n = validUtf8Length(buf, i, buf.length);
        if (n === 0) { text += '\ufffd'; i++; } else { text += lenientUtf8.decode(buf.subarray(i, i + n)); i += n; }
      }
      bytes.length = 0;
    };
    const norm = this.model.normalizer;
    const mayStrip = norm.addDummyPrefix || norm.removeExtraWhitespaces;
    // Whether a leading U+2581 may still be dropped: until text appears, or, when whitespace is
    // kept verbatim, until the one dummy-prefix space has been dropped (the library's bos_ws logic).
    let atStart = true, strippedOne = false;
    for (const id of ids) {
      const p = this.model.pieces[id];
      if (!p) throw new RangeError(`piece id ${id} is out of range [0, ${this.size})`);
      if (p.type === PieceType.BYTE) { bytes.push(parseInt(p.piece.slice(3, 5), 16)); continue; }
      if (bytes.length) flushBytes();
      if (strippedOne || text !== '') atStart = false;
      strippedOne = false;
      if (p.type === PieceType.CONTROL) continue;
      if (p.type === PieceType.UNKNOWN) { text += this.model.trainer.unkSurface; continue; }
      let piece = p.piece;
      if (atStart && mayStrip && piece.startsWith(SPACE_SYMBOL)) {
        piece = piece.slice(1);
        strippedOne = !norm.removeExtraWhitespaces;
      }
      text += piece.replaceAll(SPACE_SYMBOL, ' ');
    }
    if (bytes.length) flushBytes();
    return text;
  }
}
