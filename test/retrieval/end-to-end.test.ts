import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writePng } from '../../src/data/image.js';
import { buildShapes } from '../../src/data/shapes-build.js';
import { openDataset } from '../../src/data/store.js';
import { asRgb, buildMemoryBank } from '../../src/retrieval/build-bank.js';
import { HashEncoder } from '../../src/retrieval/encoders.js';
import { openMemoryBank } from '../../src/retrieval/memory-bank.js';
import { applyRules } from '../../src/retrieval/rules.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, 'retrieve', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a bank built from a tiny Shapes dataset: training documents only, found by their caption and by their image', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-retrieve-'));
  try {
    const data = join(dir, 'shapes');
    await buildShapes({ n: 40, seed: 1, out: data });
    const encoder = new HashEncoder();
    const info = await buildMemoryBank({ data: [data], out: join(dir, 'bank'), encoder });
    const ds = await openDataset(data);
    const train = new Set<string>();
    for await (const c of ds.concepts({ split: 'train' })) train.add(c.id);
    assert.equal(info.counts.rows, train.size, 'one document per training scene');
    assert.ok(train.size < 40, 'some scenes are held out');
    const bank = await openMemoryBank(join(dir, 'bank'), { encoder: encoder.id });
    try {
      const hits = await bank.search((await encoder.embedText(['x']))[0]!, 100);
      assert.equal(hits.length, train.size);
      assert.ok(hits.every((h) => h.split === 'train' && h.kind === 'both' && h.dataset === 'shapes'));
      // by caption: the document itself comes first
      const doc = hits[3]!;
      const byText = await bank.search((await encoder.embedText([doc.text!]))[0]!, 4, { withVectors: true });
      assert.equal(byText[0]!.id, doc.id);
      // by image: the document itself scores highest, and it is a near-copy the rules skip
      const image = asRgb(await ds.image(doc.imageId!));
      const byImage = await bank.search((await encoder.embedImage([image]))[0]!, 8, { withVectors: true });
      assert.equal(byImage[0]!.id, doc.id);
      assert.ok(byImage[0]!.score > byImage[1]!.score);
      const chosen = applyRules(byImage.map((h) => ({ ...h, score: h.id === doc.id ? 0.95 : h.score })), 2);
      assert.ok(!chosen.some((h) => h.id === doc.id));
      // the CLI on the same bank
      const q = cli('query', doc.text!, '--bank', join(dir, 'bank'), '--k', '2');
      assert.equal(q.code, 0, q.stderr);
      assert.equal(q.stdout.trim().split('\n').length, 2);
      assert.match(q.stdout.split('\n')[0]!, new RegExp(`^\\d\\.\\d{4}  ${doc.id}  \\[both`));
      writePng(join(dir, 'q.png'), image);
      const qi = cli('query', '--image', join(dir, 'q.png'), '--bank', join(dir, 'bank'), '--k', '1');
      assert.equal(qi.code, 0, qi.stderr);
      assert.match(qi.stdout, new RegExp(doc.id));
    } finally {
      bank.close();
      ds.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('retrieve CLI: build, then bad input gives one clear line and exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-retrieve-'));
  try {
    await buildShapes({ n: 12, seed: 2, out: join(dir, 'shapes') });
    const b = cli('build', '--data', join(dir, 'shapes'), '-o', join(dir, 'bank'), '--encoder', 'hash-baseline');
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /memory bank .*: \d+ documents, dim 256, encoder hash-baseline@/);
    writeFileSync(join(dir, 'bad.png'), 'not a png');
    const bank = join(dir, 'bank');
    const cases: [string[], RegExp][] = [
      [['build', '-o', bank], /give --data .* or --images/],
      [['build', '--data', join(dir, 'shapes'), '--images', dir, '-o', bank], /either --data or --images/],
      [['build', '--data', join(dir, 'shapes'), '-o', bank, '--index', 'hnsw'], /--index must be none, auto, ivf_flat or ivf_pq/],
      [['build', '--data', join(dir, 'shapes'), '-o', bank, '--encoder', join(dir, 'no-encoder')], /not a bi-encoder directory/],
      [['build', '--data', join(dir, 'nope'), '-o', bank], /dataset .*nope does not exist/],
      [['build', '--data', join(dir, 'shapes'), '-o', bank, '--limit', '0'], /--limit must be a positive whole number/],
      [['query', 'a red circle'], /--bank is required/],
      [['query', '--bank', bank], /give a query text or an image/],
      [['query', 'red', '--bank', join(dir, 'missing')], /is not a memory bank: no bank.json/],
      [['query', 'red', '--bank', bank, '--k', 'x'], /--k must be a positive whole number, got 'x'/],
      [['query', '--image', join(dir, 'bad.png'), '--bank', bank], /cannot read image/],
      [['query', '--image', join(dir, 'none.png'), '--bank', bank], /cannot read image/],
      [['query', join(dir, 'bad.png'), '--bank', bank], /cannot read image/],
      [['frobnicate'], /expected 'build', 'query'/],
    ];
    for (const [args, pattern] of cases) {
      const r = cli(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
      assert.match(r.stderr.split('\n')[0]!, pattern, args.join(' '));
      assert.match(r.stderr, /^cm3leon: /);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
