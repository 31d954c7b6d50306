/**
 * Training and evaluating the bi-encoder (clip.ts) on the datasets' caption pairs.
 *
 * Data: one item per captioned image (its captions, 64 px RGB bytes, concept and style). A step
 * draws `batch` distinct images (seeded by the step, so a resumed run sees the same batches) and one
 * of each image's captions; the loss is CLIP's symmetric InfoNCE over the (B, B) similarity matrix
 * scaled by exp(logitScale), clamped at 100. AdamW with warmup-cosine; checkpoints (weights,
 * optimizer, step) every `checkpointEvery` steps into a fresh directory renamed into place, so a
 * kill loses at most one interval and `resume` continues exactly.
 *
 * Evaluation (held-out concepts): text->image and image->text recall@1/5/10 within each dataset's
 * held-out gallery, against chance (k / N); cross-style retrieval on emoji: an image's nearest other
 * images of a different style, a hit when one shows the same concept.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { openDataset, type Split } from '../data/index.js';
import { AdamW, assignData, clipGradNorm, loadOptimizerState, loadSafetensors, saveOptimizerState, saveSafetensors, warmupCosine, writeFileAtomic, type TensorEntry } from '../nn/index.js';
import { add, arange, backward, crossEntropy, exp, matmul, mul, tensor, tidy, transpose, Rng } from '../tensor/index.js';
import { imagesToFloats } from '../tokenizers/vq/images.js';
import { ClipModel, textBatch, type ClipConfig } from './clip.js';
import { ClipEncoder } from './clip-encoder.js';
import type { BiEncoder } from './encoders.js';
import { dot } from './vectors.js';

/** One captioned image. */
export interface ClipItem {
  dataset: string;
  imageId: string;
  conceptId: string;
  style: string;
  captions: string[];
  /** size x size x 3 bytes. */
  rgb: Uint8Array;
}

/** Every captioned image of `split` in the datasets (captions from `caption` pairs, in pair order). */
export async function loadClipItems(dirs: readonly string[], split: Split, o: { limit?: number; size?: number; log?: (l: string) => void } = {}): Promise<ClipItem[]> {
  const items: ClipItem[] = [];
  for (const dir of dirs) {
    const ds = await openDataset(dir);
    try {
      if (o.size !== undefined && ds.info.size !== o.size) throw new Error(`${dir} has ${ds.info.size} px images, the bi-encoder reads ${o.size} px`);
      const byImage = new Map<string, string[]>();
      for await (const p of ds.pairs({ split, type: 'caption' })) {
        const text = p.inputText ?? p.outputText;
        const image = p.outputImage ?? p.inputImage;
        if (!text || !image) continue;
        if (!byImage.has(image)) {
          if (o.limit !== undefined && byImage.size >= o.limit) continue;
          byImage.set(image, []);
        }
        byImage.get(image)!.push(text);
      }
      const ids = [...byImage.keys()];
      for (let i = 0; i < ids.length; i += 512) {
        const records = await ds.imagesById(ids.slice(i, i + 512));
        for (const id of ids.slice(i, i + 512)) {
          const r = records.get(id);
          if (!r) throw new Error(`${dir} has no image ${id}`);
          items.push({ dataset: basename(resolve(dir)), imageId: id, conceptId: r.conceptId, style: r.style, captions: byImage.get(id)!, rgb: r.rgb });
        }
      }
      o.log?.(`${dir} (${split}): ${ids.length} captioned images`);
    } finally {
      ds.close();
    }
  }
  return items;
}

export interface ClipTrainOptions {
  out: string;
  config: ClipConfig;
  encoderFor: (model: ClipModel) => ClipEncoder;
  train: readonly ClipItem[];
  heldout?: readonly ClipItem[];
  steps: number;
  batch?: number;
  lr?: number;
  warmup?: number;
  weightDecay?: number;
  seed?: number;
  checkpointEvery?: number;
  logEvery?: number;
  evalEvery?: number;
  resume?: boolean;
  /** Stop (after a checkpoint) once this many seconds have passed, whatever `steps` says. */
  maxSeconds?: number;
  log?: (line: string) => void;
}

export interface ClipTrainResult {
  encoder: ClipEncoder;
  step: number;
  seconds: number;
  lastLoss: number;
}

/** The images of one step: `batch` distinct item indices and a caption choice each, from (seed, step) only. */
export function clipBatchFor(seed: number, step: number, items: readonly ClipItem[], batch: number): { index: number[]; caption: number[] } {
  const rng = new Rng((seed * 1_000_003 + step * 7919 + 5) >>> 0);
  const picked = new Set<number>();
  const index: number[] = [];
  const caption: number[] = [];
  while (index.length < Math.min(batch, items.length)) {
    const i = rng.int(items.length);
    if (picked.has(i)) continue;
    picked.add(i);
    index.push(i);
    caption.push(rng.int(items[i]!.captions.length));
  }
  return { index, caption };
}

interface ClipCheckpointState {
  step: number;
  seconds: number;
  config: ClipConfig;
}

const CKPT = 'checkpoint';

function saveCheckpoint(out: string, model: ClipModel, opt: AdamW, state: ClipCheckpointState): void {
  const final = join(out, CKPT);
  const tmp = `${final}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const weights: Record<string, TensorEntry> = {};
  for (const [name, p] of model.namedParameters()) weights[name] = { shape: p.shape, data: p.dataSync() as Float32Array };
  saveSafetensors(join(tmp, 'model.safetensors'), weights, {});
  saveOptimizerState(join(tmp, 'optimizer.safetensors'), opt);
  writeFileAtomic(join(tmp, 'state.json'), JSON.stringify(state));
  // Swap: the old checkpoint is removed only once the new one is complete.
  const old = `${final}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(final)) renameSync(final, old);
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
}

function loadCheckpoint(out: string, model: ClipModel, opt: AdamW): ClipCheckpointState | null {
  let dir = join(out, CKPT);
  if (!existsSync(join(dir, 'state.json')) && existsSync(join(`${dir}.old`, 'state.json'))) dir = `${dir}.old`; // killed mid-swap
  if (!existsSync(join(dir, 'state.json'))) return null;
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as ClipCheckpointState;
  if (JSON.stringify(state.config) !== JSON.stringify(model.config)) {
    throw new Error(`cannot resume: the checkpoint's config ${JSON.stringify(state.config)} differs from the requested ${JSON.stringify(model.config)}`);
  }
  const w = loadSafetensors(join(dir, 'model.safetensors'));
  model.loadStateDict(new Map([...w.tensors].map(([k, v]) => [k, { shape: v.shape, data: v.data as Float32Array }])));
  opt.importState(loadOptimizerState(join(dir, 'optimizer.safetensors'), state.step));
  return state;
}

export async function trainClip(o: ClipTrainOptions): Promise<ClipTrainResult> {
  const log = o.log ?? ((l: string) => console.error(l));
  const batch = o.batch ?? 256;
  const lr = o.lr ?? 1e-3;
  const seed = o.seed ?? 0;
  const warmup = o.warmup ?? Math.min(100, Math.ceil(o.steps / 10));
  const checkpointEvery = o.checkpointEvery ?? 100;
  const logEvery = o.logEvery ?? 20;
  if (o.train.length < 2) throw new Error('bi-encoder training needs at least 2 captioned images');
  mkdirSync(o.out, { recursive: true });
  const model = new ClipModel(o.config);
  const encoder = o.encoderFor(model);
  const params = [...model.namedParameters()];
  const decay = params.filter(([n, p]) => p.rank >= 2 && !n.includes('tokens') && !n.includes('positions')).map(([, p]) => p);
  const rest = params.filter(([, p]) => !decay.includes(p)).map(([, p]) => p);
  const opt = new AdamW([{ params: decay }, { params: rest, weightDecay: 0 }], { lr, betas: [0.9, 0.98], weightDecay: o.weightDecay ?? 0.1 });
  let step = 0;
  let priorSeconds = 0;
  if (o.resume) {
    const state = loadCheckpoint(o.out, model, opt);
    if (state) {
      step = state.step;
      priorSeconds = state.seconds;
      log(`resumed from step ${step}`);
    } else log(`no checkpoint in ${join(o.out, CKPT)}: starting from scratch`);
  }
  const s = o.config.imageSize;
  const logPath = join(o.out, 'train-log.jsonl');
  const t0 = performance.now();
  const seconds = (): number => priorSeconds + (performance.now() - t0) / 1000;
  let lastLoss = NaN;
  let window = 0;
  let windowStart = performance.now();
  const maxScale = Math.log(100);
  while (step < o.steps) {
    opt.lr = warmupCosine(step, { peakLr: lr, warmup, totalSteps: o.steps, minLr: lr / 20 });
    const { index, caption } = clipBatchFor(seed, step, o.train, batch);
    const b = index.length;
    const lists = encoder.tokenize(index.map((i, j) => o.train[i]!.captions[caption[j]!]!));
    const pixels = imagesToFloats(index.map((i) => o.train[i]!.rgb), s);
    let gradNorm = 0;
    const loss = tidy(() => {
      const zi = model.embedImages(tensor(pixels, [b, 3, s, s])); // (B, E)
      const { ids, pool } = textBatch(lists, o.config.textMaxLen);
      const zt = model.embedTexts(ids, pool); //                      (B, E)
      const scale = exp(model.logitScale); // kept <= 100 by the clamp after each update
      const logits = mul(matmul(zi, transpose(zt)), scale); //        (B, B): image i vs text j
      const targets = arange(b, { dtype: 'i32' });
      const l = mul(add(crossEntropy(logits, targets), crossEntropy(transpose(logits), targets)), 0.5);
      backward(l);
      gradNorm = clipGradNorm(model.parameters(), 1);
      opt.stepUpdate();
      model.zeroGrad();
      if (model.logitScale.item() > maxScale) assignData(model.logitScale, [maxScale]);
      return l.item();
    });
    if (!Number.isFinite(loss)) throw new Error(`bi-encoder training diverged at step ${step} (loss ${loss})`);
    lastLoss = loss;
    step++;
    window += b;
    if (step % logEvery === 0 || step === o.steps) {
      const rate = window / ((performance.now() - windowStart) / 1000);
      const temp = 1 / Math.exp(model.logitScale.item());
      log(`step ${step}/${o.steps} loss ${loss.toFixed(4)} temperature ${temp.toFixed(4)} grad ${gradNorm.toFixed(2)} lr ${opt.lr.toExponential(2)} ${rate.toFixed(0)} pairs/s`);
      appendFileSync(logPath, `${JSON.stringify({ step, loss, temperature: temp, gradNorm, lr: opt.lr, seconds: Math.round(seconds()) })}\n`);
      window = 0;
      windowStart = performance.now();
    }
    if (o.heldout?.length && o.evalEvery && step % o.evalEvery === 0) {
      const r = await evaluateClip(encoder, o.heldout);
      log(`step ${step} held-out ${formatRecall(r)}`);
      appendFileSync(logPath, `${JSON.stringify({ step, heldout: r })}\n`);
    }
    const timeUp = o.maxSeconds !== undefined && seconds() >= o.maxSeconds;
    if (step % checkpointEvery === 0 || step === o.steps || timeUp) saveCheckpoint(o.out, model, opt, { step, seconds: seconds(), config: o.config });
    if (timeUp) {
      log(`stopping at step ${step}: --max-minutes reached`);
      break;
    }
  }
  return { encoder, step, seconds: seconds(), lastLoss };
}

export interface RecallAt {
  r1: number;
  r5: number;
  r10: number;
}

export interface ClipEvalResult {
  /** Per dataset: gallery size, text->image and image->text recall, chance (k / N). */
  datasets: Record<string, { n: number; textToImage: RecallAt; imageToText: RecallAt; chance: RecallAt }>;
  /** Emoji: same concept in another style among the nearest other-style images; chance as expected at random. */
  crossStyle?: { n: number; recall: RecallAt; chance: RecallAt };
}

const KS = [1, 5, 10] as const;

function recallFromRanks(ranks: readonly number[]): RecallAt {
  const at = (k: number): number => ranks.filter((r) => r < k).length / Math.max(1, ranks.length);
  return { r1: at(1), r5: at(5), r10: at(10) };
}

/** Rank of column `target` in row `row` of scores (0 = best; ties count against). */
function rankOf(scores: (j: number) => number, n: number, target: number): number {
  const t = scores(target);
  let rank = 0;
  for (let j = 0; j < n; j++) if (j !== target && scores(j) >= t) rank++;
  return rank;
}

/** Held-out retrieval metrics of an encoder (texts: each image's first caption). */
export async function evaluateClip(encoder: BiEncoder, items: readonly ClipItem[], size = 64): Promise<ClipEvalResult> {
  const result: ClipEvalResult = { datasets: {} };
  const byDataset = new Map<string, ClipItem[]>();
  for (const it of items) byDataset.set(it.dataset, [...(byDataset.get(it.dataset) ?? []), it]);
  const allImages = new Map<ClipItem, Float32Array>();
  for (const [name, group] of byDataset) {
    const ti = await encoder.embedText(group.map((g) => g.captions[0]!));
    const vi = await encoder.embedImage(group.map((g) => ({ width: size, height: size, rgb: g.rgb })));
    group.forEach((g, i) => allImages.set(g, vi[i]!));
    const n = group.length;
    const sim = new Float32Array(n * n); // text i vs image j
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sim[i * n + j] = dot(ti[i]!, vi[j]!);
    const t2i = group.map((_, i) => rankOf((j) => sim[i * n + j]!, n, i));
    const i2t = group.map((_, j) => rankOf((i) => sim[i * n + j]!, n, j));
    result.datasets[name] = {
      n, textToImage: recallFromRanks(t2i), imageToText: recallFromRanks(i2t),
      chance: { r1: Math.min(1, 1 / n), r5: Math.min(1, 5 / n), r10: Math.min(1, 10 / n) },
    };
  }
  const emoji = items.filter((it) => it.style !== 'flat' && byDataset.size > 0 && it.dataset.includes('emoji'));
  if (emoji.length > 1) {
    let hits = [0, 0, 0];
    let chance = [0, 0, 0];
    let queries = 0;
    for (const q of emoji) {
      const others = emoji.filter((e) => e.style !== q.style);
      const same = others.filter((e) => e.conceptId === q.conceptId).length;
      if (same === 0) continue;
      queries++;
      const vq = allImages.get(q)!;
      const ranked = others.map((e) => ({ e, s: dot(vq, allImages.get(e)!) })).sort((a, b) => b.s - a.s);
      KS.forEach((k, i) => {
        if (ranked.slice(0, k).some((r) => r.e.conceptId === q.conceptId)) hits[i]!++;
        // P(at least one of `same` in k random draws without replacement from `others`).
        let miss = 1;
        for (let d = 0; d < Math.min(k, others.length); d++) miss *= (others.length - same - d) / (others.length - d);
        chance[i]! += 1 - Math.max(0, miss);
      });
    }
    if (queries > 0) {
      hits = hits.map((h) => h / queries);
      chance = chance.map((c) => c / queries);
      result.crossStyle = { n: queries, recall: { r1: hits[0]!, r5: hits[1]!, r10: hits[2]! }, chance: { r1: chance[0]!, r5: chance[1]!, r10: chance[2]! } };
    }
  }
  return result;
}

export function formatRecall(r: ClipEvalResult): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}`;
  const parts = Object.entries(r.datasets).map(([name, d]) =>
    `${name} (n=${d.n}) t->i R@1/5/10 ${pct(d.textToImage.r1)}/${pct(d.textToImage.r5)}/${pct(d.textToImage.r10)} i->t ${pct(d.imageToText.r1)}/${pct(d.imageToText.r5)}/${pct(d.imageToText.r10)}`);
  if (r.crossStyle) parts.push(`cross-style R@1/5/10 ${pct(r.crossStyle.recall.r1)}/${pct(r.crossStyle.recall.r5)}/${pct(r.crossStyle.recall.r10)}`);
  return parts.join('; ');
}
