/**
 * Several samples for one caption, the way the paper decodes for quality: N seeds, optionally a
 * mixture of guidance kinds (the first half CFG, the rest CD-K), generated B at a time as one batch,
 * and optionally reranked by CLIP score (best first). Sample i always has seed seed + i, so the
 * images do not depend on the batch size.
 */
import type { RgbImage } from '../data/index.js';
import type { ClipEncoder } from '../retrieval/clip-encoder.js';
import type { RetrievedDocument } from '../retrieval/retriever.js';
import type { Cm3leon, ImageOptions } from './pipeline.js';
import { rerankByClip } from './rerank.js';
import { contextDocuments } from './retrieval-context.js';

export interface SampleOptions extends Omit<ImageOptions, 'onPartialImage' | 'partialEvery'> {
  /** How many samples (default 1, at most 256). */
  samples?: number;
  /** Samples per batch (default 1, at most 64): each sample and its guidance stream are rows of one forward. */
  batch?: number;
  /** Order the samples by CLIP score under this bi-encoder, best first. */
  rerank?: ClipEncoder;
  /** Documents retrieved for the caption (Cm3leon.retrieve), prepended to every sample. */
  retrieved?: readonly RetrievedDocument[];
}

export interface Sample {
  image: RgbImage;
  codes: Int32Array;
  /** The sample's index in generation order (0-based) and its seed. */
  index: number;
  seed: number;
  guidance: 'cfg' | 'cd-k' | 'cfg+cd-k' | 'none';
  /** CLIP score, when reranked. */
  score?: number;
}

/** Generates the samples (any backend) and returns them in generation order, or best first when reranked. */
export async function generateSamples(m: Cm3leon, caption: string, o: SampleOptions = {}): Promise<Sample[]> {
  // The command line's sampling defaults, as in Cm3leon.generate.
  const { samples = 1, batch = 1, rerank, retrieved = [], cfg, cdk, ...rest } = { temperature: 1, topP: 0.9, ...o };
  if (!Number.isInteger(samples) || samples < 1 || samples > 256) throw new RangeError(`generate: samples must be an integer in [1, 256], got ${samples}`);
  if (!Number.isInteger(batch) || batch < 1 || batch > 64) throw new RangeError(`generate: batch must be an integer in [1, 64], got ${batch}`);
  const mixture = cfg !== undefined && cdk !== undefined;
  if (mixture && samples < 2) throw new RangeError('generate: cfg and cd-k together make a mixture of samples (half each): ask for 2 or more samples');
  if (rerank && samples < 2) throw new RangeError('generate: reranking orders several samples: ask for 2 or more');
  const context = [...(rest.context ?? []), ...contextDocuments(retrieved)];
  const base = rest.seed ?? 0;
  // A mixture: the first ceil(N/2) samples with CFG, the rest with CD-K.
  const firstCdk = mixture ? Math.ceil(samples / 2) : samples;
  const out: Sample[] = [];
  for (let i0 = 0; i0 < samples; ) {
    const end = i0 < firstCdk ? firstCdk : samples;
    const n = Math.min(batch, end - i0);
    const guidance = mixture ? (i0 < firstCdk ? { cfg } : { cdk }) : { cfg, cdk };
    const kind: Sample['guidance'] = guidance.cfg !== undefined ? (guidance.cdk !== undefined ? 'cfg+cd-k' : 'cfg') : guidance.cdk !== undefined ? 'cd-k' : 'none';
    const generated = await m.generateImagesAsync(Array.from({ length: n }, () => caption), { ...rest, ...guidance, seed: base + i0, context });
    generated.forEach((g, j) => out.push({ ...g, index: i0 + j, seed: base + i0 + j, guidance: kind }));
    i0 += n;
  }
  if (!rerank) return out;
  const order = await rerankByClip(rerank, caption, out.map((s) => s.image));
  return order.map(({ index, score }) => ({ ...out[index]!, score }));
}
