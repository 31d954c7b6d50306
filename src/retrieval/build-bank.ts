/**
 * Builds a memory bank from datasets: one document per training image that has a caption (the
 * first caption pair naming it), kind `both`, embedded by a bi-encoder, written in batches.
 * Only the `train` split goes in, always: held-out data must never be retrievable.
 * Optionally each row also stores its image's VQ codes (`encodeImages`) and a small PNG thumbnail,
 * and the bank gets an ANN index (`index`). Not the bank format (memory-bank.ts), the embedding
 * (encoders.ts) nor the image tokenizer (passed in).
 */
import { basename, resolve } from 'node:path';
import { encodePng, type RgbImage } from '../data/image.js';
import { openDataset } from '../data/store.js';
import type { ImageRecord, PairRecord, Split } from '../data/types.js';
import { embedDocuments, type BiEncoder } from './encoders.js';
import { RetrievalInputError } from './errors.js';
import { MemoryBankWriter, type BankInfo, type BankRow, type IndexChoice } from './memory-bank.js';

export interface BuildBankOptions {
  data: readonly string[];
  out: string;
  encoder: BiEncoder;
  /** At most this many documents per dataset (for quick runs and tests). */
  limit?: number;
  batch?: number;
  log?: (line: string) => void;
  /** The image tokenizer: when given, each row stores its image's VQ codes (one array per image, in order). */
  encodeImages?: (images: RgbImage[]) => Int32Array[] | Promise<Int32Array[]>;
  /** The codesVersion of the tokenizer behind encodeImages, recorded in bank.json (retrieval checks it). */
  imageTokenizer?: string;
  /** Store a PNG thumbnail whose longer side is this many pixels (never enlarged), e.g. 32. */
  thumbnails?: number;
  /** Called after each batch with documents written so far and the total to write. */
  onProgress?: (done: number, total: number) => void;
  /** ANN index to build with the bank (default 'none'; 'auto' from AUTO_INDEX_ROWS rows). */
  index?: IndexChoice;
}

interface PendingDoc {
  docId: string;
  text: string;
  imageId: string;
}

export async function buildMemoryBank(options: BuildBankOptions): Promise<BankInfo> {
  const split: Split = 'train';
  const batch = options.batch ?? 512;
  const log = options.log ?? (() => {});
  if (options.thumbnails !== undefined && !(Number.isInteger(options.thumbnails) && options.thumbnails >= 1)) {
    throw new RetrievalInputError(`thumbnails must be a positive whole number of pixels, got ${options.thumbnails}`);
  }
  // First the document list of every dataset (captions only, cheap), so progress has a true total.
  const plan: { dir: string; name: string; docs: PendingDoc[] }[] = [];
  for (const dir of options.data) {
    const ds = await openDataset(dir);
    try {
      plan.push({ dir, name: basename(resolve(dir)), docs: await documents(ds.pairs({ split, type: 'caption' }), options.limit) });
    } finally {
      ds.close();
    }
  }
  const total = plan.reduce((n, p) => n + p.docs.length, 0);
  let done = 0;
  const writer = await MemoryBankWriter.create(options.out, { dim: options.encoder.dim, encoder: options.encoder.id, imageTokenizer: options.imageTokenizer });
  try {
    for (const { dir, name, docs: all } of plan) {
      const ds = await openDataset(dir);
      let added = 0;
      try {
        for (let i = 0; i < all.length; i += batch) {
          const pending = all.slice(i, i + batch);
          const images = await ds.imagesById(pending.map((d) => d.imageId));
          const docs = pending.filter((d) => images.has(d.imageId));
          const rgb = docs.map((d) => asRgb(images.get(d.imageId)!));
          const vectors = await embedDocuments(options.encoder, docs.map((d, j) => ({ text: d.text, image: rgb[j]! })));
          const tokens = options.encodeImages ? await imageTokens(options.encodeImages, rgb) : undefined;
          const rows: BankRow[] = docs.map((d, j) => ({
            id: `${name}/${d.docId}`, docId: d.docId, dataset: name, split, kind: 'both', text: d.text, imageId: d.imageId, vector: vectors[j]!,
            imageTokens: tokens?.[j] ?? null,
            thumbnail: options.thumbnails ? new Uint8Array(encodePng(shrink(rgb[j]!, options.thumbnails))) : null,
          }));
          await writer.add(rows);
          added += rows.length;
          // Documents whose image is missing count as done too, so the total is reached.
          done += pending.length;
          options.onProgress?.(done, total);
        }
        log(`${name}: ${added} documents (${split})`);
      } finally {
        ds.close();
      }
    }
    return await writer.finish(options.data.map((d) => resolve(d)), { index: options.index });
  } catch (err) {
    writer.abort();
    throw err;
  }
}

/** One document per training image that has a caption: the first caption pair naming it. */
async function documents(pairs: AsyncIterable<PairRecord>, limit?: number): Promise<PendingDoc[]> {
  const seen = new Set<string>();
  const docs: PendingDoc[] = [];
  for await (const pair of pairs) {
    if (limit !== undefined && docs.length >= limit) break;
    const text = pair.inputText ?? pair.outputText;
    const imageId = pair.outputImage ?? pair.inputImage;
    if (!text || !imageId || seen.has(imageId)) continue;
    seen.add(imageId);
    docs.push({ docId: pair.id, text, imageId });
  }
  return docs;
}

async function imageTokens(encode: NonNullable<BuildBankOptions['encodeImages']>, images: RgbImage[]): Promise<Int32Array[]> {
  const codes = await encode(images);
  if (!Array.isArray(codes) || codes.length !== images.length) {
    throw new RetrievalInputError(`encodeImages returned ${Array.isArray(codes) ? codes.length : typeof codes} results for ${images.length} images`);
  }
  return codes;
}

/**
 * Box-filter downscale so the longer side is `size` (area average over each output pixel's source
 * rectangle; an integer factor gives exactly `downsample`). Images already that small are kept.
 */
export function shrink(image: RgbImage, size: number): RgbImage {
  const { width, height, rgb } = image;
  if (Math.max(width, height) <= size) return image;
  const scale = size / Math.max(width, height);
  const w = Math.max(1, Math.round(width * scale)), h = Math.max(1, Math.round(height * scale));
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const y0 = Math.floor((y * height) / h), y1 = Math.max(y0 + 1, Math.floor(((y + 1) * height) / h));
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor((x * width) / w), x1 = Math.max(x0 + 1, Math.floor(((x + 1) * width) / w));
      let r = 0, g = 0, b = 0;
      for (let sy = y0; sy < y1; sy++) {
        for (let sx = x0, p = (sy * width + x0) * 3; sx < x1; sx++, p += 3) {
          r += rgb[p]!;
          g += rgb[p + 1]!;
          b += rgb[p + 2]!;
        }
      }
      const n = (y1 - y0) * (x1 - x0), q = (y * w + x) * 3;
      out[q] = Math.round(r / n);
      out[q + 1] = Math.round(g / n);
      out[q + 2] = Math.round(b / n);
    }
  }
  return { width: w, height: h, rgb: out };
}

export function asRgb(image: ImageRecord): { width: number; height: number; rgb: Uint8Array } {
  return { width: image.size, height: image.size, rgb: image.rgb };
}
