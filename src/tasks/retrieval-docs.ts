/**
 * Retrieval-augmented pretraining examples (CM3leon §2.2, after RA-CM3): a training example is
 * `retrieved docs + query doc`, each `caption <break> image <eos>`, the number of retrieved docs
 * drawn from {0, 1, 2} per example and epoch, so the model learns to use retrieved context and to
 * do without it.
 *
 * Retrieval for training (`planRetrieval`):
 *   memory bank  — one document per training image (its first caption and its image), embedded by
 *                  the bi-encoder as normalise(mean(normalise(text), normalise(image))): the same
 *                  rows `cm3leon retrieve build` writes. Only training data, never held-out.
 *   queries      — each image's embedding (retrieval by image) and each caption's with 20% of its
 *                  words dropped (query dropout, retrieval by text);
 *   search       — exact maximum inner product over all bank vectors, done here as one matrix
 *                  product per chunk of queries (bulk retrieval for 40k queries; identical in
 *                  result to the bank's exact search);
 *   rules        — the query's own image is never retrieved; relevance, then diversity (skip
 *                  score > 0.9 against the query and near-duplicates of a chosen one).
 * Each pair keeps a few candidates per modality; an epoch's example picks among them (several
 * retrieved samples per pair). Not here: the packing (train/packing.ts) and the CM3 transform.
 */
import { basename, resolve } from 'node:path';
import { openDataset, type RgbImage } from '../data/index.js';
import type { CaptionRecord } from './caption-docs.js';
import { dropQueryWords, applyRules, type Candidate } from '../retrieval/rules.js';
import type { BiEncoder } from '../retrieval/encoders.js';
import { normalisedMean } from '../retrieval/vectors.js';
import { matmul, noGrad, tensor, tidy, type Rng } from '../tensor/index.js';
import { imageSegment, textSegment } from '../tokenizers/document.js';
import type { MultimodalTokenizer } from '../tokenizers/multimodal.js';

/** Per record: retrieved bank documents (indices into `bank`) by image and by text, best first, rules applied. */
export interface RetrievalPlan {
  /** One document per training image: its first record's caption and the image. */
  bank: { image: string; text: string; codes: Int32Array }[];
  byImage: number[][];
  byText: number[][];
}

export interface PlanOptions {
  /** Candidates kept per modality and record (the several retrieved samples per pair). Default 2. */
  keep?: number;
  /** Query dropout rate for text queries. Paper: 0.2. */
  dropout?: number;
  seed?: number;
  log?: (l: string) => void;
}

/** Top `k` (index, score) of each row of (Q, N) scores, excluding column `exclude[q]`. */
function topK(scores: Float32Array, q: number, n: number, k: number, exclude: (row: number) => number): { index: number; score: number }[][] {
  const out: { index: number; score: number }[][] = [];
  for (let r = 0; r < q; r++) {
    const best: { index: number; score: number }[] = [];
    const skip = exclude(r);
    for (let j = 0; j < n; j++) {
      if (j === skip) continue;
      const s = scores[r * n + j]!;
      if (best.length < k) {
        best.push({ index: j, score: s });
        best.sort((a, b) => b.score - a.score);
      } else if (s > best[k - 1]!.score) {
        best[k - 1] = { index: j, score: s };
        best.sort((a, b) => b.score - a.score);
      }
    }
    out.push(best);
  }
  return out;
}

/** Exact MIPS of `queries` against `bank` vectors (both unit, dim E) as chunked (Q, E) x (E, N) products. */
function search(queries: readonly Float32Array[], bankVecs: readonly Float32Array[], k: number, exclude: (q: number) => number): { index: number; score: number }[][] {
  const e = bankVecs[0]!.length;
  const n = bankVecs.length;
  const bankT = new Float32Array(e * n);
  bankVecs.forEach((v, j) => { for (let d = 0; d < e; d++) bankT[d * n + j] = v[d]!; });
  const results: { index: number; score: number }[][] = [];
  const chunk = 512;
  noGrad(() => {
    const bt = tensor(bankT, [e, n]).keep();
    for (let s = 0; s < queries.length; s += chunk) {
      const part = queries.slice(s, s + chunk);
      const flat = new Float32Array(part.length * e);
      part.forEach((v, i) => flat.set(v, i * e));
      const scores = tidy(() => matmul(tensor(flat, [part.length, e]), bt).dataSync() as Float32Array);
      results.push(...topK(scores, part.length, n, k, (r) => exclude(s + r)));
    }
    bt.dispose();
  });
  return results;
}

/** Builds the bank of `records`' images and the per-record retrieval candidates (see the header). */
export async function planRetrieval(records: readonly CaptionRecord[], encoder: BiEncoder, pixels: ReadonlyMap<string, RgbImage>, o: PlanOptions = {}): Promise<RetrievalPlan> {
  const keep = o.keep ?? 2;
  const dropout = o.dropout ?? 0.2;
  const seed = o.seed ?? 0;
  const bankIndex = new Map<string, number>();
  const bank: RetrievalPlan['bank'] = [];
  for (const r of records) {
    if (!bankIndex.has(r.image)) {
      bankIndex.set(r.image, bank.length);
      bank.push({ image: r.image, text: r.text, codes: r.codes });
    }
  }
  o.log?.(`retrieval plan: embedding ${bank.length} bank documents`);
  const imageVecs = await encoder.embedImage(bank.map((b) => {
    const px = pixels.get(b.image);
    if (!px) throw new Error(`retrieval plan: no pixels for ${b.image}`);
    return px;
  }));
  const textVecs = await encoder.embedText(bank.map((b) => b.text));
  const docVecs = bank.map((_, j) => normalisedMean([textVecs[j]!, imageVecs[j]!]));
  o.log?.(`retrieval plan: ${bank.length} image queries and ${records.length} text queries (${Math.round(dropout * 100)}% word dropout)`);
  const queryTexts = records.map((r, i) => dropQueryWords(r.text, seed * 1_000_003 + i, dropout) || r.text);
  const textQueries = await encoder.embedText(queryTexts);
  const wide = keep * 8;
  const imageHits = search(imageVecs, docVecs, wide, (q) => q);
  const textHits = search(textQueries, docVecs, wide, (q) => bankIndex.get(records[q]!.image)!);
  const choose = (hits: { index: number; score: number }[]): number[] => {
    const candidates: (Candidate & { index: number })[] = hits.map((h) => ({ id: String(h.index), index: h.index, score: h.score, kind: 'both', vector: docVecs[h.index]! }));
    return applyRules(candidates, keep).map((c) => c.index);
  };
  const byImageOfBank = imageHits.map(choose);
  const byImage = records.map((r) => byImageOfBank[bankIndex.get(r.image)!]!);
  const byText = textHits.map(choose);
  return { bank, byImage, byText };
}

/** The pixels of images named `<dataset>/<imageId>`, read from the dataset directories (matched by directory name). */
export async function loadPixels(dirs: readonly string[], keys: readonly string[]): Promise<Map<string, RgbImage>> {
  const out = new Map<string, RgbImage>();
  for (const dir of dirs) {
    const name = basename(resolve(dir));
    const ids = [...new Set(keys.filter((k) => k.startsWith(`${name}/`)).map((k) => k.slice(name.length + 1)))];
    if (ids.length === 0) continue;
    const ds = await openDataset(dir);
    try {
      for (let i = 0; i < ids.length; i += 1024) {
        const found = await ds.imagesById(ids.slice(i, i + 1024));
        for (const [id, r] of found) out.set(`${name}/${id}`, { width: r.size, height: r.size, rgb: r.rgb });
      }
    } finally {
      ds.close();
    }
  }
  const missing = keys.find((k) => !out.has(k));
  if (missing) throw new Error(`retrieval: image ${missing} is in none of ${dirs.join(', ')}`);
  return out;
}

/**
 * The pretraining transform with retrieval: for a document of record i, draw n in {0, 1, 2}; with 2,
 * one document retrieved by image and one by text; with 1, either; then `retrieved ... query`, the
 * query passed through `inner` (the CM3 transform) first. `maxTokens` (the training sequence length)
 * budgets the example: retrieved documents are dropped until it fits.
 */
export function retrievalTransform(
  plan: RetrievalPlan, recordOf: ReadonlyMap<Int32Array, number>, tok: MultimodalTokenizer,
  inner: (doc: Int32Array, rng: Rng) => Int32Array, o: { maxDocs?: number; maxTokens?: number } = {},
): (doc: Int32Array, rng: Rng) => Int32Array {
  const maxDocs = o.maxDocs ?? 2;
  const maxTokens = o.maxTokens ?? Infinity;
  const docCache = new Map<number, Int32Array>();
  const bankDoc = (j: number): Int32Array => {
    let d = docCache.get(j);
    if (!d) {
      d = tok.encode([textSegment(plan.bank[j]!.text), imageSegment(plan.bank[j]!.codes)]);
      docCache.set(j, d);
    }
    return d;
  };
  return (doc, rng) => {
    const query = inner(doc, rng);
    const i = recordOf.get(doc);
    if (i === undefined) return query; // held-out documents: no retrieval
    const n = rng.int(maxDocs + 1);
    if (n === 0) return query;
    const img = plan.byImage[i] ?? [];
    const txt = plan.byText[i] ?? [];
    const picked: number[] = [];
    const pick = (list: readonly number[]): void => {
      const options = list.filter((j) => !picked.includes(j));
      if (options.length) picked.push(options[rng.int(options.length)]!);
    };
    if (n >= 2) {
      pick(img);
      pick(txt);
    } else pick(rng.uniform() < 0.5 ? img : txt);
    // Sequence budget: drop retrieved documents (the text-retrieved one first) until the example fits.
    const size = (): number => picked.reduce((t, j) => t + bankDoc(j).length, query.length);
    while (picked.length > 0 && size() > maxTokens) picked.pop();
    const parts = [...picked.map(bankDoc), query];
    const out = new Int32Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
}
