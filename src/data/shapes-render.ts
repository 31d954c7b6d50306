/**
 * Pixels of a Shapes scene: anti-aliased colour images (4 x 4 samples a pixel, later objects on
 * top) and exact segmentation maps (one colour per shape class, sampled at pixel centres). Also
 * the visibility of each object, which the sampler uses to keep every object recognisable.
 * No text, no textures: the scene description is the whole truth about the picture.
 */
import { createImage, type RgbImage } from './image.js';
import {
  BACKGROUNDS, COLOURS, SEGMENT_COLOURS, SIZE_RADIUS, insideObject, objectBounds,
  type BackgroundName, type ShapeObject,
} from './shapes-geometry.js';

export interface Scene {
  background: BackgroundName;
  /** In drawing order: a later object covers an earlier one. */
  objects: ShapeObject[];
}

const SAMPLES = 4;

/** Index of the topmost object covering (x, y), or -1 for background. */
export function topObjectAt(scene: Scene, x: number, y: number): number {
  for (let i = scene.objects.length - 1; i >= 0; i--) {
    if (insideObject(scene.objects[i]!, x, y)) return i;
  }
  return -1;
}

/**
 * The scene's picture, size x size. `colours` (one RGB per object) replaces the objects' named
 * colours, for training images in colours outside the palette (the image tokenizer's recolouring).
 */
export function renderScene(scene: Scene, size: number, colours?: readonly (readonly number[])[]): RgbImage {
  if (colours && colours.length !== scene.objects.length) throw new RangeError(`renderScene: ${colours.length} colours for ${scene.objects.length} objects`);
  const bg = BACKGROUNDS[scene.background];
  const image = createImage(size, size, bg);
  const { rgb } = image;
  const n = SAMPLES * SAMPLES;
  // Only pixels inside some object's box can differ from the background.
  const boxes = scene.objects.map(objectBounds);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const x0 = px / size, y0 = py / size, x1 = (px + 1) / size, y1 = (py + 1) / size;
      if (!boxes.some(([a, b, c, d]) => x1 >= a && x0 <= c && y1 >= b && y0 <= d)) continue;
      let r = 0, g = 0, b = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const top = topObjectAt(scene, (px + (sx + 0.5) / SAMPLES) / size, (py + (sy + 0.5) / SAMPLES) / size);
          const c = top < 0 ? bg : colours ? colours[top]! : COLOURS[scene.objects[top]!.colour];
          r += c[0]!;
          g += c[1]!;
          b += c[2]!;
        }
      }
      const q = (py * size + px) * 3;
      rgb[q] = Math.round(r / n);
      rgb[q + 1] = Math.round(g / n);
      rgb[q + 2] = Math.round(b / n);
    }
  }
  return image;
}

/** Class map: each pixel centre coloured by the shape class of the topmost object there. */
export function renderSegmentation(scene: Scene, size: number): RgbImage {
  const image = createImage(size, size, SEGMENT_COLOURS.background);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const top = topObjectAt(scene, (px + 0.5) / size, (py + 0.5) / size);
      if (top < 0) continue;
      const c = SEGMENT_COLOURS[scene.objects[top]!.shape];
      image.rgb.set(c, (py * size + px) * 3);
    }
  }
  return image;
}

/** Fraction of each object's area that is not covered by later objects, on a grid of `n` cells. */
export function visibleFractions(scene: Scene, n = 96): number[] {
  return scene.objects.map((object, index) => {
    const r = SIZE_RADIUS[object.size];
    let total = 0, visible = 0;
    for (let gy = 0; gy < n; gy++) {
      const y = object.y - r + (2 * r * (gy + 0.5)) / n;
      for (let gx = 0; gx < n; gx++) {
        const x = object.x - r + (2 * r * (gx + 0.5)) / n;
        if (!insideObject(object, x, y)) continue;
        total++;
        if (topObjectAt(scene, x, y) === index) visible++;
      }
    }
    return total ? visible / total : 0;
  });
}
