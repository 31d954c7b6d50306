/**
 * The held-out evaluation's Shapes parse (evaluateTokenizer): scenes whose round trip keeps every
 * object count as parsed, and what fails is reported per object. The tokenizer is replaced by a
 * fixed round trip (every other picture returned as is, the others blanked to their background) so
 * the expected counts follow from the dataset's own scene records.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDataset } from '../../src/data/store.js';
import type { RgbImage } from '../../src/data/image.js';
import type { ShapeObject } from '../../src/data/index.js';
import { loadImages } from '../../src/tokenizers/vq/dataset.js';
import { evaluateTokenizer, formatEvaluation } from '../../src/tokenizers/vq/evaluate.js';
import type { ImageTokenizer } from '../../src/tokenizers/vq/image-tokenizer.js';
import { withShapesDataset } from './helpers.js';

test('Shapes parse after a round trip: kept pictures parse, blanked ones fail with every object missing', async () => {
  await withShapesDataset({ n: 40, seed: 5, heldOutFraction: 0.5 }, async (data) => {
    // A round trip that returns even-numbered pictures unchanged and paints odd ones with their corner colour.
    const fixed = {
      imageSize: 64, grid: 16, config: { codebookSize: 8 },
      roundTrip(images: readonly RgbImage[]) {
        return {
          grids: images.map(() => new Int32Array(256)),
          images: images.map((im, i) => {
            if (i % 2 === 0) return { ...im, rgb: im.rgb.slice() };
            const rgb = new Uint8Array(im.rgb.length);
            for (let p = 0; p < rgb.length; p += 3) rgb.set(im.rgb.subarray(0, 3), p);
            return { ...im, rgb };
          }),
        };
      },
    } as unknown as ImageTokenizer;
    const r = await evaluateTokenizer(fixed, { dirs: [data] });

    const images = await loadImages([data], { split: 'heldout', size: 64 });
    const ds = await openDataset(data);
    const truth = new Map<string, ShapeObject[]>();
    for await (const c of ds.concepts()) truth.set(c.id, (c.meta as { objects: ShapeObject[] }).objects);
    ds.close();
    let scenes = 0, kept = 0;
    const missing: Record<string, number> = {};
    images.forEach((im, i) => {
      if (im.role !== 'image') return;
      scenes++;
      if (i % 2 === 0) kept++;
      else for (const o of truth.get(im.conceptId)!) missing[`${o.size} ${o.shape} missing`] = (missing[`${o.size} ${o.shape} missing`] ?? 0) + 1;
    });
    assert.ok(scenes >= 8 && kept > 0 && kept < scenes, `fixture: ${kept} of ${scenes} scenes kept`);
    assert.equal(r.shapes!.scenes, scenes);
    assert.equal(r.shapes!.parsedOriginal, scenes);
    assert.equal(r.shapes!.parsedRoundTrip, kept);
    assert.deepEqual(r.shapes!.failures, missing);
    const text = formatEvaluation(r);
    assert.match(text, new RegExp(`shapes parse after round trip: ${kept}/${scenes} scenes`));
    assert.match(text, /what fails: .*missing \d+/);
  });
});
