/**
 * A memory bank from a user's own collection: a folder of PNG images, each captioned by a
 * `<name>.txt` beside it or by a line `<file name>\t<caption>` in `captions.tsv` in the folder, and
 * caption-only documents from `texts.txt` (one per line). Documents with a caption and an image are
 * kind `both`, images without a caption `image`, lines of texts.txt `text`.
 * A file that is not a readable PNG stops the build with its name; the bank is written atomically
 * (memory-bank.ts), so nothing already there is lost.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { decodePng, encodePng, type RgbImage } from '../data/image.js';
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
}

interface Entry {
  id: string;
  text: string | null;
  file: string | null;
}

/** The documents of a collection folder, sorted by id (see the header for the layout). */
export function listCollection(dir: string): Entry[] {
  if (!existsSync(dir)) throw new RetrievalInputError(`collection ${dir} does not exist`);
  const files = readdirSync(dir).filter((f) => extname(f).toLowerCase() === '.png').sort();
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
  for (const name of tsv.keys()) if (!files.includes(name)) throw new RetrievalInputError(`${tsvPath} names ${name}, which is not a PNG in ${dir}`);
  const textsPath = join(dir, 'texts.txt');
  if (existsSync(textsPath)) {
    readFileSync(textsPath, 'utf8').split(/\r?\n/).forEach((line, i) => {
      if (line.trim()) entries.push({ id: `texts.txt:${i + 1}`, text: line.trim(), file: null });
    });
  }
  if (entries.length === 0) throw new RetrievalInputError(`collection ${dir} has no PNG images and no texts.txt`);
  return entries;
}

function readImage(file: string): RgbImage {
  try {
    return decodePng(readFileSync(file));
  } catch (err) {
    throw new RetrievalInputError(`cannot read image ${file}: ${(err as Error).message}`);
  }
}

export async function buildCollectionBank(o: CollectionOptions): Promise<BankInfo> {
  const entries = listCollection(o.dir);
  const batch = o.batch ?? 256;
  const thumb = o.thumbnails ?? 64;
  const writer = await MemoryBankWriter.create(o.out, { dim: o.encoder.dim, encoder: o.encoder.id, imageTokenizer: o.imageTokenizer });
  try {
    for (let i = 0; i < entries.length; i += batch) {
      const chunk = entries.slice(i, i + batch);
      const images = chunk.map((e) => (e.file ? readImage(e.file) : null));
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
