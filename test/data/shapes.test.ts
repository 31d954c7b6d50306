import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addNoise, gaussianBlur } from '../../src/data/image.js';
import { Rng } from '../../src/data/rng.js';
import { buildShapes, sceneAt } from '../../src/data/shapes-build.js';
import {
  HELD_OUT_COMBOS, SIZE_RADIUS, formatBox, isHeldOutObject, objectBounds, parseBoxes, toBoxCoordinate, type ShapeObject,
} from '../../src/data/shapes-geometry.js';
import { matchObjects, parseShapes } from '../../src/data/shapes-parse.js';
import { renderScene } from '../../src/data/shapes-render.js';
import { isValidScene } from '../../src/data/shapes-scene.js';
import { questionsFor } from '../../src/data/shapes-text.js';
import { openDataset } from '../../src/data/store.js';

const SCENES = Array.from({ length: 150 }, (_, i) => sceneAt(11, i));

function parserAccuracy(distort: (index: number, image: ReturnType<typeof renderScene>) => ReturnType<typeof renderScene>): number {
  let truth = 0, matched = 0;
  SCENES.forEach((scene, i) => {
    const result = matchObjects(scene.objects, parseShapes(distort(i, renderScene(scene, 64))).objects);
    truth += result.truth;
    matched += result.matched;
  });
  return matched / truth;
}

test('scenes are deterministic by seed and index, and keep their rules', () => {
  assert.deepEqual(sceneAt(3, 17), sceneAt(3, 17));
  assert.notDeepEqual(sceneAt(3, 17), sceneAt(4, 17));
  for (const scene of SCENES) {
    assert.ok(scene.objects.length >= 1 && scene.objects.length <= 4);
    assert.ok(isValidScene(scene, scene.allowOverlap));
    assert.equal(scene.split === 'heldout', scene.objects.some(isHeldOutObject));
  }
  assert.ok(SCENES.some((s) => s.split === 'heldout') && SCENES.some((s) => s.split === 'train'));
});

test('boxes use 0-255 coordinates in the paper notation and parse back', () => {
  const o: ShapeObject = { shape: 'circle', colour: 'red', size: 'medium', x: 0.5, y: 0.25 };
  const text = formatBox(o);
  assert.match(text, /^\(\d+, \d+\) -> \(\d+, \d+\)$/);
  const [box] = parseBoxes(`a circle ${text} and more`);
  assert.deepEqual(box, objectBounds(o).map(toBoxCoordinate));
  assert.equal(toBoxCoordinate(-0.1), 0);
  assert.equal(toBoxCoordinate(1.5), 255);
  assert.equal(box![2]! - box![0]!, Math.round((0.5 + SIZE_RADIUS.medium) * 255) - Math.round((0.5 - SIZE_RADIUS.medium) * 255));
});

test('parser recovers at least 99% of objects exactly on clean renders', () => {
  const accuracy = parserAccuracy((_, image) => image);
  assert.ok(accuracy >= 0.99, `clean accuracy ${accuracy}`);
});

test('parser stays accurate under light blur and tokenizer-like noise', () => {
  const rng = new Rng(99);
  const blurred = parserAccuracy((_, image) => gaussianBlur(image, 0.5));
  const noisy = parserAccuracy((_, image) => addNoise(image, 10, rng));
  assert.ok(blurred >= 0.97, `blur 0.5 accuracy ${blurred}`);
  assert.ok(noisy >= 0.97, `noise 10 accuracy ${noisy}`);
});

test('QA answers agree with the scene', () => {
  for (const scene of SCENES.slice(0, 40)) {
    for (const qa of questionsFor(scene, scene.split, new Rng(1))) {
      if (qa.question === 'How many shapes are there?') {
        assert.equal(qa.answer, ['zero', 'one', 'two', 'three', 'four'][scene.objects.length]);
      }
      const colourOf = /^What colour is the (\w+)\?$/.exec(qa.question);
      if (colourOf) assert.equal(qa.answer, scene.objects.find((o) => o.shape === colourOf[1])!.colour);
    }
  }
});

test('a built shapes dataset round-trips, counts match, and no held-out combination leaks into training', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-shapes-'));
  try {
    const info = await buildShapes({ n: 60, seed: 5, out: join(dir, 'shapes') });
    const ds = await openDataset(join(dir, 'shapes'));
    assert.equal(info.counts.concepts, 60);
    assert.equal(await ds.count('concepts'), 60);
    assert.equal(await ds.count('images'), info.counts.images);
    assert.equal(await ds.count('pairs'), info.counts.pairs);
    assert.equal(info.counts.pairsByType['caption'], 120);
    assert.equal(info.counts.pairsByType['super-resolution'], 120);
    // Pixels are exactly the renderer's.
    const first = await ds.image('s0000002/image');
    assert.deepEqual(first.rgb, renderScene(sceneAt(5, 2), 64).rgb);
    assert.equal(first.rgb.length, 64 * 64 * 3);
    // Leak test: nothing in a training record names or shows a held-out combination.
    const phrases = HELD_OUT_COMBOS.map((c) => c.split('/').reverse().join(' '));
    for await (const concept of ds.concepts({ split: 'train' })) {
      assert.ok(!(concept.meta['objects'] as ShapeObject[]).some(isHeldOutObject), concept.id);
    }
    let trainPairs = 0;
    for await (const pair of ds.pairs({ split: 'train' })) {
      trainPairs++;
      const text = `${pair.inputText ?? ''} ${pair.outputText ?? ''}`;
      for (const phrase of phrases) assert.ok(!text.includes(phrase), `${pair.id}: '${text}' names ${phrase}`);
      if (pair.type === 'edit') {
        const edited = await ds.image(pair.outputImage!);
        const parsed = parseShapes({ width: 64, height: 64, rgb: edited.rgb });
        assert.ok(!parsed.objects.some(isHeldOutObject), `${pair.id} edits into a held-out combination`);
      }
    }
    assert.equal(trainPairs, info.counts.pairs - Object.entries(info.counts.pairsByTypeAndSplit).filter(([k]) => k.endsWith('/heldout')).reduce((s, [, v]) => s + v, 0));
    ds.close();
    // Same seed, same bytes.
    const again = await buildShapes({ n: 60, seed: 5, out: join(dir, 'again') });
    assert.deepEqual(again.counts, info.counts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad shapes options fail with a clear message', async () => {
  await assert.rejects(buildShapes({ n: 0, seed: 1, out: '/tmp/never' }), /--n must be/);
  await assert.rejects(buildShapes({ n: 5, seed: -1, out: '/tmp/never' }), /--seed must be/);
  await assert.rejects(buildShapes({ n: 5, seed: 1, size: 48, out: '/tmp/never' }), /--size must be one of 32, 64, 128, 256/);
});
