// SentencePiece's Normalizer (normalizer.cc) on UTF-8 bytes: user-defined symbols pass through
// untouched, everything else goes through the precompiled charsmap (longest match; unmatched
// characters are copied; malformed UTF-8 becomes U+FFFD one byte at a time), then leading,
// trailing and repeated spaces are dropped, a dummy-prefix space is added and spaces become
// U+2581. Offsets back to the input are not tracked: encoding needs only the normalized text.
import type { ByteTrie } from './byte_trie.js';
import { PrecompiledCharsmap } from './charsmap.js';
import type { NormalizerSpec } from './sentencepiece_model.js';

const SPACE_SYMBOL = [0xe2, 0x96, 0x81];
const REPLACEMENT = new Uint8Array([0xef, 0xbf, 0xbd]);

/** Length of a valid UTF-8 sequence at bytes[pos], or 0 if the bytes there are malformed. */
export function validUtf8Length(bytes: Uint8Array, pos: number, end: number): number {
  const b0 = bytes[pos]!;
  if (b0 < 0x80) return 1;
  const cont = (i: number, lo = 0x80, hi = 0xbf) => i < end && bytes[i]! >= lo && bytes[i]! <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(pos + 1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80, hi = b0 === 0xed ? 0x9f : 0xbf;
    return cont(pos + 1, lo, hi) && cont(pos + 2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80, hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(pos + 1, lo, hi) && cont(pos + 2) && cont(pos + 3) ? 4 : 0;
  }
  return 0;
}

/** One model's normalizer; not reentrant (it reuses an output buffer), so one per processor. */
export class Normalizer {
  private readonly charsmap: PrecompiledCharsmap | null;
  private out = new Uint8Array(256);
  private len = 0;
  // Result of normalizePrefix: bytes src[off..off+n) replace `consumed` input bytes.
  private pSrc: Uint8Array = REPLACEMENT;
  private pOff = 0;
  private pLen = 0;
  private pConsumed = 0;

  constructor(private readonly spec: NormalizerSpec, private readonly userDefined: ByteTrie | null) {
    this.charsmap = spec.precompiledCharsmap.length > 0 ? new PrecompiledCharsmap(spec.precompiledCharsmap) : null;
  }

  private normalizePrefix(input: Uint8Array, pos: number, end: number): void {
    if (this.userDefined) {
      const n = this.userDefined.longestPrefix(input, pos, end);
      if (n > 0) {
        this.pSrc = input; this.pOff = pos; this.pLen = n; this.pConsumed = n;
        return;
      }
    }
    const cm = this.charsmap;
    if (cm && cm.longestMatch(input, pos, end)) {
      const blob = cm.normalized;
      let e = cm.matchValue;
      while (e < blob.length && blob[e] !== 0) e++;
      this.pSrc = blob; this.pOff = cm.matchValue; this.pLen = e - cm.matchValue; this.pConsumed = cm.matchLength;
      return;
    }
    const n = validUtf8Length(input, pos, end);
    if (n === 0) {
      this.pSrc = REPLACEMENT; this.pOff = 0; this.pLen = 3; this.pConsumed = 1;
    } else {
      this.pSrc = input; this.pOff = pos; this.pLen = n; this.pConsumed = n;
    }
  }

  private push(b: number): void {
    if (this.len === this.out.length) {
      const bigger = new Uint8Array(this.out.length * 2);
      bigger.set(this.out);
      this.out = bigger;
    }
    this.out[this.len++] = b;
  }

  private pushSpace(): void {
    if (this.spec.escapeWhitespaces) for (const b of SPACE_SYMBOL) this.push(b);
    else this.push(0x20);
  }

  /** Normalizes UTF-8 `input` and returns the normalized UTF-8 bytes (a fresh copy). */
  normalize(input: Uint8Array): Uint8Array {
    const spec = this.spec;
    const end = input.length;
    let pos = 0;
    this.len = 0;
    if (spec.removeExtraWhitespaces) {
      while (pos < end) {
        this.normalizePrefix(input, pos, end);
        if (!(this.pLen === 1 && this.pSrc[this.pOff] === 0x20)) break;
        pos += this.pConsumed;
      }
    }
    if (pos >= end) return new Uint8Array(0);
    if (spec.addDummyPrefix) this.pushSpace();
    let prevSpace = spec.removeExtraWhitespaces;
    while (pos < end) {
      this.normalizePrefix(input, pos, end);
      const src = this.pSrc;
      let s = this.pOff;
      const e = this.pOff + this.pLen;
      if (prevSpace) while (s < e && src[s] === 0x20) s++;
      if (s < e) {
        for (let i = s; i < e; i++) {
          const b = src[i]!;
          if (b === 0x20 && spec.escapeWhitespaces) this.pushSpace();
          else this.push(b);
        }
        prevSpace = src[e - 1] === 0x20;
      }
      pos += this.pConsumed;
      if (!spec.removeExtraWhitespaces) prevSpace = false;
    }
    if (spec.removeExtraWhitespaces) {
      const out = this.out;
      if (spec.escapeWhitespaces) {
        while (this.len >= 3 && out[this.len - 3] === 0xe2 && out[this.len - 2] === 0x96 && out[this.len - 1] === 0x81) this.len -= 3;
      } else {
        while (this.len >= 1 && out[this.len - 1] === 0x20) this.len--;
      }
    }
    return this.out.slice(0, this.len);
  }
}
