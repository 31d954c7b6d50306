/**
 * The paper's Table 1 in miniature: a decoder evaluated on held-out captions with 0, 1 and 2
 * retrieved documents prepended to the prompt:
 *   - image-token NLL of `<eos> [retrieved docs] caption <break> image <eos>` (loss on the image codes);
 *   - for generated images: a Fréchet distance on the bi-encoder's image embeddings against the
 *     true held-out images (NOT Inception FID: comparable only within this table), and the CLIP
 *     score (cosine of caption and generated image in the bi-encoder's space).
 * Retrieval is a callback (text query -> documents), so the memory bank and its rules stay in
 * src/retrieval and this file only measures.
 */
import type { RgbImage } from '../data/index.js';
import type { Cm3leon } from '../decoding/pipeline.js';
import type { BiEncoder } from '../retrieval/encoders.js';
import * as T from '../tensor/index.js';
import { textSegment } from '../tokenizers/document.js';
import { contextDocuments } from '../decoding/retrieval-context.js';
import { frechetDistance } from './fid.js';
import type { CaptionItem } from './generation-eval.js';

/** A retrieved document as the decoder reads it. */
export interface ContextDocument {
  id: string;
  text: string;
  /** VQ codes of its image. */
  codes: Int32Array;
  score?: number;
}

export type RetrieveForText = (caption: string, k: number) => Promise<ContextDocument[]>;

/** Mean NLL per image code of each item's image given its caption and `context` documents. */
export function contextImageNll(m: Cm3leon, items: readonly CaptionItem[], contexts: readonly ContextDocument[][]): number {
  const tok = m.tok;
  const codes = tok.image.encode(items.map((i) => i.image));
  const g2 = tok.imageLength;
  let total = 0;
  items.forEach((item, i) => {
    const prompt = tok.codec.encodePrompt(contextDocuments(contexts[i] ?? []), [textSegment(item.caption)], { leadingEos: true });
    const ids = Int32Array.from([...prompt, ...Array.from(codes[i]!, (c) => tok.vocab.imageId(c)), tok.ids.eos]);
    if (ids.length - 1 > m.model.config.maxPositions) throw new Error(`retrieval eval: ${ids.length} tokens exceed the model's ${m.model.config.maxPositions} positions`);
    const targets = new Int32Array(ids.length - 1).fill(-100);
    for (let t = ids.length - 2 - g2; t < ids.length - 2; t++) targets[t] = ids[t + 1]!;
    total += T.tidy(() => T.noGrad(() => m.model.loss(T.tensor(ids.slice(0, -1), [1, ids.length - 1], { dtype: 'i32' }), T.tensor(targets, [1, ids.length - 1], { dtype: 'i32' })).item()));
  });
  return total / Math.max(1, items.length);
}

export interface RetrievalRow {
  documents: number;
  nll: number;
  /** Over the first `generate` items. */
  fid?: number;
  clipScore?: number;
  generated?: number;
}

export interface RetrievalTableOptions {
  ks?: number[];
  /** Generate images for this many items (0: NLL only). */
  generate?: number;
  cfg?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  log?: (l: string) => void;
  /** Receives each generation (for sheets). */
  onImage?: (k: number, item: CaptionItem, image: RgbImage, context: ContextDocument[]) => void;
}

/** NLL (and FID / CLIP score on the bi-encoder) with k = 0, 1, 2 retrieved documents. */
export async function retrievalTable(m: Cm3leon, items: readonly CaptionItem[], retrieve: RetrieveForText, encoder: BiEncoder, o: RetrievalTableOptions = {}): Promise<RetrievalRow[]> {
  const ks = o.ks ?? [0, 1, 2];
  const rows: RetrievalRow[] = [];
  const nGen = Math.min(o.generate ?? 0, items.length);
  const genItems = items.slice(0, nGen);
  const realFeatures = nGen > 1 ? await encoder.embedImage(genItems.map((it) => it.image)) : [];
  const captionFeatures = nGen > 0 ? await encoder.embedText(genItems.map((it) => it.caption)) : [];
  for (const k of ks) {
    const contexts: ContextDocument[][] = [];
    for (const it of items) contexts.push(k === 0 ? [] : await retrieve(it.caption, k));
    const nll = contextImageNll(m, items, contexts);
    const row: RetrievalRow = { documents: k, nll };
    o.log?.(`${k} documents: image NLL ${nll.toFixed(4)}`);
    if (nGen > 0) {
      const images: RgbImage[] = [];
      genItems.forEach((it, i) => {
        const image = m.generateImage(it.caption, {
          context: contextDocuments(contexts[i]!), cfg: o.cfg, temperature: o.temperature ?? 1, topP: o.topP ?? 0.9, seed: (o.seed ?? 0) + i,
        }).image;
        images.push(image);
        o.onImage?.(k, it, image, contexts[i]!);
      });
      const gen = await encoder.embedImage(images);
      row.generated = images.length;
      row.clipScore = gen.reduce((s, g, i) => s + g.reduce((a, x, j) => a + x * captionFeatures[i]![j]!, 0), 0) / gen.length;
      if (nGen > 1) row.fid = frechetDistance(gen, realFeatures);
      o.log?.(`${k} documents: ${images.length} images, FID (bi-encoder) ${row.fid?.toFixed(4)}, CLIP score ${row.clipScore.toFixed(4)}`);
    }
    rows.push(row);
  }
  return rows;
}
