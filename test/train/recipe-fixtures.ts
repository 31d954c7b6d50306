/**
 * The three recipes at toy size, each run through one function, for the SIGKILL and WebGPU tests:
 * the decoder on the synthetic corpus, the image tokenizer on 16 px Shapes scenes, the bi-encoder
 * on 16 px colour blocks with captions. All train on the current backend.
 */
import { renderScene, sampleScene, Rng as DataRng } from '../../src/data/index.js';
import { train } from '../../src/train/trainer.js';
import { trainImageTokenizer } from '../../src/train/image-tokenizer.js';
import { trainClip } from '../../src/train/bi-encoder.js';
import { ClipModel, defaultClipConfig, type ClipConfig } from '../../src/retrieval/clip.js';
import { ClipEncoder } from '../../src/retrieval/clip-encoder.js';
import type { ClipItem } from '../../src/retrieval/clip-eval.js';
import { loadTokenizerJson } from '../../src/tokenizers/tokenizer-json.js';
import type { VqConfig } from '../../src/tokenizers/vq/config.js';
import { ImageTokenizer } from '../../src/tokenizers/vq/image-tokenizer.js';
import type { Tensor } from '../../src/tensor/index.js';
import { source, tinyModel } from './fixtures.js';

export type RecipeKind = 'decoder' | 'image-tokenizer' | 'image-tokenizer-decoder' | 'bi-encoder';

export interface ToyRun {
  runDir: string;
  steps: number;
  stopAfter?: number;
  resume?: boolean;
  /** Stop (with a checkpoint) after this many seconds in this process (image tokenizer, bi-encoder). */
  maxSeconds?: number;
  log?: (line: string) => void;
}

export interface ToyResult {
  step: number;
  losses: number[];
  lastLoss: number;
  params: Map<string, Tensor>;
}

const TINY_VQ: VqConfig = { imageSize: 16, factor: 4, codebookSize: 32, codeDim: 8, channels: [8, 16, 16], resBlocks: [0, 1, 1], groups: 4 };
const TOKENIZER = 'models/text-tokenizer/tokenizer.json';

function scenes(n: number): Uint8Array[] {
  const rng = new DataRng(5);
  return Array.from({ length: n }, () => renderScene(sampleScene(rng, 'train'), 16).rgb);
}

export function toyClipConfig(): ClipConfig {
  return defaultClipConfig(loadTokenizerJson(TOKENIZER).vocabSize, { imageSize: 16, channels: [8, 16, 16, 16], textWidth: 32, textHeads: 2, textLayers: 1, hidden: 32, embedDim: 16, textMaxLen: 16 });
}

export function clipItems(): ClipItem[] {
  const colours: [number, number, number][] = [[230, 30, 30], [30, 200, 40], [30, 50, 230], [240, 220, 30], [10, 10, 10], [140, 40, 180]];
  return colours.flatMap((c, k) => [false, true].map((right) => {
    const rgb = new Uint8Array(16 * 16 * 3).fill(128);
    for (let y = 2; y < 14; y++) for (let x = right ? 9 : 1; x < (right ? 15 : 7); x++) rgb.set(c, (y * 16 + x) * 3);
    return { dataset: 'toy', imageId: `${k}-${right}`, conceptId: String(k), style: 'flat', captions: [`colour ${k} on the ${right ? 'right' : 'left'}`], rgb };
  }));
}

/** A starting tokenizer for decoder-only runs (fixed seed, so every process builds the same one). */
function startTokenizer(): ImageTokenizer {
  return new ImageTokenizer(TINY_VQ, 3);
}

/** Trains `kind` for `o.steps` (checkpoints every 2 steps, a progress line every step). */
export async function runToy(kind: RecipeKind, o: ToyRun): Promise<ToyResult> {
  const log = o.log ?? ((): void => {});
  if (kind === 'decoder') {
    const r = await train(tinyModel(), source(), { runDir: o.runDir, steps: o.steps, stopAfter: o.stopAfter, resume: o.resume, lr: 3e-3, warmup: 2, evalEvery: 1000, checkpointEvery: 2, log: (l) => log(l) });
    return { step: r.step, losses: [], lastLoss: r.lastLoss, params: r.model.namedParameters() };
  }
  if (kind === 'bi-encoder') {
    const tok = loadTokenizerJson(TOKENIZER);
    const config = toyClipConfig();
    const r = await trainClip({
      out: o.runDir, config, encoderFor: (m: ClipModel) => new ClipEncoder(m, tok, TOKENIZER), train: clipItems(), batch: 8, lr: 3e-3, warmup: 2,
      steps: o.steps, resume: o.resume, maxSeconds: o.maxSeconds, checkpointEvery: 2, logEvery: 1, log,
    });
    return { step: r.step, losses: [], lastLoss: r.lastLoss, params: r.encoder.model.namedParameters() };
  }
  const decoderOnly = kind === 'image-tokenizer-decoder';
  const r = await trainImageTokenizer({
    out: o.runDir, images: scenes(24), config: TINY_VQ, steps: o.steps, batchSize: 4, lr: 2e-3, warmup: 2, restartEvery: 5,
    checkpointEvery: 2, logEvery: 1, resume: o.resume, maxSeconds: o.maxSeconds, log, ...(decoderOnly ? { init: startTokenizer(), decoderOnly: true, loss: { adversarial: 0.1 } } : {}),
  });
  return { step: r.step, losses: r.losses, lastLoss: r.losses[r.losses.length - 1] ?? NaN, params: r.tokenizer.namedParameters() };
}

/** The largest absolute difference between two runs' parameters (by name). */
export async function maxDifference(a: Map<string, Tensor>, b: Map<string, Tensor>): Promise<number> {
  let d = 0;
  for (const [name, p] of a) {
    const x = await p.data();
    const y = await b.get(name)!.data();
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(Number(x[i]) - Number(y[i])));
  }
  return d;
}
