/**
 * The bi-encoder's recipe for the training loop (fit.ts). A step draws `batch` distinct captioned
 * images (seeded by the step only, so a resumed run sees the same batches) and one caption of each;
 * the loss is CLIP's symmetric InfoNCE over the (B, B) similarity matrix scaled by exp(logitScale),
 * which is clamped at 100 after each update. AdamW betas 0.9 / 0.98, weight decay on the matrices
 * only (not on token / position embeddings, norms, biases, the scale); the cosine ends at lr / 20.
 *
 * The checkpoint (run-dir.ts) holds model.safetensors (the ClipModel's parameters by name); the
 * config and training seconds are in trainer.json's `extra`. A checkpoint of the earlier format
 * (state.json, optimizer moments numbered m.<i>) is converted in place on resume.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assignData, loadSafetensors, saveSafetensors, writeFileAtomic, type TensorEntry } from '../nn/index.js';
import { add, arange, crossEntropy, exp, matmul, mul, tensor, transpose, Rng, type Tensor } from '../tensor/index.js';
import { imagesToFloats } from '../tokenizers/vq/images.js';
import { ClipModel, textBatch, type ClipConfig } from '../retrieval/clip.js';
import type { ClipEncoder } from '../retrieval/clip-encoder.js';
import { evaluateClip, formatRecall, type ClipItem } from '../retrieval/clip-eval.js';
import { fit, type Recipe } from './fit.js';

export interface ClipTrainOptions {
  /** The run directory: checkpoint/, metrics.jsonl, loss.png. */
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
  /** Stop (after a checkpoint) once this many seconds have passed in this process, whatever `steps` says. */
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

const MAX_SCALE = Math.log(100);

function sameConfig(a: unknown, b: ClipConfig): void {
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`cannot resume: the checkpoint's config ${JSON.stringify(a)} differs from the requested ${JSON.stringify(b)}`);
}

/** Rewrites a checkpoint of the earlier format (state.json, m.<i> / v.<i>) as run-dir.ts's format. */
function upgradeCheckpoint(out: string, model: ClipModel, order: Tensor[], batch: number): void {
  let dir = join(out, 'checkpoint');
  if (!existsSync(join(dir, 'state.json')) && existsSync(join(`${dir}.old`, 'state.json'))) dir = `${dir}.old`;
  if (!existsSync(join(dir, 'state.json')) || existsSync(join(dir, 'trainer.json'))) return;
  const old = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { step: number; seconds: number; config: ClipConfig };
  sameConfig(old.config, model.config);
  const nameOf = new Map([...model.namedParameters()].map(([n, p]) => [p, n]));
  const f = loadSafetensors(join(dir, 'optimizer.safetensors'));
  const entries = new Map<string, TensorEntry>();
  order.forEach((p, i) => {
    for (const k of ['m', 'v']) entries.set(`${k}.${nameOf.get(p)!}`, { shape: p.shape, data: f.tensors.get(`${k}.${i}`)!.data });
  });
  saveSafetensors(join(dir, 'optimizer.safetensors'), entries, { step: f.metadata.step ?? String(old.step), lr: '0' });
  const state = { step: old.step, tokensSeen: old.step * batch, bestEvalLoss: null, extra: { seconds: old.seconds, config: old.config } };
  writeFileAtomic(join(dir, 'trainer.json'), `${JSON.stringify(state, null, 2)}\n`);
}

export function biEncoderRecipe(model: ClipModel, o: ClipTrainOptions & { encoder: ClipEncoder }): Recipe {
  const batch = Math.min(o.batch ?? 256, o.train.length);
  const seed = o.seed ?? 0;
  const s = o.config.imageSize;
  const named = model.namedParameters();
  const decay = [...named].filter(([n, p]) => p.rank >= 2 && !n.includes('tokens') && !n.includes('positions')).map(([, p]) => p);
  const rest = [...named.values()].filter((p) => !decay.includes(p));
  let scale = 0; // logitScale after the last update's clamp
  return {
    restore(dir, state) {
      sameConfig(state.extra.config, model.config);
      const w = loadSafetensors(join(dir, 'model.safetensors'));
      model.loadStateDict(new Map([...w.tensors].map(([k, v]) => [k, { shape: v.shape, data: v.data as Float32Array }])));
    },
    named: () => named,
    groups: () => [{ params: decay }, { params: rest, weightDecay: 0 }],
    betas: [0.9, 0.98],
    weightDecay: o.weightDecay ?? 0.1,
    itemsPerStep: batch,
    unit: 'pairs',
    loss(step) {
      const { index, caption } = clipBatchFor(seed, step, o.train, batch);
      const b = index.length;
      const lists = o.encoder.tokenize(index.map((i, j) => o.train[i]!.captions[caption[j]!]!));
      const pixels = imagesToFloats(index.map((i) => o.train[i]!.rgb), s);
      const zi = model.embedImages(tensor(pixels, [b, 3, s, s])); // (B, E)
      const { ids, pool } = textBatch(lists, o.config.textMaxLen);
      const zt = model.embedTexts(ids, pool); //                      (B, E)
      const logits = mul(matmul(zi, transpose(zt)), exp(model.logitScale)); // (B, B): image i vs text j
      const targets = arange(b, { dtype: 'i32' });
      return mul(add(crossEntropy(logits, targets), crossEntropy(transpose(logits), targets)), 0.5);
    },
    async afterUpdate() {
      scale = await model.logitScale.itemAsync();
      if (scale > MAX_SCALE) {
        assignData(model.logitScale, [MAX_SCALE]);
        scale = MAX_SCALE;
      }
    },
    progress: () => ({ temperature: 1 / Math.exp(scale) }),
    evaluate: o.heldout?.length && o.evalEvery ? async () => {
      const r = await evaluateClip(o.encoder, o.heldout!);
      return { loss: null, record: { heldout: r }, line: `held-out ${formatRecall(r)}` };
    } : undefined,
    writeModel(dir) {
      const weights: Record<string, TensorEntry> = {};
      for (const [name, p] of named) weights[name] = { shape: p.shape, data: p.dataSync() as Float32Array };
      saveSafetensors(join(dir, 'model.safetensors'), weights, {});
    },
    extra: () => ({ config: model.config }),
  };
}

export async function trainClip(o: ClipTrainOptions): Promise<ClipTrainResult> {
  const log = o.log ?? ((l: string) => console.error(l));
  if (o.train.length < 2) throw new Error('bi-encoder training needs at least 2 captioned images');
  const lr = o.lr ?? 1e-3;
  const model = new ClipModel(o.config); // on the current backend
  const encoder = o.encoderFor(model);
  const recipe = biEncoderRecipe(model, { ...o, encoder });
  if (o.resume) upgradeCheckpoint(o.out, model, recipe.groups!().flatMap((g) => g.params), recipe.itemsPerStep);
  const r = await fit(recipe, {
    runDir: o.out, steps: o.steps, lr, minLr: lr / 20, warmup: o.warmup ?? Math.min(100, Math.ceil(o.steps / 10)), clip: 1,
    evalEvery: o.evalEvery, checkpointEvery: o.checkpointEvery ?? 100, logEvery: o.logEvery ?? 20, resume: o.resume,
    maxSeconds: o.maxSeconds, log: (line) => log(line),
  });
  return { encoder, step: r.step, seconds: r.seconds, lastLoss: r.lastLoss };
}

export interface BiEncoderRun {
  data: string[];
  out: string;
  tokenizerPath: string;
  config: ClipConfig;
  steps: number;
  batch: number;
  lr: number;
  evalEvery?: number;
  limit?: number;
  maxSeconds?: number;
  resume: boolean;
  /** The command line, recorded in the encoder's config. */
  command: string;
  log: (line: string) => void;
}

/**
 * `cm3leon index train-encoder` after argument parsing: loads the caption pairs, trains in `out`
 * (on the current backend), evaluates on the held-out split and writes the encoder there.
 */
export async function trainBiEncoder(o: BiEncoderRun): Promise<{ step: number; lastLoss: number; summary: string }> {
  const [{ loadClipItems }, { ClipEncoder }, { loadTokenizerJson }, { withHostCopies }] = await Promise.all([
    import('../retrieval/clip-eval.js'), import('../retrieval/clip-encoder.js'), import('../tokenizers/tokenizer-json.js'), import('../tensor/index.js'),
  ]);
  const tokenizer = loadTokenizerJson(o.tokenizerPath);
  const train = await loadClipItems(o.data, 'train', { size: o.config.imageSize, limit: o.limit, log: o.log });
  const heldout = await loadClipItems(o.data, 'heldout', { size: o.config.imageSize, limit: o.limit, log: o.log });
  const result = await trainClip({
    out: o.out, config: o.config, train, heldout, steps: o.steps, log: o.log,
    encoderFor: (model) => new ClipEncoder(model, tokenizer, o.tokenizerPath),
    batch: o.batch, lr: o.lr, evalEvery: o.evalEvery, maxSeconds: o.maxSeconds, resume: o.resume, seed: o.config.seed,
  });
  const metrics = await evaluateClip(result.encoder, heldout);
  await withHostCopies(result.encoder.model.parameters(), () => result.encoder.save(o.out, {
    command: o.command, data: o.data, steps: result.step, seconds: Math.round(result.seconds),
    trainImages: train.length, heldoutImages: heldout.length, lastLoss: result.lastLoss, heldout: metrics,
  }));
  return { step: result.step, lastLoss: result.lastLoss, summary: formatRecall(metrics) };
}
