/**
 * The one training loop that every model trains through (decoder, image tokenizer, bi-encoder).
 * A recipe supplies the model-specific parts: its parameters, the loss of one micro-batch, what to
 * do after each update (clamps, codebook restarts, a second player's step), how to evaluate and
 * how to write the model's files. The loop owns AdamW with linear warmup + cosine decay, global
 * gradient clipping, gradient accumulation, NaN/Inf handling, the progress line (items/s, ETA),
 * run/metrics.jsonl, run/loss.png and the crash-safe checkpoint of run-dir.ts.
 *
 * Losses and norms are read with async reads and checkpoints go through host copies, so the same
 * loop runs on the CPU and on WebGPU. The recipe's batches must depend only on (step, micro), so a
 * run resumed from a checkpoint (after a SIGKILL, say) sees exactly the batches an uninterrupted
 * one would, and ends with the same weights.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../tensor/index.js';
import { AdamW, clipGradNormAsync, warmupCosine, type ParamGroup } from '../nn/index.js';
import { findCheckpoint, readTrainerState, restoreOptimizer, writeCheckpoint, type TrainerState } from './run-dir.js';
import { writePlot } from './plot.js';
import { formatDuration, progressLine } from './progress.js';

/** A micro-batch's scalar loss, and optional scalar statistics (read and logged with it). */
export type StepLoss = T.Tensor | { loss: T.Tensor; stats: Record<string, T.Tensor> };

export interface EvalReport {
  /** The held-out loss when there is one (it sets bestEvalLoss and the orange curve). */
  loss: number | null;
  /** Logged to metrics.jsonl with the step. */
  record: Record<string, unknown>;
  line: string;
}

export interface Recipe {
  /** Restores the model's weights from a checkpoint folder (called before `named`, when resuming). */
  restore?(dir: string, state: TrainerState): void | Promise<void>;
  /** The trained parameters by name; the names key the optimizer moments in the checkpoint. */
  named(): Map<string, T.Tensor>;
  /** Optimizer groups over the named parameters (default: one group, the AdamW's weight decay). */
  groups?(): ParamGroup[];
  betas: [number, number];
  weightDecay: number;
  /** Items (tokens, images, pairs) per optimizer step: the progress line's rate and ETA. */
  itemsPerStep: number;
  /** The rate's unit in the progress line and metrics: 'tok', 'images', 'pairs'. */
  unit: string;
  /** Asynchronous work before micro-batch `micro` of step `step` (reads from the device, say). */
  prepare?(step: number, micro: number): Promise<void>;
  /** Loss of micro-batch `micro` of step `step`; built inside the loop's tidy, which backprops it. */
  loss(step: number, micro: number): StepLoss;
  /**
   * After the update of step `step` (0-based), with that step's statistics (the recipe may add
   * to them), its learning rate, and a writer of extra metrics.jsonl entries.
   */
  afterUpdate?(step: number, ctx: { stats: Record<string, number>; lr: number; record: (entry: Record<string, unknown>) => void }): void | Promise<void>;
  /** The numbers for the progress line and metrics at log time (default: the step's statistics). */
  progress?(stats: Record<string, number>): Record<string, number>;
  evaluate?(): Promise<EvalReport>;
  /** Writes the model's files into a checkpoint folder (device tensors have host copies then). */
  writeModel(dir: string, state: TrainerState): void;
  /** Tensors besides the named parameters that writeModel reads (they get host copies too). */
  extraTensors?(): T.Tensor[];
  /** State to keep in trainer.json's `extra` (restored through `restore`). */
  extra?(): Record<string, unknown>;
}

export interface FitOptions {
  runDir: string;
  steps: number;
  lr: number;
  /** Floor of the cosine (default lr / 10). */
  minLr?: number;
  warmup: number;
  /** Global gradient-norm limit (default 1). */
  clip?: number;
  accumulate?: number;
  evalEvery?: number;
  checkpointEvery?: number;
  logEvery?: number;
  /** Stop (with a checkpoint) after this step, keeping the schedule of `steps`. */
  stopAfter?: number;
  /** Stop (with a checkpoint) once this many seconds of training have passed in this process. */
  maxSeconds?: number;
  /** Continue from the run directory's checkpoint when there is one. */
  resume?: boolean;
  /** Stop after this many consecutive non-finite steps (default 5). */
  maxBadSteps?: number;
  log?: (line: string, final: boolean) => void;
}

export interface FitResult {
  step: number;
  lastLoss: number;
  evalLoss: number | null;
  /** Items per second over the last measured window (0 when the run was too short). */
  rate: number;
  /** Losses of the steps taken in this call. */
  losses: number[];
  /** Training seconds, over all resumed parts. */
  seconds: number;
  state: TrainerState;
}

export const defaultLog = (line: string, final: boolean): void => {
  process.stdout.write(process.stdout.isTTY && !final ? `\r${line}` : `${line}\n`);
};

async function readStats(stats: Record<string, T.Tensor>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [k, t] of Object.entries(stats)) out[k] = await t.itemAsync();
  return out;
}

export async function fit(recipe: Recipe, o: FitOptions): Promise<FitResult> {
  const accumulate = o.accumulate ?? 1;
  const evalEvery = o.evalEvery ?? 100;
  const checkpointEvery = o.checkpointEvery ?? 100;
  const logEvery = o.logEvery ?? 1;
  const log = o.log ?? defaultLog;
  mkdirSync(o.runDir, { recursive: true });
  const metricsPath = join(o.runDir, 'metrics.jsonl');

  let state: TrainerState = { step: 0, tokensSeen: 0, bestEvalLoss: null, extra: {} };
  const ckpt = o.resume ? findCheckpoint(o.runDir) : null;
  if (ckpt) {
    state = readTrainerState(ckpt);
    await recipe.restore?.(ckpt, state);
    log(`resumed from step ${state.step} (the checkpoint ${ckpt}, written at step ${state.step})`, true);
  } else if (o.resume) log(`no checkpoint in ${o.runDir}: starting from scratch`, true);
  // A fresh run starts a fresh log (a resumed one appends; readers keep the last entry per step).
  if (!ckpt) writeFileSync(metricsPath, '');
  const named = recipe.named();
  const params = [...named.values()];
  const opt = new AdamW(recipe.groups?.() ?? params, { lr: o.lr, betas: recipe.betas, weightDecay: recipe.weightDecay });
  if (ckpt) restoreOptimizer(ckpt, opt, named, state.step);

  const priorSeconds = Number(state.extra.seconds ?? 0);
  const t0 = performance.now();
  const seconds = (): number => priorSeconds + (performance.now() - t0) / 1000;
  const history: [number, number][] = [];
  const evalHistory: [number, number][] = [];
  const losses: number[] = [];
  let lastLoss = NaN;
  let evalLoss: number | null = null;
  let badSteps = 0;
  let windowStart = performance.now();
  let windowItems = 0;
  let rate = 0;
  const record = (obj: Record<string, unknown>): void => appendFileSync(metricsPath, `${JSON.stringify(obj)}\n`);
  const plot = (): void => writePlot(join(o.runDir, 'loss.png'), [{ points: history, colour: [40, 90, 200] }, { points: evalHistory, colour: [220, 80, 30] }], { title: 'loss (blue: train, orange: held-out)' });
  const checkpoint = async (): Promise<void> => {
    state.extra = { ...state.extra, ...recipe.extra?.(), seconds: seconds() };
    await T.withHostCopies([...params, ...opt.stateTensors(), ...(recipe.extraTensors?.() ?? [])], () =>
      writeCheckpoint(o.runDir, { writeModel: (dir) => recipe.writeModel(dir, state), opt, named, state }));
  };

  const lastStep = Math.min(o.steps, o.stopAfter ?? Infinity);
  while (state.step < lastStep) {
    opt.lr = warmupCosine(state.step, { peakLr: o.lr, warmup: o.warmup, totalSteps: o.steps, minLr: o.minLr ?? o.lr / 10 });
    let lossSum = 0;
    let stats: Record<string, number> = {};
    for (let micro = 0; micro < accumulate; micro++) {
      await recipe.prepare?.(state.step, micro);
      const out = T.tidy(() => {
        const r = recipe.loss(state.step, micro);
        const { loss: full, stats: s } = r instanceof T.Tensor ? { loss: r, stats: {} } : r;
        const loss = accumulate > 1 ? T.div(full, accumulate) : full;
        T.backward(loss);
        return { loss, s };
      });
      lossSum += await out.loss.itemAsync();
      stats = await readStats(out.s);
      out.loss.dispose();
      for (const t of Object.values(out.s)) t.dispose();
    }
    const gradNorm = await clipGradNormAsync(params, o.clip ?? 1.0);
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
    await recipe.afterUpdate?.(state.step, { stats, lr: opt.lr, record });
    state.step++;
    state.tokensSeen += recipe.itemsPerStep;
    windowItems += recipe.itemsPerStep;
    lastLoss = lossSum;
    losses.push(lossSum);
    history.push([state.step, lossSum]);
    const elapsed = (performance.now() - windowStart) / 1000;
    if (elapsed > 2) {
      rate = windowItems / elapsed;
      windowStart = performance.now();
      windowItems = 0;
    }
    if (state.step % logEvery === 0 || state.step === o.steps) {
      const more = recipe.progress ? recipe.progress(stats) : stats;
      const perSecond = recipe.unit === 'tok' ? 'tokensPerSecond' : `${recipe.unit}PerSecond`;
      record({ step: state.step, loss: lossSum, ...more, lr: opt.lr, gradNorm, [perSecond]: Math.round(rate), tokensSeen: state.tokensSeen, time: new Date().toISOString() });
      const eta = rate > 0 ? ((o.steps - state.step) * recipe.itemsPerStep) / rate : NaN;
      log(progressLine({ step: state.step, steps: o.steps, loss: lossSum, stats: more, lr: opt.lr, rate, unit: recipe.unit, eta }), false);
    }
    if (recipe.evaluate && (state.step % evalEvery === 0 || state.step === o.steps)) {
      const r = await recipe.evaluate();
      if (r.loss !== null) {
        evalLoss = r.loss;
        evalHistory.push([state.step, r.loss]);
        if (state.bestEvalLoss === null || r.loss < state.bestEvalLoss) state.bestEvalLoss = r.loss;
      }
      record({ step: state.step, ...r.record });
      log(`step ${state.step}: ${r.line}`, true);
      plot();
    }
    const timeUp = o.maxSeconds !== undefined && (performance.now() - t0) / 1000 >= o.maxSeconds;
    if (state.step % checkpointEvery === 0 || state.step === lastStep || timeUp) await checkpoint();
    if (timeUp) {
      log(`stopping at step ${state.step} after ${formatDuration(seconds())}: time limit reached (resume with --resume)`, true);
      break;
    }
  }
  if (history.length > 0) plot();
  return { step: state.step, lastLoss, evalLoss, rate, losses, seconds: seconds(), state };
}
