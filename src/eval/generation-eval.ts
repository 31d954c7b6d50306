/**
 * Evaluation of a trained CM3leon on held-out data, as the model issue asks:
 *  - image-token NLL given the caption vs given `<mask>` in its place (does text conditioning work?);
 *  - Shapes text-to-image accuracy measured by the Shapes parser (shape, colour, position, exact
 *    object match), single- and multi-object, against a chance baseline (the same scoring of a
 *    generation made for a different, random caption);
 *  - Shapes captioning accuracy: the generated caption names the object's colour and shape;
 *  - sheets of generations for held-out and training captions.
 */
import { openDataset, parseShapes, matchObjects, createImage, blit, upsampleNearest, type RgbImage, type ShapeObject, SHAPE_NAMES, COLOUR_NAMES } from '../data/index.js';
import { drawText } from '../data/bitmap-font.js';
import * as T from '../tensor/index.js';
import type { Cm3leon } from '../decoding/pipeline.js';
import { imageSegment, textSegment } from '../tokenizers/document.js';
import { MASK } from '../tokenizers/vocabulary.js';

export interface CaptionItem {
  caption: string;
  image: RgbImage;
  conceptId: string;
  /** Shapes only: the scene's objects. */
  objects?: ShapeObject[];
}

/** Caption pairs of a dataset split, with the scene objects for Shapes. */
export async function loadCaptionItems(dir: string, split: 'train' | 'heldout', n: number, seed = 0): Promise<CaptionItem[]> {
  const ds = await openDataset(dir);
  try {
    const pairs: { text: string; image: string; concept: string }[] = [];
    for await (const p of ds.pairs({ split, type: 'caption' })) {
      const text = p.outputText ?? p.inputText;
      const image = p.inputImage ?? p.outputImage;
      if (text && image) pairs.push({ text, image, concept: p.conceptId });
    }
    // A seeded sample spread over the split.
    const rng = new T.Rng(seed);
    for (let i = pairs.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [pairs[i], pairs[j]] = [pairs[j]!, pairs[i]!];
    }
    const chosen = pairs.slice(0, n);
    const images = await ds.imagesById(chosen.map((p) => p.image));
    const concepts = new Map<string, unknown>();
    if (ds.info.kind === 'shapes') for await (const c of ds.concepts({ split })) concepts.set(c.id, c.meta);
    return chosen.map((p) => {
      const r = images.get(p.image)!;
      const meta = concepts.get(p.concept) as { objects?: ShapeObject[] } | undefined;
      return { caption: p.text, image: { width: r.size, height: r.size, rgb: r.rgb }, conceptId: p.concept, objects: meta?.objects };
    });
  } finally {
    ds.close();
  }
}

/** Mean NLL per image token of `<eos> caption <break> image <eos>`, and the same with `<mask>` for the caption. */
export function imageNll(m: Cm3leon, items: readonly CaptionItem[]): { withCaption: number; withMask: number; items: number } {
  const tok = m.tok;
  const codes = tok.image.encode(items.map((i) => i.image));
  const g2 = tok.imageLength;
  const score = (ids: Int32Array): number => {
    // Loss only on the image codes (the g2 tokens before the final <eos>).
    const targets = new Int32Array(ids.length - 1).fill(-100);
    for (let t = ids.length - 2 - g2; t < ids.length - 2; t++) targets[t] = ids[t + 1]!;
    return T.tidy(() => T.noGrad(() => m.model.loss(T.tensor(ids.slice(0, -1), [1, ids.length - 1], { dtype: 'i32' }), T.tensor(targets, [1, ids.length - 1], { dtype: 'i32' })).item()));
  };
  let a = 0;
  let b = 0;
  items.forEach((item, i) => {
    const image = imageSegment(codes[i]!);
    const eos = Int32Array.of(tok.ids.eos);
    const withCaption = tok.codec.encode([textSegment(item.caption), image]);
    a += score(Int32Array.from([...eos, ...withCaption]));
    const imageIds = Array.from(codes[i]!, (c) => tok.vocab.imageId(c));
    const maskedIds = Int32Array.from([tok.ids.eos, tok.vocab.specialId(MASK), tok.ids.brk, ...imageIds, tok.ids.eos]);
    b += score(maskedIds);
  });
  return { withCaption: a / items.length, withMask: b / items.length, items: items.length };
}

export interface ShapesScore {
  scenes: number;
  objects: number;
  /** Share of truth objects found with the same shape, colour and size, centre within 0.1 of the canvas. */
  objectMatch: number;
  /** Single-object scenes: share whose largest parsed object has the right shape / colour / position. */
  shape: number;
  colour: number;
  position: number;
}

function scoreShapes(pairs: { truth: ShapeObject[]; image: RgbImage }[]): ShapesScore {
  let objects = 0;
  let matched = 0;
  let single = 0;
  const hits = { shape: 0, colour: 0, position: 0 };
  for (const { truth, image } of pairs) {
    const parsed = parseShapes(image).objects;
    const r = matchObjects(truth, parsed, 0.1);
    objects += r.truth;
    matched += r.matched;
    if (truth.length === 1) {
      single++;
      const t = truth[0]!;
      const best = [...parsed].sort((p, q) => Math.hypot(p.x - t.x, p.y - t.y) - Math.hypot(q.x - t.x, q.y - t.y))[0];
      if (best && parsed.some((p) => p.shape === t.shape)) hits.shape++;
      if (best && parsed.some((p) => p.colour === t.colour)) hits.colour++;
      if (best && Math.hypot(best.x - t.x, best.y - t.y) < 0.15) hits.position++;
    }
  }
  const frac = (x: number, n: number): number => (n ? x / n : NaN);
  return { scenes: pairs.length, objects, objectMatch: frac(matched, objects), shape: frac(hits.shape, single), colour: frac(hits.colour, single), position: frac(hits.position, single) };
}

export interface ShapesEval {
  single: ShapesScore;
  multi: ShapesScore;
  chanceSingle: ShapesScore;
  chanceMulti: ShapesScore;
  captionAccuracy: number;
  generations: { caption: string; image: RgbImage }[];
}

/**
 * Generates an image for each held-out Shapes caption and scores it; captions each held-out image
 * (unless `caption: false`). `cfg` turns on classifier-free guidance at that scale.
 */
export function evaluateShapes(m: Cm3leon, items: readonly CaptionItem[], o: { temperature?: number; topP?: number; seed?: number; cfg?: number; caption?: boolean } = {}): ShapesEval {
  const gens = items.map((item, i) => m.generateImage(item.caption, { temperature: o.temperature ?? 1, topP: o.topP ?? 0.9, seed: (o.seed ?? 0) + i, cfg: o.cfg }).image);
  const pairs = items.map((item, i) => ({ truth: item.objects ?? [], image: gens[i]!, n: item.objects?.length ?? 0 }));
  // Chance: score each generation against the truth of a different scene (a fixed derangement).
  const chance = items.map((item, i) => ({ truth: items[(i + 1) % items.length]!.objects ?? [], image: gens[i]!, n: items[(i + 1) % items.length]!.objects?.length ?? 0 }));
  let captionHits = 0;
  let captionCount = 0;
  items.forEach((item) => {
    if (item.objects?.length !== 1 || o.caption === false) return;
    const text = m.captionSync(item.image, { temperature: 0 }).toLowerCase();
    const t = item.objects[0]!;
    const words = new Set(text.split(/[^a-z]+/));
    const namesShape = SHAPE_NAMES.filter((s) => words.has(s));
    const namesColour = COLOUR_NAMES.filter((c) => words.has(c));
    captionCount++;
    if (namesShape.includes(t.shape) && namesColour.includes(t.colour)) captionHits++;
  });
  return {
    single: scoreShapes(pairs.filter((p) => p.n === 1)),
    multi: scoreShapes(pairs.filter((p) => p.n > 1)),
    chanceSingle: scoreShapes(chance.filter((p) => p.n === 1)),
    chanceMulti: scoreShapes(chance.filter((p) => p.n > 1)),
    captionAccuracy: captionCount ? captionHits / captionCount : NaN,
    generations: items.map((item, i) => ({ caption: item.caption, image: gens[i]! })),
  };
}

/** A sheet of images (scaled x2) with their captions underneath, `columns` wide. */
export function captionSheet(entries: readonly { caption: string; image: RgbImage }[], columns = 8): RgbImage {
  const cell = 160;
  const rows = Math.ceil(entries.length / columns);
  const sheet = createImage(columns * cell, rows * cell);
  entries.forEach((e, i) => {
    const x = (i % columns) * cell;
    const y = Math.floor(i / columns) * cell;
    const scaled = upsampleNearest(e.image, Math.max(1, Math.floor(128 / e.image.width)));
    blit(sheet, scaled, x + 16, y + 4);
    const words = e.caption.split(' ');
    let line = '';
    let ly = y + 136;
    for (const w of words) {
      if ((line + w).length > 38) {
        drawText(sheet, line, x + 4, ly, [0, 0, 0]);
        ly += 7;
        line = '';
        if (ly > y + cell - 7) break;
      }
      line += `${w} `;
    }
    if (ly <= y + cell - 7) drawText(sheet, line, x + 4, ly, [0, 0, 0]);
  });
  return sheet;
}
