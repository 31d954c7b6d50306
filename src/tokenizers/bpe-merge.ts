/**
 * Applying ranked BPE merges to one pre-token: the inner loop of encode. Semantics are Hugging
 * Face's (Rust `tokenizers` and `@huggingface/tokenizers`): repeatedly merge the adjacent pair with
 * the lowest merge rank, the leftmost one on ties, until no adjacent pair has a rank.
 *
 * Two implementations of the same rule: a scan over a rank array for ordinary words (fastest when
 * a word is a few dozen bytes) and a heap over a linked list for long runs (a page of CJK text or
 * base64 is one pre-token; the scan would be quadratic there). Deliberately not here: caching,
 * pre-tokenization, special tokens (bpe.ts).
 */

/** Open-addressing hash table from an id pair (a, b) to its merge rank; -1 when absent. */
export class PairTable {
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly value: Int32Array;
  private readonly mask: number;

  constructor(pairs: ReadonlyArray<readonly [number, number]>) {
    let cap = 16;
    while (cap < pairs.length * 2) cap *= 2;
    this.mask = cap - 1;
    this.left = new Int32Array(cap).fill(-1);
    this.right = new Int32Array(cap);
    this.value = new Int32Array(cap);
    pairs.forEach(([a, b], rank) => {
      let h = hashPair(a, b) & this.mask;
      while (this.left[h] !== -1) {
        if (this.left[h] === a && this.right[h] === b) return; // first (lowest) rank wins
        h = (h + 1) & this.mask;
      }
      this.left[h] = a;
      this.right[h] = b;
      this.value[h] = rank;
    });
  }

  get(a: number, b: number): number {
    let h = hashPair(a, b) & this.mask;
    for (;;) {
      const l = this.left[h]!;
      if (l === -1) return -1;
      if (l === a && this.right[h] === b) return this.value[h]!;
      h = (h + 1) & this.mask;
    }
  }
}

function hashPair(a: number, b: number): number {
  return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 0;
}

/** Words up to this many symbols use the scan; longer ones the heap. */
export const SCAN_MAX_SYMBOLS = 128;

/**
 * Merges `sym[0..n)` in place and returns the new length. `mergeId[rank]` is the id a merge
 * produces. `ranks` is scratch space of at least n entries.
 */
export function mergeWordScan(
  sym: Int32Array,
  n: number,
  table: PairTable,
  mergeId: Int32Array,
  ranks: Int32Array,
): number {
  const NONE = 0x7fffffff;
  for (let i = 0; i + 1 < n; i++) {
    const r = table.get(sym[i]!, sym[i + 1]!);
    ranks[i] = r < 0 ? NONE : r;
  }
  while (n > 1) {
    let best = NONE;
    let at = -1;
    for (let i = 0; i + 1 < n; i++) {
      if (ranks[i]! < best) {
        best = ranks[i]!;
        at = i;
      }
    }
    if (at < 0) break;
    sym[at] = mergeId[best]!;
    // Drop symbol at+1 and the rank of the pair it started (plain loops: words are short, and
    // copyWithin's call overhead is larger than the copy).
    for (let i = at + 1; i + 1 < n; i++) sym[i] = sym[i + 1]!;
    for (let i = at + 1; i + 2 < n; i++) ranks[i] = ranks[i + 1]!;
    n--;
    // Only the pairs touching the new symbol changed.
    if (at > 0) {
      const r = table.get(sym[at - 1]!, sym[at]!);
      ranks[at - 1] = r < 0 ? NONE : r;
    }
    if (at + 1 < n) {
      const r = table.get(sym[at]!, sym[at + 1]!);
      ranks[at] = r < 0 ? NONE : r;
    }
  }
  return n;
}

/** Same result as mergeWordScan in O(n log n), for long words. */
export function mergeWordHeap(
  sym: Int32Array,
  n: number,
  table: PairTable,
  mergeId: Int32Array,
): number {
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  // Heap key rank * n + pos orders by rank, then leftmost position; fits a double exactly.
  const heap = new MinHeap(n);
  const push = (pos: number) => {
    const nx = next[pos]!;
    if (nx < 0) return;
    const r = table.get(sym[pos]!, sym[nx]!);
    if (r >= 0) heap.push(r * n + pos);
  };
  for (let i = 0; i + 1 < n; i++) push(i);
  while (heap.size > 0) {
    const key = heap.pop();
    const pos = key % n;
    const rank = (key - pos) / n;
    const nx = next[pos]!;
    // Stale entry: pos was absorbed (marked by prev -2) or its pair has changed since the push.
    if (prev[pos] === -2 || nx < 0 || table.get(sym[pos]!, sym[nx]!) !== rank) continue;
    sym[pos] = mergeId[rank]!;
    const after = next[nx]!;
    next[pos] = after;
    if (after >= 0) prev[after] = pos;
    prev[nx] = -2;
    if (prev[pos]! >= 0) push(prev[pos]!);
    push(pos);
  }
  let m = 0;
  for (let i = 0; i >= 0; i = next[i]!) sym[m++] = sym[i]!;
  return m;
}

/** Binary min-heap of doubles. */
class MinHeap {
  private data: Float64Array;
  size = 0;
  constructor(capacity: number) {
    this.data = new Float64Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.size === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    const d = this.data;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (d[p]! <= v) break;
      d[i] = d[p]!;
      i = p;
    }
    d[i] = v;
  }
  pop(): number {
    const d = this.data;
    const top = d[0]!;
    const last = d[--this.size]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.size) break;
      if (c + 1 < this.size && d[c + 1]! < d[c]!) c++;
      if (d[c]! >= last) break;
      d[i] = d[c]!;
      i = c;
    }
    d[i] = last;
    return top;
  }
}
