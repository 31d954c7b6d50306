/**
 * The dataset store: one directory per dataset, `info.json` (what was built, from what, counts)
 * beside a LanceDB database with three tables (`images`, `pairs`, `concepts`). Writers append in
 * batches and publish the directory atomically at the end; readers stream records batch by batch
 * with a filter pushed down to LanceDB, so a trainer can walk 100k pairs without loading them all.
 * Not a retrieval index: vectors for the memory bank are added by src/retrieval.
 */
import { DataInputError } from './errors.js';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Connection, Table } from '@lancedb/lancedb';
import type {
  ConceptRecord, DatasetCounts, DatasetInfo, ImageRecord, ImageRole, PairRecord, PairType, Split,
} from './types.js';

type LanceModule = typeof import('@lancedb/lancedb');
type ArrowModule = typeof import('apache-arrow');

let modules: Promise<{ lancedb: LanceModule; arrow: ArrowModule }> | undefined;

/** Load LanceDB once, with its Rust logger quietened (it warns on every table it creates). */
function loadModules(): Promise<{ lancedb: LanceModule; arrow: ArrowModule }> {
  process.env['LANCEDB_LOG'] ??= 'error';
  modules ??= Promise.all([import('@lancedb/lancedb'), import('apache-arrow')]).then(([lancedb, arrow]) => ({ lancedb, arrow }));
  return modules;
}

function schemas(arrow: ArrowModule) {
  const { Schema, Field, Utf8, Binary, Int32 } = arrow;
  const text = (name: string, nullable = false) => new Field(name, new Utf8(), nullable);
  return {
    images: new Schema([
      text('id'), text('split'), new Field('size', new Int32()), new Field('rgb', new Binary()), text('role'),
      text('conceptId'), text('source'), text('style'), text('origin'), text('license'),
    ]),
    pairs: new Schema([
      text('id'), text('type'), text('task'), text('split'), text('conceptId'),
      text('inputImage', true), text('inputText', true), text('outputImage', true), text('outputText', true),
    ]),
    concepts: new Schema([text('id'), text('split'), text('label'), text('meta')]),
  };
}

type TableName = 'images' | 'pairs' | 'concepts';

export function emptyCounts(): DatasetCounts {
  return {
    images: 0, pairs: 0, concepts: 0, imagesByStyle: {}, imagesBySource: {}, imagesByRole: {},
    imagesBySplit: {}, conceptsBySplit: {}, pairsByType: {}, pairsByTypeAndSplit: {},
  };
}

function bump(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
}

/** Appends records in batches; `finish` writes info.json and moves the dataset into place. */
export class DatasetWriter {
  readonly counts = emptyCounts();
  private readonly buffers: Record<TableName, Record<string, unknown>[]> = { images: [], pairs: [], concepts: [] };
  private readonly tables: Partial<Record<TableName, Table>> = {};
  private readonly batchRows: Record<TableName, number> = { images: 1024, pairs: 8192, concepts: 8192 };

  private constructor(
    readonly dir: string,
    private readonly partialDir: string,
    private readonly db: Connection,
    private readonly mods: { lancedb: LanceModule; arrow: ArrowModule },
  ) {}

  static async create(dir: string): Promise<DatasetWriter> {
    const mods = await loadModules();
    const target = resolve(dir);
    const partialDir = `${target}.partial`;
    rmSync(partialDir, { recursive: true, force: true });
    mkdirSync(partialDir, { recursive: true });
    const db = await mods.lancedb.connect(join(partialDir, 'lance'));
    return new DatasetWriter(target, partialDir, db, mods);
  }

  async addImage(image: ImageRecord): Promise<void> {
    const expected = image.size * image.size * 3;
    if (image.rgb.length !== expected) throw new Error(`image ${image.id}: ${image.rgb.length} bytes, expected ${expected}`);
    const c = this.counts;
    c.images++;
    bump(c.imagesByStyle, image.style);
    bump(c.imagesBySource, image.source);
    bump(c.imagesByRole, image.role);
    bump(c.imagesBySplit, image.split);
    await this.push('images', { ...image });
  }

  async addPair(pair: PairRecord): Promise<void> {
    this.counts.pairs++;
    bump(this.counts.pairsByType, pair.type);
    bump(this.counts.pairsByTypeAndSplit, `${pair.type}/${pair.split}`);
    await this.push('pairs', { ...pair });
  }

  async addConcept(concept: ConceptRecord): Promise<void> {
    this.counts.concepts++;
    bump(this.counts.conceptsBySplit, concept.split);
    await this.push('concepts', { ...concept, meta: JSON.stringify(concept.meta) });
  }

  private async push(name: TableName, row: Record<string, unknown>): Promise<void> {
    const buffer = this.buffers[name];
    buffer.push(row);
    if (buffer.length >= this.batchRows[name]) await this.flush(name);
  }

  private async flush(name: TableName): Promise<void> {
    const rows = this.buffers[name];
    if (rows.length === 0 && this.tables[name]) return;
    this.buffers[name] = [];
    const schema = schemas(this.mods.arrow)[name];
    const data = this.mods.lancedb.makeArrowTable(rows, { schema });
    const table = this.tables[name];
    if (table) await table.add(data);
    else this.tables[name] = await this.db.createTable(name, data, { mode: 'overwrite' });
  }

  /** Flush everything, write info.json, replace `dir` by the finished dataset. */
  async finish(info: Omit<DatasetInfo, 'counts' | 'formatVersion'>): Promise<DatasetInfo> {
    for (const name of ['images', 'pairs', 'concepts'] as const) await this.flush(name);
    for (const table of Object.values(this.tables)) table.close();
    this.db.close();
    const full: DatasetInfo = { ...info, formatVersion: 1, counts: this.counts };
    writeFileSync(join(this.partialDir, 'info.json'), `${JSON.stringify(full, null, 2)}\n`);
    rmSync(this.dir, { recursive: true, force: true });
    renameSync(this.partialDir, this.dir);
    return full;
  }

  /** Give up: remove the partial directory, leave any previous dataset untouched. */
  abort(): void {
    try {
      this.db.close();
    } catch {
      /* already closed */
    }
    rmSync(this.partialDir, { recursive: true, force: true });
  }
}

export interface ImageQuery {
  split?: Split;
  role?: ImageRole;
  style?: string;
  conceptId?: string;
}

export interface PairQuery {
  split?: Split;
  type?: PairType;
  task?: string;
  conceptId?: string;
}

function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function whereClause(filter: object): string | undefined {
  const parts = Object.entries(filter)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} = ${sqlString(String(v))}`);
  return parts.length ? parts.join(' AND ') : undefined;
}

type ArrowBatch = { numRows: number; schema: { fields: { name: string }[] }; getChild(name: string): { get(i: number): unknown } | null };

function* rowsOf(batch: ArrowBatch): Generator<Record<string, unknown>> {
  const names = batch.schema.fields.map((f) => f.name);
  const columns = names.map((n) => batch.getChild(n)!);
  for (let i = 0; i < batch.numRows; i++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < names.length; c++) row[names[c]!] = columns[c]!.get(i);
    yield row;
  }
}

function toImage(row: Record<string, unknown>): ImageRecord {
  return { ...(row as unknown as ImageRecord), size: Number(row['size']), rgb: row['rgb'] as Uint8Array };
}

function toPair(row: Record<string, unknown>): PairRecord {
  return row as unknown as PairRecord;
}

function toConcept(row: Record<string, unknown>): ConceptRecord {
  return { ...(row as unknown as ConceptRecord), meta: JSON.parse(String(row['meta'])) as Record<string, unknown> };
}

/** A finished dataset opened for reading. All iterators stream in insertion order. */
export class Dataset {
  private constructor(
    readonly dir: string,
    readonly info: DatasetInfo,
    private readonly db: Connection,
    private readonly tables: Record<TableName, Table>,
  ) {}

  static async open(dir: string): Promise<Dataset> {
    const infoPath = join(dir, 'info.json');
    if (!existsSync(infoPath)) {
      const hint = existsSync(`${resolve(dir)}.partial`) ? ' (a build into it did not finish)' : '';
      throw new DataInputError(`${dir} is not a dataset: no info.json${hint}; build one with \`cm3leon data build\``);
    }
    const info = JSON.parse(readFileSync(infoPath, 'utf8')) as DatasetInfo;
    const { lancedb } = await loadModules();
    const db = await lancedb.connect(join(dir, 'lance'));
    const names = await db.tableNames();
    const tables = {} as Record<TableName, Table>;
    for (const name of ['images', 'pairs', 'concepts'] as const) {
      if (!names.includes(name)) throw new Error(`${dir}: table '${name}' is missing`);
      tables[name] = await db.openTable(name);
    }
    return new Dataset(dir, info, db, tables);
  }

  private async *scan(name: TableName, filter: object, columns?: string[]): AsyncGenerator<Record<string, unknown>> {
    let query = this.tables[name].query();
    const where = whereClause(filter);
    if (where) query = query.where(where);
    if (columns) query = query.select(columns);
    for await (const batch of query) yield* rowsOf(batch as unknown as ArrowBatch);
  }

  /** Images (pixels included) matching the filter, streamed. */
  async *images(filter: ImageQuery = {}): AsyncGenerator<ImageRecord> {
    for await (const row of this.scan('images', filter)) yield toImage(row);
  }

  async *pairs(filter: PairQuery = {}): AsyncGenerator<PairRecord> {
    for await (const row of this.scan('pairs', filter)) yield toPair(row);
  }

  async *concepts(filter: { split?: Split } = {}): AsyncGenerator<ConceptRecord> {
    for await (const row of this.scan('concepts', filter)) yield toConcept(row);
  }

  /** One image by id; throws if there is none. */
  async image(id: string): Promise<ImageRecord> {
    const found = await this.imagesById([id]);
    const image = found.get(id);
    if (!image) throw new Error(`${this.dir}: no image '${id}'`);
    return image;
  }

  /** Several images by id in one query (missing ids are absent from the map). */
  async imagesById(ids: readonly string[]): Promise<Map<string, ImageRecord>> {
    const out = new Map<string, ImageRecord>();
    for (let i = 0; i < ids.length; i += 512) {
      const chunk = ids.slice(i, i + 512);
      const rows = await this.tables.images.query().where(`id IN (${chunk.map(sqlString).join(', ')})`).toArray();
      for (const row of rows) out.set(String(row.id), toImage(row as Record<string, unknown>));
    }
    return out;
  }

  async count(name: TableName, filter: object = {}): Promise<number> {
    return this.tables[name].countRows(whereClause(filter));
  }

  close(): void {
    for (const table of Object.values(this.tables)) table.close();
    this.db.close();
  }
}

export function openDataset(dir: string): Promise<Dataset> {
  return Dataset.open(dir);
}
