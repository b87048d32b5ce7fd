// SentencePiece's precompiled normalization map (e.g. nmt_nfkc): a Darts-clone double-array trie
// over UTF-8 input bytes whose values are offsets into a blob of NUL-terminated replacement
// strings. Blob layout: u32 little-endian trie size in bytes, the trie's 32-bit units, the strings.

export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  /** The replacement strings, NUL-terminated. */
  readonly normalized: Uint8Array;

  constructor(blob: Uint8Array, what = 'precompiled_charsmap') {
    if (blob.length <= 4) throw new Error(`${what}: blob of ${blob.length} bytes is too short`);
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieSize = dv.getUint32(0, true);
    if (4 + trieSize > blob.length || trieSize % 4 !== 0) throw new Error(`${what}: trie size ${trieSize} does not fit the ${blob.length}-byte blob`);
    this.units = new Uint32Array(trieSize / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = dv.getUint32(4 + 4 * i, true);
    this.normalized = blob.slice(4 + trieSize);
  }

  /**
   * Longest key that prefixes bytes[pos..end): sets `matchLength` and `matchValue` (offset into
   * `normalized`) and returns true, or returns false. This is Darts' commonPrefixSearch keeping
   * the longest result, as SentencePiece's Normalizer::NormalizePrefix does.
   */
  longestMatch(bytes: Uint8Array, pos: number, end: number): boolean {
    const units = this.units;
    let nodePos = offsetOf(units[0]!);
    let found = false;
    for (let i = pos; i < end; i++) {
      const c = bytes[i]!;
      nodePos ^= c;
      if (nodePos >= units.length) break;
      const unit = units[nodePos]!;
      // label() keeps bit 31 so that a leaf unit never matches a byte.
      if ((unit & 0x800000ff) >>> 0 !== c) break;
      nodePos ^= offsetOf(unit);
      if ((unit >>> 8) & 1) {
        this.matchLength = i + 1 - pos;
        this.matchValue = units[nodePos]! & 0x7fffffff;
        found = true;
      }
    }
    return found;
  }

  matchLength = 0;
  matchValue = 0;
}

function offsetOf(unit: number): number {
  return (unit >>> 10) * ((unit & 0x200) ? 256 : 1);
}
