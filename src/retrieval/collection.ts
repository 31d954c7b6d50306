/**
 * A memory bank from a user's own collection: a folder of images (PNG, JPEG, WebP, GIF, AVIF,
 * TIFF: what readImage takes, read at the models' 64 px, centre-cropped to square), each captioned by a
 * `<name>.txt` beside it or by a line `<file name>\t<caption>` in `captions.tsv` in the folder, and
 * caption-only documents from `texts.txt` (one per line). Documents with a caption and an image are
 * kind `both`, images without a caption `image`, lines of texts.txt `text`.
 * A file with an image extension that cannot be read stops the build with its name; the bank is
 * written atomically (memory-bank.ts), so nothing already there is lost. Other files (not an image
 * extension, not a caption file) are left out with a warning naming them, not silently.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { encodePng, type RgbImage } from '../data/image.js';
import { isImageFileName, readImage } from '../data/image-io.js';
import { resizeRgb } from '../tokenizers/vq/images.js';
import { embedDocuments, type BiEncoder } from './encoders.js';
import { RetrievalInputError } from './errors.js';
import { MemoryBankWriter, type BankInfo, type BankRow, type IndexChoice } from './memory-bank.js';

export interface CollectionOptions {
  dir: string;
  out: string;
  encoder: BiEncoder;
  /** VQ codes per image (stored so the bank can feed retrieval-augmented generation). */
  encodeImages?: (images: RgbImage[]) => Int32Array[];
  /** The codesVersion of the tokenizer behind encodeImages, recorded in bank.json (retrieval checks it). */
  imageTokenizer?: string;
  /** Thumbnail side in pixels (default 64, the models' image size: codes can be made from it). */
  thumbnails?: number;
  index?: IndexChoice;
  batch?: number;
  onProgress?: (done: number, total: number) => void;
  /** A line about a file left out (not an image); default: printed to stderr. */
  onWarning?: (line: string) => void;
}

interface Entry {
  id: string;
  text: string | null;
  file: string | null;
}

/** Files a collection folder holds besides its images: captions and caption-only texts. */
const CAPTION_FILE = /\.txt$|^captions\.tsv$/i;

/**
 * The documents of a collection folder, sorted by id (see the header for the layout); files left
 * out are named through `warn`.
 */
export function listCollection(dir: string, warn: (line: string) => void = (line) => console.error(line)): Entry[] {
  if (!existsSync(dir)) throw new RetrievalInputError(`collection ${dir} does not exist`);
  const listing = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort();
  const files = listing.filter(isImageFileName);
  for (const f of listing) {
    if (!isImageFileName(f) && !CAPTION_FILE.test(f)) warn(`warning: ${join(dir, f)} is not an image (by its extension); left out`);
  }
  const tsv = new Map<string, string>();
  const tsvPath = join(dir, 'captions.tsv');
  if (existsSync(tsvPath)) {
    readFileSync(tsvPath, 'utf8').split(/\r?\n/).forEach((line, i) => {
      if (!line.trim()) return;
      const tab = line.indexOf('\t');
      if (tab < 1) throw new RetrievalInputError(`${tsvPath}:${i + 1}: expected '<file name>\\t<caption>'`);
      tsv.set(line.slice(0, tab), line.slice(tab + 1).trim());
    });
  }
  const entries: Entry[] = files.map((f) => {
    const side = join(dir, `${basename(f, extname(f))}.txt`);
    const text = tsv.get(f) ?? (existsSync(side) ? readFileSync(side, 'utf8').trim() : null);
    return { id: f, text: text || null, file: join(dir, f) };
  });
  for (const name of tsv.keys()) if (!files.includes(name)) throw new RetrievalInputError(`${tsvPath} names ${name}, which is not an image in ${dir}`);
  const textsPath = join(dir, 'texts.txt');
  if (existsSync(textsPath)) {
    readFileSync(textsPath, 'utf8').split(/\r?\n/).forEach((line, i) => {
      if (line.trim()) entries.push({ id: `texts.txt:${i + 1}`, text: line.trim(), file: null });
    });
  }
  if (entries.length === 0) throw new RetrievalInputError(`collection ${dir} has no images and no texts.txt`);
  return entries;
}

/** The models' image size: reading at it keeps a batch of large photos small in memory. */
const MODEL_IMAGE_SIZE = 64;

async function readCollectionImage(file: string, size: number): Promise<RgbImage> {
  try {
    return await readImage(file, { size });
  } catch (err) {
    // readImage's message starts with the file name.
    throw new RetrievalInputError(`cannot read image ${(err as Error).message}`);
  }
}

export async function buildCollectionBank(o: CollectionOptions): Promise<BankInfo> {
  const entries = listCollection(o.dir, o.onWarning);
  const batch = o.batch ?? 256;
  const thumb = o.thumbnails ?? 64;
  const readSize = Math.max(thumb, MODEL_IMAGE_SIZE);
  const writer = await MemoryBankWriter.create(o.out, { dim: o.encoder.dim, encoder: o.encoder.id, imageTokenizer: o.imageTokenizer });
  try {
    for (let i = 0; i < entries.length; i += batch) {
      const chunk = entries.slice(i, i + batch);
      const images: (RgbImage | null)[] = [];
      for (const e of chunk) images.push(e.file ? await readCollectionImage(e.file, readSize) : null);
      const vectors = await embedDocuments(o.encoder, chunk.map((e, j) => ({ text: e.text, image: images[j] })));
      const withImage = chunk.flatMap((_, j) => (images[j] ? [j] : []));
      const codes = o.encodeImages && withImage.length ? o.encodeImages(withImage.map((j) => images[j]!)) : [];
      const codesOf = new Map(withImage.map((j, n) => [j, codes[n]]));
      const rows: BankRow[] = chunk.map((e, j) => ({
        id: e.id, docId: e.id, dataset: basename(o.dir), split: 'train',
        kind: images[j] && e.text ? 'both' : images[j] ? 'image' : 'text',
        text: e.text, imageId: e.file ? e.id : null, vector: vectors[j]!,
        imageTokens: codesOf.get(j) ?? null,
        thumbnail: images[j] ? new Uint8Array(encodePng(resizeRgb(images[j]!, Math.min(thumb, images[j]!.width)))) : null,
      }));
      await writer.add(rows);
      o.onProgress?.(Math.min(i + batch, entries.length), entries.length);
    }
    return await writer.finish([o.dir], { index: o.index });
  } catch (err) {
    writer.abort();
    throw err;
  }
}
