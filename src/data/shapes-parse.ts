/**
 * Reads a Shapes picture back into objects (shape, colour, size, centre, 0-255 box), to score
 * generated images exactly (GenEval-style). Works on any RGB image: estimates the background from
 * the border, labels each pixel with the object colour that best explains it as a blend with the
 * background (so anti-aliased edges are handled), splits the labels into blobs, and fits every
 * blob with the exact shape templates, ignoring pixels hidden behind objects of other colours.
 * It does not know the drawing order and does not read text.
 */
import { downsample, type RgbImage } from './image.js';
import {
  BACKGROUNDS, BACKGROUND_NAMES, COLOURS, COLOUR_NAMES, SHAPE_NAMES, SIZE_NAMES, SIZE_RADIUS, UNIT_BOUNDS,
  insideUnitShape, objectBounds, toBoxCoordinate,
  type BackgroundName, type ColourName, type ShapeName, type ShapeObject, type SizeName,
} from './shapes-geometry.js';

export interface ParsedObject extends ShapeObject {
  /** Box in the paper's 0-255 coordinates. */
  box: [number, number, number, number];
  /** Intersection over union of the blob and the fitted template (visible pixels only). */
  fit: number;
}

export interface ParsedScene {
  background: BackgroundName;
  objects: ParsedObject[];
}

export interface ParseOptions {
  /** Majority-filter the pixel labels: 'auto' does so when the background looks noisy. */
  denoise?: boolean | 'auto';
}

const BG = -1;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function borderPixels(image: RgbImage): number[] {
  const { width: w, height: h } = image;
  const out: number[] = [];
  for (let x = 0; x < w; x++) out.push(x, (h - 1) * w + x);
  for (let y = 1; y < h - 1; y++) out.push(y * w, y * w + w - 1);
  return out;
}

/** Per-pixel label: index into COLOUR_NAMES, or BG. */
function labelPixels(image: RgbImage, bg: readonly number[]): Int8Array {
  const { rgb } = image;
  const labels = new Int8Array(image.width * image.height);
  const dirs = COLOUR_NAMES.map((name) => COLOURS[name].map((v, k) => v - bg[k]!));
  const norms = dirs.map((d) => d[0]! * d[0]! + d[1]! * d[1]! + d[2]! * d[2]!);
  for (let p = 0; p < labels.length; p++) {
    const r = rgb[p * 3]! - bg[0]!, g = rgb[p * 3 + 1]! - bg[1]!, b = rgb[p * 3 + 2]! - bg[2]!;
    let best = BG, bestResidual = Infinity, bestAlpha = 0;
    for (let c = 0; c < dirs.length; c++) {
      const d = dirs[c]!;
      const alpha = Math.max(0, Math.min(1, (r * d[0]! + g * d[1]! + b * d[2]!) / norms[c]!));
      const er = r - alpha * d[0]!, eg = g - alpha * d[1]!, eb = b - alpha * d[2]!;
      const residual = er * er + eg * eg + eb * eb;
      if (residual < bestResidual) {
        bestResidual = residual;
        best = c;
        bestAlpha = alpha;
      }
    }
    labels[p] = bestAlpha >= 0.5 ? best : BG;
  }
  return labels;
}

/**
 * One pass of a 3 x 3 filter that relabels a pixel only when at least 6 of its 9-neighbourhood
 * agree on another label: removes speckle, keeps the concave corners of crosses and stars.
 */
function majorityFilter(labels: Int8Array, w: number, h: number): Int8Array {
  const out = new Int8Array(labels.length);
  const counts = new Int32Array(COLOUR_NAMES.length + 1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      counts.fill(0);
      for (let yy = Math.max(0, y - 1); yy <= Math.min(h - 1, y + 1); yy++) {
        for (let xx = Math.max(0, x - 1); xx <= Math.min(w - 1, x + 1); xx++) counts[labels[yy * w + xx]! + 1]!++;
      }
      const own = labels[y * w + x]!;
      let best = own;
      for (let l = 0; l < counts.length; l++) if (counts[l]! >= 6) best = l - 1;
      out[y * w + x] = best;
    }
  }
  return out;
}

interface Blob {
  label: number;
  pixels: number[];
}

/** 4-connected blobs of equal non-background label. */
function findBlobs(labels: Int8Array, w: number, h: number): Blob[] {
  const seen = new Uint8Array(labels.length);
  const blobs: Blob[] = [];
  for (let start = 0; start < labels.length; start++) {
    if (seen[start] || labels[start] === BG) continue;
    const label = labels[start]!;
    const pixels: number[] = [];
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const p = stack.pop()!;
      pixels.push(p);
      const x = p % w, y = (p - x) / w;
      const next = [x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1];
      for (const q of next) {
        if (q >= 0 && !seen[q] && labels[q] === label) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
    blobs.push({ label, pixels });
  }
  return blobs;
}

function fitsExtent(template: number, blob: number): boolean {
  return blob <= template + 2.5 && blob >= 0.8 * template - 2.5;
}

interface Fit {
  shape: ShapeName;
  size: SizeName;
  cx: number;
  cy: number;
  iou: number;
}

/**
 * Best template for a blob. `mine` marks the blob's pixels; `hidden` marks pixels of other object
 * colours, where the blob's object may continue unseen.
 */
function fitBlob(blob: Blob, mine: Uint8Array, hidden: Uint8Array, w: number, h: number): Fit {
  let bx0 = w, by0 = h, bx1 = 0, by1 = 0;
  for (const p of blob.pixels) {
    const x = p % w, y = (p - x) / w;
    bx0 = Math.min(bx0, x);
    bx1 = Math.max(bx1, x);
    by0 = Math.min(by0, y);
    by1 = Math.max(by1, y);
  }
  const area = blob.pixels.length;
  const occluded = blob.pixels.some((p) => {
    const x = p % w;
    return (x > 0 && hidden[p - 1]) || (x < w - 1 && hidden[p + 1]) || hidden[p - w] || hidden[p + w];
  });
  const score = (shape: ShapeName, rx: number, ry: number, cx: number, cy: number): number => {
    const [u0, v0, u1, v1] = UNIT_BOUNDS[shape];
    let tp = 0, fp = 0, covered = 0;
    const xa = Math.max(0, Math.floor(cx + u0 * rx - 1)), xb = Math.min(w - 1, Math.ceil(cx + u1 * rx));
    const ya = Math.max(0, Math.floor(cy + v0 * ry - 1)), yb = Math.min(h - 1, Math.ceil(cy + v1 * ry));
    for (let y = ya; y <= yb; y++) {
      const v = (y + 0.5 - cy) / ry;
      for (let x = xa; x <= xb; x++) {
        if (!insideUnitShape(shape, (x + 0.5 - cx) / rx, v)) continue;
        const p = y * w + x;
        if (mine[p]) tp++;
        else if (!hidden[p]) fp++;
        else covered++;
      }
    }
    // Hidden pixels cost a little, so an unoccluded blob prefers the template that hides least.
    return tp / (area + fp + 0.05 * covered);
  };
  let best: Fit = { shape: 'circle', size: 'small', cx: 0, cy: 0, iou: -1 };
  for (const shape of SHAPE_NAMES) {
    const [u0, v0, u1, v1] = UNIT_BOUNDS[shape];
    for (const size of SIZE_NAMES) {
      const rx = SIZE_RADIUS[size] * w, ry = SIZE_RADIUS[size] * h;
      // The template must cover the blob's box: that bounds where its centre can be.
      let cxLo = bx1 + 1 - u1 * rx - 1, cxHi = bx0 - u0 * rx + 1;
      let cyLo = by1 + 1 - v1 * ry - 1, cyHi = by0 - v0 * ry + 1;
      if (cxLo > cxHi + 1 || cyLo > cyHi + 1) continue;
      // A blob nothing covers has the template's own extent, give or take the anti-aliasing.
      // (sharp tips lose up to a fifth of it, blur and noise a pixel or two).
      if (!occluded && !(fitsExtent((u1 - u0) * rx, bx1 - bx0 + 1) && fitsExtent((v1 - v0) * ry, by1 - by0 + 1))) continue;
      if (cxLo > cxHi) cxLo = cxHi = (cxLo + cxHi) / 2;
      if (cyLo > cyHi) cyLo = cyHi = (cyLo + cyHi) / 2;
      let local: Fit = { shape, size, cx: 0, cy: 0, iou: -1 };
      const coarse = Math.max(0.5, Math.min(1, (cxHi - cxLo) / 8));
      for (let cy = cyLo; cy <= cyHi + 1e-9; cy += coarse) {
        for (let cx = cxLo; cx <= cxHi + 1e-9; cx += coarse) {
          const iou = score(shape, rx, ry, cx, cy);
          if (iou > local.iou) local = { shape, size, cx, cy, iou };
        }
      }
      for (const step of [coarse / 2, coarse / 4]) {
        const { cx: x0, cy: y0 } = local;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const iou = score(shape, rx, ry, x0 + dx * step, y0 + dy * step);
            if (iou > local.iou) local = { shape, size, cx: x0 + dx * step, cy: y0 + dy * step, iou };
          }
        }
      }
      if (local.iou > best.iou) best = local;
    }
  }
  return best;
}

function nearestBackground(colour: readonly number[]): BackgroundName {
  let best: BackgroundName = 'white', bestDistance = Infinity;
  for (const name of BACKGROUND_NAMES) {
    const d = BACKGROUNDS[name].reduce((s, v, k) => s + (v - colour[k]!) ** 2, 0);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

/** Blobs fitted at most: a scene has 1-4 objects, the rest of a messy picture is noise. */
const MAX_BLOBS = 12;

export function parseShapes(input: RgbImage, options: ParseOptions = {}): ParsedScene {
  // Work at 128 px or less: results are in canvas units, and fitting cost grows with the side^3.
  const factor = [8, 4, 2].find((f) => input.width / f >= 64 && input.width % f === 0 && input.height % f === 0) ?? 1;
  const image = input.width > 128 && factor > 1 ? downsample(input, factor) : input;
  const { width: w, height: h, rgb } = image;
  const border = borderPixels(image);
  const bg = [0, 1, 2].map((k) => median(border.map((p) => rgb[p * 3 + k]!)));
  const spread = median(border.map((p) => Math.abs(rgb[p * 3]! - bg[0]!) + Math.abs(rgb[p * 3 + 1]! - bg[1]!) + Math.abs(rgb[p * 3 + 2]! - bg[2]!)));
  let labels = labelPixels(image, bg);
  const denoise = options.denoise ?? 'auto';
  if (denoise === true || (denoise === 'auto' && spread > 6)) labels = majorityFilter(labels, w, h);

  const smallest = SIZE_RADIUS.small * Math.min(w, h);
  const minArea = Math.max(4, 0.6 * smallest * smallest);
  const blobs = findBlobs(labels, w, h)
    .filter((b) => b.pixels.length >= minArea)
    .sort((a, b) => b.pixels.length - a.pixels.length)
    .slice(0, MAX_BLOBS);
  const objects: ParsedObject[] = [];
  for (const blob of blobs) {
    const mine = new Uint8Array(w * h);
    for (const p of blob.pixels) mine[p] = 1;
    const hidden = new Uint8Array(w * h);
    for (let p = 0; p < labels.length; p++) if (labels[p] !== BG && labels[p] !== blob.label) hidden[p] = 1;
    const fit = fitBlob(blob, mine, hidden, w, h);
    const object: ShapeObject = { shape: fit.shape, colour: COLOUR_NAMES[blob.label] as ColourName, size: fit.size, x: fit.cx / w, y: fit.cy / h };
    const box = objectBounds(object).map(toBoxCoordinate) as [number, number, number, number];
    objects.push({ ...object, box, fit: fit.iou });
  }
  // A blob cut in two by an object in front of it gives two fits of one object: keep the better.
  const kept = objects.filter((o, i) => !objects.some((p, j) => j !== i && p.colour === o.colour && p.shape === o.shape
    && p.size === o.size && Math.hypot(p.x - o.x, p.y - o.y) < SIZE_RADIUS[o.size] && (p.fit > o.fit || (p.fit === o.fit && j < i))));
  return { background: nearestBackground(bg), objects: kept };
}

export interface MatchResult {
  truth: number;
  found: number;
  /** Truth objects recovered with the same shape, colour and size, centre within tolerance. */
  matched: number;
}

/** Match parsed objects to the truth one to one. `tolerance` is in canvas units. */
export function matchObjects(truth: readonly ShapeObject[], found: readonly ShapeObject[], tolerance = 0.03): MatchResult {
  const used = new Set<number>();
  let matched = 0;
  for (const t of truth) {
    let bestIndex = -1, bestDistance = tolerance;
    found.forEach((f, i) => {
      if (used.has(i) || f.shape !== t.shape || f.colour !== t.colour || f.size !== t.size) return;
      const d = Math.hypot(f.x - t.x, f.y - t.y);
      if (d <= bestDistance) [bestIndex, bestDistance] = [i, d];
    });
    if (bestIndex >= 0) {
      used.add(bestIndex);
      matched++;
    }
  }
  return { truth: truth.length, found: found.length, matched };
}
