/**
 * Oversampling Shapes pictures that hold a small object (`train-image --oversample-small K`): the
 * repeated entries are exactly the scenes with a small object, each K times, the rest once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDataset } from '../../src/data/store.js';
import { loadImages, oversampleSmallObjects } from '../../src/tokenizers/vq/dataset.js';
import { withShapesDataset } from './helpers.js';

test('oversampleSmallObjects repeats exactly the Shapes pictures of scenes with a small object (of the given shapes)', async () => {
  await withShapesDataset({ n: 24, seed: 3 }, async (data) => {
    const images = await loadImages([data], { split: 'train', size: 64 });
    const ds = await openDataset(data);
    const hasSmall = new Map<string, boolean>();
    const hasSmallCross = new Map<string, boolean>();
    for await (const c of ds.concepts()) {
      const objects = (c.meta as { objects: { size: string; shape: string }[] }).objects;
      hasSmall.set(c.id, objects.some((o) => o.size === 'small'));
      hasSmallCross.set(c.id, objects.some((o) => o.size === 'small' && o.shape === 'cross'));
    }
    ds.close();
    const expected = images.filter((im) => hasSmall.get(im.conceptId)).length;
    assert.ok(expected > 0 && expected < images.length, 'the fixture has scenes with and without small objects');

    const { images: out, repeated } = await oversampleSmallObjects(images, 3);
    assert.equal(repeated, expected);
    assert.equal(out.length, images.length + 2 * expected);
    const counts = new Map<string, number>();
    for (const im of out) counts.set(im.id, (counts.get(im.id) ?? 0) + 1);
    for (const im of images) assert.equal(counts.get(im.id), hasSmall.get(im.conceptId) ? 3 : 1, im.id);

    const crosses = images.filter((im) => hasSmallCross.get(im.conceptId)).length;
    assert.ok(crosses > 0 && crosses < expected, 'some scenes have a small cross, fewer than have any small object');
    const only = await oversampleSmallObjects(images, 4, ['cross']);
    assert.equal(only.repeated, crosses);
    assert.equal(only.images.length, images.length + 3 * crosses);

    const same = await oversampleSmallObjects(images, 1);
    assert.deepEqual(same.images.map((im) => im.id), images.map((im) => im.id));
    await assert.rejects(oversampleSmallObjects(images, 0), /whole number >= 1/);
    await assert.rejects(oversampleSmallObjects(images, 1.5), /whole number >= 1/);
  });
});
