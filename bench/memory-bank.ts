/**
 * Memory bank: exact vs ANN search. For two banks of 100,000 unit vectors — (a) random, dim 128,
 * seeded; (b) real embeddings from an existing bank (`--bank DIR`, replicated with small noise up to
 * the row count when smaller) or, without one, clustered synthetic vectors — builds the bank, builds
 * the default ANN index (IVF_FLAT, probes calibrated at build), then measures exact and ANN query
 * latency (median, p90) and recall@10 of ANN against exact, for random unit queries and for perturbed
 * bank vectors, plus a sweep over nprobes. Prints a table; writes JSON to
 * bench/results-memory-bank-<date>.json (or --out).
 *
 *   node dist/bench/memory-bank.js [--bank DIR] [--rows 100000] [--queries 200] [--quick] [--out FILE]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Rng } from '../src/data/rng.js';
import { MemoryBankWriter, openMemoryBank, type MemoryBank, type MemoryBankSearchOptions } from '../src/retrieval/memory-bank.js';
import { CALIBRATION_NOISE, perturb, randomUnit, recallAt } from '../src/retrieval/store.js';

const { values } = parseArgs({
  options: {
    bank: { type: 'string' }, rows: { type: 'string' }, queries: { type: 'string' }, quick: { type: 'boolean' }, out: { type: 'string' },
  },
});
const ROWS = Number(values.rows ?? (values.quick ? 20_000 : 100_000));
const QUERIES = Number(values.queries ?? (values.quick ? 60 : 200));
const K = 10;
/** Query noise on bank vectors: cosine ~0.96 to the source row, as in the index calibration. */
const QUERY_NOISE = CALIBRATION_NOISE;
/** Replicating a small real bank: cosine ~0.995 to the original row. */
const REPLICA_NOISE = 0.1;

const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

interface Source { name: string; note: string; dim: number; vectors: Float32Array[] }

function randomBank(rows: number, dim: number): Source {
  const rng = new Rng(7);
  return { name: 'random', note: `${rows} random unit vectors, dim ${dim}, seed 7`, dim, vectors: Array.from({ length: rows }, () => randomUnit(dim, rng)) };
}

/** 1,000 random centres; each row a centre plus noise of norm 0.8 (cosine ~0.78 to its centre). */
function clusteredBank(rows: number, dim: number): Source {
  const rng = new Rng(11);
  const centres = Array.from({ length: 1000 }, () => randomUnit(dim, rng));
  return {
    name: 'clustered', note: `no --bank given: ${rows} clustered synthetic vectors (1,000 centres, noise 0.8), dim ${dim}, seed 11`, dim,
    vectors: Array.from({ length: rows }, () => perturb(centres[rng.int(centres.length)]!, 0.8, rng)),
  };
}

/** The vectors of an existing bank, topped up to `rows` with noisy copies (never trimmed). */
async function realBank(dir: string, rows: number): Promise<Source> {
  const lancedb = await import('@lancedb/lancedb');
  const db = await lancedb.connect(join(dir, 'lance'));
  const table = await db.openTable('documents');
  const own: Float32Array[] = [];
  for await (const batch of table.query().select(['vector'])) {
    const column = batch.getChild('vector')!;
    for (let i = 0; i < batch.numRows; i++) own.push(Float32Array.from(column.get(i)!.toArray() as Float32Array));
  }
  table.close();
  db.close();
  if (own.length === 0) throw new Error(`${dir}: the bank is empty`);
  const rng = new Rng(13);
  const vectors = [...own];
  while (vectors.length < rows) vectors.push(perturb(own[vectors.length % own.length]!, REPLICA_NOISE, rng));
  return {
    name: 'real', dim: own[0]!.length, vectors,
    note: `${own.length} embeddings from ${dir}${vectors.length > own.length ? `, replicated with noise ${REPLICA_NOISE} to ${vectors.length}` : ''}, dim ${own[0]!.length}`,
  };
}

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await f();
  return { value, ms: performance.now() - t0 };
}

interface Run { latency: { median: number; p90: number }; recall?: { random: number; perturbed: number } }

/** Searches every query with `options`: latency over all, recall per kind against `truth`. */
async function measure(bank: MemoryBank, queries: { random: Float32Array[]; perturbed: Float32Array[] }, options: MemoryBankSearchOptions, truth?: { random: string[][]; perturbed: string[][] }) {
  for (const q of queries.random.slice(0, 5)) await bank.search(q, K, options); // warm the caches
  const ms: number[] = [];
  const ids = { random: [] as string[][], perturbed: [] as string[][] };
  for (const kind of ['random', 'perturbed'] as const) {
    for (const q of queries[kind]) {
      const { value, ms: t } = await timed(() => bank.search(q, K, options));
      ms.push(t);
      ids[kind].push(value.map((h) => h.id));
    }
  }
  const run: Run = { latency: { median: round(quantile(ms, 0.5)), p90: round(quantile(ms, 0.9)) } };
  if (truth) {
    const mean = (kind: 'random' | 'perturbed') => round(ids[kind].reduce((s, got, i) => s + recallAt(truth[kind][i]!, got), 0) / ids[kind].length, 3);
    run.recall = { random: mean('random'), perturbed: mean('perturbed') };
  }
  return { run, ids };
}

async function benchBank(source: Source) {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-bench-bank-'));
  try {
    const build = await timed(async () => {
      const writer = await MemoryBankWriter.create(join(dir, 'bank'), { dim: source.dim, encoder: { name: 'bench', version: '1' }, batchRows: 10_000 });
      for (let i = 0; i < source.vectors.length; i += 10_000) {
        await writer.add(source.vectors.slice(i, i + 10_000).map((vector, j) => ({
          id: `r${i + j}`, docId: `d${i + j}`, dataset: source.name, split: 'train', kind: 'both' as const, text: null, imageId: null, vector,
        })));
      }
      return writer.finish([source.note]);
    });
    const bank = await openMemoryBank(join(dir, 'bank'));
    try {
      const indexBuild = await timed(() => bank.createIndex());
      const index = indexBuild.value;
      const rng = new Rng(2024); // not the calibration's seed: these queries are new to the index
      const half = QUERIES >> 1;
      const queries = {
        random: Array.from({ length: half }, () => randomUnit(source.dim, rng)),
        perturbed: Array.from({ length: QUERIES - half }, () => perturb(source.vectors[rng.int(source.vectors.length)]!, QUERY_NOISE, rng)),
      };
      const exact = await measure(bank, queries, {});
      const ann = (await measure(bank, queries, { ann: true }, exact.ids)).run;
      const sweep = [];
      for (const nprobes of [...new Set([1, 2, 4, 8, 16, 32, 64, 128, 256].filter((p) => p < index.numPartitions).concat(index.numPartitions))]) {
        sweep.push({ nprobes, ...(await measure(bank, queries, { ann: true, nprobes }, exact.ids)).run });
      }
      const ids = Array.from({ length: 10 }, (_, i) => `r${(i * 7919) % source.vectors.length}`);
      const fetches: number[] = [];
      for (let i = 0; i < 20; i++) fetches.push((await timed(() => bank.getByIds(ids))).ms);
      return {
        bank: source.name, note: source.note, rows: build.value.counts.rows, dim: source.dim,
        buildSeconds: round(build.ms / 1000, 1), indexSeconds: round(indexBuild.ms / 1000, 1), index,
        queries: { random: queries.random.length, perturbed: queries.perturbed.length, k: K, noise: QUERY_NOISE },
        exact: exact.run, ann, sweep, getByIds10: { median: round(quantile(fetches, 0.5)), p90: round(quantile(fetches, 0.9)) },
      };
    } finally {
      bank.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const started = new Date();
const results = [];
results.push(await benchBank(randomBank(ROWS, 128)));
results.push(await benchBank(values.bank ? await realBank(values.bank, ROWS) : clusteredBank(ROWS, 128)));

for (const r of results) {
  console.log(`\n${r.bank}: ${r.note}`);
  console.log(`  build ${r.buildSeconds} s; index ${r.index.type} (${r.index.numPartitions} partitions) ${r.indexSeconds} s incl. calibration -> nprobes ${r.index.nprobes}` +
    ` (calibration recall random ${r.index.calibration.recall.random}, perturbed ${r.index.calibration.recall.perturbed})`);
  console.log('  | search | median ms | p90 ms | recall@10 random | recall@10 perturbed |');
  console.log('  |---|---|---|---|---|');
  console.log(`  | exact (flat scan) | ${r.exact.latency.median} | ${r.exact.latency.p90} | 1 | 1 |`);
  console.log(`  | ANN, defaults (nprobes ${r.index.nprobes}) | ${r.ann.latency.median} | ${r.ann.latency.p90} | ${r.ann.recall!.random} | ${r.ann.recall!.perturbed} |`);
  for (const s of r.sweep) console.log(`  | ANN nprobes ${s.nprobes} | ${s.latency.median} | ${s.latency.p90} | ${s.recall!.random} | ${s.recall!.perturbed} |`);
  console.log(`  getByIds (10 ids): median ${r.getByIds10.median} ms, p90 ${r.getByIds10.p90} ms`);
}
const out = values.out ?? `bench/results-memory-bank-${started.toISOString().slice(0, 10)}.json`;
const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version };
writeFileSync(out, `${JSON.stringify({ date: started.toISOString(), machine, rows: ROWS, queries: QUERIES, results }, null, 2)}\n`);
console.log(`\n${out} (${round((Date.now() - started.getTime()) / 1000, 1)} s)`);
