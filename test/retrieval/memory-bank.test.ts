import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { createImage, decodePng, downsample, encodePng, type RgbImage } from '../../src/data/image.js';
import { Rng } from '../../src/data/rng.js';
import { buildShapes } from '../../src/data/shapes-build.js';
import { openDataset } from '../../src/data/store.js';
import { asRgb, buildMemoryBank, shrink } from '../../src/retrieval/build-bank.js';
import { HashEncoder } from '../../src/retrieval/encoders.js';
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
    writeFileSync(join(dir, 'bank', 'bank.json'), '{"formatVersion": 3}');
    await assert.rejects(openMemoryBank(join(dir, 'bank')), /format version 3 is newer than this build reads \(2\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A small RGB image whose pixels depend on `seed`, and its PNG. */
function picture(seed: number, size = 8): RgbImage {
  const image = createImage(size, size);
  for (let i = 0; i < image.rgb.length; i++) image.rgb[i] = (i * 37 + seed * 101) & 255;
  return image;
}

test('memory bank: image tokens and thumbnails round trip (search on request, getByIds always)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-bank-'));
  try {
    const rows = randomRows(40, 9).map((r, i) => ({
      ...r,
      // lengths vary, one is empty, every fourth row has none
      imageTokens: i % 4 === 3 ? null : Int32Array.from({ length: i % 5 === 0 ? 0 : 3 + i }, (_, j) => (i * 1000 + j) * (j % 2 ? -1 : 1)),
      thumbnail: i % 3 === 2 ? null : new Uint8Array(encodePng(picture(i))),
    }));
    rows[7] = { ...rows[7]!, id: "o'brien" }; // a quote, to check ids are escaped in SQL
    const info = await (async () => {
      const writer = await MemoryBankWriter.create(join(dir, 'bank'), { dim: DIM, encoder, batchRows: 16 });
      await writer.add(rows);
      return writer.finish();
    })();
    assert.equal(info.formatVersion, 2);
    assert.equal(info.counts.withTokens, 30);
    assert.equal(info.counts.withThumbnails, rows.filter((r) => r.thumbnail).length);
    const bank = await openMemoryBank(join(dir, 'bank'));
    try {
      const plain = await bank.search(rows[5]!.vector, 3);
      assert.equal(plain[0]!.id, 'r5');
      assert.ok(!('imageTokens' in plain[0]!) && !('thumbnail' in plain[0]!) && !('vector' in plain[0]!), 'bulk columns only on request');
      const full = await bank.search(rows[5]!.vector, 40, { withTokens: true, withThumbnails: true });
      for (const hit of full) {
        const row = rows.find((r) => r.id === hit.id)!;
        assert.deepEqual(hit.imageTokens, row.imageTokens, hit.id);
        assert.deepEqual(hit.thumbnail, row.thumbnail, hit.id);
      }
      assert.deepEqual(decodePng(full.find((h) => h.id === 'r4')!.thumbnail!), picture(4));
      const got = await bank.getByIds(['r12', 'missing', "o'brien", 'r3', 'r12']);
      assert.deepEqual(got.map((r) => r.id), ['r12', "o'brien", 'r3', 'r12'], 'in the order asked, unknown ids left out');
      for (const row of got) {
        const want = rows.find((r) => r.id === row.id)!;
        assert.deepEqual({ ...row, vector: null }, { ...want, text: want.text ?? null, imageId: want.imageId ?? null, vector: null });
        assert.ok(Math.abs(dot(row.vector, want.vector) - 1) < 1e-5);
      }
      assert.deepEqual(await bank.getByIds([]), []);
      const texts = await bank.search(rows[5]!.vector, 40, { filter: { kind: ['text'], dataset: 'a' } });
      assert.ok(texts.length > 0 && texts.every((h) => h.kind === 'text' && h.dataset === 'a'));
      await assert.rejects(bank.search(rows[5]!.vector, 3, { filter: { kind: [] } }), /filter.kind is an empty list/);
      await assert.rejects(bank.search(rows[5]!.vector, 3, { ann: true, nprobes: 0 }), /nprobes must be a positive whole number/);
    } finally {
      bank.close();
    }
    // refused rows: tokens that are not Int32Array, a thumbnail that is not a PNG
    const writer = await MemoryBankWriter.create(join(dir, 'other'), { dim: DIM, encoder });
    await assert.rejects(writer.add([{ ...rows[0]!, imageTokens: [1, 2] as unknown as Int32Array }]), /imageTokens must be an Int32Array/);
    await assert.rejects(writer.add([{ ...rows[1]!, thumbnail: new Uint8Array(16) }]), /thumbnail is not PNG bytes/);
    writer.abort();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('memory bank: a format-1 bank (no token or thumbnail columns) still opens and searches', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-bank-'));
  try {
    // Written the way the format-1 writer did: its schema, LanceDB's row conversion, its bank.json.
    const require = createRequire(import.meta.url);
    const lancedb = require('@lancedb/lancedb') as typeof import('@lancedb/lancedb');
    const { Schema, Field, Utf8, FixedSizeList, Float32 } = require('apache-arrow') as typeof import('apache-arrow');
    const text = (name: string, nullable = false) => new Field(name, new Utf8(), nullable);
    const schema = new Schema([
      text('id'), text('docId'), text('dataset'), text('split'), text('kind'), text('text', true), text('imageId', true),
      new Field('vector', new FixedSizeList(DIM, new Field('item', new Float32(), true))),
    ]);
    const rows = randomRows(30, 10);
    const db = await lancedb.connect(join(dir, 'bank', 'lance'));
    const data = lancedb.makeArrowTable(rows.map((r) => ({ ...r, text: r.text ?? null, imageId: r.imageId ?? null, vector: Array.from(r.vector) })), { schema });
    (await db.createTable('documents', data)).close();
    db.close();
    writeFileSync(join(dir, 'bank', 'bank.json'), JSON.stringify({
      formatVersion: 1, dim: DIM, encoder, counts: { rows: 30, byKind: {}, byDataset: {}, bySplit: {} }, sources: [], buildSeconds: 0,
    }));
    const bank = await openMemoryBank(join(dir, 'bank'), { encoder });
    try {
      assert.equal(bank.info.formatVersion, 1);
      const hits = await bank.search(rows[3]!.vector, 5, { withTokens: true, withThumbnails: true, withVectors: true, ann: 'auto' });
      assert.equal(hits[0]!.id, 'r3');
      assert.ok(hits.every((h) => h.imageTokens === null && h.thumbnail === null && h.vector!.length === DIM));
      const [row] = await bank.getByIds(['r3']);
      assert.equal(row!.imageTokens, null);
      assert.equal(row!.text, rows[3]!.text ?? null);
      await assert.rejects(bank.search(rows[3]!.vector, 5, { ann: true }), /has no ANN index/);
    } finally {
      bank.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shrink: box average to the longer side, equal to downsample for an integer factor, never enlarging', () => {
  const image = picture(3, 64);
  assert.deepEqual(shrink(image, 32), downsample(image, 2));
  assert.deepEqual(shrink(image, 16), downsample(image, 4));
  assert.equal(shrink(image, 64), image);
  const odd = shrink(image, 24);
  assert.deepEqual([odd.width, odd.height, odd.rgb.length], [24, 24, 24 * 24 * 3]);
  const wide = shrink({ width: 64, height: 32, rgb: new Uint8Array(64 * 32 * 3).fill(200) }, 16);
  assert.deepEqual([wide.width, wide.height], [16, 8]);
  assert.ok(wide.rgb.every((v) => v === 200), 'a flat image stays flat');
});

test('buildMemoryBank: image tokens from encodeImages, 32-pixel thumbnails, progress to the total', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-bank-'));
  try {
    const data = join(dir, 'shapes');
    await buildShapes({ n: 30, seed: 4, out: data });
    // A stand-in tokenizer: codes that are a function of the pixels, of varying length.
    const codes = (image: RgbImage): Int32Array => Int32Array.from(image.rgb.subarray(0, 4 + (image.rgb[0]! % 5)));
    const progress: [number, number][] = [];
    const info = await buildMemoryBank({
      data: [data], out: join(dir, 'bank'), encoder: new HashEncoder(), batch: 7, thumbnails: 32,
      encodeImages: async (images) => images.map(codes), onProgress: (done, total) => progress.push([done, total]),
    });
    const total = info.counts.rows;
    assert.equal(info.counts.withTokens, total);
    assert.equal(info.counts.withThumbnails, total);
    assert.ok(progress.length >= Math.ceil(total / 7));
    assert.ok(progress.every(([, t]) => t === total) && progress.every(([d], i) => i === 0 || d > progress[i - 1]![0]));
    assert.equal(progress.at(-1)![0], total);
    const ds = await openDataset(data);
    const bank = await openMemoryBank(join(dir, 'bank'));
    try {
      const [hit] = await bank.search(normalise(new Float32Array(256).fill(1)), 1);
      const [row] = await bank.getByIds([hit!.id]);
      const image = asRgb(await ds.image(row!.imageId!));
      assert.deepEqual(row!.imageTokens, codes(image));
      assert.deepEqual(decodePng(row!.thumbnail!), downsample(image, 2), 'a 64-pixel scene stored at 32');
    } finally {
      bank.close();
      ds.close();
    }
    // a tokenizer that returns the wrong number of results: refused, and no bank replaces the good one
    await assert.rejects(
      buildMemoryBank({ data: [data], out: join(dir, 'bank'), encoder: new HashEncoder(), encodeImages: (images) => images.slice(1).map(codes) }),
      (e: Error) => e instanceof RetrievalInputError && /encodeImages returned \d+ results for \d+ images/.test(e.message));
    assert.ok(!existsSync(join(dir, 'bank.partial')));
    const again = await openMemoryBank(join(dir, 'bank'));
    assert.equal(await again.count(), total);
    again.close();
    await assert.rejects(buildMemoryBank({ data: [data], out: join(dir, 'b2'), encoder: new HashEncoder(), thumbnails: 0 }), /thumbnails must be a positive/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
