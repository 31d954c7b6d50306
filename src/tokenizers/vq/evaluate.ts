/**
 * Evaluation of an image tokenizer on a split (held-out concepts by default): PSNR and SSIM of
 * encode -> decode per dataset, codebook usage (perplexity and fraction of codes used over all
 * encoded grids), and for Shapes the fraction of scenes whose objects the Shapes parser still reads
 * exactly (every object found with the right shape, colour and size, nothing extra) after the round
 * trip, next to the same fraction for the original pictures (the parser's own ceiling). Optionally
 * writes a sheet: rows of originals above their reconstructions.
 */
import { writeFileSync } from 'node:fs';
import { encodePng, type RgbImage } from '../../data/image.js';
import { matchObjects, openDataset, parseShapes, type ShapeObject } from '../../data/index.js';
import type { ImageTokenizer } from './image-tokenizer.js';
import { loadImages, type LoadedImage } from './dataset.js';
import { psnr, ssim } from './images.js';
import { codebookUsage } from './quantizer.js';

export interface DatasetScores {
  dataset: string;
  images: number;
  psnr: number;
  ssim: number;
}

export interface Evaluation {
  grid: number;
  codebookSize: number;
  split: string;
  perDataset: DatasetScores[];
  psnr: number;
  ssim: number;
  perplexity: number;
  codesUsed: number;
  usedFraction: number;
  shapes?: {
    scenes: number; parsedOriginal: number; parsedRoundTrip: number; fractionRoundTrip: number; fractionOriginal: number;
    /**
     * What went wrong in the scenes that fail after the round trip, as counts: per object
     * "<size> <shape> read as <size> <shape>" (or "... moved" / "... missing"), and "extra object".
     */
    failures: Record<string, number>;
  };
  seconds: number;
}

export interface EvaluateOptions {
  dirs: readonly string[];
  split?: string;
  limitPerDataset?: number;
  /** Write a sheet of originals vs reconstructions here (PNG). */
  sheet?: string;
  sheetColumns?: number;
}

/** Null when the parse finds exactly the truth objects, else what went wrong (see Evaluation.shapes.failures). */
function sceneFailures(image: RgbImage, truth: readonly ShapeObject[]): string[] | null {
  const found = parseShapes(image).objects;
  const m = matchObjects(truth, found);
  if (m.matched === truth.length && m.found === truth.length) return null;
  const out: string[] = [];
  for (const t of truth) {
    const name = `${t.size} ${t.shape}`;
    // The parsed object of the same colour nearest the truth's centre, within an object's width.
    let near: ShapeObject | null = null, best = 0.1;
    for (const f of found) {
      const d = Math.hypot(f.x - t.x, f.y - t.y);
      if (f.colour === t.colour && d < best) [near, best] = [f, d];
    }
    if (!near) out.push(`${name} missing`);
    else if (near.shape !== t.shape || near.size !== t.size) out.push(`${name} read as ${near.size} ${near.shape}`);
    else if (best > 0.03) out.push(`${name} moved`);
  }
  if (found.length > truth.length) out.push('extra object');
  return out;
}

export async function evaluateTokenizer(tok: ImageTokenizer, o: EvaluateOptions): Promise<Evaluation> {
  const t0 = performance.now();
  const split = (o.split ?? 'heldout') as 'heldout' | 'train';
  const images = await loadImages(o.dirs, { split, size: tok.imageSize, limitPerDataset: o.limitPerDataset });
  const { grids, images: recon } = tok.roundTrip(images.map((im) => ({ width: tok.imageSize, height: tok.imageSize, rgb: im.rgb })));
  const counts = new Float64Array(tok.config.codebookSize);
  for (const g of grids) for (const c of g) counts[c]!++;
  const usage = codebookUsage(counts);
  const scores = images.map((im, i) => {
    const a = { width: tok.imageSize, height: tok.imageSize, rgb: im.rgb };
    return { p: psnr(a, recon[i]!), s: ssim(a, recon[i]!) };
  });
  const perDataset: DatasetScores[] = o.dirs.map((dir) => {
    const idx = images.map((im, i) => (im.dataset === dir ? i : -1)).filter((i) => i >= 0);
    return { dataset: dir, images: idx.length, psnr: meanOf(idx.map((i) => scores[i]!.p)), ssim: meanOf(idx.map((i) => scores[i]!.s)) };
  });
  const result: Evaluation = {
    grid: tok.grid, codebookSize: tok.config.codebookSize, split, perDataset,
    psnr: meanOf(scores.map((s) => s.p)), ssim: meanOf(scores.map((s) => s.s)),
    perplexity: usage.perplexity, codesUsed: usage.used, usedFraction: usage.usedFraction, seconds: 0,
  };
  const shapesDirs = await shapesDatasets(o.dirs);
  if (shapesDirs.length > 0) result.shapes = await shapesParse(images, recon, shapesDirs, tok.imageSize);
  if (o.sheet) writeFileSync(o.sheet, encodePng(comparisonSheet(images, recon, tok.imageSize, o.sheetColumns ?? 8)));
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}

function meanOf(xs: number[]): number {
  const finite = xs.map((x) => (Number.isFinite(x) ? x : 100)); // identical images: cap PSNR at 100 dB
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
}

async function shapesDatasets(dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const dir of dirs) {
    const ds = await openDataset(dir);
    if (ds.info.kind === 'shapes') out.push(dir);
    ds.close();
  }
  return out;
}

async function shapesParse(images: LoadedImage[], recon: RgbImage[], dirs: string[], size: number): Promise<NonNullable<Evaluation['shapes']>> {
  let scenes = 0, parsedOriginal = 0, parsedRoundTrip = 0;
  const failures: Record<string, number> = {};
  for (const dir of dirs) {
    const ds = await openDataset(dir);
    const truth = new Map<string, ShapeObject[]>();
    for await (const c of ds.concepts()) truth.set(c.id, (c.meta as { objects: ShapeObject[] }).objects);
    ds.close();
    images.forEach((im, i) => {
      if (im.dataset !== dir || im.role !== 'image') return;
      const objects = truth.get(im.conceptId);
      if (!objects) return;
      scenes++;
      if (!sceneFailures({ width: size, height: size, rgb: im.rgb }, objects)) parsedOriginal++;
      const failed = sceneFailures(recon[i]!, objects);
      if (!failed) parsedRoundTrip++;
      for (const f of failed ?? []) failures[f] = (failures[f] ?? 0) + 1;
    });
  }
  return { scenes, parsedOriginal, parsedRoundTrip, fractionRoundTrip: parsedRoundTrip / Math.max(1, scenes), fractionOriginal: parsedOriginal / Math.max(1, scenes), failures };
}

/** Pairs of rows: `columns` originals, then their reconstructions, for evenly spaced images; 2 px white gaps. */
export function comparisonSheet(images: readonly { rgb: Uint8Array }[], recon: readonly RgbImage[], size: number, columns: number, rowPairs = 4): RgbImage {
  const n = Math.min(images.length, columns * rowPairs);
  const pick = Array.from({ length: n }, (_, i) => Math.floor((i * images.length) / n));
  const gap = 2;
  const pairs = Math.ceil(n / columns);
  const width = columns * (size + gap) + gap;
  const height = pairs * (2 * size + 3 * gap) + gap;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  const put = (src: Uint8Array, x0: number, y0: number): void => {
    for (let y = 0; y < size; y++) rgb.set(src.subarray(y * size * 3, (y + 1) * size * 3), ((y0 + y) * width + x0) * 3);
  };
  pick.forEach((idx, k) => {
    const col = k % columns, row = Math.floor(k / columns);
    const x0 = gap + col * (size + gap);
    const y0 = gap + row * (2 * size + 3 * gap);
    put(images[idx]!.rgb, x0, y0);
    put(recon[idx]!.rgb, x0, y0 + size + gap);
  });
  return { width, height, rgb };
}

export function formatEvaluation(r: Evaluation): string {
  const lines = [
    `grid ${r.grid}x${r.grid}, codebook ${r.codebookSize}, split ${r.split}`,
    ...r.perDataset.map((d) => `  ${d.dataset}: ${d.images} images, PSNR ${d.psnr.toFixed(2)} dB, SSIM ${d.ssim.toFixed(4)}`),
    `  all: PSNR ${r.psnr.toFixed(2)} dB, SSIM ${r.ssim.toFixed(4)}, perplexity ${r.perplexity.toFixed(1)}, codes used ${r.codesUsed}/${r.codebookSize} (${(100 * r.usedFraction).toFixed(1)}%)`,
  ];
  if (r.shapes) {
    lines.push(`  shapes parse after round trip: ${r.shapes.parsedRoundTrip}/${r.shapes.scenes} scenes (${(100 * r.shapes.fractionRoundTrip).toFixed(1)}%); originals: ${r.shapes.parsedOriginal}/${r.shapes.scenes} (${(100 * r.shapes.fractionOriginal).toFixed(1)}%)`);
    const failures = Object.entries(r.shapes.failures).sort((a, b) => b[1] - a[1]);
    if (failures.length > 0) lines.push(`  what fails: ${failures.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  lines.push(`  (${r.seconds.toFixed(1)} s)`);
  return lines.join('\n');
}
