/**
 * Training the image tokenizer: random batches (seeded per step, so a resumed run sees the same
 * batches), L1 reconstruction + image-gradient (edge) L1 + codebook + commitment losses, AdamW with
 * warmup-cosine, dead-code restarts, progress lines with images/s and ETA, a JSONL metric log, and
 * checkpoints with the optimizer state every `checkpointEvery` steps (a kill loses at most one
 * interval; `resume: true` continues from the last one).
 *
 * Layout of `out`: config.json + model.safetensors (the latest weights, always loadable),
 * train-log.jsonl, checkpoint/ckpt-<step>/{model,optimizer}.safetensors + state.json, and
 * checkpoint/latest.json naming the newest complete checkpoint (written last, atomically).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, clipGradNorm, loadOptimizerState, saveOptimizerState, warmupCosine, writeFileAtomic } from '../../nn/index.js';
import { abs, add, backward, mean, mul, noGrad, slice, sub, tensor, tidy, Rng, type Tensor } from '../../tensor/index.js';
import { TokenizerError } from '../errors.js';
import { vqConfigFor, type VqConfig } from './config.js';
import { ImageTokenizer } from './image-tokenizer.js';
import { imagesToFloats } from './images.js';
import { CodeUsage, codebookUsage, restartCandidates, type QuantizeResult } from './quantizer.js';
import { PatchDiscriminator, hingeDiscriminatorLoss, hingeGeneratorLoss } from './discriminator.js';

export interface LossWeights {
  l1: number;
  /** L1 between the horizontal and vertical pixel differences of output and input (sharp edges). */
  edge: number;
  mse: number;
  codebook: number;
  commit: number;
  /**
   * Extra L1 on the pixels near an outline of the input (see outlineMask): small objects are
   * almost all outline, so this weights them up against flat background.
   */
  outline: number;
  /**
   * Extra L1 near outlines divided by the outline's colour contrast (see contrastMask): the error
   * in units of the step between object and background, so a faint pink-on-grey edge counts as much
   * as a black-on-white one. Reading a shape back (and seeing it) depends on that fraction, not on
   * the raw pixel error.
   */
  contrast: number;
  /** Weight of the patch discriminator's hinge term (0: no discriminator). See discriminator.ts. */
  adversarial: number;
}

export const DEFAULT_LOSS_WEIGHTS: LossWeights = { l1: 1, edge: 0.5, mse: 0, codebook: 1, commit: 0.25, outline: 0, contrast: 0, adversarial: 0 };

export interface TrainOptions {
  out: string;
  /** Training images, size x size RGB bytes (see dataset.ts). */
  images: readonly Uint8Array[];
  config: VqConfig;
  steps: number;
  batchSize?: number;
  lr?: number;
  minLr?: number;
  warmup?: number;
  weightDecay?: number;
  seed?: number;
  loss?: Partial<LossWeights>;
  /** Restart codes unused over this many steps (0: never). */
  restartEvery?: number;
  checkpointEvery?: number;
  logEvery?: number;
  resume?: boolean;
  /** Where the images came from, recorded in the checkpoint and config. */
  dataInfo?: Record<string, unknown>;
  log?: (line: string) => void;
  /** Stop after this many seconds (checkpointing first), whatever `steps` says. */
  maxSeconds?: number;
  /** Start from these weights instead of a fresh initialisation (ignored when resuming). */
  init?: ImageTokenizer;
  /**
   * Train the decoder only: encoder and codebook stay fixed, so every image keeps exactly the codes
   * it had, and models and banks that store codes stay valid. Needs `init`. No dead-code restarts.
   */
  decoderOnly?: boolean;
  /**
   * Train the encoder only: codebook and decoder stay fixed, so any code grid (one a model
   * generates, say) decodes to exactly the picture it did before, while images may get new codes
   * that the fixed decoder draws better. Gradients reach the encoder through the straight-through
   * quantiser. Needs `init`. No dead-code restarts.
   */
  encoderOnly?: boolean;
}

export interface TrainResult {
  tokenizer: ImageTokenizer;
  step: number;
  seconds: number;
  losses: number[];
  usage: { perplexity: number; usedFraction: number };
}

interface StepMetrics { loss: number; l1: number; edge: number; outline: number; contrast: number; codebook: number; commit: number; psnr: number; gradNorm: number; gen: number; disc: number }

/**
 * For each pixel of x (B, 3, S, S floats in [-1, 1]), the largest step to a pixel of its 3x3
 * neighbourhood: `metric` 'max' takes the largest channel difference, 'euclid' the RGB distance.
 * (B, S, S).
 */
function neighbourSteps(x: Float32Array, batch: number, size: number, metric: 'max' | 'euclid'): Float32Array {
  const plane = size * size;
  const out = new Float32Array(batch * plane);
  for (let b = 0; b < batch; b++) {
    const base = b * 3 * plane;
    for (let y = 0; y < size; y++) {
      for (let xx = 0; xx < size; xx++) {
        const p = y * size + xx;
        let e = 0;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= size) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xq = xx + dx;
            if (xq < 0 || xq >= size || (dx === 0 && dy === 0)) continue;
            const q = yy * size + xq;
            let d = 0;
            for (let c = 0; c < 3; c++) {
              const v = Math.abs(x[base + c * plane + q]! - x[base + c * plane + p]!);
              d = metric === 'max' ? Math.max(d, v) : d + v * v;
            }
            e = Math.max(e, metric === 'max' ? d : Math.sqrt(d));
          }
        }
        out[b * plane + p] = e;
      }
    }
  }
  return out;
}

/** (B, S, S) per-pixel values -> (B, 3, S, S), the same value on all three channels. */
function toChannels(m: Float32Array, batch: number, size: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(batch * 3 * plane);
  for (let b = 0; b < batch; b++) for (let c = 0; c < 3; c++) out.set(m.subarray(b * plane, (b + 1) * plane), (b * 3 + c) * plane);
  return out;
}

/**
 * (B, 3, S, S) weights in [0, 1] of x (B, 3, S, S floats in [-1, 1]): for each pixel, the largest
 * difference, over the channels and the 3x3 neighbourhood, to its neighbours, reaching 1 at a step
 * of 0.25 (32 grey levels). Flat areas get 0, both sides of every outline get 1. The same value on
 * all three channels.
 */
export function outlineMask(x: Float32Array, batch: number, size: number): Float32Array {
  return toChannels(neighbourSteps(x, batch, size, 'max').map((e) => Math.min(1, e / 0.25)), batch, size);
}

/**
 * (B, 3, S, S) weights of x (B, 3, S, S floats in [-1, 1]) that turn an L1 error into a fraction of
 * the local outline's contrast: e = the largest RGB distance to a 3x3 neighbour, weight
 * min(1, e / 0.25) x min(2, 1 / e). Flat areas get 0; a step of distance e >= 0.5 gets 1 / e (pink
 * on grey, e = 0.78: 1.28; green on white, e = 1.77: 0.57); fainter steps are capped at 2, so
 * shading and anti-aliasing are not blown up. The same value on all three channels.
 */
export function contrastMask(x: Float32Array, batch: number, size: number): Float32Array {
  return toChannels(neighbourSteps(x, batch, size, 'euclid').map((e) => Math.min(1, e / 0.25) * Math.min(2, 1 / Math.max(e, 1e-6))), batch, size);
}

/** mean |d/dx a - d/dx b| + mean |d/dy a - d/dy b| for (B, C, H, W). */
function edgeLoss(a: Tensor, b: Tensor): Tensor {
  const dx = (t: Tensor): Tensor => sub(slice(t, 3, 1), slice(t, 3, 0, -1));
  const dy = (t: Tensor): Tensor => sub(slice(t, 2, 1), slice(t, 2, 0, -1));
  return add(mean(abs(sub(dx(a), dx(b)))), mean(abs(sub(dy(a), dy(b)))));
}

/**
 * The pixel terms of the loss for recon and x (B, 3, S, S; `x` also on the host, for the outline
 * masks): w.l1 x L1 + w.edge x edge L1 + w.mse x MSE + w.outline x outline L1 + w.contrast x
 * contrast-normalised outline L1, and each term (null where its weight is 0; MSE always, for the
 * PSNR it reports).
 */
export function pixelLoss(recon: Tensor, xt: Tensor, x: Float32Array, w: LossWeights): { total: Tensor; l1: Tensor; edge: Tensor | null; mse: Tensor; outline: Tensor | null; contrast: Tensor | null } {
  const [batch, , size] = xt.shape as [number, number, number, number];
  const diff = sub(recon, xt);
  const l1 = mean(abs(diff));
  const edge = w.edge > 0 ? edgeLoss(recon, xt) : null;
  const mse = mean(mul(diff, diff));
  const outline = w.outline > 0 ? mean(mul(abs(diff), tensor(outlineMask(x, batch, size), [batch, 3, size, size]))) : null;
  const contrast = w.contrast > 0 ? mean(mul(abs(diff), tensor(contrastMask(x, batch, size), [batch, 3, size, size]))) : null;
  let total = mul(l1, w.l1);
  if (edge) total = add(total, mul(edge, w.edge));
  if (w.mse > 0) total = add(total, mul(mse, w.mse));
  if (outline) total = add(total, mul(outline, w.outline));
  if (contrast) total = add(total, mul(contrast, w.contrast));
  return { total, l1, edge, mse, outline, contrast };
}

/** The images of one step: a seeded draw depending only on (seed, step), with random mirroring. */
export function batchFor(seed: number, step: number, count: number, batchSize: number): { index: number[]; flip: boolean[] } {
  const rng = new Rng((seed * 1_000_003 + step * 7919 + 17) >>> 0);
  const index: number[] = [];
  const flip: boolean[] = [];
  for (let i = 0; i < batchSize; i++) {
    index.push(Math.floor(rng.uniform() * count));
    flip.push(rng.uniform() < 0.5);
  }
  return { index, flip };
}

const CKPT_DIR = 'checkpoint';

interface CheckpointState {
  step: number;
  config: VqConfig;
  seconds: number;
  usageWindow: number[];
  usageTotal: number[];
  options: Record<string, unknown>;
}

interface Adversary { disc: PatchDiscriminator; opt: AdamW }

function saveCheckpoint(out: string, tok: ImageTokenizer, opt: AdamW, state: CheckpointState, info: Record<string, unknown>, adv: Adversary | null): void {
  const root = join(out, CKPT_DIR);
  const dir = join(root, `ckpt-${String(state.step).padStart(7, '0')}`);
  mkdirSync(dir, { recursive: true });
  tok.save(dir, info);
  saveOptimizerState(join(dir, 'optimizer.safetensors'), opt);
  if (adv) {
    adv.disc.save(join(dir, 'discriminator.safetensors'));
    saveOptimizerState(join(dir, 'discriminator-optimizer.safetensors'), adv.opt);
  }
  writeFileAtomic(join(dir, 'state.json'), JSON.stringify(state));
  writeFileAtomic(join(root, 'latest.json'), JSON.stringify({ dir: `ckpt-${String(state.step).padStart(7, '0')}`, step: state.step }));
  // The weights at the top level are always the newest complete ones.
  tok.save(out, info);
  for (const name of readdirSync(root)) {
    if (name.startsWith('ckpt-') && name !== `ckpt-${String(state.step).padStart(7, '0')}`) rmSync(join(root, name), { recursive: true, force: true });
  }
}

function loadCheckpoint(out: string): { tok: ImageTokenizer; state: CheckpointState; optimizer: ReturnType<typeof loadOptimizerState>; dir: string } | null {
  const latest = join(out, CKPT_DIR, 'latest.json');
  if (!existsSync(latest)) return null;
  let dir: string;
  try {
    dir = join(out, CKPT_DIR, (JSON.parse(readFileSync(latest, 'utf8')) as { dir: string }).dir);
  } catch (e) {
    throw new TokenizerError(`cannot resume: ${latest} is unreadable (${(e as Error).message})`);
  }
  const tok = ImageTokenizer.load(dir);
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as CheckpointState;
  return { tok, state, optimizer: loadOptimizerState(join(dir, 'optimizer.safetensors'), state.step), dir };
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}

export function trainImageTokenizer(o: TrainOptions): TrainResult {
  const log = o.log ?? ((line: string) => console.error(line));
  const batchSize = o.batchSize ?? 16;
  const seed = o.seed ?? 1;
  const lr = o.lr ?? 2e-3;
  const minLr = o.minLr ?? lr / 20;
  const warmup = o.warmup ?? Math.min(200, Math.ceil(o.steps / 10));
  const w = { ...DEFAULT_LOSS_WEIGHTS, ...o.loss };
  const restartEvery = o.decoderOnly || o.encoderOnly ? 0 : o.restartEvery ?? 50;
  const checkpointEvery = o.checkpointEvery ?? 200;
  const logEvery = o.logEvery ?? 20;
  const size = o.config.imageSize;
  if (o.images.length === 0) throw new TokenizerError('no training images');
  mkdirSync(o.out, { recursive: true });

  if (o.decoderOnly && !o.init) throw new TokenizerError('decoder-only training needs a tokenizer to start from (--init DIR)');
  if (o.encoderOnly && !o.init) throw new TokenizerError('encoder-only training needs a tokenizer to start from (--init DIR)');
  if (o.encoderOnly && o.decoderOnly) throw new TokenizerError('train the encoder only or the decoder only, not both');
  if (o.init && JSON.stringify(o.init.config) !== JSON.stringify(o.config)) {
    throw new TokenizerError(`the starting tokenizer's config ${JSON.stringify(o.init.config)} differs from the requested ${JSON.stringify(o.config)}`);
  }
  let tok = o.init ?? new ImageTokenizer(o.config, seed);
  let startStep = 0;
  let priorSeconds = 0;
  const usage = new CodeUsage(o.config.codebookSize);
  const resumed = o.resume ? loadCheckpoint(o.out) : null;
  if (o.resume && !resumed) log(`no checkpoint in ${join(o.out, CKPT_DIR)}: starting from scratch`);
  if (resumed) {
    if (JSON.stringify(resumed.state.config) !== JSON.stringify(o.config)) {
      throw new TokenizerError(`cannot resume: the checkpoint's config ${JSON.stringify(resumed.state.config)} differs from the requested ${JSON.stringify(o.config)}`);
    }
    tok = resumed.tok;
    startStep = resumed.state.step;
    priorSeconds = resumed.state.seconds;
    usage.counts.set(resumed.state.usageWindow);
    usage.total.set(resumed.state.usageTotal);
  }
  const decoderOnly = o.decoderOnly === true;
  const encoderOnly = o.encoderOnly === true;
  const params = decoderOnly ? tok.decoder.parameters() : encoderOnly ? tok.encoder.parameters() : tok.parameters();
  // Frozen parts take no gradients (else they would pile up, step after step, unused).
  const frozen = encoderOnly ? [...tok.decoder.parameters(), ...tok.quantizer.parameters()] : [];
  for (const p of frozen) p.requiresGrad = false;
  const decay = params.filter((p) => p.rank === 4);
  const noDecay = params.filter((p) => p.rank !== 4);
  const opt = new AdamW([{ params: decay }, { params: noDecay, weightDecay: 0 }], { lr, betas: [0.9, 0.99], weightDecay: o.weightDecay ?? 1e-4 });
  if (resumed) opt.importState(resumed.optimizer);
  if (resumed) log(`resumed from step ${startStep} (${formatSeconds(priorSeconds)} of training so far)`);
  // The discriminator, its own AdamW (VQGAN's betas 0.5 / 0.9), resumed with the rest when saved.
  let adv: Adversary | null = null;
  if (w.adversarial > 0) {
    const saved = resumed ? join(resumed.dir, 'discriminator.safetensors') : '';
    const disc = saved && existsSync(saved) ? PatchDiscriminator.load(saved) : new PatchDiscriminator(32, 3, seed + 7);
    const dOpt = new AdamW([{ params: disc.parameters() }], { lr, betas: [0.5, 0.9], weightDecay: 0 });
    if (saved && existsSync(saved)) dOpt.importState(loadOptimizerState(join(resumed!.dir, 'discriminator-optimizer.safetensors'), startStep));
    adv = { disc, opt: dOpt };
  }

  const info = { training: { steps: o.steps, batchSize, lr, seed, loss: w, decoderOnly, encoderOnly, data: o.dataInfo ?? {} } };
  const logPath = join(o.out, 'train-log.jsonl');
  const t0 = performance.now();
  const losses: number[] = [];
  let windowImages = 0;
  let windowStart = performance.now();
  let step = startStep;
  const checkpoint = (): void => {
    const seconds = priorSeconds + (performance.now() - t0) / 1000;
    saveCheckpoint(o.out, tok, opt, {
      step, config: o.config, seconds, usageWindow: [...usage.counts], usageTotal: [...usage.total],
      options: { batchSize, lr, minLr, warmup, seed, loss: w, restartEvery, decoderOnly, encoderOnly },
    }, { ...info, trainedSteps: step, trainSeconds: Math.round(seconds) }, adv);
  };

  for (; step < o.steps; ) {
    opt.lr = warmupCosine(step, { peakLr: lr, warmup, totalSteps: o.steps, minLr });
    if (adv) adv.opt.lr = opt.lr;
    const { index, flip } = batchFor(seed, step, o.images.length, batchSize);
    const x = imagesToFloats(index.map((i) => o.images[i]!), size, flip);
    let restarted = 0;
    const m = tidy((): StepMetrics => {
      const xt = tensor(x, [batchSize, 3, size, size]);
      let recon: Tensor;
      let quant: Omit<QuantizeResult, 'zq'>;
      if (decoderOnly) {
        // Fixed codes: the lookup is a constant, only the decoder learns.
        const ids = tok.encodeTensor(xt);
        const zq = noGrad(() => tok.quantizer.lookup(ids, batchSize, tok.grid, tok.grid));
        recon = tok.decoder.forward(zq);
        const zero = tensor(new Float32Array([0]), []);
        quant = { ids, codebookLoss: zero, commitLoss: zero, zHost: new Float32Array(0), bestSim: new Float32Array(0) };
      } else {
        ({ recon, quant } = tok.forward(xt));
      }
      const { total, l1, edge, mse: mseT, outline, contrast } = pixelLoss(recon, xt, x, w);
      let loss = add(total, add(mul(quant.codebookLoss, w.codebook), mul(quant.commitLoss, w.commit)));
      // The decoder's side of the game: D's gradients from this term are dropped (zeroed below).
      const gen = adv ? hingeGeneratorLoss(adv.disc.forward(recon)) : null;
      if (gen) loss = add(loss, mul(gen, w.adversarial));
      const fake = adv ? noGrad(() => mul(recon, 1)) : null; // (B, 3, S, S), a constant for D's step
      backward(loss);
      const gradNorm = clipGradNorm(params, 1.0);
      opt.stepUpdate();
      opt.zeroGrad();
      let disc: Tensor | null = null;
      if (adv && fake) {
        adv.opt.zeroGrad();
        disc = hingeDiscriminatorLoss(adv.disc.forward(xt), adv.disc.forward(fake));
        backward(disc);
        clipGradNorm(adv.disc.parameters(), 1.0);
        adv.opt.stepUpdate();
        adv.opt.zeroGrad();
      }
      usage.add(quant.ids);
      // Restarts come 5x as often over the first 4 intervals, when the encoder moves fastest and
      // codes die in bulk; step 0 of a fresh tokenizer moves every code onto this batch's encoder
      // outputs (data init). A tokenizer from --init keeps its trained codebook.
      const every = step < 4 * restartEvery ? Math.max(1, Math.round(restartEvery / 5)) : restartEvery;
      if (restartEvery > 0 && step === 0 && startStep === 0 && !o.init) {
        const all = Array.from({ length: o.config.codebookSize }, (_, k) => k);
        restarted = tok.quantizer.restart(all, quant.zHost, restartCandidates(quant.bestSim, all.length, new Rng(seed + 99)));
        usage.resetWindow();
      } else if (restartEvery > 0 && (step + 1) % every === 0) {
        const dead = usage.dead(1);
        if (dead.length > 0) restarted = tok.quantizer.restart(dead, quant.zHost, restartCandidates(quant.bestSim, dead.length, new Rng((seed * 31 + step) >>> 0)) /* per-step seed: resumable */);
        usage.resetWindow();
      }
      const mseV = mseT.item();
      return {
        loss: loss.item(), l1: l1.item(), edge: edge ? edge.item() : 0, outline: outline ? outline.item() : 0, contrast: contrast ? contrast.item() : 0, codebook: quant.codebookLoss.item(), commit: quant.commitLoss.item(),
        // Pixels are in [-1, 1]: a range of 2, so PSNR = 10 log10(4 / MSE).
        psnr: 10 * Math.log10(4 / Math.max(mseV, 1e-12)), gradNorm, gen: gen ? gen.item() : 0, disc: disc ? disc.item() : 0,
      };
    });
    if (!Number.isFinite(m.loss)) throw new Error(`image tokenizer training diverged at step ${step}: loss ${m.loss}`);
    losses.push(m.loss);
    step++;
    windowImages += batchSize;
    if (step % logEvery === 0 || step === o.steps) {
      const now = performance.now();
      const ips = windowImages / ((now - windowStart) / 1000);
      const u = codebookUsage(usage.total);
      const eta = ((o.steps - step) * batchSize) / ips;
      log(`step ${step}/${o.steps} loss ${m.loss.toFixed(4)} l1 ${m.l1.toFixed(4)} edge ${m.edge.toFixed(4)}${w.outline > 0 ? ` outline ${m.outline.toFixed(4)}` : ''}${w.contrast > 0 ? ` contrast ${m.contrast.toFixed(4)}` : ''}${adv ? ` gen ${m.gen.toFixed(3)} disc ${m.disc.toFixed(3)}` : ''} commit ${m.commit.toFixed(4)} ` +
        `psnr ${m.psnr.toFixed(2)} dB | codes used ${(100 * u.usedFraction).toFixed(0)}% ppl ${u.perplexity.toFixed(0)}` +
        `${restarted ? ` restarted ${restarted}` : ''} | lr ${opt.lr.toExponential(2)} | ${ips.toFixed(1)} images/s ETA ${formatSeconds(eta)}`);
      appendFileSync(logPath, `${JSON.stringify({ step, ...m, lr: opt.lr, imagesPerSec: ips, perplexity: u.perplexity, usedFraction: u.usedFraction, restarted, time: new Date().toISOString() })}\n`);
      windowImages = 0;
      windowStart = now;
      usage.total.fill(0);
    } else if (restarted > 0) {
      appendFileSync(logPath, `${JSON.stringify({ step, restarted })}\n`);
    }
    const elapsed = (performance.now() - t0) / 1000;
    const outOfTime = o.maxSeconds !== undefined && elapsed > o.maxSeconds;
    if (step % checkpointEvery === 0 || step === o.steps || outOfTime) checkpoint();
    if (outOfTime) {
      log(`stopping at step ${step}: --max-minutes reached (resume with --resume)`);
      break;
    }
  }
  const seconds = priorSeconds + (performance.now() - t0) / 1000;
  for (const p of frozen) p.requiresGrad = true;
  const u = codebookUsage(usage.counts);
  return { tokenizer: tok, step, seconds, losses, usage: { perplexity: u.perplexity, usedFraction: u.usedFraction } };
}

/** A config from the CLI-level knobs (grid at imageSize, codebook size, width). */
export function trainConfig(o: { imageSize?: number; grid?: number; codebookSize?: number; codeDim?: number; width?: number }): VqConfig {
  return vqConfigFor(o);
}
