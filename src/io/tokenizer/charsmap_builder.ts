// Builds a precompiled normalization map (the format charsmap.ts reads): a Darts-clone double
// array over the UTF-8 keys whose values are offsets into a blob of NUL-terminated replacements.
// Units: a node's unit holds its label (bits 0-7), whether it has a value (bit 8) and the XOR
// offset from its index to the base of its children (bits 10-31); the child labelled c sits at
// base ^ c and the value at base ^ 0, as a unit with bit 31 set. Bases are never shared, so a
// lookup can only land on a unit whose label is its own; unused units carry bit 31 and match nothing.

const LEAF = 0x80000000;
const HAS_LEAF = 0x100;
const MAX_OFFSET = 1 << 21;

interface TrieNode {
  children: Map<number, TrieNode>;
  value: number;
}

/** The blob for `map` (key -> replacement; keys non-empty, without NUL; an empty replacement deletes). */
export function buildCharsmap(map: ReadonlyMap<string, string>): Uint8Array {
  const enc = new TextEncoder();
  // Replacements, deduplicated, in key order so the same map gives the same bytes.
  const keys = [...map.keys()].map((k) => ({ key: k, bytes: enc.encode(k) }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.bytes), Buffer.from(b.bytes)));
  const strings: number[] = [];
  const offsetOf = new Map<string, number>();
  const root: TrieNode = { children: new Map(), value: -1 };
  for (const { key, bytes } of keys) {
    if (bytes.length === 0 || bytes.includes(0)) throw new Error(`charsmap key ${JSON.stringify(key)} is empty or holds NUL`);
    const value = map.get(key)!;
    let off = offsetOf.get(value);
    if (off === undefined) {
      const b = enc.encode(value);
      if (b.includes(0)) throw new Error(`charsmap replacement for ${JSON.stringify(key)} holds NUL`);
      offsetOf.set(value, (off = strings.length));
      strings.push(...b, 0);
    }
    let node = root;
    for (const c of bytes) {
      let next = node.children.get(c);
      if (!next) node.children.set(c, (next = { children: new Map(), value: -1 }));
      node = next;
    }
    node.value = off;
  }

  let units = new Uint32Array(1024).fill(LEAF);
  let used = new Uint8Array(1024);
  const ensure = (n: number) => {
    if (n < units.length) return;
    const len = Math.max(n + 1, units.length * 2);
    const bigger = new Uint32Array(len).fill(LEAF);
    bigger.set(units);
    units = bigger;
    const biggerUsed = new Uint8Array(len);
    biggerUsed.set(used);
    used = biggerUsed;
  };
  used[0] = 1;
  const free = (i: number) => i >= used.length || used[i] === 0;
  const usedBase = new Uint8Array(MAX_OFFSET);
  let size = 1, lowFree = 1;
  // Breadth first: each node's children (and value slot) go to the first base whose slots are free.
  const queue: { node: TrieNode; index: number }[] = [{ node: root, index: 0 }];
  for (let q = 0; q < queue.length; q++) {
    const { node, index } = queue[q]!;
    const children = [...node.children].sort((a, b) => a[0] - b[0]);
    const labels = children.map(([c]) => c);
    if (node.value >= 0) labels.push(0);
    while (!free(lowFree)) lowFree++;
    let base = lowFree ^ labels[0]!;
    // A zero offset would read as "no children" to SentencePiece's validation of the array.
    while (base === index || usedBase[base] || !labels.every((c) => free(base ^ c))) base++;
    const offset = index ^ base;
    if (offset >= MAX_OFFSET) throw new Error('charsmap: the double array outgrew its offset field');
    usedBase[base] = 1;
    ensure(base | 0xff);
    // The node's label was written when its parent placed it (the root has none).
    units[index] = (index === 0 ? 0 : units[index]!) | (offset << 10) | (node.value >= 0 ? HAS_LEAF : 0);
    if (node.value >= 0) { units[base] = (LEAF | node.value) >>> 0; used[base] = 1; }
    for (const [c, child] of children) {
      units[base ^ c] = c;
      used[base ^ c] = 1;
      queue.push({ node: child, index: base ^ c });
    }
    for (const c of labels) size = Math.max(size, (base ^ c) + 1);
  }
  // SentencePiece insists on whole 256-unit blocks, as Darts-clone allocates them.
  size = Math.ceil(size / 256) * 256;
  ensure(size - 1);
  const trie = units.slice(0, size);
  const blob = new Uint8Array(4 + trie.byteLength + strings.length);
  const dv = new DataView(blob.buffer);
  dv.setUint32(0, trie.byteLength, true);
  trie.forEach((u, i) => dv.setUint32(4 + 4 * i, u, true));
  blob.set(strings, 4 + trie.byteLength);
  return blob;
}
