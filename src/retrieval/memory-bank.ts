/**
 * The memory bank: retrieval documents (an image, a caption or both) with their bi-encoder
 * embeddings, in a LanceDB table beside `bank.json` (dimension, encoder name and version, counts).
 * Written incrementally into `<dir>.partial` and renamed into place at the end, so an interrupted
 * build never replaces a good bank. Search is exact maximum inner product (LanceDB's `dot`
 * distance, flat scan, no index): with unit vectors that is cosine similarity.
 * Deliberately not here: an ANN index for large banks, a remote store, and the retrieval rules
 * (rules.ts) — this file returns raw top-k by score.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Connection, Table } from '@lancedb/lancedb';
import { RetrievalInputError } from './errors.js';
import { isUnitLength } from './vectors.js';

type LanceModule = typeof import('@lancedb/lancedb');
type ArrowModule = typeof import('apache-arrow');

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
}

/** A search result: the row without its vector, and its inner product with the query. */
export interface BankHit extends Omit<BankRow, 'vector'> {
  score: number;
  vector?: Float32Array;
}

export interface EncoderId {
  name: string;
  version: string;
}

export interface BankInfo {
  formatVersion: 1;
  dim: number;
  encoder: EncoderId;
  counts: { rows: number; byKind: Record<string, number>; byDataset: Record<string, number>; bySplit: Record<string, number> };
  /** Free-form notes from the builder (sources, options). */
  sources: string[];
  buildSeconds: number;
}

const TABLE = 'documents';
const INFO = 'bank.json';

let modules: Promise<{ lancedb: LanceModule; arrow: ArrowModule }> | undefined;

function loadModules(): Promise<{ lancedb: LanceModule; arrow: ArrowModule }> {
  process.env['LANCEDB_LOG'] ??= 'error';
  modules ??= Promise.all([import('@lancedb/lancedb'), import('apache-arrow')]).then(([lancedb, arrow]) => ({ lancedb, arrow }));
  return modules;
}

function bankSchema(arrow: ArrowModule, dim: number) {
  const { Schema, Field, Utf8, FixedSizeList, Float32 } = arrow;
  const text = (name: string, nullable = false) => new Field(name, new Utf8(), nullable);
  return new Schema([
    text('id'), text('docId'), text('dataset'), text('split'), text('kind'), text('text', true), text('imageId', true),
    new Field('vector', new FixedSizeList(dim, new Field('item', new Float32(), true))),
  ]);
}

function checkVector(vector: ArrayLike<number>, dim: number, what: string): void {
  if (vector.length !== dim) throw new RetrievalInputError(`${what}: vector has dimension ${vector.length}, the bank has ${dim}`);
  for (let i = 0; i < vector.length; i++) {
    if (!Number.isFinite(vector[i]!)) throw new RetrievalInputError(`${what}: vector has a non-finite value at ${i}`);
  }
}

function bump(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
}

/** Builds a bank: `add` rows in any number of calls, then `finish` (or `abort`). */
export class MemoryBankWriter {
  private readonly counts: BankInfo['counts'] = { rows: 0, byKind: {}, byDataset: {}, bySplit: {} };
  private buffer: Record<string, unknown>[] = [];
  private table: Table | undefined;
  private readonly ids = new Set<string>();
  private readonly started = Date.now();

  private constructor(
    readonly dir: string,
    private readonly partialDir: string,
    readonly dim: number,
    readonly encoder: EncoderId,
    private readonly db: Connection,
    private readonly mods: { lancedb: LanceModule; arrow: ArrowModule },
    private readonly batchRows: number,
  ) {}

  static async create(dir: string, options: { dim: number; encoder: EncoderId; batchRows?: number }): Promise<MemoryBankWriter> {
    if (!Number.isInteger(options.dim) || options.dim < 1) throw new RetrievalInputError(`bank dimension must be a positive whole number, got ${options.dim}`);
    const mods = await loadModules();
    const target = resolve(dir);
    const partialDir = `${target}.partial`;
    rmSync(partialDir, { recursive: true, force: true });
    mkdirSync(partialDir, { recursive: true });
    const db = await mods.lancedb.connect(join(partialDir, 'lance'));
    return new MemoryBankWriter(target, partialDir, options.dim, options.encoder, db, mods, options.batchRows ?? 4096);
  }

  get rows(): number {
    return this.counts.rows;
  }

  async add(rows: readonly BankRow[]): Promise<void> {
    for (const row of rows) {
      checkVector(row.vector, this.dim, `row ${row.id}`);
      if (!isUnitLength(row.vector)) throw new RetrievalInputError(`row ${row.id}: vector is not L2-normalised`);
      if (this.ids.has(row.id)) throw new RetrievalInputError(`row ${row.id}: duplicate id`);
      this.ids.add(row.id);
      bump(this.counts.byKind, row.kind);
      bump(this.counts.byDataset, row.dataset);
      bump(this.counts.bySplit, row.split);
      this.counts.rows++;
      this.buffer.push({ ...row, text: row.text ?? null, imageId: row.imageId ?? null, vector: Array.from(row.vector) });
      if (this.buffer.length >= this.batchRows) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    if (this.buffer.length === 0 && this.table) return;
    const data = this.mods.lancedb.makeArrowTable(this.buffer, { schema: bankSchema(this.mods.arrow, this.dim) });
    this.buffer = [];
    if (this.table) await this.table.add(data);
    else this.table = await this.db.createTable(TABLE, data, { mode: 'overwrite' });
  }

  /** Flush, write bank.json, and replace `dir` by the finished bank. */
  async finish(sources: string[] = []): Promise<BankInfo> {
    await this.flush();
    this.table?.close();
    this.db.close();
    const info: BankInfo = {
      formatVersion: 1, dim: this.dim, encoder: this.encoder, counts: this.counts, sources,
      buildSeconds: Math.round((Date.now() - this.started) / 100) / 10,
    };
    writeFileSync(join(this.partialDir, INFO), `${JSON.stringify(info, null, 2)}\n`);
    rmSync(this.dir, { recursive: true, force: true });
    renameSync(this.partialDir, this.dir);
    return info;
  }

  /** Give up: remove the partial directory; any previous bank at `dir` is untouched. */
  abort(): void {
    try {
      this.table?.close();
      this.db.close();
    } catch {
      /* already closed */
    }
    rmSync(this.partialDir, { recursive: true, force: true });
  }
}

function readInfo(dir: string): BankInfo {
  const path = join(dir, INFO);
  if (!existsSync(path)) {
    const hint = existsSync(`${resolve(dir)}.partial`) ? ' (a build into it did not finish)' : '';
    throw new RetrievalInputError(`${dir} is not a memory bank: no ${INFO}${hint}; build one with \`cm3leon retrieve build\``);
  }
  let info: BankInfo;
  try {
    info = JSON.parse(readFileSync(path, 'utf8')) as BankInfo;
  } catch (err) {
    throw new RetrievalInputError(`${path} is corrupt: ${(err as Error).message}`);
  }
  const ok = info !== null && typeof info === 'object' && info.formatVersion === 1 && Number.isInteger(info.dim) && info.dim > 0
    && typeof info.encoder?.name === 'string' && typeof info.encoder?.version === 'string' && typeof info.counts?.rows === 'number';
  if (!ok) throw new RetrievalInputError(`${path} is corrupt: expected formatVersion 1 with dim, encoder {name, version} and counts`);
  return info;
}

function toHit(row: Record<string, unknown>, withVector: boolean): BankHit {
  const hit: BankHit = {
    id: String(row['id']), docId: String(row['docId']), dataset: String(row['dataset']), split: String(row['split']),
    kind: row['kind'] as DocumentKind, text: (row['text'] as string | null) ?? null, imageId: (row['imageId'] as string | null) ?? null,
    score: 1 - Number(row['_distance']),
  };
  if (withVector) hit.vector = Float32Array.from(row['vector'] as ArrayLike<number>);
  return hit;
}

/** A finished bank opened for search. */
export class MemoryBank {
  private constructor(readonly dir: string, readonly info: BankInfo, private readonly db: Connection, private readonly table: Table) {}

  /** Opens `dir`; with `encoder`, refuses a bank built by another encoder or version. */
  static async open(dir: string, options: { encoder?: EncoderId } = {}): Promise<MemoryBank> {
    const info = readInfo(dir);
    const want = options.encoder;
    if (want && (want.name !== info.encoder.name || want.version !== info.encoder.version)) {
      throw new RetrievalInputError(
        `${dir} was built by encoder ${info.encoder.name}@${info.encoder.version}, not ${want.name}@${want.version}; rebuild it with \`cm3leon retrieve build\``);
    }
    const { lancedb } = await loadModules();
    const db = await lancedb.connect(join(dir, 'lance'));
    const names = await db.tableNames();
    if (!names.includes(TABLE)) {
      db.close();
      throw new RetrievalInputError(`${dir} is corrupt: table '${TABLE}' is missing`);
    }
    return new MemoryBank(dir, info, db, await db.openTable(TABLE));
  }

  get dim(): number {
    return this.info.dim;
  }

  count(): Promise<number> {
    return this.table.countRows();
  }

  /**
   * Exact top-k by inner product with `query` (unit length, dimension `dim`), best first.
   * `where` is a LanceDB SQL filter (e.g. `split = 'train'`); `withVectors` returns each hit's vector
   * (the diversity rule needs them).
   */
  async search(query: ArrayLike<number>, k: number, options: { where?: string; withVectors?: boolean } = {}): Promise<BankHit[]> {
    checkVector(query, this.dim, 'query');
    if (!Number.isInteger(k) || k < 1) throw new RetrievalInputError(`k must be a positive whole number, got ${k}`);
    if (this.info.counts.rows === 0) throw new RetrievalInputError(`${this.dir} is an empty memory bank`);
    let q = this.table.vectorSearch(Float32Array.from(query)).distanceType('dot').bypassVectorIndex().limit(k);
    if (options.where) q = q.where(options.where);
    const rows = await q.toArray();
    return rows.map((r) => toHit(r as Record<string, unknown>, options.withVectors ?? false));
  }

  close(): void {
    this.table.close();
    this.db.close();
  }
}

export function openMemoryBank(dir: string, options: { encoder?: EncoderId } = {}): Promise<MemoryBank> {
  return MemoryBank.open(dir, options);
}
