/**
 * The bi-encoder's data and evaluation (its training recipe is src/train/bi-encoder.ts).
 *
 * Data: one item per captioned image (its captions, 64 px RGB bytes, concept and style).
 *
 * Evaluation (held-out concepts): text->image and image->text recall@1/5/10 within each dataset's
 * held-out gallery, against chance (k / N); cross-style retrieval on emoji: an image's nearest other
 * images of a different style, a hit when one shows the same concept.
 */
import { basename, resolve } from 'node:path';
import { openDataset, type Split } from '../data/index.js';
import type { BiEncoder } from './encoders.js';
import { dot } from './vectors.js';

/** One captioned image. */
export interface ClipItem {
  dataset: string;
  imageId: string;
  conceptId: string;
  style: string;
  captions: string[];
  /** size x size x 3 bytes. */
  rgb: Uint8Array;
}

/** Every captioned image of `split` in the datasets (captions from `caption` pairs, in pair order). */
export async function loadClipItems(dirs: readonly string[], split: Split, o: { limit?: number; size?: number; log?: (l: string) => void } = {}): Promise<ClipItem[]> {
  const items: ClipItem[] = [];
  for (const dir of dirs) {
    const ds = await openDataset(dir);
    try {
      if (o.size !== undefined && ds.info.size !== o.size) throw new Error(`${dir} has ${ds.info.size} px images, the bi-encoder reads ${o.size} px`);
      const byImage = new Map<string, string[]>();
      for await (const p of ds.pairs({ split, type: 'caption' })) {
        const text = p.inputText ?? p.outputText;
        const image = p.outputImage ?? p.inputImage;
        if (!text || !image) continue;
        if (!byImage.has(image)) {
          if (o.limit !== undefined && byImage.size >= o.limit) continue;
          byImage.set(image, []);
        }
        byImage.get(image)!.push(text);
      }
      const ids = [...byImage.keys()];
      for (let i = 0; i < ids.length; i += 512) {
        const records = await ds.imagesById(ids.slice(i, i + 512));
        for (const id of ids.slice(i, i + 512)) {
          const r = records.get(id);
          if (!r) throw new Error(`${dir} has no image ${id}`);
          items.push({ dataset: basename(resolve(dir)), imageId: id, conceptId: r.conceptId, style: r.style, captions: byImage.get(id)!, rgb: r.rgb });
        }
      }
      o.log?.(`${dir} (${split}): ${ids.length} captioned images`);
    } finally {
      ds.close();
    }
  }
  return items;
}

export interface RecallAt {
  r1: number;
  r5: number;
  r10: number;
}

export interface ClipEvalResult {
  /** Per dataset: gallery size, text->image and image->text recall, chance (k / N). */
  datasets: Record<string, { n: number; textToImage: RecallAt; imageToText: RecallAt; chance: RecallAt }>;
  /** Emoji: same concept in another style among the nearest other-style images; chance as expected at random. */
  crossStyle?: { n: number; recall: RecallAt; chance: RecallAt };
}

const KS = [1, 5, 10] as const;

function recallFromRanks(ranks: readonly number[]): RecallAt {
  const at = (k: number): number => ranks.filter((r) => r < k).length / Math.max(1, ranks.length);
  return { r1: at(1), r5: at(5), r10: at(10) };
}

/** Rank of column `target` in row `row` of scores (0 = best; ties count against). */
function rankOf(scores: (j: number) => number, n: number, target: number): number {
  const t = scores(target);
  let rank = 0;
  for (let j = 0; j < n; j++) if (j !== target && scores(j) >= t) rank++;
  return rank;
}

/** Held-out retrieval metrics of an encoder (texts: each image's first caption). */
export async function evaluateClip(encoder: BiEncoder, items: readonly ClipItem[], size = 64): Promise<ClipEvalResult> {
  const result: ClipEvalResult = { datasets: {} };
  const byDataset = new Map<string, ClipItem[]>();
  for (const it of items) byDataset.set(it.dataset, [...(byDataset.get(it.dataset) ?? []), it]);
  const allImages = new Map<ClipItem, Float32Array>();
  for (const [name, group] of byDataset) {
    const ti = await encoder.embedText(group.map((g) => g.captions[0]!));
    const vi = await encoder.embedImage(group.map((g) => ({ width: size, height: size, rgb: g.rgb })));
    group.forEach((g, i) => allImages.set(g, vi[i]!));
    const n = group.length;
    const sim = new Float32Array(n * n); // text i vs image j
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sim[i * n + j] = dot(ti[i]!, vi[j]!);
    const t2i = group.map((_, i) => rankOf((j) => sim[i * n + j]!, n, i));
    const i2t = group.map((_, j) => rankOf((i) => sim[i * n + j]!, n, j));
    result.datasets[name] = {
      n, textToImage: recallFromRanks(t2i), imageToText: recallFromRanks(i2t),
      chance: { r1: Math.min(1, 1 / n), r5: Math.min(1, 5 / n), r10: Math.min(1, 10 / n) },
    };
  }
  const emoji = items.filter((it) => it.style !== 'flat' && byDataset.size > 0 && it.dataset.includes('emoji'));
  if (emoji.length > 1) {
    let hits = [0, 0, 0];
    let chance = [0, 0, 0];
    let queries = 0;
    for (const q of emoji) {
      const others = emoji.filter((e) => e.style !== q.style);
      const same = others.filter((e) => e.conceptId === q.conceptId).length;
      if (same === 0) continue;
      queries++;
      const vq = allImages.get(q)!;
      const ranked = others.map((e) => ({ e, s: dot(vq, allImages.get(e)!) })).sort((a, b) => b.s - a.s);
      KS.forEach((k, i) => {
        if (ranked.slice(0, k).some((r) => r.e.conceptId === q.conceptId)) hits[i]!++;
        // P(at least one of `same` in k random draws without replacement from `others`).
        let miss = 1;
        for (let d = 0; d < Math.min(k, others.length); d++) miss *= (others.length - same - d) / (others.length - d);
        chance[i]! += 1 - Math.max(0, miss);
      });
    }
    if (queries > 0) {
      hits = hits.map((h) => h / queries);
      chance = chance.map((c) => c / queries);
      result.crossStyle = { n: queries, recall: { r1: hits[0]!, r5: hits[1]!, r10: hits[2]! }, chance: { r1: chance[0]!, r5: chance[1]!, r10: chance[2]! } };
    }
  }
  return result;
}

export function formatRecall(r: ClipEvalResult): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}`;
  const parts = Object.entries(r.datasets).map(([name, d]) =>
    `${name} (n=${d.n}) t->i R@1/5/10 ${pct(d.textToImage.r1)}/${pct(d.textToImage.r5)}/${pct(d.textToImage.r10)} i->t ${pct(d.imageToText.r1)}/${pct(d.imageToText.r5)}/${pct(d.imageToText.r10)}`);
  if (r.crossStyle) parts.push(`cross-style R@1/5/10 ${pct(r.crossStyle.recall.r1)}/${pct(r.crossStyle.recall.r5)}/${pct(r.crossStyle.recall.r10)}`);
  return parts.join('; ');
}
