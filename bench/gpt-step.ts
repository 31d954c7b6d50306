/**
 * One GPT training step (forward, backward, AdamW) on the current default backend, over a fixed
 * random batch, for the benchmarks (bench/webgpu.ts, bench/gpu/webgpu-bench.ts). `step()` queues a
 * step and keeps its loss (read it with `lastLoss()`); `dispose()` frees everything.
 */
import * as T from '../src/index.js';
import { Decoder } from '../src/model/decoder.js';

export interface GptShape {
  vocabSize: number;
  dim: number;
  heads: number;
  layers: number;
  maxPositions: number;
  batch: number;
  seq: number;
}

export function gptTrainingStep(c: GptShape): { model: Decoder; step: () => void; lastLoss: () => Promise<number>; dispose: () => void } {
  const model = new Decoder({ vocabSize: c.vocabSize, dim: c.dim, heads: c.heads, layers: c.layers, maxPositions: c.maxPositions, initStd: 0.02, zeroOutputLayers: false });
  const opt = new T.AdamW(model.parameters(), { lr: 1e-3, betas: [0.9, 0.95], weightDecay: 0.1 });
  const rng = new T.Rng(3);
  const idsData = Int32Array.from({ length: c.batch * c.seq }, () => rng.int(c.vocabSize));
  const ids = T.tensor(idsData, [c.batch, c.seq], { dtype: 'i32' }).keep();
  const targets = T.tensor(Int32Array.from(idsData, (_, i) => idsData[(i + 1) % idsData.length]!), [c.batch, c.seq], { dtype: 'i32' }).keep();
  let last: T.Tensor | null = null;
  return {
    model,
    step: () => {
      last?.dispose();
      last = T.tidy(() => { const l = model.loss(ids, targets); T.backward(l); return l; }).keep();
      opt.stepUpdate();
      opt.zeroGrad();
    },
    lastLoss: () => (last ? last.itemAsync() : Promise.resolve(NaN)),
    dispose: () => T.dispose([ids, targets, ...(last ? [last] : []), ...model.parameters()]),
  };
}
