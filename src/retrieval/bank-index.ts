/**
 * The memory bank's ANN index: training an IVF index (IVF_FLAT or IVF_PQ, LanceDB) on the bank's
 * table and calibrating its search defaults (probes) to a target recall@10 against exact search.
 * Used by memory-bank.ts at build time and by `MemoryBank.createIndex`.
 */
import type { Table } from '@lancedb/lancedb';
import { RetrievalInputError } from './errors.js';
import { calibrateEffort, type AnnIndexInfo, type AnnIndexType } from './store.js';

/** The lazily loaded packages the bank uses. */
export interface LanceModules { lancedb: typeof import('@lancedb/lancedb'); arrow: typeof import('apache-arrow') }

/** Below this many rows an index is refused: IVF training needs data, and a flat scan is fast anyway. */
export const MIN_INDEX_ROWS = 256;
/** `index: 'auto'` builds one from this many rows: below it a flat scan takes ~20 ms or less (BENCHMARKS.md). */
export const AUTO_INDEX_ROWS = 50_000;

/** An Arrow value (a typed array, an Arrow Vector or a plain array) copied into `Out`. */
export function copyArray<T extends Float32Array | Int32Array | Uint8Array>(value: unknown, kind: { from(v: ArrayLike<number>): T }): T | null {
  if (value === null || value === undefined) return null;
  const v = value as { toArray?: () => ArrayLike<number> } & ArrayLike<number>;
  return kind.from(typeof v.toArray === 'function' ? v.toArray() : v);
}

export function positiveInt(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new RetrievalInputError(`${name} must be a positive whole number, got ${value}`);
}

/** How to build an ANN index; everything has a default. */
export interface IndexSpec {
  /** ivf_flat (default): exact distances inside probed partitions. ivf_pq: compressed codes, needs refine. */
  type?: AnnIndexType;
  /** Default round(sqrt(rows) / 2). */
  numPartitions?: number;
  /** ivf_pq: default dim/16 (or dim/8). */
  numSubVectors?: number;
  /** Fix the default probes instead of calibrating them (the recall reached is still measured). */
  nprobes?: number;
  /** ivf_pq default 20; ivf_flat none (its distances are exact already). */
  refineFactor?: number;
  /** Recall@10 against exact search that calibration must reach on both query kinds (default 0.97). */
  targetRecall?: number;
  /** Calibration queries of each kind (default 50). */
  calibrationQueries?: number;
  seed?: number;
}

const CALIBRATION_K = 10;

/**
 * Trains the index on `table` and picks its search defaults: the fewest probes whose recall@10
 * against exact search reaches `targetRecall` on random and on near-bank queries (calibrateEffort).
 * The index is committed before calibration starts; only bank.json, written by the caller, makes it
 * the bank's.
 */
export async function buildAnnIndex(mods: LanceModules, table: Table, dim: number, spec: IndexSpec): Promise<AnnIndexInfo> {
  const started = Date.now();
  const rows = await table.countRows();
  const type = spec.type ?? 'ivf_flat';
  if (type !== 'ivf_flat' && type !== 'ivf_pq') throw new RetrievalInputError(`index type must be ivf_flat or ivf_pq, got ${String(type)}`);
  if (rows < MIN_INDEX_ROWS) throw new RetrievalInputError(`an ANN index needs at least ${MIN_INDEX_ROWS} rows, the bank has ${rows} (exact search is fast at this size)`);
  for (const key of ['numPartitions', 'numSubVectors', 'nprobes', 'refineFactor', 'calibrationQueries'] as const) positiveInt(key, spec[key]);
  const target = spec.targetRecall ?? 0.97;
  if (!(target > 0 && target <= 1)) throw new RetrievalInputError(`targetRecall must be in (0, 1], got ${target}`);
  const numPartitions = spec.numPartitions ?? Math.max(1, Math.round(Math.sqrt(rows) / 2));
  if (numPartitions > rows / 4) throw new RetrievalInputError(`numPartitions ${numPartitions} is too many for ${rows} rows (at most ${Math.floor(rows / 4)})`);
  let numSubVectors: number | undefined;
  if (type === 'ivf_pq') {
    numSubVectors = spec.numSubVectors ?? (dim % 16 === 0 ? dim / 16 : dim % 8 === 0 ? dim / 8 : 1);
    if (dim % numSubVectors !== 0) throw new RetrievalInputError(`numSubVectors ${numSubVectors} does not divide the dimension ${dim}`);
  }
  const { Index } = mods.lancedb;
  const config = type === 'ivf_flat'
    ? Index.ivfFlat({ distanceType: 'dot', numPartitions })
    : Index.ivfPq({ distanceType: 'dot', numPartitions, numSubVectors });
  await table.createIndex('vector', { config, replace: true });

  const refineFactor = spec.refineFactor ?? (type === 'ivf_pq' ? 20 : null);
  const perKind = spec.calibrationQueries ?? 50;
  const ids = async (q: Float32Array, nprobes?: number): Promise<string[]> => {
    let query = table.vectorSearch(q).distanceType('dot').select(['id', '_distance']).limit(CALIBRATION_K);
    if (nprobes === undefined) query = query.bypassVectorIndex();
    else {
      query = query.nprobes(nprobes);
      if (refineFactor) query = query.refineFactor(refineFactor);
    }
    return ((await query.toArray()) as Record<string, unknown>[]).map((r) => String(r['id']));
  };
  const chosen = await calibrateEffort({
    dim, maxEffort: numPartitions, target, perKind, seed: spec.seed ?? 1, fixed: spec.nprobes,
    sample: async (n, rng) => {
      const offsets = Array.from({ length: n }, () => rng.int(rows));
      return ((await table.takeOffsets(offsets).select(['vector']).toArray()) as Record<string, unknown>[]).map((r) => copyArray(r['vector'], Float32Array)!);
    },
    exact: (q) => ids(q),
    approx: (q, nprobes) => ids(q, nprobes),
  });
  return {
    type, distance: 'dot', numPartitions, ...(numSubVectors ? { numSubVectors } : {}), nprobes: chosen.effort, refineFactor,
    calibration: { k: CALIBRATION_K, target, queriesPerKind: perKind, recall: chosen.recall, met: chosen.met },
    rows, buildSeconds: Math.round((Date.now() - started) / 100) / 10,
  };
}
