import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { DataInputError } from '../../src/data/errors.js';
import { addNoise, createImage, decodePng, downsample, encodePng, gaussianBlur, rgbaOver } from '../../src/data/image.js';
import { Rng, hashString } from '../../src/data/rng.js';

test('PNG encode/decode round-trips RGB bytes exactly', () => {
  const rng = new Rng(5);
  const image = { width: 7, height: 5, rgb: Uint8Array.from({ length: 7 * 5 * 3 }, () => rng.int(256)) };
  const back = decodePng(encodePng(image));
  assert.equal(back.width, 7);
  assert.equal(back.height, 5);
  assert.deepEqual(back.rgb, image.rgb);
});

test('decodePng composites alpha over white and rejects garbage with a clear error', () => {
  const png = new PNG({ width: 1, height: 1 });
  png.data = Buffer.from([0, 0, 0, 0]);
  assert.deepEqual([...decodePng(PNG.sync.write(png)).rgb], [255, 255, 255]);
  assert.throws(() => decodePng(new Uint8Array([1, 2, 3])), (err: Error) => err instanceof DataInputError && /not a readable PNG/.test(err.message));
});

test('downsample averages blocks and refuses factors that do not divide', () => {
  const image = createImage(4, 4, [0, 0, 0]);
  image.rgb.set([255, 255, 255], 0); // one white pixel in the top-left 2x2 block
  const low = downsample(image, 2);
  assert.equal(low.width, 2);
  assert.deepEqual([...low.rgb.slice(0, 3)], [64, 64, 64]);
  assert.deepEqual([...low.rgb.slice(3, 6)], [0, 0, 0]);
  assert.throws(() => downsample(image, 3), /does not divide/);
});

test('blur keeps a flat image flat; noise is deterministic by seed', () => {
  const flat = createImage(8, 8, [100, 150, 200]);
  assert.deepEqual(gaussianBlur(flat, 1.2).rgb, flat.rgb);
  assert.deepEqual(addNoise(flat, 10, new Rng(1)).rgb, addNoise(flat, 10, new Rng(1)).rgb);
  assert.notDeepEqual(addNoise(flat, 10, new Rng(1)).rgb, addNoise(flat, 10, new Rng(2)).rgb);
});

test('rgbaOver checks its input size; hashString is stable', () => {
  assert.throws(() => rgbaOver(new Uint8Array(3), 1, 1), /expected 4 bytes/);
  assert.equal(hashString('cm3leon'), hashString('cm3leon'));
  assert.notEqual(hashString('a'), hashString('b'));
});
