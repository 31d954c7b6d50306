/**
 * The bi-encoder interface (text and images into one L2-normalised space; a document is the
 * normalised mean of its text and image embeddings) and a baseline that needs no training:
 *   text  — lower-cased words and character trigrams, hashed into buckets, each bucket a fixed
 *           seeded Gaussian direction (a random projection of a hashed bag of n-grams);
 *   image — an 8x8 grid of colours (minus the image's mean: layout) and a 4x4x4 colour histogram
 *           (sqrt, centred: palette), projected by a fixed seeded Gaussian matrix.
 * Deterministic and fast: a reference for the trained bi-encoder (clip.ts) and a way to run the
 * bank and the rules without any trained weights. The baseline's text and image spaces are NOT
 * aligned: text->text and image->image similarity are meaningful, text->image is not.
 */
import { hashString, Rng } from '../data/rng.js';
import type { RgbImage } from '../data/image.js';
import type { EncoderId } from './memory-bank.js';
import { normalise, normalisedMean } from './vectors.js';

/** Anything that embeds texts and images into one unit-length space of dimension `dim`. */
export interface BiEncoder {
  readonly id: EncoderId;
  readonly dim: number;
  /** One unit vector per text. Async so an encoder on an asynchronous device (WebGPU) fits. */
  embedText(texts: readonly string[]): Promise<Float32Array[]>;
  /** One unit vector per image. */
  embedImage(images: readonly RgbImage[]): Promise<Float32Array[]>;
}

/** A document for embedding: a text, an image, or both. */
export interface DocumentInput {
  text?: string | null;
  image?: RgbImage | null;
}

/** Document embeddings: normalise(mean(normalise(text), normalise(image))), or the one present. */
export async function embedDocuments(encoder: BiEncoder, docs: readonly DocumentInput[]): Promise<Float32Array[]> {
  const texts = docs.flatMap((d, i) => (d.text ? [{ i, text: d.text }] : []));
  const images = docs.flatMap((d, i) => (d.image ? [{ i, image: d.image }] : []));
  const parts: Float32Array[][] = docs.map(() => []);
  const textVecs = await encoder.embedText(texts.map((t) => t.text));
  texts.forEach((t, j) => parts[t.i]!.push(textVecs[j]!));
  const imageVecs = await encoder.embedImage(images.map((t) => t.image));
  images.forEach((t, j) => parts[t.i]!.push(imageVecs[j]!));
  return parts.map((p, i) => {
    if (p.length === 0) throw new Error(`document ${i} has neither text nor image`);
    return normalisedMean(p);
  });
}

export interface HashEncoderOptions {
  dim?: number;
  seed?: number;
  /** Hash buckets for text features. */
  buckets?: number;
}

const GRID = 8;
const BINS = 4;
const IMAGE_FEATURES = GRID * GRID * 3 + BINS ** 3;

/** A (rows, dim) matrix of N(0, 1/dim) entries from a seed: the fixed random projection. */
function gaussianMatrix(rows: number, dim: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const m = new Float32Array(rows * dim);
  const scale = 1 / Math.sqrt(dim);
  for (let i = 0; i < m.length; i++) m[i] = rng.normal() * scale;
  return m;
}

/** The text features: words (weight 1) and character trigrams of ` word ` (weight 0.5). */
export function textFeatures(text: string): Map<string, number> {
  const words = text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
  const features = new Map<string, number>();
  const add = (f: string, w: number): void => void features.set(f, (features.get(f) ?? 0) + w);
  for (const word of words) {
    add(`w:${word}`, 1);
    const padded = ` ${word} `;
    for (let i = 0; i + 3 <= padded.length; i++) add(`c:${padded.slice(i, i + 3)}`, 0.5);
  }
  return features;
}

/** The image features: centred 8x8 colour grid (192) then centred sqrt colour histogram (64), each block unit length. */
export function imageFeatures(image: RgbImage): Float32Array {
  const { width, height, rgb } = image;
  if (rgb.length !== width * height * 3 || width < 1 || height < 1) throw new Error(`image: ${rgb.length} bytes for ${width}x${height}`);
  const grid = new Float64Array(GRID * GRID * 3);
  const cellCount = new Float64Array(GRID * GRID);
  const hist = new Float64Array(BINS ** 3);
  const mean = [0, 0, 0];
  for (let y = 0; y < height; y++) {
    const gy = Math.floor((y * GRID) / height);
    for (let x = 0; x < width; x++) {
      const cell = gy * GRID + Math.floor((x * GRID) / width);
      const p = (y * width + x) * 3;
      cellCount[cell]!++;
      let bin = 0;
      for (let c = 0; c < 3; c++) {
        const v = rgb[p + c]! / 255;
        grid[cell * 3 + c]! += v;
        mean[c]! += v;
        bin = bin * BINS + Math.min(BINS - 1, Math.floor(v * BINS));
      }
      hist[bin]!++;
    }
  }
  const n = width * height;
  const out = new Float32Array(IMAGE_FEATURES);
  for (let cell = 0; cell < GRID * GRID; cell++) {
    for (let c = 0; c < 3; c++) out[cell * 3 + c] = cellCount[cell]! ? grid[cell * 3 + c]! / cellCount[cell]! - mean[c]! / n : 0;
  }
  const uniform = 1 / Math.sqrt(hist.length);
  for (let b = 0; b < hist.length; b++) out[GRID * GRID * 3 + b] = Math.sqrt(hist[b]! / n) - uniform;
  const layout = normalise(out.subarray(0, GRID * GRID * 3));
  const palette = normalise(out.subarray(GRID * GRID * 3));
  out.set(layout, 0);
  out.set(palette, GRID * GRID * 3);
  return out;
}

/** The untrained baseline bi-encoder described in the header. */
export class HashEncoder implements BiEncoder {
  readonly id: EncoderId;
  readonly dim: number;
  private readonly buckets: number;
  private readonly seed: number;
  private readonly textMatrix: Float32Array; //   (buckets, dim)
  private readonly imageMatrix: Float32Array; //  (IMAGE_FEATURES, dim)

  constructor(options: HashEncoderOptions = {}) {
    this.dim = options.dim ?? 256;
    this.seed = options.seed ?? 0;
    this.buckets = options.buckets ?? 8192;
    this.id = { name: 'hash-baseline', version: `1-d${this.dim}-b${this.buckets}-s${this.seed}` };
    this.textMatrix = gaussianMatrix(this.buckets, this.dim, this.seed * 2 + 1);
    this.imageMatrix = gaussianMatrix(IMAGE_FEATURES, this.dim, this.seed * 2 + 2);
  }

  embedTextSync(text: string): Float32Array {
    const v = new Float32Array(this.dim);
    for (const [feature, weight] of textFeatures(text)) {
      const h = hashString(feature) ^ Math.imul(this.seed, 0x9e3779b1);
      const row = ((h >>> 0) % this.buckets) * this.dim;
      const sign = h & 0x80000000 ? -1 : 1;
      for (let j = 0; j < this.dim; j++) v[j] += sign * weight * this.textMatrix[row + j]!;
    }
    return normalise(v);
  }

  embedImageSync(image: RgbImage): Float32Array {
    const f = imageFeatures(image);
    const v = new Float32Array(this.dim);
    for (let i = 0; i < f.length; i++) {
      const x = f[i]!;
      if (x === 0) continue;
      const row = i * this.dim;
      for (let j = 0; j < this.dim; j++) v[j] += x * this.imageMatrix[row + j]!;
    }
    return normalise(v);
  }

  async embedText(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedTextSync(t));
  }

  async embedImage(images: readonly RgbImage[]): Promise<Float32Array[]> {
    return images.map((im) => this.embedImageSync(im));
  }
}
