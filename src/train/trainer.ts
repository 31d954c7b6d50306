/**
 * The training loop: AdamW (betas 0.9/0.95, decoupled weight decay), linear warmup + cosine decay,
 * global gradient clipping, gradient accumulation, periodic held-out evaluation, crash-safe
 * checkpoints with optimizer state (`resume` continues from the last one, so a SIGKILL loses at
 * most one checkpoint interval), NaN/Inf detection, a progress line with tokens/s and ETA, a JSONL
 * metric log and a loss-curve PNG. Runs on the model's backend (CPU or WebGPU: losses and norms
 * are read asynchronously, checkpoints through host copies). Data comes from a BatchSource that is deterministic in
 * (step, micro-batch), so a resumed run sees exactly the batches an uninterrupted one would.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../tensor/index.js';
import { AdamW, clipGradNormAsync, warmupCosine } from '../nn/index.js';
import type { Decoder } from '../model/decoder.js';
import { findCheckpoint, loadCheckpoint, saveCheckpoint, type TrainerState } from './run-dir.js';
import { writePlot } from './plot.js';

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

export interface TrainOptions {
  runDir: string;
  steps: number;
  lr: number;
  minLr?: number;
  warmup: number;
  weightDecay?: number;
  betas?: [number, number];
  clip?: number;
  accumulate?: number;
  evalEvery?: number;
  checkpointEvery?: number;
  logEvery?: number;
  /** Stop (with a checkpoint) after this step, keeping the schedule of `steps` — a time-boxed part of a longer run. */
  stopAfter?: number;
  /** Continue from the run directory's checkpoint when there is one. */
  resume?: boolean;
  /** Stop after this many consecutive non-finite steps (default 5). */
  maxBadSteps?: number;
  log?: (line: string, final: boolean) => void;
}

export interface TrainResult {
  model: Decoder;
  step: number;
  lastLoss: number;
  evalLoss: number | null;
  tokensPerSecond: number;
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
}

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

/** Trains `model` (or the checkpoint's model when resuming) and returns it. */
export async function train(initial: Decoder, source: BatchSource, o: TrainOptions): Promise<TrainResult> {
  const accumulate = o.accumulate ?? 1;
  const evalEvery = o.evalEvery ?? 100;
  const checkpointEvery = o.checkpointEvery ?? 100;
  const logEvery = o.logEvery ?? 1;
  const log = o.log ?? ((line, final) => process.stdout.write(process.stdout.isTTY && !final ? `\r${line}` : `${line}\n`));
  mkdirSync(o.runDir, { recursive: true });
  const metricsPath = join(o.runDir, 'metrics.jsonl');

  let model = initial;
  let state: TrainerState = { step: 0, tokensSeen: 0, bestEvalLoss: null, extra: {} };
  const ckpt = o.resume ? findCheckpoint(o.runDir) : null;
  let restore: ((opt: AdamW) => void) | null = null;
  if (ckpt) {
    const loaded = loadCheckpoint(ckpt);
    model = loaded.model;
    state = loaded.state;
    restore = loaded.restoreOptimizer;
    log(`resumed from ${ckpt} at step ${state.step}`, true);
  }
  // A fresh run starts a fresh log (a resumed one appends; readers keep the last entry per step).
  if (!ckpt) writeFileSync(metricsPath, '');
  const opt = new AdamW(model.parameters(), { lr: o.lr, betas: o.betas ?? [0.9, 0.95], weightDecay: o.weightDecay ?? 0.1 });
  if (restore) restore(opt);

  const { batchSize, seqLen } = source;
  const tokensPerStep = batchSize * seqLen * accumulate;
  const history: [number, number][] = [];
  const evalHistory: [number, number][] = [];
  let lastLoss = NaN;
  let evalLoss: number | null = null;
  let badSteps = 0;
  let windowStart = performance.now();
  let windowTokens = 0;
  let rate = 0;

  const checkpoint = (): Promise<void> => T.withHostCopies([...model.parameters(), ...opt.stateTensors()], () => saveCheckpoint(o.runDir, model, opt, state));
  const backend = model.embedTokens.weight.backend.name;
  const record = (obj: Record<string, unknown>): void => appendFileSync(metricsPath, `${JSON.stringify(obj)}\n`);

  const lastStep = Math.min(o.steps, o.stopAfter ?? Infinity);
  while (state.step < lastStep) {
    opt.lr = warmupCosine(state.step, { peakLr: o.lr, warmup: o.warmup, totalSteps: o.steps, minLr: o.minLr ?? o.lr / 10 });
    let lossSum = 0;
    for (let micro = 0; micro < accumulate; micro++) {
      const b = source.batch(state.step, micro);
      const lossT = T.tidy(() => {
        const ids = T.tensor(b.ids, [batchSize, seqLen], { dtype: 'i32', backend });
        const targets = T.tensor(b.targets, [batchSize, seqLen], { dtype: 'i32', backend });
        const loss = accumulate > 1 ? T.div(model.loss(ids, targets), accumulate) : model.loss(ids, targets);
        T.backward(loss);
        return loss;
      });
      lossSum += await lossT.itemAsync();
      lossT.dispose();
    }
    const gradNorm = await clipGradNormAsync(model.parameters(), o.clip ?? 1.0);
    if (!Number.isFinite(lossSum) || !Number.isFinite(gradNorm)) {
      opt.zeroGrad();
      badSteps++;
      record({ step: state.step, event: 'non-finite', loss: lossSum, gradNorm });
      log(`step ${state.step}: non-finite loss or gradient (loss ${lossSum}, grad norm ${gradNorm}); step skipped`, true);
      if (badSteps >= (o.maxBadSteps ?? 5)) {
        throw new Error(`training stopped: ${badSteps} consecutive non-finite steps at step ${state.step}; the last checkpoint in ${o.runDir} is intact (lower the learning rate and resume)`);
      }
      continue;
    }
    badSteps = 0;
    opt.stepUpdate();
    opt.zeroGrad();
    state.step++;
    state.tokensSeen += tokensPerStep;
    windowTokens += tokensPerStep;
    lastLoss = lossSum;
    history.push([state.step, lossSum]);
    const elapsed = (performance.now() - windowStart) / 1000;
    if (elapsed > 2) {
      rate = windowTokens / elapsed;
      windowStart = performance.now();
      windowTokens = 0;
    }
    if (state.step % logEvery === 0 || state.step === o.steps) {
      record({ step: state.step, loss: lossSum, lr: opt.lr, gradNorm, tokensPerSecond: Math.round(rate), tokensSeen: state.tokensSeen, time: new Date().toISOString() });
      const eta = rate > 0 ? ((o.steps - state.step) * tokensPerStep) / rate : NaN;
      const done = Math.round((30 * state.step) / o.steps);
      log(`[${'#'.repeat(done)}${'.'.repeat(30 - done)}] step ${state.step}/${o.steps} loss ${lossSum.toFixed(4)} lr ${opt.lr.toExponential(2)} ${Math.round(rate)} tok/s ETA ${fmtTime(eta)}`, false);
    }
    if (state.step % evalEvery === 0 || state.step === o.steps) {
      evalLoss = await evaluate(model, source.evalBatches(), batchSize, seqLen);
      evalHistory.push([state.step, evalLoss]);
      if (state.bestEvalLoss === null || evalLoss < state.bestEvalLoss) state.bestEvalLoss = evalLoss;
      record({ step: state.step, evalLoss });
      log(`step ${state.step}: held-out loss ${evalLoss.toFixed(4)}`, true);
      writePlot(join(o.runDir, 'loss.png'), [{ points: history, colour: [40, 90, 200] }, { points: evalHistory, colour: [220, 80, 30] }], { title: 'loss (blue: train, orange: held-out)' });
    }
    if (state.step % checkpointEvery === 0 || state.step === lastStep) await checkpoint();
  }
  return { model, step: state.step, lastLoss, evalLoss, tokensPerSecond: rate };
}
