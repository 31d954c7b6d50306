/**
 * The decoder's recipe for the training loop (fit.ts): next-token cross-entropy on packed token
 * rows from a BatchSource that is deterministic in (step, micro-batch), held-out evaluation, and
 * checkpoints holding the decoder (model.safetensors + config.json). AdamW betas 0.9 / 0.95,
 * weight decay 0.1 on every parameter.
 */
import * as T from '../tensor/index.js';
import type { Decoder } from '../model/decoder.js';
import { loadDecoder, saveDecoder } from '../model/checkpoint.js';
import { fit, type FitOptions, type Recipe } from './fit.js';

export interface Batch {
  /** (batch * seq) token ids and next-token targets (-100 = no loss), row-major. */
  ids: Int32Array;
  targets: Int32Array;
}

export interface BatchSource {
  readonly batchSize: number;
  readonly seqLen: number;
  batch(step: number, micro: number): Batch;
  /** A fixed held-out set, for evaluation. */
  evalBatches(): Batch[];
}

/** The loop's options (fit.ts) without its wall-clock limit, plus AdamW's betas and weight decay. */
export interface TrainOptions extends Omit<FitOptions, 'maxSeconds'> {
  weightDecay?: number;
  betas?: [number, number];
}

export interface TrainResult {
  model: Decoder;
  step: number;
  lastLoss: number;
  evalLoss: number | null;
  tokensPerSecond: number;
}

/** Mean next-token loss over the held-out batches, weighted by their target counts. */
export async function evaluate(model: Decoder, batches: Batch[], batchSize: number, seqLen: number): Promise<number> {
  let total = 0;
  let count = 0;
  const backend = model.embedTokens.weight.backend.name;
  for (const b of batches) {
    const lossT = T.tidy(() => T.noGrad(() => {
      const ids = T.tensor(b.ids, [batchSize, seqLen], { dtype: 'i32', backend });
      const targets = T.tensor(b.targets, [batchSize, seqLen], { dtype: 'i32', backend });
      return model.loss(ids, targets);
    }));
    const loss = await lossT.itemAsync();
    lossT.dispose();
    const n = b.targets.reduce((s, t) => s + (t === -100 ? 0 : 1), 0);
    if (n > 0) {
      total += loss * n;
      count += n;
    }
  }
  return count ? total / count : NaN;
}

/** The decoder recipe; `model` is replaced by the checkpoint's decoder when resuming. */
export function decoderRecipe(initial: Decoder, source: BatchSource, o: { accumulate?: number; betas?: [number, number]; weightDecay?: number } = {}): Recipe & { model: Decoder } {
  const { batchSize, seqLen } = source;
  return {
    model: initial,
    restore(dir) {
      this.model = loadDecoder(dir); // on the current backend
    },
    named() {
      return this.model.namedParameters();
    },
    betas: o.betas ?? [0.9, 0.95],
    weightDecay: o.weightDecay ?? 0.1,
    itemsPerStep: batchSize * seqLen * (o.accumulate ?? 1),
    unit: 'tok',
    loss(step, micro) {
      const b = source.batch(step, micro);
      const backend = this.model.embedTokens.weight.backend.name;
      const ids = T.tensor(b.ids, [batchSize, seqLen], { dtype: 'i32', backend });
      const targets = T.tensor(b.targets, [batchSize, seqLen], { dtype: 'i32', backend });
      return this.model.loss(ids, targets);
    },
    async evaluate() {
      const loss = await evaluate(this.model, source.evalBatches(), batchSize, seqLen);
      return { loss, record: { evalLoss: loss }, line: `held-out loss ${loss.toFixed(4)}` };
    },
    writeModel(dir, state) {
      saveDecoder(dir, this.model, { step: String(state.step) });
    },
  };
}

/** Trains `model` (or the checkpoint's model when resuming) and returns it. */
export async function train(initial: Decoder, source: BatchSource, o: TrainOptions): Promise<TrainResult> {
  const recipe = decoderRecipe(initial, source, o);
  const r = await fit(recipe, { ...o, evalEvery: o.evalEvery ?? 100 });
  return { model: recipe.model, step: r.step, lastLoss: r.lastLoss, evalLoss: r.evalLoss, tokensPerSecond: r.rate };
}
