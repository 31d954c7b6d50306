/**
 * Builds a memory bank from datasets: one document per training image that has a caption (the
 * first caption pair naming it), kind `both`, embedded by a bi-encoder, written in batches.
 * Only the `train` split goes in, always: held-out data must never be retrievable.
 * Not the bank format (memory-bank.ts) nor the embedding (encoders.ts).
 */
import { basename, resolve } from 'node:path';
import { openDataset } from '../data/store.js';
import type { ImageRecord, Split } from '../data/types.js';
import { embedDocuments, type BiEncoder } from './encoders.js';
import { MemoryBankWriter, type BankInfo, type BankRow } from './memory-bank.js';

export interface BuildBankOptions {
  data: readonly string[];
  out: string;
  encoder: BiEncoder;
  /** At most this many documents per dataset (for quick runs and tests). */
  limit?: number;
  batch?: number;
  log?: (line: string) => void;
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
  const writer = await MemoryBankWriter.create(options.out, { dim: options.encoder.dim, encoder: options.encoder.id });
  try {
    for (const dir of options.data) {
      const name = basename(resolve(dir));
      const ds = await openDataset(dir);
      try {
        const seen = new Set<string>();
        let pending: PendingDoc[] = [];
        let added = 0;
        const flush = async (): Promise<void> => {
          if (pending.length === 0) return;
          const images = await ds.imagesById(pending.map((d) => d.imageId));
          const docs = pending.filter((d) => images.has(d.imageId));
          const vectors = await embedDocuments(options.encoder, docs.map((d) => ({ text: d.text, image: asRgb(images.get(d.imageId)!) })));
          const rows: BankRow[] = docs.map((d, i) => ({
            id: `${name}/${d.docId}`, docId: d.docId, dataset: name, split, kind: 'both', text: d.text, imageId: d.imageId, vector: vectors[i]!,
          }));
          await writer.add(rows);
          added += rows.length;
          pending = [];
        };
        for await (const pair of ds.pairs({ split, type: 'caption' })) {
          if (options.limit !== undefined && seen.size >= options.limit) break;
          const text = pair.inputText ?? pair.outputText;
          const imageId = pair.outputImage ?? pair.inputImage;
          if (!text || !imageId || seen.has(imageId)) continue;
          seen.add(imageId);
          pending.push({ docId: pair.id, text, imageId });
          if (pending.length >= batch) await flush();
        }
        await flush();
        log(`${name}: ${added} documents (${split})`);
      } finally {
        ds.close();
      }
    }
    return await writer.finish(options.data.map((d) => resolve(d)));
  } catch (err) {
    writer.abort();
    throw err;
  }
}

export function asRgb(image: ImageRecord): { width: number; height: number; rgb: Uint8Array } {
  return { width: image.size, height: image.size, rgb: image.rgb };
}
