/**
 * Decoder-only training of the image tokenizer on a WebGPU device, from a pack written by
 * pack-vq-data.ts (the offline GPU machine has no datasets). The same step as
 * `train-image --decoder-only` (src/tokenizers/vq/train.ts): L1 + edge + MSE + outline (+ contrast) terms and,
 * with --adversarial W, the patch discriminator's hinge term; AdamW, warmup-cosine, clipping at 1.
 * The codes come from the starting tokenizer's own encoder, on the device, every step (a tie in
 * the nearest-code search may fall differently from the CPU; the encoder itself does not change).
 * Every read-back is asynchronous (WebGPU). Writes DIR/config.json + model.safetensors and a
 * JSONL log, at every --save-every steps and when --minutes run out.
 *
 *   node dist/bench/gpu/train-vq-decoder.js --pack .vq-pack/train.bin.gz --init models/image-tokenizer \
 *        --steps 4000 --batch 16 --lr 2e-4 --outline 4 --mse 1 --adversarial 0.1 --minutes 7 -o $OUT/vq
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import * as T from '../../src/index.js';
import { initWebGpu, type WebGpuBackend } from '../../src/backends/webgpu/index.js';
import { AdamW, clipGradNormAsync, warmupCosine } from '../../src/nn/index.js';
import { ImageTokenizer } from '../../src/tokenizers/vq/image-tokenizer.js';
import { imagesToFloats } from '../../src/tokenizers/vq/images.js';
import { DEFAULT_LOSS_WEIGHTS, batchFor, pixelLoss } from '../../src/tokenizers/vq/train.js';
import { PatchDiscriminator, hingeDiscriminatorLoss, hingeGeneratorLoss } from '../../src/tokenizers/vq/discriminator.js';

const { values } = parseArgs({
  options: {
    pack: { type: 'string' }, init: { type: 'string', default: 'models/image-tokenizer' }, output: { type: 'string', short: 'o' },
    steps: { type: 'string', default: '4000' }, batch: { type: 'string', default: '16' }, lr: { type: 'string', default: '2e-4' },
    outline: { type: 'string', default: '4' }, mse: { type: 'string', default: '1' }, edge: { type: 'string', default: '0.5' },
    contrast: { type: 'string', default: '0' }, adversarial: { type: 'string', default: '0' }, minutes: { type: 'string', default: '1e9' }, 'save-every': { type: 'string', default: '500' },
    seed: { type: 'string', default: '1' }, backend: { type: 'string', default: 'webgpu' },
  },
});
const out = values.output ?? 'runs/vq-gpu';
mkdirSync(out, { recursive: true });
const log = (o: Record<string, unknown>): void => {
  console.error(JSON.stringify(o));
  appendFileSync(join(out, 'train-log.jsonl'), `${JSON.stringify({ ...o, time: new Date().toISOString() })}\n`);
};
const t00 = performance.now();

// The pack: a JSON header line, then count * 64 * 64 * 3 bytes.
const body = gunzipSync(readFileSync(values.pack!));
const nl = body.indexOf(10);
const header = JSON.parse(body.subarray(0, nl).toString('utf8')) as { size: number; count: number; draw: number[] };
const size = header.size;
const px = size * size * 3;
const images = Array.from({ length: header.count }, (_, i) => body.subarray(nl + 1 + i * px, nl + 1 + (i + 1) * px));

// Weights are checked and loaded on the CPU, then copied onto the device.
const start = ImageTokenizer.load(values.init!);
const state = start.stateDict();
if (values.backend === 'webgpu') await initWebGpu({ powerPreference: 'high-performance' });
T.setBackend(values.backend!);
const tok = new ImageTokenizer(start.config, 1);
tok.loadStateDict(state);
const gpu = values.backend === 'webgpu' ? (T.getBackend('webgpu') as WebGpuBackend) : null;
log({ event: 'start', images: header.count, entries: header.draw.length, backend: values.backend, adapter: gpu?.context.adapterName ?? 'cpu' });

// Codes come from the starting encoder on every step (mirrored pictures have codes of their own),
// as in train-image --decoder-only: nearest code by cosine, ties to the lowest index.
const g = tok.grid;
async function encodeBatch(x: Float32Array, n: number): Promise<Int32Array> {
  const z = T.tidy(() => T.noGrad(() => tok.encoder.forward(T.tensor(x, [n, 3, size, size])))).keep(); // (n, D, g, g)
  try {
    return await tok.quantizer.nearestIdsAsync(z);
  } finally {
    z.dispose();
  }
}

const steps = Number(values.steps), batch = Number(values.batch), lr = Number(values.lr), seed = Number(values.seed);
const w = { ...DEFAULT_LOSS_WEIGHTS, outline: Number(values.outline), mse: Number(values.mse), edge: Number(values.edge), contrast: Number(values.contrast), adversarial: Number(values.adversarial) };
const params = tok.decoder.parameters();
const decay = params.filter((p) => p.rank === 4);
const opt = new AdamW([{ params: decay }, { params: params.filter((p) => p.rank !== 4), weightDecay: 0 }], { lr, betas: [0.9, 0.99], weightDecay: 1e-4 });
const disc = w.adversarial > 0 ? new PatchDiscriminator(32, 3, seed + 7) : null;
const dOpt = disc ? new AdamW([{ params: disc.parameters() }], { lr, betas: [0.5, 0.9], weightDecay: 0 }) : null;
const warmup = Math.min(200, Math.ceil(steps / 10));

async function save(step: number): Promise<void> {
  // Read the device weights back, then write through a CPU copy (save() reads synchronously).
  const host = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const [name, p] of tok.namedParameters()) host.set(name, { shape: p.shape, data: (await p.data()) as Float32Array });
  T.setBackend('cpu');
  const copy = new ImageTokenizer(tok.config, 1);
  copy.loadStateDict(host);
  copy.save(out, { training: { steps, batchSize: batch, lr, seed, loss: w, decoderOnly: true, pack: values.pack, device: values.backend, init: values.init }, trainedSteps: step });
  T.setBackend(values.backend!);
}

const t0 = performance.now();
let step = 0;
for (; step < steps; step++) {
  opt.lr = warmupCosine(step, { peakLr: lr, warmup, totalSteps: steps, minLr: lr / 20 });
  if (dOpt) dOpt.lr = opt.lr;
  const { index, flip } = batchFor(seed, step, header.draw.length, batch);
  const picked = index.map((i) => header.draw[i]!);
  const x = imagesToFloats(picked.map((i) => images[i]!), size, flip);
  const ids = await encodeBatch(x, batch);
  const r = T.tidy(() => {
    const xt = T.tensor(x, [batch, 3, size, size]);
    const zq = T.noGrad(() => tok.quantizer.lookup(ids, batch, g, g));
    const recon = tok.decoder.forward(zq);
    const { total, l1 } = pixelLoss(recon, xt, x, w);
    let loss = total;
    const gen = disc ? hingeGeneratorLoss(disc.forward(recon)) : null;
    if (gen) loss = T.add(loss, T.mul(gen, w.adversarial));
    const fake = disc ? T.noGrad(() => T.mul(recon, 1)) : null;
    T.backward(loss);
    return { loss, l1, fake, xt };
  });
  await clipGradNormAsync(params, 1.0);
  opt.stepUpdate();
  opt.zeroGrad();
  let dLoss: T.Tensor | null = null;
  if (disc && dOpt && r.fake) {
    dOpt.zeroGrad();
    dLoss = T.tidy(() => {
      const d = hingeDiscriminatorLoss(disc.forward(r.xt), disc.forward(r.fake!));
      T.backward(d);
      return d;
    });
    await clipGradNormAsync(disc.parameters(), 1.0);
    dOpt.stepUpdate();
    dOpt.zeroGrad();
  }
  if ((step + 1) % 50 === 0 || step === 0) {
    const seconds = (performance.now() - t0) / 1000;
    log({ step: step + 1, loss: await r.loss.itemAsync(), l1: await r.l1.itemAsync(), disc: dLoss ? await dLoss.itemAsync() : null, lr: opt.lr, imagesPerSecond: ((step + 1) * batch) / seconds });
  }
  for (const t of [r.loss, r.l1, r.fake, r.xt, dLoss]) t?.dispose();
  if ((step + 1) % Number(values['save-every']) === 0) await save(step + 1);
  if ((performance.now() - t00) / 60000 > Number(values.minutes)) { step++; break; }
}
await save(step);
log({ event: 'done', step, seconds: (performance.now() - t00) / 1000 });
process.exit(0);
