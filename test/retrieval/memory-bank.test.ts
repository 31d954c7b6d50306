import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/data/rng.js';
import { MemoryBankWriter, openMemoryBank, type BankRow } from '../../src/retrieval/memory-bank.js';
import { RetrievalInputError } from '../../src/retrieval/errors.js';
import { dot, normalise } from '../../src/retrieval/vectors.js';

const encoder = { name: 'test', version: '1' };
const DIM = 16;

function randomRows(n: number, seed: number): BankRow[] {
  const rng = new Rng(seed);
  const kinds = ['image', 'text', 'both'] as const;
  return Array.from({ length: n }, (_, i) => ({
    id: `r${i}`, docId: `d${i}`, dataset: i % 2 ? 'a' : 'b', split: 'train', kind: kinds[i % 3]!,
    text: i % 3 === 0 ? null : `text ${i}`, imageId: i % 3 === 1 ? null : `img${i}`,
    vector: normalise(Array.from({ length: DIM }, () => rng.normal())),
  }));
}

async function writeBank(dir: string, rows: BankRow[]): Promise<void> {
  const writer = await MemoryBankWriter.create(dir, { dim: DIM, encoder, batchRows: 64 });
  for (let i = 0; i < rows.length; i += 50) await writer.add(rows.slice(i, i + 50));
  await writer.finish(['unit test']);
}

test('memory bank: round trip and exact top-k equal to brute force on 300 random vectors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-bank-'));
  try {
    const rows = randomRows(300, 1);
    await writeBank(join(dir, 'bank'), rows);
    assert.ok(!existsSync(join(dir, 'bank.partial')));
    const bank = await openMemoryBank(join(dir, 'bank'), { encoder });
    try {
      assert.equal(await bank.count(), 300);
      assert.deepEqual(bank.info.counts.byKind, { both: 100, image: 100, text: 100 });
      const rng = new Rng(2);
      for (let q = 0; q < 10; q++) {
        const query = normalise(Array.from({ length: DIM }, () => rng.normal()));
        const expected = rows.map((r) => ({ id: r.id, score: dot(query, r.vector) })).sort((a, b) => b.score - a.score).slice(0, 10);
        const hits = await bank.search(query, 10, { withVectors: true });
        assert.deepEqual(hits.map((h) => h.id), expected.map((e) => e.id));
        hits.forEach((h, i) => assert.ok(Math.abs(h.score - expected[i]!.score) < 1e-5, `score ${h.score} vs ${expected[i]!.score}`));
        const row = rows.find((r) => r.id === hits[0]!.id)!;
        assert.deepEqual({ ...hits[0], score: 0, vector: undefined }, { ...row, score: 0, vector: undefined });
        assert.ok(Math.abs(dot(hits[0]!.vector!, row.vector) - 1) < 1e-5);
      }
      const self = await bank.search(rows[42]!.vector, 1);
      assert.equal(self[0]!.id, 'r42');
      assert.ok(Math.abs(self[0]!.score - 1) < 1e-5);
      const filtered = await bank.search(rows[42]!.vector, 5, { where: "kind = 'text'" });
      assert.ok(filtered.every((h) => h.kind === 'text'));
      await assert.rejects(bank.search(new Float32Array(DIM + 1), 3), /dimension 17, the bank has 16/);
      await assert.rejects(bank.search(rows[0]!.vector, 0), /k must be a positive/);
    } finally {
      bank.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('memory bank: a partial or failed build never replaces a good bank', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-bank-'));
  const path = join(dir, 'bank');
  try {
    await writeBank(path, randomRows(20, 3));
    // a build that is abandoned half-way
    const writer = await MemoryBankWriter.create(path, { dim: DIM, encoder });
    await writer.add(randomRows(5, 4));
    assert.ok(existsSync(`${path}.partial`));
    let bank = await openMemoryBank(path);
    assert.equal(await bank.count(), 20);
    bank.close();
    // a row with the wrong dimension, an unnormalised vector, a duplicate id: refused
    await assert.rejects(writer.add([{ ...randomRows(1, 5)[0]!, id: 'bad', vector: new Float32Array(3).fill(0.5) }]), /dimension 3, the bank has 16/);
    await assert.rejects(writer.add([{ ...randomRows(1, 5)[0]!, id: 'big', vector: new Float32Array(DIM).fill(1) }]), /not L2-normalised/);
    await assert.rejects(writer.add([randomRows(1, 6)[0]!]), /duplicate id/);
    writer.abort();
    assert.ok(!existsSync(`${path}.partial`));
    bank = await openMemoryBank(path);
    assert.equal(await bank.count(), 20);
    bank.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('memory bank: clear errors for a missing bank, corrupt bank.json, another encoder, an empty bank', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-bank-'));
  try {
    await assert.rejects(openMemoryBank(join(dir, 'none')), (e: Error) => e instanceof RetrievalInputError && /no bank.json/.test(e.message));
    await writeBank(join(dir, 'bank'), randomRows(5, 7));
    await assert.rejects(openMemoryBank(join(dir, 'bank'), { encoder: { name: 'test', version: '2' } }), /built by encoder test@1, not test@2/);
    const empty = await MemoryBankWriter.create(join(dir, 'empty'), { dim: DIM, encoder });
    await empty.finish();
    const bank = await openMemoryBank(join(dir, 'empty'));
    await assert.rejects(bank.search(randomRows(1, 8)[0]!.vector, 3), /empty memory bank/);
    bank.close();
    writeFileSync(join(dir, 'bank', 'bank.json'), '{"formatVersion": 1, "dim":');
    await assert.rejects(openMemoryBank(join(dir, 'bank')), /bank.json is corrupt/);
    writeFileSync(join(dir, 'bank', 'bank.json'), '{"formatVersion": 1}');
    await assert.rejects(openMemoryBank(join(dir, 'bank')), /bank.json is corrupt: expected/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
