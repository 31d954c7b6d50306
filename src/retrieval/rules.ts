/**
 * The paper's retrieval rules (CM3leon §2.2, after RA-CM3), as pure functions over candidate lists
 * that a memory-bank search returned:
 *   relevance  — best inner product with the query first;
 *   modality   — documents holding both an image and a text before single-modality ones;
 *   diversity  — skip a near-copy of the query (score > 0.9) and a near-duplicate (cosine > 0.9)
 *                of a document already chosen;
 *   query dropout — when retrieving for training, drop 20% of the query's tokens (seeded);
 *   two per query — one document retrieved by the query's image, one by its text.
 * No I/O and no embedding here: callers search the bank (memory-bank.ts) and embed (encoders.ts).
 */
import { Rng } from '../data/rng.js';
import type { DocumentKind } from './memory-bank.js';
import { dot } from './vectors.js';

/** What the rules need of a search hit. `vector` (unit length) is needed by the pairwise diversity check. */
export interface Candidate {
  id: string;
  score: number;
  kind: DocumentKind;
  vector?: ArrayLike<number>;
}

export interface RuleOptions {
  /** Skip candidates scoring above this against the query (near-copies). Paper: 0.9. */
  maxQueryScore?: number;
  /** Skip candidates whose cosine with an already chosen one is above this. Paper: 0.9. */
  maxPairwise?: number;
  /** Put documents with both modalities first. Default true. */
  preferBoth?: boolean;
}

export const PAPER_RULES: Required<RuleOptions> = { maxQueryScore: 0.9, maxPairwise: 0.9, preferBoth: true };

/** Relevance: by score, best first; ties broken by id so the order is deterministic. */
export function rankByRelevance<C extends Candidate>(candidates: readonly C[]): C[] {
  return [...candidates].sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Modality: `both` documents first, each group keeping its order (a stable partition). */
export function preferMultimodal<C extends Candidate>(candidates: readonly C[]): C[] {
  return [...candidates.filter((c) => c.kind === 'both'), ...candidates.filter((c) => c.kind !== 'both')];
}

/** Cosine of two unit vectors (their dot product); throws when a vector is missing. */
function similarity(a: Candidate, b: Candidate): number {
  if (!a.vector || !b.vector) throw new Error(`diversity rule: candidate ${a.vector ? b.id : a.id} has no vector (search with withVectors)`);
  return dot(a.vector, b.vector);
}

/**
 * Diversity: walks `candidates` in the given order and keeps up to `k`, skipping near-copies of the
 * query and near-duplicates of ones kept (or of `chosen`, documents picked earlier).
 */
export function selectDiverse<C extends Candidate>(
  candidates: readonly C[], k: number, options: RuleOptions = {}, chosen: readonly Candidate[] = [],
): C[] {
  const maxQuery = options.maxQueryScore ?? PAPER_RULES.maxQueryScore;
  const maxPair = options.maxPairwise ?? PAPER_RULES.maxPairwise;
  const kept: C[] = [];
  const seen = new Set(chosen.map((c) => c.id));
  for (const c of candidates) {
    if (kept.length >= k) break;
    if (seen.has(c.id) || c.score > maxQuery) continue;
    if ([...chosen, ...kept].some((d) => similarity(c, d) > maxPair)) continue;
    kept.push(c);
    seen.add(c.id);
  }
  return kept;
}

/** All three document rules in the paper's order: relevance, modality, diversity. */
export function applyRules<C extends Candidate>(candidates: readonly C[], k: number, options: RuleOptions = {}, chosen: readonly Candidate[] = []): C[] {
  const ranked = rankByRelevance(candidates);
  const ordered = (options.preferBoth ?? PAPER_RULES.preferBoth) ? preferMultimodal(ranked) : ranked;
  return selectDiverse(ordered, k, options, chosen);
}

/**
 * Query dropout: removes round(rate * n) tokens at seeded random positions, keeping the rest in
 * order. Used only when retrieving for training (it regularises what the model learns to copy).
 * Works on any token list: BPE ids, words, image tokens.
 */
export function queryDropout<T>(tokens: readonly T[], seed: number, rate = 0.2): T[] {
  if (!(rate >= 0 && rate < 1)) throw new Error(`query dropout rate must be in [0, 1), got ${rate}`);
  const drop = Math.round(rate * tokens.length);
  if (drop === 0) return [...tokens];
  const order = new Rng(seed).shuffle(tokens.map((_, i) => i));
  const dropped = new Set(order.slice(0, drop));
  return tokens.filter((_, i) => !dropped.has(i));
}

/** Word-level query dropout for a caption (the tokens here are whitespace-separated words). */
export function dropQueryWords(text: string, seed: number, rate = 0.2): string {
  return queryDropout(text.split(/\s+/).filter((w) => w.length > 0), seed, rate).join(' ');
}

/**
 * Two documents per query: the best document retrieved by the query's image, then the best one
 * retrieved by its text that is not the same document nor a near-duplicate of the first. Either
 * list may be empty (a text-only query has no image list); then both come from the other list.
 */
export function twoPerQuery<C extends Candidate>(byImage: readonly C[], byText: readonly C[], options: RuleOptions = {}): C[] {
  const first = applyRules(byImage, 1, options);
  const second = applyRules(byText, 1, options, first);
  const picked = [...first, ...second];
  if (picked.length < 2) {
    const rest = applyRules([...byImage, ...byText], 2 - picked.length, options, picked);
    picked.push(...rest);
  }
  return picked;
}
