// A static trie over UTF-8 byte strings, flattened into typed arrays: the vocabulary lookup of
// the unigram Viterbi, and the user-defined-symbol matcher of the normalizer. Children of a node
// are consecutive node ids with sorted labels, so a step is a short scan (a table at the root,
// which has the most children). 250k-piece vocabularies (mT5) stay at a few MB.

const DENSE_MIN = 8;

/** Immutable byte-string trie with an int value per key (see the module comment). */
export class ByteTrie {
  /** Value (e.g. piece id) stored at a node, or -1. */
  readonly value: Int32Array;
  private readonly label: Uint8Array;
  private readonly firstChild: Int32Array;
  private readonly childCount: Int32Array;
  /** For nodes with many children (the root, "▁", common first letters): 256-entry tables. */
  private readonly denseAt: Int32Array;
  private readonly dense: Int32Array;

  /** Builds from keys and their values; for a repeated key the first value wins. */
  constructor(keys: readonly Uint8Array[], values: readonly number[]) {
    // Bytes as Latin-1 strings: the built-in string sort then orders them bytewise, far faster
    // than a comparator over Uint8Arrays.
    const strs = keys.map((k) => String.fromCharCode.apply(null, k as unknown as number[]));
    const order = strs.map((_, i) => i).sort((a, b) => (strs[a]! < strs[b]! ? -1 : strs[a]! > strs[b]! ? 1 : a - b));
    let total = 1;
    for (const k of keys) total += k.length;
    const value = new Int32Array(total).fill(-1);
    const label = new Uint8Array(total);
    const firstChild = new Int32Array(total);
    const childCount = new Int32Array(total);
    // Breadth-first over ranges of `order` that share a prefix, so each node's children get
    // consecutive ids.
    const qLo = new Int32Array(total), qHi = new Int32Array(total), qDepth = new Int32Array(total);
    qHi[0] = order.length;
    let next = 1;
    for (let node = 0; node < next; node++) {
      let lo = qLo[node]!;
      const hi = qHi[node]!, depth = qDepth[node]!;
      while (lo < hi && strs[order[lo]!]!.length === depth) {
        if (value[node] === -1) value[node] = values[order[lo]!]!;
        lo++;
      }
      firstChild[node] = next;
      let i = lo;
      while (i < hi) {
        const b = strs[order[i]!]!.charCodeAt(depth);
        let j = i + 1;
        while (j < hi && strs[order[j]!]!.charCodeAt(depth) === b) j++;
        label[next] = b;
        qLo[next] = i; qHi[next] = j; qDepth[next] = depth + 1;
        next++;
        i = j;
      }
      childCount[node] = next - firstChild[node]!;
    }
    this.value = value.slice(0, next);
    this.label = label.slice(0, next);
    this.firstChild = firstChild.slice(0, next);
    this.childCount = childCount.slice(0, next);
    // A linear scan over ~100 children (every byte that can follow "▁") dominated encoding
    // time; a direct table for those nodes removes it at a small memory cost.
    this.denseAt = new Int32Array(next).fill(-1);
    let denseNodes = 0;
    for (let n = 0; n < next; n++) if (n === 0 || this.childCount[n]! > DENSE_MIN) this.denseAt[n] = 256 * denseNodes++;
    this.dense = new Int32Array(256 * denseNodes).fill(-1);
    for (let n = 0; n < next; n++) {
      const at = this.denseAt[n]!;
      if (at < 0) continue;
      for (let c = this.firstChild[n]!, e = c + this.childCount[n]!; c < e; c++) this.dense[at + this.label[c]!] = c;
    }
  }

  /** The child of `node` along byte `b`, or -1. Node 0 is the root. */
  child(node: number, b: number): number {
    const at = this.denseAt[node]!;
    if (at >= 0) return this.dense[at + b]!;
    const first = this.firstChild[node]!;
    const end = first + this.childCount[node]!;
    const label = this.label;
    for (let c = first; c < end; c++) {
      const l = label[c]!;
      if (l === b) return c;
      if (l > b) return -1;
    }
    return -1;
  }

  /** Length of the longest key that is a prefix of bytes[pos..end), or 0. */
  longestPrefix(bytes: Uint8Array, pos: number, end = bytes.length): number {
    let node = 0, best = 0;
    for (let i = pos; i < end; i++) {
      node = this.child(node, bytes[i]!);
      if (node < 0) break;
      if (this.value[node]! >= 0) best = i + 1 - pos;
    }
    return best;
  }
}
