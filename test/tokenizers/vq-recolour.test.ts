/**
 * Recoloured Shapes scenes for the image tokenizer's training (`train-image --recolour N`): the
 * colours keep their margins (held-out pairs' palette colours, the background, each other), the
 * pictures are the training scenes' geometry in the new colours, and a seed fixes them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKGROUNDS, COLOURS, Rng, renderScene, type Scene } from '../../src/data/index.js';
import { openDataset } from '../../src/data/store.js';
import { drawColours, loadImages, recolouredScenes } from '../../src/tokenizers/vq/dataset.js';
import { withShapesDataset } from './helpers.js';

const distance = (a: readonly number[], b: readonly number[]): number => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);

test('renderScene with the palette colours given explicitly draws the same bytes; a wrong count is refused', () => {
  const scene: Scene = { background: 'grey', objects: [
    { shape: 'cross', colour: 'pink', size: 'small', x: 0.3, y: 0.4 },
    { shape: 'circle', colour: 'blue', size: 'medium', x: 0.35, y: 0.45 },
  ] };
  const named = renderScene(scene, 64);
  const explicit = renderScene(scene, 64, scene.objects.map((o) => COLOURS[o.colour]));
  assert.deepEqual(explicit.rgb, named.rgb);
  assert.throws(() => renderScene(scene, 64, [[1, 2, 3]]), /1 colours for 2 objects/);
});

test('drawColours keeps every margin over many draws and spreads over RGB', () => {
  const scene: Scene = { background: 'grey', objects: [
    { shape: 'cross', colour: 'red', size: 'small', x: 0.3, y: 0.4 },
    { shape: 'star', colour: 'blue', size: 'small', x: 0.6, y: 0.4 },
    { shape: 'square', colour: 'red', size: 'large', x: 0.5, y: 0.7 },
  ] };
  const avoid = new Map([['cross', [[...COLOURS.green]]], ['star', [[...COLOURS.pink]]]]);
  const rng = new Rng(11);
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const colours = drawColours(scene, avoid, rng, { heldOutMargin: 100, minContrast: 90, minSeparation: 60 });
    assert.equal(colours.length, 3);
    for (const c of colours) {
      assert.ok(c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255));
      assert.ok(distance(c, BACKGROUNDS.grey) >= 90);
      seen.add(c.join(','));
    }
    assert.ok(distance(colours[0]!, COLOURS.green) >= 100, `cross too near green: ${colours[0]}`);
    assert.ok(distance(colours[1]!, COLOURS.pink) >= 100, `star too near pink: ${colours[1]}`);
    for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) assert.ok(distance(colours[a]!, colours[b]!) >= 60);
  }
  assert.ok(seen.size > 5000, `only ${seen.size} distinct colours`);
  // Margins that rule out everything give a clear error instead of a hang.
  assert.throws(() => drawColours(scene, avoid, rng, { heldOutMargin: 100, minContrast: 450, minSeparation: 60 }), /cannot find a colour for a cross on grey/);
});

test('recolouredScenes: training scenes in new colours, same geometry, deterministic for a seed', async () => {
  await withShapesDataset({ n: 24, seed: 3 }, async (data) => {
    const images = await loadImages([data], { split: 'train', size: 64 });
    const ds = await openDataset(data);
    const scenes = new Map<string, Scene>();
    for await (const c of ds.concepts()) scenes.set(c.id, c.meta as unknown as Scene);
    const heldOut = ds.info.heldOut;
    ds.close();
    const trainScenes = new Set(images.filter((im) => im.role === 'image').map((im) => im.conceptId));
    assert.ok(heldOut.length > 0);

    const a = await recolouredScenes(images, 30, 64, 5);
    const b = await recolouredScenes(images, 30, 64, 5);
    const c = await recolouredScenes(images, 30, 64, 6);
    assert.equal(a.length, 30);
    assert.deepEqual(a.map((im) => im.rgb), b.map((im) => im.rgb));
    assert.notDeepEqual(a.map((im) => im.rgb), c.map((im) => im.rgb));
    for (const [k, im] of a.entries()) {
      assert.ok(trainScenes.has(im.conceptId), `${im.conceptId} is not a training scene`);
      assert.equal(im.id, `${im.conceptId}/recolour-${k}`);
      assert.equal(im.role, 'image');
      assert.equal(im.style, 'recoloured');
      // The same pixels differ from the background as in the palette picture: only the colours changed.
      const scene = scenes.get(im.conceptId)!;
      const original = renderScene(scene, 64).rgb;
      const bg = BACKGROUNDS[scene.background];
      const isBg = (rgb: Uint8Array, p: number): boolean => rgb[3 * p] === bg[0] && rgb[3 * p + 1] === bg[1] && rgb[3 * p + 2] === bg[2];
      let objectPixels = 0;
      for (let p = 0; p < 64 * 64; p++) {
        assert.equal(isBg(im.rgb, p), isBg(original, p), `pixel ${p} of ${im.id}`);
        if (!isBg(original, p)) objectPixels++;
      }
      assert.ok(objectPixels > 0);
      assert.notDeepEqual(im.rgb, original);
    }
    assert.deepEqual(await recolouredScenes(images, 0, 64, 5), []);
    await assert.rejects(recolouredScenes(images, 2.5, 64, 5), /whole number >= 0, got 2.5/);
  });
});
