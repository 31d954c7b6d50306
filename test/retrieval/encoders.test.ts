import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type RgbImage } from '../../src/data/image.js';
import { embedDocuments, HashEncoder, textFeatures } from '../../src/retrieval/encoders.js';
import { dot, isUnitLength, normalisedMean } from '../../src/retrieval/vectors.js';

function square(fill: [number, number, number], x0: number, size = 32): RgbImage {
  const image = createImage(size, size);
  for (let y = 8; y < 20; y++) for (let x = x0; x < x0 + 12; x++) image.rgb.set(fill, (y * size + x) * 3);
  return image;
}

test('hash baseline: deterministic unit vectors; shared words score higher', async () => {
  const enc = new HashEncoder();
  const [a, b, c, d] = await enc.embedText(['a large red circle', 'a small red circle', 'a green triangle', 'a large red circle']);
  assert.equal(a!.length, 256);
  for (const v of [a!, b!, c!]) assert.ok(isUnitLength(v));
  assert.deepEqual(d, a);
  assert.deepEqual((await new HashEncoder().embedText(['a large red circle']))[0], a);
  assert.ok(dot(a!, b!) > dot(a!, c!) + 0.2, `${dot(a!, b!)} vs ${dot(a!, c!)}`);
  assert.notDeepEqual((await new HashEncoder({ seed: 1 }).embedText(['a large red circle']))[0], a);
  assert.equal(new HashEncoder({ dim: 64 }).id.version, '1-d64-b8192-s0');
  assert.ok(textFeatures('Red, RED red').get('w:red') === 3);
});

test('hash baseline: images compare by layout and palette', async () => {
  const enc = new HashEncoder();
  const [red, red2, redMoved, blue] = await enc.embedImage([square([255, 0, 0], 4), square([255, 0, 0], 4), square([255, 0, 0], 18), square([0, 0, 255], 4)]);
  assert.ok(isUnitLength(red!));
  assert.ok(Math.abs(dot(red!, red2!) - 1) < 1e-5);
  assert.ok(dot(red!, redMoved!) < 0.9);
  assert.ok(dot(red!, blue!) < dot(red!, red2!));
  const blank = (await enc.embedImage([createImage(16, 16)]))[0]!;
  assert.ok(blank.every((x) => Number.isFinite(x)));
});

test('document embedding = normalise(mean(normalise(text), normalise(image))); one modality alone is its own embedding', async () => {
  const enc = new HashEncoder({ dim: 64 });
  const image = square([0, 200, 0], 6);
  const [both, textOnly, imageOnly] = await embedDocuments(enc, [{ text: 'a green square', image }, { text: 'a green square' }, { image }]);
  const [t] = await enc.embedText(['a green square']);
  const [i] = await enc.embedImage([image]);
  assert.deepEqual(textOnly, t);
  assert.deepEqual(imageOnly, i);
  assert.deepEqual(both, normalisedMean([t!, i!]));
  assert.ok(isUnitLength(both!));
  await assert.rejects(embedDocuments(enc, [{}]), /neither text nor image/);
});
