/**
 * Training a byte-level BPE tokenizer on text: count pre-tokens (words), then repeatedly merge the
 * most frequent adjacent pair until the vocabulary reaches its target size.
 *
 * Incremental, as in Hugging Face's trainer: pair counts live in one map, each pair knows the words
 * it occurs in, and a merge only revisits those words; a lazy max-heap picks the next pair (an
 * entry whose count went stale is re-pushed with the current count when it surfaces). Ties go to
 * the smaller (left id, right id), so training is deterministic.
 *
 * Id layout of the result: the special tokens first (ids 0..S-1, in the order given), then the
 * 256 bytes in byte order, then one token per merge. A merge whose result would spell a special
 * token is never made. Deliberately not here: reading datasets (the CLI passes text), saving.
 */
import { BYTE_TO_CHAR, checkWellFormed } from './byte-level.js';
import { BpeTokenizer, type BpeModel } from './bpe.js';
import { TokenizerError } from './errors.js';
import { scanPreTokens } from './pre-tokenize.js';

export interface TrainBpeOptions {
  /** Total vocabulary size: specials + 256 bytes + merges. */
  vocabSize: number;
  /** Special tokens, given ids 0..S-1 in this order. */
  specials?: readonly string[];
  /** A pair seen fewer times than this is never merged (training stops early). Default 2. */
  minFrequency?: number;
  /** Called every `progressEvery` merges and at the end, with the tokens made so far. */
  onProgress?: (madeTokens: number, targetTokens: number) => void;
  progressEvery?: number;
}

/** Trains on a corpus given as one string or as chunks (lines, documents). */
export function trainBpe(corpus: string | Iterable<string>, options: TrainBpeOptions): BpeTokenizer {
  return new BpeTokenizer(trainBpeModel(corpus, options));
}

export function trainBpeModel(corpus: string | Iterable<string>, options: TrainBpeOptions): BpeModel {
  const specials = [...(options.specials ?? [])];
  const minFrequency = Math.max(1, options.minFrequency ?? 2);
  const base = specials.length + 256;
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < base) {
    throw new TokenizerError(
      `vocab size ${options.vocabSize} is too small: it must hold the ${specials.length} special tokens and 256 bytes (${base})`,
    );
  }
  if (new Set(specials).size !== specials.length) throw new TokenizerError('special tokens must be distinct');
  const targetMerges = options.vocabSize - base;

  // Id -> token string, the model's vocab.
  const vocab: string[] = [...specials, ...BYTE_TO_CHAR];
  const specialSet = new Set(specials);
  const idOf = new Map(vocab.map((t, id) => [t, id]));
  const merges: Array<[string, string]> = [];

  // 1. Unique words with counts, as byte-id sequences.
  const wordCounts = new Map<string, number>();
  for (const chunk of typeof corpus === 'string' ? [corpus] : corpus) {
    // Training never fails on a lone surrogate: it is counted as U+FFFD, what encode can be told to do.
    for (const w of scanPreTokens(checkWellFormed(chunk, 'replace'))) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
  }
  const encoder = new TextEncoder();
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [w, c] of wordCounts) {
    const bytes = encoder.encode(w);
    if (bytes.length < 2) continue; // a single byte can never take part in a merge
    words.push(Array.from(bytes, (b) => specials.length + b));
    counts.push(c);
  }
  wordCounts.clear();

  // 2. Pair counts and where each pair occurs. Key = left * K + right.
  const K = options.vocabSize;
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1, track: boolean) => {
    const s = words[w]!;
    const c = counts[w]! * sign;
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i]! * K + s[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + c);
      if (track) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1, true);

  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, key);

  // 3. Merge until the target size, or until no pair is frequent enough.
  const every = options.progressEvery ?? 500;
  while (vocab.length < options.vocabSize && heap.size > 0) {
    const { count, key } = heap.pop();
    const current = pairCount.get(key) ?? 0;
    if (current !== count) {
      if (current > 0) heap.push(current, key);
      continue;
    }
    if (count < minFrequency) break;
    const a = Math.floor(key / K);
    const b = key - a * K;
    const merged = vocab[a]! + vocab[b]!;
    if (specialSet.has(merged)) {
      pairCount.delete(key); // spells a special token: never merge it, and never look at it again
      continue;
    }
    // Two different splits can spell the same string ("ab"+"c", "a"+"bc"): both merges then
    // make the one existing token, as in Hugging Face's trainer.
    let z = idOf.get(merged);
    if (z === undefined) {
      z = vocab.length;
      vocab.push(merged);
      idOf.set(merged, z);
    }
    merges.push([vocab[a]!, vocab[b]!]);

    const touched = new Set<number>();
    for (const w of pairWords.get(key) ?? []) {
      const s = words[w]!;
      if (!containsPair(s, a, b)) continue; // stale: an earlier merge already consumed the pair here
      addPairs(w, -1, false);
      words[w] = mergePair(s, a, b, z);
      addPairs(w, 1, false);
      const t = words[w]!;
      for (let i = 0; i + 1 < t.length; i++) {
        if (t[i] !== z && t[i + 1] !== z) continue;
        const k = t[i]! * K + t[i + 1]!;
        let set = pairWords.get(k);
        if (!set) pairWords.set(k, (set = new Set()));
        set.add(w);
        touched.add(k);
      }
    }
    pairWords.delete(key);
    pairCount.delete(key);
    // Only pairs containing z gained counts; every other change was a decrease, handled lazily.
    for (const k of touched) heap.push(pairCount.get(k)!, k);
    if (options.onProgress && merges.length % every === 0) options.onProgress(vocab.length - base, targetMerges);
  }
  options.onProgress?.(vocab.length - base, targetMerges);

  return { vocab, merges, specials: specials.map((content, id) => ({ content, id })) };
}

function containsPair(s: number[], a: number, b: number): boolean {
  for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) return true;
  return false;
}

/** Left-to-right, non-overlapping: "a a a" with (a, a) -> "z a", as encode does. */
function mergePair(s: number[], a: number, b: number, z: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
      out.push(z);
      i++;
    } else {
      out.push(s[i]!);
    }
  }
  return out;
}

/** Max-heap on count; ties to the smaller key. Parallel arrays, no per-entry objects. */
class PairHeap {
  private readonly c: number[] = [];
  private readonly k: number[] = [];
  get size(): number {
    return this.c.length;
  }
  private above(c1: number, k1: number, c2: number, k2: number): boolean {
    return c1 > c2 || (c1 === c2 && k1 < k2);
  }
  push(count: number, key: number): void {
    const { c, k } = this;
    let i = c.length;
    c.push(count);
    k.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(count, key, c[p]!, k[p]!)) break;
      c[i] = c[p]!;
      k[i] = k[p]!;
      i = p;
    }
    c[i] = count;
    k[i] = key;
  }
  pop(): { count: number; key: number } {
    const { c, k } = this;
    const top = { count: c[0]!, key: k[0]! };
    const lc = c.pop()!;
    const lk = k.pop()!;
    const n = c.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      let j = 2 * i + 1;
      if (j >= n) break;
      if (j + 1 < n && this.above(c[j + 1]!, k[j + 1]!, c[j]!, k[j]!)) j++;
      if (!this.above(c[j]!, k[j]!, lc, lk)) break;
      c[i] = c[j]!;
      k[i] = k[j]!;
      i = j;
    }
    c[i] = lc;
    k[i] = lk;
    return top;
  }
}
