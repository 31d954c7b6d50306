import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RgbImage } from '../../src/data/image.js';
import { clipScores, rerankByClip } from '../../src/decoding/rerank.js';
import type { BiEncoder } from '../../src/retrieval/encoders.js';

/** An encoder with known vectors, so the expected order is computed by hand (isolates the reranker). */
const fixed: BiEncoder = {
  id: { name: 'fixed', version: '1' },
  dim: 2,
  async embedText() {
    return [Float32Array.of(1, 0)];
  },
  async embedImage(images: readonly RgbImage[]) {
    // The image's first byte sets its angle to the text: cos = rgb[0] / 100.
    return images.map((im) => {
      const c = im.rgb[0]! / 100;
      return Float32Array.of(c, Math.sqrt(1 - c * c));
    });
  },
};

const image = (v: number): RgbImage => ({ width: 1, height: 1, rgb: Uint8Array.of(v, 0, 0) });

test('rerank: best CLIP score first, ties keep sample order', async () => {
  const images = [image(20), image(90), image(50), image(90)];
  const scores = await clipScores(fixed, 'caption', images);
  assert.deepEqual(scores.map((s) => +s.toFixed(6)), [0.2, 0.9, 0.5, 0.9]);
  const order = await rerankByClip(fixed, 'caption', images);
  assert.deepEqual(order.map((o) => o.index), [1, 3, 2, 0]);
  assert.deepEqual(await rerankByClip(fixed, 'caption', []), []);
});
