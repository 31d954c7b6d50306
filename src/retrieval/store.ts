/**
 * The storage contract of retrieval: what a memory-bank row is, what a search returns, and the
 * `VectorStore` interface that the local LanceDB bank (memory-bank.ts) implements and that a remote
 * store (e.g. a Qdrant collection, for banks beyond one machine) can implement without touching the
 * code that retrieves. Also the store-agnostic part of choosing ANN defaults: recall@k against exact
 * search and the least search effort that reaches a target recall (`calibrateEffort`).
 * Not here: any storage code (memory-bank.ts) and the retrieval rules (rules.ts).
 */
import { Rng } from '../data/rng.js';
import { normalise } from './vectors.js';

export type DocumentKind = 'image' | 'text' | 'both';

/** One retrieval document. `vector` is L2-normalised, length `dim`. */
export interface BankRow {
  /** Unique within the bank: `<dataset>/<docId>`. */
  id: string;
  /** The document's id in its dataset (the caption pair's id). */
  docId: string;
  /** The dataset it came from (its directory name, e.g. `shapes`). */
  dataset: string;
  split: string;
  kind: DocumentKind;
  text?: string | null;
  imageId?: string | null;
  vector: Float32Array;
  /** The VQ image codes of the document's image (any length); null when not stored. */
  imageTokens?: Int32Array | null;
  /** A small PNG of the document's image (for display); null when not stored. */
  thumbnail?: Uint8Array | null;
}

/**
 * A search result: the row and its inner product with the query. `vector`, `imageTokens` and
 * `thumbnail` are present only when asked for (they are the bulk of a row).
 */
export interface BankHit extends Omit<BankRow, 'vector'> {
  score: number;
  vector?: Float32Array;
}

export interface EncoderId {
  name: string;
  version: string;
}

export type AnnIndexType = 'ivf_flat' | 'ivf_pq';

/** An ANN index as recorded in bank.json: how it was built and the search defaults chosen for it. */
export interface AnnIndexInfo {
  type: AnnIndexType;
  /** Always `dot`: the index is trained for the distance search uses (inner product of unit vectors). */
  distance: 'dot';
  numPartitions: number;
  /** ivf_pq only. */
  numSubVectors?: number;
  /** Default partitions probed by `search(..., { ann: true })`: the smallest that met the target below. */
  nprobes: number;
  /** Default refine factor (ivf_pq re-scores limit x this many candidates exactly); null: none. */
  refineFactor: number | null;
  /** How the defaults were chosen: recall@k against exact search on held-aside queries of two kinds. */
  calibration: {
    k: number;
    target: number;
    /** Queries of each kind (random unit vectors, bank vectors with noise) in each of two sets. */
    queriesPerKind: number;
    /** At `nprobes`, on the second (check) set: not the set the probes were fitted on. */
    recall: { random: number; perturbed: number };
    met: boolean;
  };
  rows: number;
  buildSeconds: number;
}

export interface BankInfo {
  /** 1: the first format (no image tokens, thumbnails or index); 2: adds them. Both open. */
  formatVersion: 1 | 2;
  dim: number;
  encoder: EncoderId;
  counts: {
    rows: number; byKind: Record<string, number>; byDataset: Record<string, number>; bySplit: Record<string, number>;
    /** Format 2: rows that have image tokens / a thumbnail. */
    withTokens?: number; withThumbnails?: number;
  };
  /**
   * The image tokenizer whose codes the rows store (its `codesVersion`, e.g. "vq@0123456789ab").
   * Absent in banks without codes and in banks built before it was recorded.
   */
  imageTokenizer?: string;
  /** Free-form notes from the builder (sources, options). */
  sources: string[];
  buildSeconds: number;
  /** The ANN index, if one was built. */
  index?: AnnIndexInfo | null;
}

/**
 * A filter every store can apply: equality on the row's kind, dataset and split (a list means any
 * of them). In Qdrant terms a `must` of `match` conditions on payload fields.
 */
export interface BankFilter {
  kind?: DocumentKind | readonly DocumentKind[];
  dataset?: string | readonly string[];
  split?: string | readonly string[];
}

export interface StoreSearchOptions {
  filter?: BankFilter;
  withVectors?: boolean;
  /** Return each hit's `imageTokens` (null where the row has none, or the store keeps none). */
  withTokens?: boolean;
  withThumbnails?: boolean;
  /**
   * false (default): exact search. true: the store's ANN index with its default effort; an error if
   * it has none. 'auto': the index when there is one, exact search otherwise.
   */
  ann?: boolean | 'auto';
}

/**
 * What retrieval needs from a bank of documents. `MemoryBank` (LanceDB, one directory) implements
 * it; a remote store would map `search` to its nearest-neighbour query (inner product over unit
 * vectors, the filter as payload conditions, `ann: false` as its exact mode), `getByIds` to a fetch
 * by point id, and synthesise `info` from its collection's metadata.
 */
export interface VectorStore {
  readonly info: BankInfo;
  readonly dim: number;
  count(): Promise<number>;
  /** Top-k by inner product with `query` (unit length, dimension `dim`), best first. */
  search(query: ArrayLike<number>, k: number, options?: StoreSearchOptions): Promise<BankHit[]>;
  /** Full rows (vector, tokens, thumbnail) in the order asked; ids the store lacks are left out. */
  getByIds(ids: readonly string[]): Promise<BankRow[]>;
  close(): void | Promise<void>;
}

/** Fraction of `truth`'s ids found in `got` (recall@k with k = truth.length), 1 when truth is empty. */
export function recallAt(truth: readonly string[], got: readonly string[]): number {
  if (truth.length === 0) return 1;
  const want = new Set(truth);
  return got.filter((id) => want.has(id)).length / truth.length;
}

/** A random unit vector of dimension `dim`. */
export function randomUnit(dim: number, rng: Rng): Float32Array {
  return normalise(Array.from({ length: dim }, () => rng.normal()));
}

/**
 * normalise(v + noise) with Gaussian noise of expected norm `noise`: a query near a bank vector
 * (cosine about 1 / sqrt(1 + noise^2) to it) but not a copy of it.
 */
export function perturb(v: ArrayLike<number>, noise: number, rng: Rng): Float32Array {
  const scale = noise / Math.sqrt(v.length);
  return normalise(Array.from({ length: v.length }, (_, i) => v[i]! + scale * rng.normal()));
}

/**
 * The smallest effort in [1, max] whose recall (by `measure`, assumed to grow with effort) reaches
 * `target`, found by bisection; `max` when none does. Returns the effort and its recall.
 */
export async function smallestEffort<R extends { min: number }>(
  max: number, target: number, measure: (effort: number) => Promise<R>,
): Promise<{ effort: number; result: R }> {
  const top = await measure(max);
  if (top.min < target) return { effort: max, result: top };
  let lo = 1, hi = max, best = top;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const r = await measure(mid);
    if (r.min >= target) {
      hi = mid;
      best = r;
    } else {
      lo = mid + 1;
    }
  }
  return { effort: hi, result: best };
}

/** Noise on bank vectors for calibration queries: cosine ~0.96 to the source row. */
export const CALIBRATION_NOISE = 0.3;

export interface CalibrationOptions {
  dim: number;
  /** The search effort's range is [1, maxEffort] (IVF: probes; an HNSW store: ef). */
  maxEffort: number;
  target: number;
  /** Queries of each kind in each of the two query sets. */
  perKind: number;
  seed: number;
  /** An effort fixed by the caller: only measured. */
  fixed?: number;
  /** `n` bank vectors drawn at random with `rng` (they become perturbed queries). */
  sample(n: number, rng: Rng): Promise<Float32Array[]>;
  /** Ids of the exact top-k. */
  exact(query: Float32Array): Promise<string[]>;
  /** Ids of the approximate top-k at `effort`. */
  approx(query: Float32Array, effort: number): Promise<string[]>;
}

/**
 * The least search effort whose recall@k against exact search reaches `target` on random unit
 * queries and on perturbed bank vectors alike (random queries are the hard case for IVF: their
 * neighbours scatter over many partitions). Two query sets: the fewest probes meeting the target on
 * the first is biased low (the first crossing of a noisy curve), so it is checked on the second and
 * raised in 15% steps until that agrees; the recall reported is the second set's.
 */
export async function calibrateEffort(o: CalibrationOptions): Promise<{ effort: number; recall: { random: number; perturbed: number }; met: boolean }> {
  const rng = new Rng(o.seed);
  const querySet = async () => {
    const random = Array.from({ length: o.perKind }, () => randomUnit(o.dim, rng));
    const perturbed = (await o.sample(o.perKind, rng)).map((v) => perturb(v, CALIBRATION_NOISE, rng));
    const truth = { random: await Promise.all(random.map((q) => o.exact(q))), perturbed: await Promise.all(perturbed.map((q) => o.exact(q))) };
    const mean = async (qs: Float32Array[], want: string[][], effort: number) => {
      let sum = 0;
      for (let i = 0; i < qs.length; i++) sum += recallAt(want[i]!, await o.approx(qs[i]!, effort));
      return Math.round((sum / qs.length) * 1000) / 1000;
    };
    return async (effort: number) => {
      const r = { random: await mean(random, truth.random, effort), perturbed: await mean(perturbed, truth.perturbed, effort) };
      return { ...r, min: Math.min(r.random, r.perturbed) };
    };
  };
  const [fit, check] = [await querySet(), await querySet()];
  let effort = o.fixed ?? (await smallestEffort(o.maxEffort, o.target, fit)).effort;
  let recall = await check(effort);
  while (o.fixed === undefined && recall.min < o.target && effort < o.maxEffort) {
    effort = Math.min(o.maxEffort, Math.ceil(effort * 1.15));
    recall = await check(effort);
  }
  return { effort, recall: { random: recall.random, perturbed: recall.perturbed }, met: recall.min >= o.target };
}
