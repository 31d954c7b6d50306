import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/data/rng.js';
import { RetrievalInputError } from '../../src/retrieval/errors.js';
import { MemoryBankWriter, openMemoryBank, type BankInfo, type BankRow, type IndexChoice } from '../../src/retrieval/memory-bank.js';
import { perturb, randomUnit, recallAt, smallestEffort } from '../../src/retrieval/store.js';
import { dot } from '../../src/retrieval/vectors.js';

const encoder = { name: 'test', version: '1' };
const DIM = 32;

/** `n` unit vectors around 40 random centres (cosine ~0.8 to their centre), kinds cycling. */
function clusteredRows(n: number, seed: number): BankRow[] {
  const rng = new Rng(seed);
  const centres = Array.from({ length: 40 }, () => randomUnit(DIM, rng));
  const kinds = ['image', 'text', 'both'] as const;
  return Array.from({ length: n }, (_, i) => ({
    id: `r${i}`, docId: `d${i}`, dataset: 'c', split: 'train', kind: kinds[i % 3]!, text: `t${i}`, imageId: null,
    vector: perturb(centres[rng.int(centres.length)]!, 0.75, rng),
  }));
}

async function writeBank(dir: string, rows: BankRow[], index?: IndexChoice): Promise<BankInfo> {
  const writer = await MemoryBankWriter.create(dir, { dim: DIM, encoder, batchRows: 1000 });
  await writer.add(rows);
  return writer.finish([], { index });
}

test('smallestEffort: bisection to the least effort meeting the target, the maximum when none does', async () => {
  const calls: number[] = [];
  const recall = (e: number) => { calls.push(e); return Promise.resolve({ min: Math.min(1, e / 40) }); };
  assert.equal((await smallestEffort(64, 0.95, recall)).effort, 38);
  assert.ok(calls.length <= 8, `${calls.length} measurements`);
  const never = await smallestEffort(16, 0.95, (e) => Promise.resolve({ min: e / 100 }));
  assert.deepEqual(never, { effort: 16, result: { min: 0.16 } });
  assert.equal(recallAt(['a', 'b', 'c', 'd'], ['d', 'x', 'a']), 0.5);
});

test('ANN index on 4,000 clustered vectors: recall@10 >= 0.95 against exact on new queries, defaults in bank.json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-ann-'));
  try {
    const rows = clusteredRows(4000, 1);
    await writeBank(join(dir, 'bank'), rows);
    const bank = await openMemoryBank(join(dir, 'bank'));
    try {
      assert.equal(bank.info.index ?? null, null);
      const index = await bank.createIndex();
      assert.equal(index.type, 'ivf_flat');
      assert.equal(index.numPartitions, Math.round(Math.sqrt(4000) / 2));
      assert.ok(index.nprobes >= 1 && index.nprobes <= index.numPartitions);
      assert.ok(index.calibration.met && index.calibration.recall.random >= 0.97 && index.calibration.recall.perturbed >= 0.97);
      const onDisk = JSON.parse(readFileSync(join(dir, 'bank', 'bank.json'), 'utf8')) as BankInfo;
      assert.deepEqual(onDisk.index, index);
      const rng = new Rng(99); // not the calibration's queries
      const queries = [
        ...Array.from({ length: 40 }, () => randomUnit(DIM, rng)),
        ...Array.from({ length: 40 }, () => perturb(rows[rng.int(rows.length)]!.vector, 0.3, rng)),
      ];
      let sum = 0;
      for (const q of queries) {
        const exact = await bank.search(q, 10);
        const ann = await bank.search(q, 10, { ann: true, withVectors: true });
        sum += recallAt(exact.map((h) => h.id), ann.map((h) => h.id));
        // IVF_FLAT keeps full vectors: its scores are the true inner products
        for (const h of ann) assert.ok(Math.abs(h.score - dot(q, h.vector!)) < 1e-4);
      }
      assert.ok(sum / queries.length >= 0.95, `recall@10 ${sum / queries.length}`);
      // fewer probes find less (the option is honoured), a filter still applies
      let one = 0;
      for (const q of queries.slice(0, 40)) one += recallAt((await bank.search(q, 10)).map((h) => h.id), (await bank.search(q, 10, { ann: true, nprobes: 1 })).map((h) => h.id));
      assert.ok(one / 40 < 0.9, `nprobes 1 recall ${one / 40}`);
      const texts = await bank.search(queries[0]!, 10, { ann: true, filter: { kind: 'text' } });
      assert.ok(texts.length === 10 && texts.every((h) => h.kind === 'text'));
    } finally {
      bank.close();
    }
    const reopened = await openMemoryBank(join(dir, 'bank'));
    assert.equal(reopened.info.index?.nprobes, JSON.parse(readFileSync(join(dir, 'bank', 'bank.json'), 'utf8')).index.nprobes);
    assert.equal((await reopened.search(rows[9]!.vector, 1, { ann: true }))[0]!.id, 'r9');
    reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ANN: ann true without an index is a clear error, ann auto falls back to exact; index choices at build', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-ann-'));
  try {
    const rows = clusteredRows(600, 2);
    const none = await writeBank(join(dir, 'plain'), rows, 'auto');
    assert.equal(none.index, null, "'auto' leaves a small bank unindexed");
    const bank = await openMemoryBank(join(dir, 'plain'));
    await assert.rejects(bank.search(rows[0]!.vector, 5, { ann: true }),
      (e: Error) => e instanceof RetrievalInputError && /has no ANN index: build one with createIndex/.test(e.message));
    assert.deepEqual(await bank.search(rows[0]!.vector, 5, { ann: 'auto' }), await bank.search(rows[0]!.vector, 5));
    bank.close();
    const built = await writeBank(join(dir, 'indexed'), rows, { numPartitions: 8, targetRecall: 0.9 });
    assert.equal(built.index?.numPartitions, 8);
    assert.equal(built.index?.calibration.target, 0.9);
    const indexed = await openMemoryBank(join(dir, 'indexed'));
    assert.equal((await indexed.search(rows[5]!.vector, 1, { ann: true }))[0]!.id, 'r5');
    await assert.rejects(indexed.createIndex({ numPartitions: 500 }), /numPartitions 500 is too many for 600 rows/);
    await assert.rejects(indexed.createIndex({ type: 'hnsw' as never }), /index type must be ivf_flat or ivf_pq/);
    await assert.rejects(indexed.createIndex({ type: 'ivf_pq', numSubVectors: 5 }), /numSubVectors 5 does not divide the dimension 32/);
    // IVF_PQ: compressed codes, re-scored exactly (refine factor 20), so a row's own vector finds it at score 1
    const pq = await indexed.createIndex({ type: 'ivf_pq', numPartitions: 4, targetRecall: 0.9 });
    assert.deepEqual([pq.type, pq.numSubVectors, pq.refineFactor], ['ivf_pq', 2, 20]);
    const [top] = await indexed.search(rows[7]!.vector, 3, { ann: true });
    assert.equal(top!.id, 'r7');
    assert.ok(Math.abs(top!.score - 1) < 1e-4);
    indexed.close();
    // too few rows for an index, asked for explicitly: refused, the good bank stays
    await assert.rejects(writeBank(join(dir, 'indexed'), rows.slice(0, 100), {}), /needs at least 256 rows, the bank has 100/);
    const still = await openMemoryBank(join(dir, 'indexed'));
    assert.equal(await still.count(), 600);
    still.close();
    const empty = await writeBank(join(dir, 'empty'), [], 'auto');
    const e = await openMemoryBank(join(dir, 'empty'));
    await assert.rejects(e.search(rows[0]!.vector, 3, { ann: 'auto' }), /is an empty memory bank/);
    e.close();
    assert.equal(empty.counts.rows, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs createIndex on `bank` in a child process and kills it `afterMs` after it starts; true if it was killed. */
function interruptedIndex(bank: string, afterMs: number): Promise<boolean> {
  const module = new URL('../../src/retrieval/memory-bank.js', import.meta.url).href;
  const script = `const { openMemoryBank } = await import(${JSON.stringify(module)});
    const bank = await openMemoryBank(${JSON.stringify(bank)});
    process.stdout.write('start\\n');
    await bank.createIndex({ calibrationQueries: 400 });
    process.stdout.write('done\\n');`;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('start')) setTimeout(() => child.kill('SIGKILL'), afterMs);
    });
    child.on('error', fail);
    child.on('exit', (_code, signal) => done(signal === 'SIGKILL'));
  });
}

test('ANN: an index build killed part-way leaves the bank usable, and a new build succeeds', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-ann-'));
  try {
    const rows = clusteredRows(20_000, 3);
    const path = join(dir, 'bank');
    await writeBank(path, rows);
    const q = perturb(rows[11]!.vector, 0.3, new Rng(5));
    const before = await openMemoryBank(path);
    const expected = await before.search(q, 10);
    before.close();
    let killed = 0;
    // early kills land in LanceDB's index training, later ones in the calibration after its commit
    for (const afterMs of [0, 40, 150, 600]) {
      if (await interruptedIndex(path, afterMs)) killed++;
      assert.ok(existsSync(join(path, 'bank.json')));
      const bank = await openMemoryBank(path);
      try {
        assert.equal(await bank.count(), 20_000);
        assert.deepEqual(await bank.search(q, 10), expected, `exact search unchanged after a kill at ${afterMs} ms`);
        assert.deepEqual((await bank.search(q, 10, { ann: 'auto' })).map((h) => h.id), expected.map((h) => h.id));
        // either the index is recorded and serves, or ann: true refuses (the table may hold an unrecorded one)
        if (bank.info.index) assert.equal((await bank.search(q, 10, { ann: true })).length, 10);
        else await assert.rejects(bank.search(q, 10, { ann: true }), /has no ANN index/);
      } finally {
        bank.close();
      }
    }
    assert.ok(killed >= 2, `only ${killed} of the builds were interrupted`);
    const bank = await openMemoryBank(path);
    try {
      const index = await bank.createIndex();
      assert.ok(index.calibration.met);
      assert.ok(recallAt(expected.map((h) => h.id), (await bank.search(q, 10, { ann: true })).map((h) => h.id)) >= 0.9);
    } finally {
      bank.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
