/**
 * Pretraining documents from the datasets' caption pairs, in both orders CM3leon uses:
 *   caption <break> image <eos>      (text-to-image)
 *   image <break> caption <eos>      (image-to-text)
 * Images are tokenized by the VQ tokenizer in batches; the result is cached next to the run as
 * safetensors (one i32 stream + offsets), keyed by the tokenizers and data, so a resumed or repeated
 * run does not re-encode.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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

/** Documents (id sequences) of every caption pair of the datasets' split. */
export async function captionDocuments(dirs: readonly string[], tok: MultimodalTokenizer, o: CaptionDocOptions): Promise<Int32Array[]> {
  const orders = o.orders ?? ['text-image', 'image-text'];
  const docs: Int32Array[] = [];
  for (const dir of dirs) {
    if (!existsSync(join(dir, 'info.json'))) throw new Error(`data: ${dir} is not a dataset directory (build it with \`cm3leon data build\`)`);
    const ds = await openDataset(dir);
    try {
      const pairs: { text: string; image: string }[] = [];
      for await (const p of ds.pairs({ split: o.split, type: 'caption' })) {
        const text = p.outputText ?? p.inputText;
        const image = p.inputImage ?? p.outputImage;
        if (text && image) pairs.push({ text, image });
        if (o.limit && pairs.length >= o.limit) break;
      }
      const t0 = performance.now();
      for (let i = 0; i < pairs.length; i += 256) {
        const chunk = pairs.slice(i, i + 256);
        const records = await ds.imagesById(chunk.map((p) => p.image));
        const images = chunk.map((p) => {
          const r = records.get(p.image);
          if (!r) throw new Error(`data: ${dir} has no image ${p.image}`);
          return { width: r.size, height: r.size, rgb: r.rgb };
        });
        const grids = tok.image.encode(images);
        chunk.forEach((p, j) => {
          const text = textSegment(p.text);
          const image = imageSegment(grids[j]!);
          for (const order of orders) docs.push(tok.encode(order === 'text-image' ? [text, image] : [image, text]));
        });
        o.log?.(`${dir} (${o.split}): ${Math.min(i + 256, pairs.length)}/${pairs.length} pairs tokenized, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      }
    } finally {
      ds.close();
    }
  }
  return docs;
}

/** Saves documents as one i32 stream plus offsets (atomically). */
export function saveDocuments(path: string, docs: readonly Int32Array[], key: string): void {
  const offsets = new Int32Array(docs.length + 1);
  docs.forEach((d, i) => (offsets[i + 1] = offsets[i]! + d.length));
  const stream = new Int32Array(offsets[docs.length]!);
  docs.forEach((d, i) => stream.set(d, offsets[i]!));
  saveSafetensors(path, { offsets: { shape: [offsets.length], data: offsets }, tokens: { shape: [stream.length], data: stream } }, { key });
}

/** Loads documents saved with the same key, or null (missing or stale cache). */
export function loadDocuments(path: string, key: string): Int32Array[] | null {
  if (!existsSync(path)) return null;
  const f = loadSafetensors(path);
  if (f.metadata.key !== key) return null;
  const offsets = f.tensors.get('offsets')!.data as Int32Array;
  const stream = f.tensors.get('tokens')!.data as Int32Array;
  return Array.from({ length: offsets.length - 1 }, (_, i) => stream.slice(offsets[i]!, offsets[i + 1]!));
}
