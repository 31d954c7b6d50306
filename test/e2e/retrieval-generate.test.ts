import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPng } from '../../src/data/image.js';
import { buildShapes } from '../../src/data/shapes-build.js';
import { ClipEncoder } from '../../src/retrieval/clip-encoder.js';
import { ensureDefaultBank, Retriever } from '../../src/retrieval/retriever.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('generate --retrieve with the shipped models: documents printed, image written; --rerank orders by CLIP score; bad options refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-ragen-'));
  try {
    await buildShapes({ n: 30, seed: 4, out: join(dir, 'shapes') });
    const bank = join(dir, 'bank');
    const b = cli('index', 'build', '--data', join(dir, 'shapes'), '-o', bank);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /encoder clip@/);

    const out = join(dir, 'out.png');
    const g = cli('generate', 'a large red circle on a white background', '-o', out, '--retrieve', '2', '--bank', bank, '--cfg', '3');
    assert.equal(g.code, 0, g.stderr);
    const retrieved = g.stdout.split('\n').filter((l) => l.startsWith('retrieved '));
    assert.ok(retrieved.length >= 1 && retrieved.length <= 2, g.stdout);
    for (const line of retrieved) assert.match(line, /^retrieved \d\.\d{4} {2}shapes\/s\d+\/caption\/\d+ {2}.+ background/);
    assert.equal(readPng(out).width, 64);

    const r = cli('generate', 'a small blue square', '-o', join(dir, 'r.png'), '--samples', '3', '--rerank');
    assert.equal(r.code, 0, r.stderr);
    const scores = [...r.stdout.matchAll(/CLIP score (-?\d\.\d+)/g)].map((m) => Number(m[1]));
    assert.equal(scores.length, 3);
    assert.deepEqual(scores, [...scores].sort((x, y) => y - x), 'best first');
    for (let i = 1; i <= 3; i++) assert.ok(existsSync(join(dir, `r-${i}.png`)));

    // A mixture: half CFG, half CD-K, reranked together.
    const mix = cli('generate', 'a small blue square', '-o', join(dir, 'mix.png'), '--samples', '3', '--cfg', '3', '--cd-k', '8', '--rerank', '--batch', '2');
    assert.equal(mix.code, 0, mix.stderr);
    const kinds = [...mix.stdout.matchAll(/sample (\d) \(seed \d+, (CFG|CD-K)\)/g)].map((m) => `${m[1]}:${m[2]}`).sort();
    assert.deepEqual(kinds, ['1:CFG', '2:CFG', '3:CD-K']);

    const bad: [string[], RegExp][] = [
      [['--cfg', '3', '--cd-k', '8'], /mixture of samples .* --samples N with N >= 2/],
      [['--retrieve', '3'], /--retrieve takes 0, 1 or 2 documents/],
      [['--bank', bank], /--bank is used with --retrieve 1 or 2/],
      [['--rerank'], /--rerank orders several samples/],
      [['--retrieve', '1', '--bank', join(dir, 'missing')], /is not a memory bank/],
    ];
    for (const [args, pattern] of bad) {
      const e = cli('generate', 'a red circle', '-o', join(dir, 'x.png'), ...args);
      assert.equal(e.code, 2, `${args.join(' ')}: ${e.stderr}`);
      assert.match(e.stderr, pattern);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('default bank: built once from the given datasets into the cache, then reused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-defbank-'));
  try {
    await buildShapes({ n: 20, seed: 5, out: join(dir, 'shapes') });
    const encoder = ClipEncoder.load('models/bi-encoder');
    const lines: string[] = [];
    const first = await ensureDefaultBank({ encoder, dataDirs: [join(dir, 'shapes')], cache: join(dir, 'cache'), log: (l) => lines.push(l) });
    assert.match(first, /memory-bank-clip-[0-9a-f]{12}$/);
    assert.ok(lines.some((l) => /building the default memory bank/.test(l)));
    const info = JSON.parse(readFileSync(join(first, 'bank.json'), 'utf8'));
    assert.equal(info.encoder.version, encoder.id.version);
    assert.ok(info.counts.rows > 0 && info.counts.withThumbnails === info.counts.rows);
    const again: string[] = [];
    assert.equal(await ensureDefaultBank({ encoder, dataDirs: [join(dir, 'shapes')], cache: join(dir, 'cache'), log: (l) => again.push(l) }), first);
    assert.deepEqual(again, [], 'the cached bank is reused without rebuilding');
    const r = await Retriever.open(first, encoder, { expectedCodes: 4, encodeImage: () => Int32Array.of(1, 2, 3, 4) });
    try {
      const docs = await r.forText('a red circle', 1);
      assert.equal(docs.length, 1);
      assert.deepEqual([...docs[0]!.codes], [1, 2, 3, 4]);
    } finally {
      r.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
