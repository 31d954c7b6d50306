/**
 * The image tokenizer's recipe for the training loop (fit.ts): random batches seeded per step (a
 * resumed run sees the same ones), L1 + edge + codebook + commitment losses (and the optional MSE,
 * outline, contrast and adversarial terms of src/tokenizers/vq/losses.ts), AdamW betas 0.9 / 0.99
 * with weight decay on the convolution kernels only, the cosine ending at lr / 20, and dead-code
 * restarts after the updates. With a discriminator, its own AdamW (VQGAN's betas 0.5 / 0.9) steps
 * after the tokenizer's, on the same batch.
 *
 * `out` is the run directory: config.json + model.safetensors at its top (the newest checkpointed
 * weights, always loadable), metrics.jsonl, loss.png, and checkpoint/ (run-dir.ts) holding the
 * tokenizer's files, discriminator{,-optimizer}.safetensors with an adversary, and trainer.json
 * whose `extra` keeps the config and the code-usage counters.
 *
 * On WebGPU only --decoder-only trains: its codes are read with an asynchronous search before each
 * step, while the whole model's quantiser reads its scores synchronously.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, clipGradNormAsync } from '../nn/index.js';
import { add, backward, getBackend, mul, noGrad, setBackend, tensor, tidy, Rng, type Tensor } from '../tensor/index.js';
import { TokenizerError } from '../tokenizers/errors.js';
import { vqConfigFor, type VqConfig } from '../tokenizers/vq/config.js';
import { ImageTokenizer } from '../tokenizers/vq/image-tokenizer.js';
import { imagesToFloats } from '../tokenizers/vq/images.js';
import { CodeUsage, codebookUsage, restartCandidates } from '../tokenizers/vq/quantizer.js';
import { PatchDiscriminator, hingeDiscriminatorLoss, hingeGeneratorLoss } from '../tokenizers/vq/discriminator.js';
import { DEFAULT_LOSS_WEIGHTS, batchFor, pixelLoss, type LossWeights } from '../tokenizers/vq/losses.js';
import { fit, type Recipe } from './fit.js';
import { findCheckpoint, restoreOptimizer, saveOptimizer } from './run-dir.js';

export interface TrainOptions {
  out: string;
  /** Training images, size x size RGB bytes (see src/tokenizers/vq/dataset.ts). */
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
  /** Train the decoder only: encoder and codebook stay fixed, so every image keeps its codes. Needs `init`. */
  decoderOnly?: boolean;
  /** Train the encoder only: codebook and decoder stay fixed, so every code grid decodes as before. Needs `init`. */
  encoderOnly?: boolean;
}

export interface TrainResult {
  tokenizer: ImageTokenizer;
  step: number;
  seconds: number;
  losses: number[];
  usage: { perplexity: number; usedFraction: number };
}

/** A config from the CLI-level knobs (grid at imageSize, codebook size, width). */
export function trainConfig(o: { imageSize?: number; grid?: number; codebookSize?: number; codeDim?: number; width?: number }): VqConfig {
  return vqConfigFor(o);
}

/** The tokenizer on the current backend (weights are read and checked on the CPU, then copied). */
function onCurrentBackend(tok: ImageTokenizer): ImageTokenizer {
  const name = getBackend().name;
  if (tok.encoder.parameters()[0]!.backend.name === name) return tok;
  const copy = new ImageTokenizer(tok.config, 1);
  copy.loadStateDict(tok.stateDict());
  return copy;
}

function loadOnCpu(dir: string): ImageTokenizer {
  const previous = getBackend().name;
  setBackend('cpu');
  try {
    return ImageTokenizer.load(dir);
  } finally {
    setBackend(previous);
  }
}

interface Adversary { disc: PatchDiscriminator; opt: AdamW }

function validate(o: TrainOptions): void {
  if (o.images.length === 0) throw new TokenizerError('no training images');
  if (o.decoderOnly && !o.init) throw new TokenizerError('decoder-only training needs a tokenizer to start from (--init DIR)');
  if (o.encoderOnly && !o.init) throw new TokenizerError('encoder-only training needs a tokenizer to start from (--init DIR)');
  if (o.encoderOnly && o.decoderOnly) throw new TokenizerError('train the encoder only or the decoder only, not both');
  if (o.resume && existsSync(join(o.out, 'checkpoint', 'latest.json')) && !findCheckpoint(o.out)) {
    throw new TokenizerError(`cannot resume: ${join(o.out, 'checkpoint')} has the earlier checkpoint layout (latest.json); start from its weights with --init ${o.out} instead`);
  }
  if (o.init && JSON.stringify(o.init.config) !== JSON.stringify(o.config)) {
    throw new TokenizerError(`the starting tokenizer's config ${JSON.stringify(o.init.config)} differs from the requested ${JSON.stringify(o.config)}`);
  }
}

/** Trains (or, with `resume`, continues training) an image tokenizer. Bad options throw before the returned promise exists. */
export function trainImageTokenizer(o: TrainOptions): Promise<TrainResult> {
  validate(o);
  return run(o);
}

async function run(o: TrainOptions): Promise<TrainResult> {
  const log = o.log ?? ((line: string) => console.error(line));
  const batchSize = o.batchSize ?? 16;
  const seed = o.seed ?? 1;
  const lr = o.lr ?? 2e-3;
  const w = { ...DEFAULT_LOSS_WEIGHTS, ...o.loss };
  const decoderOnly = o.decoderOnly === true;
  const encoderOnly = o.encoderOnly === true;
  const restartEvery = decoderOnly || encoderOnly ? 0 : o.restartEvery ?? 50;
  const size = o.config.imageSize;
  if (getBackend().name !== 'cpu' && !decoderOnly) throw new TokenizerError(`on ${getBackend().name} the image tokenizer trains with --decoder-only (the whole model's quantiser reads on the CPU)`);
  let tok = onCurrentBackend(o.init ?? new ImageTokenizer(o.config, seed));
  const usage = new CodeUsage(o.config.codebookSize);
  let adv: Adversary | null = null;
  const newAdversary = (disc: PatchDiscriminator): Adversary => ({ disc, opt: new AdamW([{ params: disc.parameters() }], { lr, betas: [0.5, 0.9], weightDecay: 0 }) });
  if (w.adversarial > 0) adv = newAdversary(new PatchDiscriminator(32, 3, seed + 7));
  const info = { training: { steps: o.steps, batchSize, lr, seed, loss: w, decoderOnly, encoderOnly, data: o.dataInfo ?? {} } };
  const trained = (t: ImageTokenizer): Tensor[] => decoderOnly ? t.decoder.parameters() : encoderOnly ? t.encoder.parameters() : t.parameters();
  let frozen: Tensor[] = [];

  // One step's host-side batch and what the update hooks need from its forward pass.
  let x: Float32Array = new Float32Array(0);
  let ids: Int32Array | null = null; // decoder-only: the fixed codes, (B * g * g)
  let quantHost: { ids: Int32Array; zHost: Float32Array; bestSim: Float32Array } | null = null;
  let kept: { xt: Tensor; fake: Tensor } | null = null; // for the discriminator's step
  let restarted = 0;

  const recipe: Recipe = {
    restore(dir, state) {
      if (JSON.stringify(state.extra.config) !== JSON.stringify(o.config)) {
        throw new TokenizerError(`cannot resume: the checkpoint's config ${JSON.stringify(state.extra.config)} differs from the requested ${JSON.stringify(o.config)}`);
      }
      tok = onCurrentBackend(loadOnCpu(dir));
      usage.counts.set(state.extra.usageWindow as number[]);
      usage.total.set(state.extra.usageTotal as number[]);
      if (adv && existsSync(join(dir, 'discriminator.safetensors'))) {
        adv = newAdversary(PatchDiscriminator.load(join(dir, 'discriminator.safetensors')));
        restoreOptimizer(dir, adv.opt, adv.disc.namedParameters(), state.step, 'discriminator-optimizer.safetensors');
      }
    },
    named() {
      const set = new Set(trained(tok));
      // Frozen parts take no gradients (else they would pile up, step after step, unused).
      frozen = encoderOnly ? [...tok.decoder.parameters(), ...tok.quantizer.parameters()] : [];
      for (const p of frozen) p.requiresGrad = false;
      return new Map([...tok.namedParameters()].filter(([, p]) => set.has(p)));
    },
    groups() {
      const params = trained(tok);
      return [{ params: params.filter((p) => p.rank === 4) }, { params: params.filter((p) => p.rank !== 4), weightDecay: 0 }];
    },
    betas: [0.9, 0.99],
    weightDecay: o.weightDecay ?? 1e-4,
    itemsPerStep: batchSize,
    unit: 'images',
    async prepare(step) {
      const { index, flip } = batchFor(seed, step, o.images.length, batchSize);
      x = imagesToFloats(index.map((i) => o.images[i]!), size, flip); // (B, 3, S, S)
      if (decoderOnly) {
        const z = tidy(() => noGrad(() => tok.encoder.forward(tensor(x, [batchSize, 3, size, size])))).keep(); // (B, D, g, g)
        try {
          ids = await tok.quantizer.nearestIdsAsync(z);
        } finally {
          z.dispose();
        }
      }
    },
    loss() {
      const xt = tensor(x, [batchSize, 3, size, size]);
      let recon: Tensor;
      let codebook: Tensor;
      let commit: Tensor;
      if (decoderOnly) {
        // Fixed codes: the lookup is a constant, only the decoder learns.
        recon = tok.decoder.forward(noGrad(() => tok.quantizer.lookup(ids!, batchSize, tok.grid, tok.grid)));
        codebook = commit = tensor(new Float32Array([0]), []);
        quantHost = { ids: ids!, zHost: new Float32Array(0), bestSim: new Float32Array(0) };
      } else {
        const f = tok.forward(xt);
        recon = f.recon;
        ({ codebookLoss: codebook, commitLoss: commit } = f.quant);
        quantHost = { ids: f.quant.ids, zHost: f.quant.zHost, bestSim: f.quant.bestSim };
      }
      const p = pixelLoss(recon, xt, x, w);
      let loss = add(p.total, add(mul(codebook, w.codebook), mul(commit, w.commit)));
      // The decoder's side of the game: D's gradients from this term are dropped before D's step.
      const gen = adv ? hingeGeneratorLoss(adv.disc.forward(recon)) : null;
      if (gen) loss = add(loss, mul(gen, w.adversarial));
      kept = adv ? { xt: xt.keep(), fake: noGrad(() => mul(recon, 1)).keep() } : null; // (B, 3, S, S) each
      const stats: Record<string, Tensor> = { l1: p.l1, mse: p.mse, codebook, commit };
      if (p.edge) stats.edge = p.edge;
      if (p.outline) stats.outline = p.outline;
      if (p.contrast) stats.contrast = p.contrast;
      if (gen) stats.gen = gen;
      return { loss, stats };
    },
    async afterUpdate(step, { stats, lr: stepLr, record }) {
      if (adv && kept) {
        const { disc, opt } = adv;
        opt.lr = stepLr;
        opt.zeroGrad();
        const d = tidy(() => {
          const l = hingeDiscriminatorLoss(disc.forward(kept!.xt), disc.forward(kept!.fake));
          backward(l);
          return l;
        });
        await clipGradNormAsync(disc.parameters(), 1.0);
        opt.stepUpdate();
        opt.zeroGrad();
        stats.disc = await d.itemAsync();
        d.dispose();
      }
      if (kept) for (const t of [kept.xt, kept.fake]) t.dispose();
      kept = null;
      const q = quantHost!;
      usage.add(q.ids);
      // Restarts come 5x as often over the first 4 intervals, when the encoder moves fastest and
      // codes die in bulk; step 0 of a fresh tokenizer moves every code onto this batch's encoder
      // outputs (data init). A tokenizer from --init keeps its trained codebook.
      restarted = 0;
      const every = step < 4 * restartEvery ? Math.max(1, Math.round(restartEvery / 5)) : restartEvery;
      if (restartEvery > 0 && step === 0 && !o.init) {
        const all = Array.from({ length: o.config.codebookSize }, (_, k) => k);
        restarted = tok.quantizer.restart(all, q.zHost, restartCandidates(q.bestSim, all.length, new Rng(seed + 99)));
        usage.resetWindow();
      } else if (restartEvery > 0 && (step + 1) % every === 0) {
        const dead = usage.dead(1);
        if (dead.length > 0) restarted = tok.quantizer.restart(dead, q.zHost, restartCandidates(q.bestSim, dead.length, new Rng((seed * 31 + step) >>> 0)) /* per-step seed: resumable */);
        usage.resetWindow();
      }
      const logEvery = o.logEvery ?? 20;
      if (restarted > 0 && (step + 1) % logEvery !== 0 && step + 1 !== o.steps) record({ step: step + 1, restarted });
    },
    progress(stats) {
      const u = codebookUsage(usage.total);
      usage.total.fill(0); // the usage shown covers one log interval
      const { mse, gen, disc, ...rest } = stats;
      return {
        ...rest, ...(adv ? { gen: gen ?? 0, disc: disc ?? 0 } : {}),
        // Pixels are in [-1, 1]: a range of 2, so PSNR = 10 log10(4 / MSE).
        psnr: 10 * Math.log10(4 / Math.max(mse ?? 0, 1e-12)), codesUsed: u.usedFraction, perplexity: u.perplexity, restarted,
      };
    },
    writeModel(dir, state) {
      const withSteps = { ...info, trainedSteps: state.step, trainSeconds: Math.round(Number(state.extra.seconds ?? 0)) };
      tok.save(dir, withSteps);
      if (adv) {
        adv.disc.save(join(dir, 'discriminator.safetensors'));
        saveOptimizer(dir, adv.opt, adv.disc.namedParameters(), 'discriminator-optimizer.safetensors');
      }
      tok.save(o.out, withSteps); // the newest weights at the top level, always loadable
    },
    // save() reads every weight, the fixed ones too.
    extraTensors: () => [...tok.parameters(), ...(adv ? [...adv.disc.parameters(), ...adv.opt.stateTensors()] : [])],
    extra: () => ({ config: o.config, usageWindow: [...usage.counts], usageTotal: [...usage.total], options: { batchSize, lr, seed, loss: w, restartEvery, decoderOnly, encoderOnly } }),
  };
  try {
    const r = await fit(recipe, {
      runDir: o.out, steps: o.steps, lr, minLr: o.minLr ?? lr / 20, warmup: o.warmup ?? Math.min(200, Math.ceil(o.steps / 10)), clip: 1,
      checkpointEvery: o.checkpointEvery ?? 200, logEvery: o.logEvery ?? 20, resume: o.resume, maxSeconds: o.maxSeconds, log: (line) => log(line),
    });
    const u = codebookUsage(usage.counts);
    return { tokenizer: tok, step: r.step, seconds: r.seconds, losses: r.losses, usage: { perplexity: u.perplexity, usedFraction: u.usedFraction } };
  } finally {
    for (const p of frozen) p.requiresGrad = true;
  }
}
