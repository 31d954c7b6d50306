/**
 * Pretraining documents from the datasets' caption pairs, in both orders CM3leon uses:
 *   caption <break> image <eos>      (text-to-image)
 *   image <break> caption <eos>      (image-to-text)
 * Images are tokenized by the VQ tokenizer in batches (each distinct image once); the records
 * (caption, image name, codes) can be cached next to the run as safetensors, keyed by the
 * tokenizers and data, so a resumed or repeated run does not re-encode.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { openDataset, type Split } from '../data/index.js';
import { loadSafetensors, saveSafetensors } from '../nn/index.js';
import type { MultimodalTokenizer } from '../tokenizers/multimodal.js';
import { imageSegment, textSegment } from '../tokenizers/document.js';

export type DocOrder = 'text-image' | 'image-text';

export interface CaptionDocOptions {
  split: Split;
  orders?: DocOrder[];
  /** At most this many pairs per dataset (for quick runs). */
  limit?: number;
  log?: (line: string) => void;
}

/** Documents (id sequences) of every caption pair of the datasets' split, in each of `orders`. */
export async function captionDocuments(dirs: readonly string[], tok: MultimodalTokenizer, o: CaptionDocOptions): Promise<Int32Array[]> {
  return recordDocuments(await captionRecords(dirs, tok, o), tok, o.orders).docs;
}

/** One caption pair with its image's VQ codes. `image` is `<dataset>/<imageId>`. */
export interface CaptionRecord {
  image: string;
  text: string;
  codes: Int32Array;
}

/** Caption pairs of a split with their image codes, tokenized in batches; cached by `key` when `cache` is given. */
export async function captionRecords(
  dirs: readonly string[], tok: MultimodalTokenizer, o: CaptionDocOptions & { cache?: string; key?: string },
): Promise<CaptionRecord[]> {
  if (o.cache && o.key) {
    const cached = loadRecords(o.cache, o.key);
    if (cached) return cached;
  }
  const out: CaptionRecord[] = [];
  for (const dir of dirs) {
    if (!existsSync(join(dir, 'info.json'))) throw new Error(`data: ${dir} is not a dataset directory (build it with \`cm3leon data build\`)`);
    const name = basename(resolve(dir));
    const ds = await openDataset(dir);
    try {
      const pairs: { text: string; image: string }[] = [];
      for await (const p of ds.pairs({ split: o.split, type: 'caption' })) {
        const text = p.outputText ?? p.inputText;
        const image = p.inputImage ?? p.outputImage;
        if (text && image) pairs.push({ text, image });
        if (o.limit && pairs.length >= o.limit) break;
      }
      const codesOf = new Map<string, Int32Array>();
      const unique = [...new Set(pairs.map((p) => p.image))];
      const t0 = performance.now();
      for (let i = 0; i < unique.length; i += 256) {
        const chunk = unique.slice(i, i + 256);
        const records = await ds.imagesById(chunk);
        const grids = tok.image.encode(chunk.map((id) => {
          const r = records.get(id);
          if (!r) throw new Error(`data: ${dir} has no image ${id}`);
          return { width: r.size, height: r.size, rgb: r.rgb };
        }));
        chunk.forEach((id, j) => codesOf.set(id, Int32Array.from(grids[j]!)));
        o.log?.(`${dir} (${o.split}): ${Math.min(i + 256, unique.length)}/${unique.length} images tokenized, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      }
      for (const p of pairs) out.push({ image: `${name}/${p.image}`, text: p.text, codes: codesOf.get(p.image)! });
    } finally {
      ds.close();
    }
  }
  if (o.cache && o.key) saveRecords(o.cache, out, o.key);
  return out;
}

function saveRecords(path: string, records: readonly CaptionRecord[], key: string): void {
  const len = records[0]?.codes.length ?? 0;
  const codes = new Int32Array(records.length * len);
  records.forEach((r, i) => codes.set(r.codes, i * len));
  saveSafetensors(path, { codes: { shape: [records.length, len], data: codes } }, {
    key, images: JSON.stringify(records.map((r) => r.image)), texts: JSON.stringify(records.map((r) => r.text)),
  });
}

function loadRecords(path: string, key: string): CaptionRecord[] | null {
  if (!existsSync(path)) return null;
  const f = loadSafetensors(path);
  if (f.metadata['key'] !== key) return null;
  const codes = f.tensors.get('codes')!;
  const len = codes.shape[1] ?? 0;
  const images = JSON.parse(f.metadata['images']!) as string[];
  const texts = JSON.parse(f.metadata['texts']!) as string[];
  return images.map((image, i) => ({ image, text: texts[i]!, codes: (codes.data as Int32Array).slice(i * len, (i + 1) * len) }));
}

/** The documents of caption records in the orders CM3leon trains on. */
export function recordDocuments(records: readonly CaptionRecord[], tok: MultimodalTokenizer, orders: readonly ('text-image' | 'image-text')[] = ['text-image', 'image-text']): { docs: Int32Array[]; recordOf: Map<Int32Array, number> } {
  const docs: Int32Array[] = [];
  const recordOf = new Map<Int32Array, number>();
  records.forEach((r, i) => {
    for (const order of orders) {
      const text = textSegment(r.text);
      const image = imageSegment(r.codes);
      const doc = tok.encode(order === 'text-image' ? [text, image] : [image, text]);
      docs.push(doc);
      recordOf.set(doc, i);
    }
  });
  return { docs, recordOf };
}

