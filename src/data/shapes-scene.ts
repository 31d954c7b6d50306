/**
 * Sampling Shapes scenes and edits of them, deterministically from a seed. A scene holds 1-4
 * objects; objects of one colour never touch (so each is its own blob), and where objects of
 * different colours overlap every object keeps at least 60% of its area visible. The held-out
 * split is defined by attribute combinations (HELD_OUT_COMBOS): a training scene never contains
 * one, a held-out scene always contains at least one. Words and pixels live elsewhere.
 */
import type { Rng } from './rng.js';
import {
  BACKGROUND_NAMES, COLOUR_NAMES, HELD_OUT_COMBOS, REGION_NAMES, SHAPE_NAMES, SIZE_NAMES,
  isHeldOutObject, objectBounds, regionRect,
  type ColourName, type ShapeName, type ShapeObject,
} from './shapes-geometry.js';
import { visibleFractions, type Scene } from './shapes-render.js';
import type { Split } from './types.js';

const MARGIN = 0.02;
const SAME_COLOUR_GAP = 0.06;
const SEPARATE_GAP = 0.03;
const MIN_VISIBLE = 0.6;

function boxesApart(a: ShapeObject, b: ShapeObject, gap: number): boolean {
  const [a0, a1, a2, a3] = objectBounds(a);
  const [b0, b1, b2, b3] = objectBounds(b);
  return a2 + gap <= b0 || b2 + gap <= a0 || a3 + gap <= b1 || b3 + gap <= a1;
}

/** All the rules a scene must keep, for sampled scenes and edited ones alike. */
export function isValidScene(scene: Scene, allowOverlap: boolean): boolean {
  const { objects } = scene;
  if (objects.length < 1 || objects.length > 4) return false;
  for (const o of objects) {
    const [x0, y0, x1, y1] = objectBounds(o);
    if (x0 < MARGIN || y0 < MARGIN || x1 > 1 - MARGIN || y1 > 1 - MARGIN) return false;
  }
  let overlapping = false;
  for (let i = 0; i < objects.length; i++) {
    for (let j = i + 1; j < objects.length; j++) {
      const a = objects[i]!, b = objects[j]!;
      if (a.colour === b.colour) {
        if (!boxesApart(a, b, SAME_COLOUR_GAP)) return false;
      } else if (!boxesApart(a, b, SEPARATE_GAP)) {
        if (!allowOverlap) return false;
        overlapping = true;
      }
    }
  }
  return !overlapping || visibleFractions(scene, 32).every((f) => f >= MIN_VISIBLE);
}

export function sceneSplit(scene: Scene): Split {
  return scene.objects.some(isHeldOutObject) ? 'heldout' : 'train';
}

function sampleAttributes(rng: Rng, split: Split, forceHeldOut: boolean): { shape: ShapeName; colour: ColourName } {
  if (forceHeldOut) {
    const [shape, colour] = rng.pick(HELD_OUT_COMBOS).split('/') as [ShapeName, ColourName];
    return { shape, colour };
  }
  for (;;) {
    const candidate = { shape: rng.pick(SHAPE_NAMES), colour: rng.pick(COLOUR_NAMES) };
    if (split === 'heldout' || !isHeldOutObject(candidate)) return candidate;
  }
}

function placeObject(rng: Rng, attributes: { shape: ShapeName; colour: ColourName }): ShapeObject {
  const size = rng.pick(SIZE_NAMES);
  return { ...attributes, size, x: rng.range(0.1, 0.9), y: rng.range(0.1, 0.9) };
}

export interface SampledScene extends Scene {
  split: Split;
  allowOverlap: boolean;
}

/** One scene of the given split. */
export function sampleScene(rng: Rng, split: Split, overlapFraction = 0.3): SampledScene {
  for (;;) {
    const allowOverlap = rng.next() < overlapFraction;
    const count = 1 + rng.int(4);
    const forced = split === 'heldout' ? rng.int(count) : -1;
    const scene: SampledScene = { background: rng.pick(BACKGROUND_NAMES), objects: [], split, allowOverlap };
    for (let i = 0; i < count; i++) {
      const attributes = sampleAttributes(rng, split, i === forced);
      let placed = false;
      for (let attempt = 0; attempt < 60 && !placed; attempt++) {
        scene.objects.push(placeObject(rng, attributes));
        if (isValidScene(scene, allowOverlap)) placed = true;
        else scene.objects.pop();
      }
      if (!placed) break;
    }
    if (scene.objects.length === count && sceneSplit(scene) === split) return scene;
  }
}

export type EditKind = 'recolour' | 'move' | 'add' | 'remove';
export const EDIT_KINDS: readonly EditKind[] = ['recolour', 'move', 'add', 'remove'];

export interface SceneEdit {
  kind: EditKind;
  /** Index of the object edited (for `add`, of the new object in the target). */
  index: number;
  /** The new colour (recolour) or the region moved to (move, add). */
  detail: string;
  target: Scene;
}

/**
 * One edit of `scene`, or null when none of the tries gives a valid result. A training scene's
 * edit never introduces a held-out combination.
 */
export function sampleEdit(rng: Rng, scene: SampledScene): SceneEdit | null {
  const kinds = rng.shuffle([...EDIT_KINDS]);
  for (const kind of kinds) {
    for (let attempt = 0; attempt < 30; attempt++) {
      const edit = tryEdit(rng, scene, kind);
      if (!edit || !isValidScene(edit.target, scene.allowOverlap)) continue;
      if (scene.split === 'train' && sceneSplit(edit.target) !== 'train') continue;
      return edit;
    }
  }
  return null;
}

function tryEdit(rng: Rng, scene: SampledScene, kind: EditKind): SceneEdit | null {
  const objects = scene.objects.map((o) => ({ ...o }));
  const index = rng.int(objects.length);
  const object = objects[index]!;
  switch (kind) {
    case 'recolour': {
      const colour = rng.pick(COLOUR_NAMES.filter((c) => c !== object.colour));
      object.colour = colour;
      return { kind, index, detail: colour, target: { background: scene.background, objects } };
    }
    case 'move': {
      const region = rng.pick(REGION_NAMES);
      const [x0, y0, x1, y1] = regionRect(region);
      object.x = rng.range(x0 + 0.04, x1 - 0.04);
      object.y = rng.range(y0 + 0.04, y1 - 0.04);
      return { kind, index, detail: region, target: { background: scene.background, objects } };
    }
    case 'add': {
      if (objects.length >= 4) return null;
      const added = placeObject(rng, sampleAttributes(rng, scene.split, false));
      objects.push(added);
      return { kind, index: objects.length - 1, detail: '', target: { background: scene.background, objects } };
    }
    case 'remove': {
      if (objects.length < 2) return null;
      objects.splice(index, 1);
      return { kind, index, detail: '', target: { background: scene.background, objects } };
    }
  }
}
