/**
 * The memory bank: retrieval documents (an image, a caption or both) with their bi-encoder
 * embeddings, image tokens and thumbnails, in a LanceDB table beside `bank.json` (dimension, encoder
 * name and version, counts, the ANN index if any). Written incrementally into `<dir>.partial` and
 * renamed into place at the end, so an interrupted build never replaces a good bank.
 * Search is exact maximum inner product by default (LanceDB's `dot` distance, flat scan): with unit
 * vectors that is cosine similarity. An optional IVF index (`createIndex`, or `index` at build) serves
 * `search(..., { ann: true })` with search defaults calibrated to a target recall (bank-index.ts).
 * Implements `VectorStore` (store.ts). Not here: the retrieval rules (rules.ts) — this file returns
 * raw top-k by score.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { Connection, Table } from '@lancedb/lancedb';
import { RetrievalInputError } from './errors.js';
import {
  type AnnIndexInfo, type AnnIndexType, type BankFilter, type BankHit, type BankInfo, type BankRow, type DocumentKind,
  type EncoderId, type StoreSearchOptions, type VectorStore,
} from './store.js';
import { isUnitLength } from './vectors.js';
import { AUTO_INDEX_ROWS, buildAnnIndex, copyArray, positiveInt, type IndexSpec, type LanceModules } from './bank-index.js';

export { AUTO_INDEX_ROWS, MIN_INDEX_ROWS, type IndexSpec } from './bank-index.js';

export type { AnnIndexInfo, AnnIndexType, BankFilter, BankHit, BankInfo, BankRow, DocumentKind, EncoderId, StoreSearchOptions, VectorStore } from './store.js';

type ArrowModule = LanceModules['arrow'];

const TABLE = 'documents';
const INFO = 'bank.json';
const FORMAT_VERSION = 2;
const TEXT_COLUMNS = ['id', 'docId', 'dataset', 'split', 'kind', 'text', 'imageId'] as const;

let modules: Promise<LanceModules> | undefined;

function loadModules(): Promise<LanceModules> {
  process.env['LANCEDB_LOG'] ??= 'error';
  // apache-arrow through require, not import: LanceDB (CommonJS) requires it, and Arrow tables from
  // the ESM build of the same package fail its instanceof checks (the dual-package hazard).
  modules ??= import('@lancedb/lancedb').then((lancedb) => ({ lancedb, arrow: createRequire(import.meta.url)('apache-arrow') as ArrowModule }));
  return modules;
}

function bankSchema(arrow: ArrowModule, dim: number) {
  const { Schema, Field, Utf8, FixedSizeList, Float32, List, Int32, Binary } = arrow;
  return new Schema([
    ...TEXT_COLUMNS.map((name) => new Field(name, new Utf8(), name === 'text' || name === 'imageId')),
    new Field('vector', new FixedSizeList(dim, new Field('item', new Float32(), true))),
    new Field('imageTokens', new List(new Field('item', new Int32(), true)), true),
    new Field('thumbnail', new Binary(), true),
  ]);
}

/** Offsets, validity bitmap and concatenated values of a nullable variable-length column. */
function packVarying<T extends Int32Array | Uint8Array>(values: readonly (T | null | undefined)[], make: (n: number) => T) {
  const offsets = new Int32Array(values.length + 1);
  const valid = new Uint8Array((values.length + 7) >> 3);
  let nulls = 0;
  values.forEach((v, i) => {
    offsets[i + 1] = offsets[i]! + (v?.length ?? 0);
    if (v) valid[i >> 3]! |= 1 << (i & 7);
    else nulls++;
  });
  const data = make(offsets[values.length]!);
  values.forEach((v, i) => v && data.set(v as never, offsets[i]!));
  return { offsets, valid, nulls, data };
}

/**
 * Rows to an Arrow table, column by column: far faster than LanceDB's row-object conversion at 100k
 * rows, and unlike `vectorFromArray` it also gives a well-formed table of zero rows (an empty bank).
 */
function toArrow(arrow: ArrowModule, rows: readonly BankRow[], dim: number) {
  const { makeData, Float32, Int32, Struct, RecordBatch, Table: ArrowTable } = arrow;
  const schema = bankSchema(arrow, dim);
  const n = rows.length;
  const type = (name: string) => schema.fields.find((f) => f.name === name)!.type;
  const varying = (name: string, p: ReturnType<typeof packVarying>, child?: unknown) => makeData({
    type: type(name), length: n, nullCount: p.nulls, nullBitmap: p.valid, valueOffsets: p.offsets, ...(child ? { child } : { data: p.data }),
  } as never);
  const utf8 = new TextEncoder();
  const children: unknown[] = TEXT_COLUMNS.map((name) => {
    const strings = rows.map((r) => { const v = r[name]; return v == null ? null : utf8.encode(v); });
    return varying(name, packVarying(strings, (m) => new Uint8Array(m)));
  });
  const flat = new Float32Array(n * dim);
  rows.forEach((r, i) => flat.set(r.vector, i * dim));
  children.push(makeData({ type: type('vector'), length: n, nullCount: 0, child: makeData({ type: new Float32(), length: n * dim, data: flat }) } as never));
  const tok = packVarying(rows.map((r) => r.imageTokens), (m) => new Int32Array(m));
  children.push(varying('imageTokens', tok, makeData({ type: new Int32(), length: tok.data.length, data: tok.data })));
  children.push(varying('thumbnail', packVarying(rows.map((r) => r.thumbnail), (m) => new Uint8Array(m))));
  const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children: children as never }));
  return new ArrowTable([batch]);
}

function checkVector(vector: ArrayLike<number>, dim: number, what: string): void {
  if (vector.length !== dim) throw new RetrievalInputError(`${what}: vector has dimension ${vector.length}, the bank has ${dim}`);
  for (let i = 0; i < vector.length; i++) {
    if (!Number.isFinite(vector[i]!)) throw new RetrievalInputError(`${what}: vector has a non-finite value at ${i}`);
  }
}

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

function checkRow(row: BankRow, dim: number): void {
  checkVector(row.vector, dim, `row ${row.id}`);
  if (!isUnitLength(row.vector)) throw new RetrievalInputError(`row ${row.id}: vector is not L2-normalised`);
  if (row.imageTokens != null && !(row.imageTokens instanceof Int32Array)) throw new RetrievalInputError(`row ${row.id}: imageTokens must be an Int32Array`);
  if (row.thumbnail != null) {
    if (!(row.thumbnail instanceof Uint8Array) || PNG_SIGNATURE.some((b, i) => row.thumbnail![i] !== b)) {
      throw new RetrievalInputError(`row ${row.id}: thumbnail is not PNG bytes`);
    }
  }
}

function bump(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
}

/** bank.json through a temporary file and a rename, so a reader never sees half of it. */
function writeInfo(dir: string, info: BankInfo): void {
  const tmp = join(dir, `${INFO}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`);
  renameSync(tmp, join(dir, INFO));
}

/** What to build at the end of a bank build: no index, one from AUTO_INDEX_ROWS rows, or this one. */
export type IndexChoice = 'none' | 'auto' | IndexSpec;

/** Builds a bank: `add` rows in any number of calls, then `finish` (or `abort`). */
export class MemoryBankWriter {
  private readonly counts: BankInfo['counts'] = { rows: 0, byKind: {}, byDataset: {}, bySplit: {}, withTokens: 0, withThumbnails: 0 };
  private buffer: BankRow[] = [];
  private table: Table | undefined;
  private readonly ids = new Set<string>();
  private readonly started = Date.now();

  private constructor(
    readonly dir: string,
    private readonly partialDir: string,
    readonly dim: number,
    readonly encoder: EncoderId,
    private readonly db: Connection,
    private readonly mods: LanceModules,
    private readonly batchRows: number,
    private readonly imageTokenizer: string | undefined,
  ) {}

  /** `imageTokenizer`: the codesVersion of the tokenizer behind the rows' image tokens, recorded in bank.json. */
  static async create(dir: string, options: { dim: number; encoder: EncoderId; batchRows?: number; imageTokenizer?: string }): Promise<MemoryBankWriter> {
    if (!Number.isInteger(options.dim) || options.dim < 1) throw new RetrievalInputError(`bank dimension must be a positive whole number, got ${options.dim}`);
    const mods = await loadModules();
    const target = resolve(dir);
    const partialDir = `${target}.partial`;
    rmSync(partialDir, { recursive: true, force: true });
    mkdirSync(partialDir, { recursive: true });
    const db = await mods.lancedb.connect(join(partialDir, 'lance'));
    return new MemoryBankWriter(target, partialDir, options.dim, options.encoder, db, mods, options.batchRows ?? 4096, options.imageTokenizer);
  }

  get rows(): number {
    return this.counts.rows;
  }

  async add(rows: readonly BankRow[]): Promise<void> {
    for (const row of rows) {
      checkRow(row, this.dim);
      if (this.ids.has(row.id)) throw new RetrievalInputError(`row ${row.id}: duplicate id`);
      this.ids.add(row.id);
      bump(this.counts.byKind, row.kind);
      bump(this.counts.byDataset, row.dataset);
      bump(this.counts.bySplit, row.split);
      this.counts.rows++;
      if (row.imageTokens) this.counts.withTokens!++;
      if (row.thumbnail) this.counts.withThumbnails!++;
      this.buffer.push(row);
      if (this.buffer.length >= this.batchRows) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    if (this.buffer.length === 0 && this.table) return;
    const data = toArrow(this.mods.arrow, this.buffer, this.dim);
    this.buffer = [];
    if (this.table) await this.table.add(data);
    else this.table = await this.db.createTable(TABLE, data, { mode: 'overwrite' });
  }

  /**
   * Flush, build the ANN index if asked (inside the partial directory, so it is atomic with the
   * bank), write bank.json, and replace `dir` by the finished bank.
   */
  async finish(sources: string[] = [], options: { index?: IndexChoice } = {}): Promise<BankInfo> {
    await this.flush();
    const choice = options.index ?? 'none';
    const spec = choice === 'none' ? undefined : choice === 'auto' ? (this.counts.rows >= AUTO_INDEX_ROWS ? {} : undefined) : choice;
    const index = spec ? await buildAnnIndex(this.mods, this.table!, this.dim, spec) : null;
    this.table?.close();
    this.db.close();
    const info: BankInfo = {
      formatVersion: FORMAT_VERSION, dim: this.dim, encoder: this.encoder, counts: this.counts,
      ...(this.imageTokenizer && this.counts.withTokens ? { imageTokenizer: this.imageTokenizer } : {}), sources,
      buildSeconds: Math.round((Date.now() - this.started) / 100) / 10, index,
    };
    writeInfo(this.partialDir, info);
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
  const ok = info !== null && typeof info === 'object' && (info.formatVersion === 1 || info.formatVersion === 2)
    && Number.isInteger(info.dim) && info.dim > 0
    && typeof info.encoder?.name === 'string' && typeof info.encoder?.version === 'string' && typeof info.counts?.rows === 'number';
  if (!ok) {
    const v = (info as { formatVersion?: unknown } | null)?.formatVersion;
    if (typeof v === 'number' && v > FORMAT_VERSION) throw new RetrievalInputError(`${path}: format version ${v} is newer than this build reads (${FORMAT_VERSION}); update cm3leon`);
    throw new RetrievalInputError(`${path} is corrupt: expected formatVersion 1 or 2 with dim, encoder {name, version} and counts`);
  }
  const index = info.index;
  if (index != null && !(['ivf_flat', 'ivf_pq'].includes(index.type) && Number.isInteger(index.nprobes) && index.nprobes > 0 && Number.isInteger(index.numPartitions))) {
    throw new RetrievalInputError(`${path} is corrupt: its index entry needs type ivf_flat or ivf_pq, numPartitions and nprobes`);
  }
  return info;
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A BankFilter as a LanceDB SQL condition (undefined when it filters nothing). */
export function filterSql(filter: BankFilter | undefined): string | undefined {
  if (!filter) return undefined;
  const parts: string[] = [];
  for (const key of ['kind', 'dataset', 'split'] as const) {
    const value = filter[key];
    if (value === undefined) continue;
    const list: readonly string[] = typeof value === 'string' ? [value] : value;
    if (list.length === 0) throw new RetrievalInputError(`filter.${key} is an empty list: it would match nothing`);
    parts.push(`${key} IN (${list.map(sqlString).join(', ')})`);
  }
  return parts.length ? parts.join(' AND ') : undefined;
}

function toRow(row: Record<string, unknown>): Omit<BankRow, 'vector'> {
  return {
    id: String(row['id']), docId: String(row['docId']), dataset: String(row['dataset']), split: String(row['split']),
    kind: row['kind'] as DocumentKind, text: (row['text'] as string | null) ?? null, imageId: (row['imageId'] as string | null) ?? null,
  };
}

export interface MemoryBankSearchOptions extends StoreSearchOptions {
  /** A LanceDB SQL filter (e.g. `split = 'train'`), ANDed with `filter`. LanceDB only. */
  where?: string;
  /** ANN only: partitions to probe (default: the bank's calibrated `index.nprobes`). */
  nprobes?: number;
  /** ANN only: re-score limit x this many candidates with full vectors (default: the bank's). */
  refineFactor?: number;
}

/** A finished bank opened for search. */
export class MemoryBank implements VectorStore {
  private constructor(
    readonly dir: string,
    private state: BankInfo,
    private readonly db: Connection,
    private readonly table: Table,
    /** Format-1 banks have neither column; their hits get null tokens and thumbnails. */
    private readonly columns: { tokens: boolean; thumbnails: boolean },
    /** Whether the table has a vector index (bank.json may lag it after an interrupted createIndex). */
    private tableIndexed: boolean,
  ) {}

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
    const table = await db.openTable(TABLE);
    const fields = new Set((await table.schema()).fields.map((f) => f.name));
    const indexed = (await table.listIndices()).some((i) => i.columns.includes('vector'));
    return new MemoryBank(dir, info, db, table, { tokens: fields.has('imageTokens'), thumbnails: fields.has('thumbnail') }, indexed);
  }

  get info(): BankInfo {
    return this.state;
  }

  get dim(): number {
    return this.state.dim;
  }

  count(): Promise<number> {
    return this.table.countRows();
  }

  /**
   * Top-k by inner product with `query` (unit length, dimension `dim`), best first. Exact unless
   * `ann` (see StoreSearchOptions); `where` is a LanceDB SQL filter; `withVectors` returns each hit's
   * vector (the diversity rule needs them), `withTokens` / `withThumbnails` the image's codes / PNG.
   */
  async search(query: ArrayLike<number>, k: number, options: MemoryBankSearchOptions = {}): Promise<BankHit[]> {
    checkVector(query, this.dim, 'query');
    if (!Number.isInteger(k) || k < 1) throw new RetrievalInputError(`k must be a positive whole number, got ${k}`);
    positiveInt('nprobes', options.nprobes);
    positiveInt('refineFactor', options.refineFactor);
    if (this.state.counts.rows === 0) throw new RetrievalInputError(`${this.dir} is an empty memory bank`);
    const index = this.annIndex(options.ann ?? false);
    const select = [...TEXT_COLUMNS, '_distance'] as string[];
    if (options.withVectors) select.push('vector');
    if (options.withTokens && this.columns.tokens) select.push('imageTokens');
    if (options.withThumbnails && this.columns.thumbnails) select.push('thumbnail');
    let q = this.table.vectorSearch(Float32Array.from(query)).distanceType('dot').select(select).limit(k);
    if (index) {
      // nprobes sets LanceDB's minimum and maximum alike. A higher maximum was meant to let a narrow
      // filter probe further, but in 0.30.0 it makes every query probe all partitions (measured).
      q = q.nprobes(Math.min(options.nprobes ?? index.nprobes, index.numPartitions));
      const refine = options.refineFactor ?? index.refineFactor;
      if (refine) q = q.refineFactor(refine);
    } else {
      q = q.bypassVectorIndex();
    }
    const where = [filterSql(options.filter), options.where].filter((w): w is string => !!w);
    if (where.length) q = q.where(where.map((w) => `(${w})`).join(' AND '));
    const rows = (await q.toArray()) as Record<string, unknown>[];
    return rows.map((row) => {
      const hit: BankHit = { ...toRow(row), score: 1 - Number(row['_distance']) };
      if (options.withVectors) hit.vector = copyArray(row['vector'], Float32Array)!;
      if (options.withTokens) hit.imageTokens = copyArray(row['imageTokens'], Int32Array);
      if (options.withThumbnails) hit.thumbnail = copyArray(row['thumbnail'], Uint8Array);
      return hit;
    });
  }

  /** The index to search with, or undefined for exact search; throws when `ann: true` cannot be honoured. */
  private annIndex(ann: boolean | 'auto'): AnnIndexInfo | undefined {
    if (ann === false) return undefined;
    const index = this.state.index;
    if (index && this.tableIndexed) return index;
    if (ann === 'auto') return undefined;
    throw new RetrievalInputError(index
      ? `${this.dir}: bank.json records an ANN index the table does not have; rebuild it with createIndex()`
      : `${this.dir} has no ANN index: build one with createIndex() (or at build time), or search with ann: false or 'auto'`);
  }

  /** Full rows by id, in the order asked; ids not in the bank are left out. */
  async getByIds(ids: readonly string[]): Promise<BankRow[]> {
    const found = new Map<string, BankRow>();
    const unique = [...new Set(ids)];
    for (const id of unique) if (typeof id !== 'string') throw new RetrievalInputError(`getByIds: ids must be strings, got ${typeof id}`);
    for (let i = 0; i < unique.length; i += 256) {
      const chunk = unique.slice(i, i + 256);
      const rows = (await this.table.query().where(`id IN (${chunk.map(sqlString).join(', ')})`).toArray()) as Record<string, unknown>[];
      for (const row of rows) {
        found.set(String(row['id']), {
          ...toRow(row), vector: copyArray(row['vector'], Float32Array)!,
          imageTokens: copyArray(row['imageTokens'], Int32Array), thumbnail: copyArray(row['thumbnail'], Uint8Array),
        });
      }
    }
    return ids.filter((id) => found.has(id)).map((id) => found.get(id)!);
  }

  /**
   * Builds (or replaces) the ANN index and records it in bank.json. Safe to interrupt: LanceDB
   * writes the index files first and then commits a new table version in one atomic manifest write,
   * and bank.json is replaced by a rename afterwards. Killed before the commit, the table is as it
   * was (orphan index files aside); between the commit and the rename, the table has an index
   * bank.json does not list, which `ann: true` refuses and exact search ignores — run it again.
   */
  async createIndex(spec: IndexSpec = {}): Promise<AnnIndexInfo> {
    const index = await buildAnnIndex(await loadModules(), this.table, this.dim, spec);
    this.tableIndexed = true;
    const info: BankInfo = { ...this.state, index };
    writeInfo(this.dir, info);
    this.state = info;
    return index;
  }

  close(): void {
    this.table.close();
    this.db.close();
  }
}

export function openMemoryBank(dir: string, options: { encoder?: EncoderId } = {}): Promise<MemoryBank> {
  return MemoryBank.open(dir, options);
}
