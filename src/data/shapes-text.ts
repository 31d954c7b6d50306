/**
 * Words for Shapes scenes: captions in several wordings, the paper's grounded form
 * (`a red circle (x0, y0) -> (x1, y1)`), question/answer pairs (colour of, how many, left of,
 * above, is there) and edit instructions. Every text is computed from the scene, so every answer
 * is exactly right. No pixels here.
 */
import type { Rng } from './rng.js';
import {
  COLOUR_NAMES, SHAPE_NAMES, formatBox, isHeldOutObject, regionName, type ShapeObject,
} from './shapes-geometry.js';
import type { Scene } from './shapes-render.js';
import type { SceneEdit } from './shapes-scene.js';
import type { Split } from './types.js';

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five'];

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

function withArticle(phrase: string): string {
  return `${article(phrase)} ${phrase}`;
}

function where(region: string): string {
  if (region === 'centre') return 'in the centre';
  if (region === 'left' || region === 'right') return `on the ${region}`;
  return `at the ${region}`;
}

/** 'large red circle' */
export function fullName(o: ShapeObject): string {
  return `${o.size} ${o.colour} ${o.shape}`;
}

function listPhrases(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** Full description: every object with size, colour, shape and where it is. */
export function detailedCaption(scene: Scene): string {
  const parts = scene.objects.map((o) => `${withArticle(fullName(o))} ${where(regionName(o.x, o.y))}`);
  return `${listPhrases(parts)} on ${withArticle(scene.background)} background`;
}

/** A caption in one of several wordings, chosen by `rng`. */
export function variedCaption(scene: Scene, rng: Rng): string {
  const objs = scene.objects;
  const names = objs.map((o) => withArticle(`${o.colour} ${o.shape}`));
  const count = NUMBER_WORDS[objs.length]!;
  const templates: (() => string)[] = [
    () => `${listPhrases(names)} on ${withArticle(scene.background)} background`,
    () => `${count} shape${objs.length > 1 ? 's' : ''}: ${listPhrases(objs.map((o) => withArticle(fullName(o))))}`,
    () => `a picture of ${listPhrases(names)}`,
    () => `${scene.background} background with ${listPhrases(objs.map((o) => `${withArticle(fullName(o))} ${where(regionName(o.x, o.y))}`))}`,
    () => `there ${objs.length > 1 ? 'are' : 'is'} ${listPhrases(names)}`,
  ];
  return rng.pick(templates)();
}

/** The paper's spatially grounded form: each object followed by its box in 0-255 coordinates. */
export function groundedText(scene: Scene): string {
  return `${listPhrases(scene.objects.map((o) => `${withArticle(fullName(o))} ${formatBox(o)}`))} on ${withArticle(scene.background)} background`;
}

/** The shortest phrase that names exactly one object of the scene, or null. */
export function referringExpression(scene: Scene, index: number): string | null {
  const o = scene.objects[index]!;
  const candidates: [string, (p: ShapeObject) => boolean][] = [
    [`the ${o.shape}`, (p) => p.shape === o.shape],
    [`the ${o.colour} ${o.shape}`, (p) => p.shape === o.shape && p.colour === o.colour],
    [`the ${fullName(o)}`, (p) => p.shape === o.shape && p.colour === o.colour && p.size === o.size],
  ];
  for (const [phrase, same] of candidates) {
    if (scene.objects.filter(same).length === 1) return phrase;
  }
  return null;
}

export interface QuestionAnswer {
  task: string;
  question: string;
  answer: string;
}

/**
 * Question/answer pairs about the scene. For a training scene, no question names a held-out
 * combination (the 'is there' negatives are drawn from training combinations).
 */
export function questionsFor(scene: Scene, split: Split, rng: Rng): QuestionAnswer[] {
  const out: QuestionAnswer[] = [];
  const objs = scene.objects;
  out.push({ task: 'count', question: 'How many shapes are there?', answer: NUMBER_WORDS[objs.length]! });
  const colour = rng.pick(COLOUR_NAMES);
  const n = objs.filter((o) => o.colour === colour).length;
  out.push({ task: 'count', question: `How many ${colour} shapes are there?`, answer: NUMBER_WORDS[n]! });
  const i = rng.int(objs.length);
  const ref = referringExpression(scene, i);
  if (ref && !ref.includes(objs[i]!.colour)) {
    out.push({ task: 'colour', question: `What colour is ${ref}?`, answer: objs[i]!.colour });
  }
  if (objs.length >= 2) {
    const j = (i + 1 + rng.int(objs.length - 1)) % objs.length;
    const a = objs[i]!, b = objs[j]!;
    const refA = referringExpression(scene, i), refB = referringExpression(scene, j);
    if (refA && refB) {
      if (Math.abs(a.x - b.x) > 0.05) {
        out.push({ task: 'left-of', question: `Is ${refA} to the left of ${refB}?`, answer: a.x < b.x ? 'yes' : 'no' });
      }
      if (Math.abs(a.y - b.y) > 0.05) {
        out.push({ task: 'above', question: `Is ${refA} above ${refB}?`, answer: a.y < b.y ? 'yes' : 'no' });
      }
    }
  }
  // 'Is there' with a positive or a negative, alternating by coin.
  if (rng.next() < 0.5) {
    const o = rng.pick(objs);
    out.push({ task: 'exists', question: `Is there ${withArticle(`${o.colour} ${o.shape}`)}?`, answer: 'yes' });
  } else {
    for (let attempt = 0; attempt < 20; attempt++) {
      const probe = { shape: rng.pick(SHAPE_NAMES), colour: rng.pick(COLOUR_NAMES) };
      if (objs.some((o) => o.shape === probe.shape && o.colour === probe.colour)) continue;
      if (split === 'train' && isHeldOutObject(probe)) continue;
      out.push({ task: 'exists', question: `Is there ${withArticle(`${probe.colour} ${probe.shape}`)}?`, answer: 'no' });
      break;
    }
  }
  return out;
}

/** The instruction for an edit, or null when the edited object cannot be named uniquely. */
export function editInstruction(scene: Scene, edit: SceneEdit, rng: Rng): string | null {
  if (edit.kind === 'add') {
    const o = edit.target.objects[edit.index]!;
    return `add ${withArticle(fullName(o))} ${where(regionName(o.x, o.y))}`;
  }
  const ref = referringExpression(scene, edit.index);
  if (!ref) return null;
  switch (edit.kind) {
    case 'recolour':
      return rng.next() < 0.5 ? `make ${ref} ${edit.detail}` : `change the colour of ${ref} to ${edit.detail}`;
    case 'move':
      return `move ${ref} to the ${edit.detail}`;
    case 'remove':
      return rng.next() < 0.5 ? `remove ${ref}` : `delete ${ref} from the picture`;
  }
}
