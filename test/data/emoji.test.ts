import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEmoji } from '../../src/data/emoji-build.js';
import { EMOJI_STYLES, HELD_OUT_SUBGROUPS, findPackage, loadCatalog, type EmojiStyle } from '../../src/data/emoji-catalog.js';
import { emojiPairs } from '../../src/data/emoji-pairs.js';
import { renderSvgs } from '../../src/data/emoji-render.js';
import { downsample } from '../../src/data/image.js';
import { openDataset } from '../../src/data/store.js';

const catalog = loadCatalog();

test('the catalogue joins emojibase names with every style of the pinned packages', () => {
  assert.equal(catalog.concepts.length, 3953);
  const perStyle: Record<string, number> = {};
  for (const job of catalog.jobs) perStyle[job.style] = (perStyle[job.style] ?? 0) + 1;
  assert.deepEqual(perStyle, {
    'openmoji-color': 3953, 'openmoji-black': 3953, twemoji: 3944, noto: 3682, 'fluent-flat': 3139, 'fluent-high-contrast': 1594,
  });
  assert.equal(catalog.jobs.length, 20265);
  assert.ok(catalog.jobs.every((j) => /^.+@\d+\.\d+\.\d+:.+/.test(j.origin)));
  assert.equal(catalog.skipped.length, 26); // regional indicator letters have no subgroup
  assert.equal(findPackage('no-such-package-cm3leon', 'MIT'), null);
});

test('the split holds out whole subgroups, 311 concepts, deterministically', () => {
  const subgroups = new Set(catalog.concepts.map((c) => c.subgroup));
  for (const s of HELD_OUT_SUBGROUPS) assert.ok(subgroups.has(s), `held-out subgroup ${s} exists`);
  const heldOut = catalog.concepts.filter((c) => c.split === 'heldout');
  assert.equal(heldOut.length, 311);
  for (const c of catalog.concepts) assert.equal(c.split === 'heldout', HELD_OUT_SUBGROUPS.includes(c.subgroup));
  assert.deepEqual(loadCatalog().concepts.map((c) => c.split), catalog.concepts.map((c) => c.split));
});

test('leak test: no training pair touches a held-out concept in any style', () => {
  const available = new Map<string, EmojiStyle[]>();
  for (const job of catalog.jobs) available.set(job.conceptId, [...(available.get(job.conceptId) ?? []), job.style]);
  const split = new Map(catalog.concepts.map((c) => [c.id, c.split]));
  const heldOutLabels = new Set(catalog.concepts.filter((c) => c.split === 'heldout').map((c) => c.label));
  const trainLabels = new Set(catalog.concepts.filter((c) => c.split === 'train').map((c) => c.label));
  const counts: Record<string, number> = {};
  for (const pair of emojiPairs(catalog.concepts, available, [2, 4])) {
    counts[pair.type] = (counts[pair.type] ?? 0) + 1;
    assert.equal(pair.split, split.get(pair.conceptId));
    for (const id of [pair.inputImage, pair.outputImage]) {
      if (id) assert.equal(split.get(id.split('/')[0]!), pair.split, `${pair.id} uses image ${id}`);
    }
    const asked = /^Is this emoji an? (.+)\?$/.exec(pair.inputText ?? '')?.[1];
    if (asked && pair.split === 'train') assert.ok(trainLabels.has(asked) || !heldOutLabels.has(asked), `${pair.id} asks about held-out '${asked}'`);
  }
  for (const type of ['caption', 'outline-to-colour', 'tone-edit', 'style-transfer', 'super-resolution', 'vqa', 'retrieval']) {
    assert.ok((counts[type] ?? 0) > 0, `${type} pairs exist`);
  }
  assert.equal(counts['caption'], catalog.jobs.length);
  assert.equal(counts['outline-to-colour'], 3953);
});

test('a renderer crash or a broken SVG costs one icon, not the build', async () => {
  const crasher = catalog.jobs.find((j) => j.style === 'noto' && j.origin.endsWith(':package'))!;
  const good = catalog.jobs[0]!;
  const svgs = [good.svg, crasher.svg, () => '<svg', () => { throw new Error('missing file'); }, good.svg];
  const images: number[] = [];
  const failures: [number, string, boolean][] = [];
  const stats = await renderSvgs(svgs, {
    size: 16, workers: 1, chunk: 8,
    onImage: (i, rgb) => {
      assert.equal(rgb.length, 16 * 16 * 3);
      images.push(i);
    },
    onFailure: (i, reason, crashed) => failures.push([i, reason, crashed]),
  });
  assert.deepEqual(images.sort(), [0, 4]);
  assert.deepEqual(failures.map(([i, , crashed]) => [i, crashed]).sort(), [[1, true], [2, false], [3, false]]);
  assert.match(failures.find(([i]) => i === 1)![1], /renderer crashed/);
  assert.match(failures.find(([i]) => i === 3)![1], /unreadable SVG: missing file/);
  assert.deepEqual(stats, { rendered: 2, failed: 3, crashes: 1 });
});

test('a small emoji build writes real images, low-resolution copies and pairs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-emoji-'));
  try {
    const info = await buildEmoji({ out: join(dir, 'emoji'), size: 32, limit: 60, workers: 2 });
    assert.equal(info.counts.concepts, 60);
    assert.ok(info.counts.images > 60 * 3);
    assert.deepEqual(info.sources.map((s) => s.name).sort(), [
      '@iconify-json/fluent-emoji-flat', '@iconify-json/fluent-emoji-high-contrast', '@iconify-json/noto', '@iconify-json/twemoji', 'emojibase-data', 'openmoji',
    ]);
    const ds = await openDataset(join(dir, 'emoji'));
    assert.equal(await ds.count('images'), info.counts.images);
    assert.equal(await ds.count('images', { role: 'lowres' }), info.counts.imagesByRole['lowres']);
    assert.ok((info.counts.conceptsBySplit['heldout'] ?? 0) > 0);
    let checked = 0;
    for await (const pair of ds.pairs({ type: 'super-resolution', split: 'train' })) {
      const [low, high] = [await ds.image(pair.inputImage!), await ds.image(pair.outputImage!)];
      assert.equal(high.size, 32);
      assert.deepEqual(low.rgb, downsample({ width: 32, height: 32, rgb: high.rgb }, 32 / low.size).rgb);
      if (++checked === 5) break;
    }
    const white = (await ds.image(`${info.counts.concepts ? (await ds.concepts().next()).value!.id : ''}/openmoji-color`)).rgb;
    assert.deepEqual([...white.slice(0, 3)], [255, 255, 255]); // white background in the corner
    ds.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad emoji options fail with a clear message', async () => {
  await assert.rejects(buildEmoji({ out: '/tmp/never', size: 48 }), /--size must be one of 16, 32, 64, 128/);
  await assert.rejects(buildEmoji({ out: '/tmp/never', styles: ['sketchy' as EmojiStyle] }), /unknown style 'sketchy'/);
  assert.equal(EMOJI_STYLES.length, 6);
});
