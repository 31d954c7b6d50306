/**
 * The paper's Fig. 4 samples-per-prompt axis in miniature: for each held-out one-object Shapes
 * caption, draw up to N_max samples with TopP + CFG and with CD-K; for N in the sweep, keep the best
 * of the first N by CLIP score (the bi-encoder), for TopP alone, CD-K alone and their mixture
 * (half from each). Scored by the Shapes parser (shape, colour, position and all three of the kept
 * image: independent of the reranker) and by the CLIP score itself (which reranking raises by
 * construction). Images are generated once, at N_max, and the sweep reads prefixes.
 */
import type { RgbImage } from '../data/index.js';
import { parseShapes } from '../data/index.js';
import type { Cm3leon } from '../decoding/pipeline.js';
import { clipScores } from '../decoding/rerank.js';
import type { BiEncoder } from '../retrieval/encoders.js';
import type { CaptionItem } from './generation-eval.js';

export type Strategy = 'topp' | 'cdk' | 'mixture';

export interface SweepPoint {
  strategy: Strategy;
  samples: number;
  shape: number;
  colour: number;
  position: number;
  allThree: number;
  clipScore: number;
}

export interface SamplesSweepOptions {
  ns?: number[];
  cfg?: number;
  cdk?: { k: number; alpha: number };
  topP?: number;
  seed?: number;
  log?: (l: string) => void;
}

interface Scored {
  image: RgbImage;
  clip: number;
  hit: { shape: boolean; colour: boolean; position: boolean };
}

function judge(item: CaptionItem, image: RgbImage): Scored['hit'] {
  const t = item.objects![0]!;
  const parsed = parseShapes(image).objects;
  const nearest = [...parsed].sort((p, q) => Math.hypot(p.x - t.x, p.y - t.y) - Math.hypot(q.x - t.x, q.y - t.y))[0];
  return {
    shape: parsed.some((p) => p.shape === t.shape),
    colour: parsed.some((p) => p.colour === t.colour),
    position: nearest !== undefined && Math.hypot(nearest.x - t.x, nearest.y - t.y) < 0.15,
  };
}

/** The sweep over one-object Shapes items (others are skipped). */
export async function samplesSweep(m: Cm3leon, items: readonly CaptionItem[], encoder: BiEncoder, o: SamplesSweepOptions = {}): Promise<SweepPoint[]> {
  const ns = o.ns ?? [1, 2, 4, 8, 16];
  const nMax = Math.max(...ns);
  const single = items.filter((it) => it.objects?.length === 1);
  if (single.length === 0) throw new Error('samples sweep: no one-object Shapes items');
  const cdk = o.cdk ?? { k: 8, alpha: 0.1 };
  const pools: { topp: Scored[]; cdk: Scored[] }[] = [];
  for (const [i, it] of single.entries()) {
    const draw = async (strategy: 'topp' | 'cdk'): Promise<Scored[]> => {
      const images: RgbImage[] = [];
      for (let s = 0; s < nMax; s++) {
        const seed = (o.seed ?? 0) + 1000 * i + s;
        const options = strategy === 'topp' ? { temperature: 1, topP: o.topP ?? 0.9, cfg: o.cfg ?? 3, seed } : { temperature: 1, topP: 1, cdk, seed };
        images.push(m.generateImage(it.caption, options).image);
      }
      const clip = await clipScores(encoder, it.caption, images);
      return images.map((image, s) => ({ image, clip: clip[s]!, hit: judge(it, image) }));
    };
    pools.push({ topp: await draw('topp'), cdk: await draw('cdk') });
    o.log?.(`samples sweep: ${i + 1}/${single.length} captions, ${2 * nMax} images each`);
  }
  const points: SweepPoint[] = [];
  for (const strategy of ['topp', 'cdk', 'mixture'] as const) {
    for (const n of ns) {
      const kept = pools.map((p) => {
        const candidates = strategy === 'topp' ? p.topp.slice(0, n) : strategy === 'cdk' ? p.cdk.slice(0, n) : [...p.topp.slice(0, Math.ceil(n / 2)), ...p.cdk.slice(0, Math.floor(n / 2))];
        return candidates.reduce((best, c) => (c.clip > best.clip ? c : best));
      });
      const mean = (f: (s: Scored) => number): number => kept.reduce((a, s) => a + f(s), 0) / kept.length;
      points.push({
        strategy, samples: n,
        shape: mean((s) => +s.hit.shape), colour: mean((s) => +s.hit.colour), position: mean((s) => +s.hit.position),
        allThree: mean((s) => +(s.hit.shape && s.hit.colour && s.hit.position)), clipScore: mean((s) => s.clip),
      });
    }
  }
  return points;
}
