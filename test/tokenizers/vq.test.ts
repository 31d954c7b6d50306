/**
 * The VQ image tokenizer on tiny configs (seconds on 2 cores): output shapes, deterministic encode,
 * the dead-code restart logic on a hand-made case, a short training run whose loss falls, save/load
 * round trips and the errors for corrupt or mismatched files and bad grids/images.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import '../../src/index.js';
import { tensor, tidy, Rng } from '../../src/tensor/index.js';
import { TokenizerError } from '../../src/tokenizers/errors.js';
import {
  CodeUsage, DEFAULT_LOSS_WEIGHTS, ImageTokenizer, argmaxRows, codebookUsage, contrastMask, imagesToFloats, outlineMask, pixelLoss, psnr, resizeRgb, restartCandidates, restartCodes,
  ssim, validateVqConfig, vqConfigFromDict, type VqConfig,
} from '../../src/tokenizers/vq/index.js';
import { trainImageTokenizer } from '../../src/train/image-tokenizer.js';
import { renderScene, sampleScene, Rng as DataRng } from '../../src/data/index.js';
import { assertSameWeights } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cm3leon-vq-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** 16 px images, grid 4x4 (factor 4), 32 codes of width 8. */
const TINY: VqConfig = { imageSize: 16, factor: 4, codebookSize: 32, codeDim: 8, channels: [8, 16, 16], resBlocks: [0, 1, 1], groups: 4 };

function scenes(n: number, size: number, seed = 3) {
  const rng = new DataRng(seed);
  return Array.from({ length: n }, () => renderScene(sampleScene(rng, 'train'), size));
}

test('encoder, quantiser and decoder shapes', () => {
  const tok = new ImageTokenizer(TINY, 1);
  tidy(() => {
    const x = tensor(imagesToFloats(scenes(3, 16).map((s) => s.rgb), 16), [3, 3, 16, 16]);
    const z = tok.encoder.forward(x);
    assert.deepEqual(z.shape, [3, 8, 4, 4]);
    const { recon, quant } = tok.forward(x);
    assert.deepEqual(quant.zq.shape, [3, 8, 4, 4]);
    assert.equal(quant.ids.length, 3 * 16);
    assert.deepEqual(recon.shape, [3, 3, 16, 16]);
    assert.deepEqual(quant.codebookLoss.shape, []);
  });
  const grid8: VqConfig = { ...TINY, imageSize: 32, factor: 8, channels: [8, 8, 16, 16], resBlocks: [0, 0, 1, 1] };
  const tok8 = new ImageTokenizer(grid8, 1);
  assert.equal(tok8.grid, 4);
  const grids = tok8.encode(scenes(2, 32));
  assert.equal(grids.length, 2);
  assert.equal(grids[0]!.length, 16);
  const images = tok8.decode(grids);
  assert.equal(images[0]!.width, 32);
  assert.equal(images[0]!.rgb.length, 32 * 32 * 3);
});

test('encode is deterministic and resizes other sizes', () => {
  const tok = new ImageTokenizer(TINY, 2);
  const images = scenes(5, 16);
  const a = tok.encode(images);
  const b = tok.encode(images, 2); // other batching, same codes
  assert.deepEqual(a, b);
  const big = scenes(1, 64)[0]!;
  const g = tok.encode([big])[0]!;
  assert.deepEqual(g, tok.encode([resizeRgb(big, 16)])[0]);
  const rect = { width: 20, height: 12, rgb: new Uint8Array(20 * 12 * 3).fill(200) };
  assert.equal(tok.encode([rect])[0]!.length, 16);
});

test('nearest code: argmax with ties to the lowest index', () => {
  const { ids, best } = argmaxRows(Float32Array.from([0.1, 0.9, 0.9, 0.2, 0.5, 0.5, 0.5, 0.1]), 2, 4);
  assert.deepEqual([...ids], [1, 0]);
  assert.deepEqual([...best].map((v) => +v.toFixed(2)), [0.9, 0.5]);
});

test('the asynchronous nearest-code search gives the same ids as the synchronous one', async () => {
  const tok = new ImageTokenizer(TINY, 5);
  const x = tensor(imagesToFloats(scenes(3, 16, 9).map((s) => s.rgb), 16), [3, 3, 16, 16]);
  const z = tok.encoder.forward(x); // (3, 8, 4, 4)
  const ids = await tok.quantizer.nearestIdsAsync(z);
  assert.deepEqual([...ids], [...tok.quantizer.nearest(z).ids]);
  assert.deepEqual([...ids], tok.encode(scenes(3, 16, 9), 2).flatMap((g) => [...g]));
});

test('dead codes restart onto the worst-served encoder outputs', () => {
  // 4 codes of width 2; codes 1 and 3 were never used in the window.
  const usage = new CodeUsage(4);
  usage.add(Int32Array.from([0, 0, 2, 2, 0]));
  assert.deepEqual(usage.dead(), [1, 3]);
  assert.deepEqual(usage.dead(3), [1, 2, 3], 'threshold: code 2 used twice is below 3');
  // Batch rows with their similarity to their own code: rows 2 and 4 are served worst.
  const bestSim = Float32Array.from([0.99, 0.95, 0.1, 0.9, 0.3]);
  const order = restartCandidates(bestSim, 2, new Rng(0));
  assert.deepEqual(order, [2, 4]);
  const codebook = Float32Array.from([1, 0, 0, 1, -1, 0, 0, -1]);
  const rows = Float32Array.from([1, 0, 0.8, 0.6, 0.6, -0.8, 0.7, 0.7, -0.6, 0.8]);
  const next = restartCodes(codebook, 2, [1, 3], rows, order);
  assert.deepEqual([...next], [1, 0, 0.6, -0.8, -1, 0, ...[-0.6, 0.8].map((v) => Math.fround(v))].map((v) => Math.fround(v)));
  assert.deepEqual([...codebook], [1, 0, 0, 1, -1, 0, 0, -1], 'the input is not modified');
  // More dead codes than candidates: the rest stay.
  assert.deepEqual([...restartCodes(codebook, 2, [0, 1, 3], rows, [2])].slice(2), [0, 1, -1, 0, 0, -1]);
  usage.resetWindow();
  assert.deepEqual(usage.dead(), [0, 1, 2, 3]);
  // Through the module: restarted codes become the candidates (normalised on lookup).
  const tok = new ImageTokenizer(TINY, 3);
  const cand = new Float32Array(8 * 3).map((_, i) => (i % 8 === 0 ? 1 : 0));
  assert.equal(tok.quantizer.restart([5, 7], cand, [0, 2]), 2);
  const cb = tok.quantizer.codebook.dataSync();
  assert.deepEqual([...cb.slice(5 * 8, 6 * 8)], [1, 0, 0, 0, 0, 0, 0, 0]);
});

test('codebook usage: perplexity and fraction used', () => {
  const u = codebookUsage([5, 5, 0, 0]);
  assert.ok(Math.abs(u.perplexity - 2) < 1e-9);
  assert.equal(u.used, 2);
  assert.equal(u.usedFraction, 0.5);
});

test('PSNR and SSIM', () => {
  const [a] = scenes(1, 32);
  assert.equal(psnr(a!, a!), Infinity);
  assert.ok(Math.abs(ssim(a!, a!) - 1) < 1e-9);
  const b = { ...a!, rgb: a!.rgb.map((v) => (v < 128 ? v + 10 : v - 10)) }; // every byte off by 10: MSE 100
  assert.ok(Math.abs(psnr(a!, b) - 10 * Math.log10(255 ** 2 / 100)) < 1e-9);
  assert.ok(ssim(a!, b) < 1 && ssim(a!, b) > 0.5);
});

test('a short training run lowers the loss, keeps codes alive, checkpoints and resumes', async () => {
  const images = scenes(64, 16, 9).map((s) => s.rgb);
  const out = join(dir, 'train');
  const lines: string[] = [];
  const r = await trainImageTokenizer({
    out, images, config: TINY, steps: 60, batchSize: 8, lr: 3e-3, warmup: 5, restartEvery: 10, checkpointEvery: 30, logEvery: 10,
    log: (l) => lines.push(l),
  });
  const first = r.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
  const last = r.losses.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(last < 0.7 * first, `loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
  assert.ok(lines.some((l) => /images\/s ETA/.test(l)), 'progress lines with speed and ETA');
  const log = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  assert.ok(log.some((e) => e['restarted']! > 0), 'dead codes were restarted');
  // The saved model loads and encodes like the trained one.
  const loaded = ImageTokenizer.load(out);
  assert.deepEqual(loaded.encode(scenes(3, 16)), r.tokenizer.encode(scenes(3, 16)));
  // Resume to 70 steps continues from step 60 with the optimizer state.
  const resumed = await trainImageTokenizer({ out, images, config: TINY, steps: 70, batchSize: 8, lr: 3e-3, warmup: 5, resume: true, log: (l) => lines.push(l) });
  assert.equal(resumed.step, 70);
  assert.equal(resumed.losses.length, 10);
  assert.ok(lines.some((l) => /resumed from step 60/.test(l)));
});

test('resume gives the same weights as an uninterrupted run', async () => {
  const images = scenes(32, 16, 4).map((s) => s.rgb);
  const base = { images, config: TINY, batchSize: 4, lr: 2e-3, warmup: 2, restartEvery: 5, checkpointEvery: 6, log: () => {} };
  const straight = await trainImageTokenizer({ ...base, out: join(dir, 'straight'), steps: 12 });
  await trainImageTokenizer({ ...base, out: join(dir, 'split'), steps: 12, maxSeconds: 0 }); // stops (and checkpoints) after step 1
  const split = await trainImageTokenizer({ ...base, out: join(dir, 'split'), steps: 12, resume: true });
  assertSameWeights(straight.tokenizer.stateDict(), split.tokenizer.stateDict(), 1e-4);
});

test('outline mask: 1 on both sides of an edge, 0 on flat areas, a 0.125 step gives 0.5', () => {
  // One 4x4 image, 3 channels: columns 0-1 at -1, columns 2-3 at +1 in channel 0 only; channel 1
  // has a 0.125 step between rows 0 and 1 (row 0 at 0.125); channel 2 is flat.
  const s = 4, plane = s * s;
  const x = new Float32Array(3 * plane);
  for (let y = 0; y < s; y++) for (let c = 0; c < s; c++) {
    x[y * s + c] = c < 2 ? -1 : 1;
    x[plane + y * s + c] = y === 0 ? 0.125 : 0;
  }
  const m = outlineMask(x, 1, s);
  const at = (ch: number, y: number, c: number): number => m[ch * plane + y * s + c]!;
  for (let y = 0; y < s; y++) {
    assert.equal(at(0, y, 1), 1);
    assert.equal(at(0, y, 2), 1);
  }
  // Columns 0 and 3 touch no channel-0 edge: only the channel-1 step (0.125 / 0.25 = 0.5) near rows 0-1.
  assert.equal(at(0, 0, 0), 0.5);
  assert.equal(at(0, 1, 3), 0.5);
  assert.equal(at(0, 2, 0), 0);
  assert.equal(at(0, 3, 3), 0);
  // The same value on all channels.
  for (let p = 0; p < plane; p++) assert.equal(m[p], m[2 * plane + p]);
  // Two images are independent.
  const two = outlineMask(new Float32Array([...x, ...new Float32Array(3 * plane)]), 2, s);
  assert.deepEqual(Array.from(two.subarray(0, 3 * plane)), Array.from(m));
  assert.ok(two.subarray(3 * plane).every((v) => v === 0));
});

/** A 4x4 image (floats in [-1, 1]): columns 0-1 of colour `a`, columns 2-3 of colour `b` (0-255 RGB). */
function stepImage(a: readonly number[], b: readonly number[]): Float32Array {
  const s = 4, plane = s * s;
  const x = new Float32Array(3 * plane);
  for (let ch = 0; ch < 3; ch++) for (let y = 0; y < s; y++) for (let c = 0; c < s; c++) x[ch * plane + y * s + c] = ((c < 2 ? a : b)[ch]! / 255) * 2 - 1;
  return x;
}

test('contrast mask: 1 / (RGB distance of the step) next to a strong outline, capped at 2 with a ramp for faint ones, 0 on flat areas', () => {
  const plane = 16;
  const dist = (a: number[], b: number[]): number => Math.hypot(...a.map((v, k) => ((v - b[k]!) / 255) * 2));
  // Pink on grey (the faintest Shapes pair): distance 0.78, weight 1.28 on both sides.
  const pink = [240, 110, 190], grey = [200, 200, 200];
  const m = contrastMask(stepImage(pink, grey), 1, 4);
  const e = dist(pink, grey);
  assert.ok(Math.abs(e - 0.7765) < 1e-3, `distance ${e}`);
  for (const c of [1, 2]) for (let y = 0; y < 4; y++) assert.ok(Math.abs(m[y * 4 + c]! - 1 / e) < 1e-5);
  for (let y = 0; y < 4; y++) for (const c of [0, 3]) assert.equal(m[y * 4 + c], 0);
  for (let p = 0; p < plane; p++) assert.equal(m[p], m[2 * plane + p]);
  // A faint step of 0.1 (in [-1, 1] units, one channel): min(1, 0.1 / 0.25) x min(2, 1 / 0.1) = 0.8.
  const faint = new Float32Array(3 * plane);
  for (let y = 0; y < 4; y++) for (let c = 2; c < 4; c++) faint[y * 4 + c] = 0.1;
  assert.ok(Math.abs(contrastMask(faint, 1, 4)[1]! - 0.8) < 1e-6);
  // A step of 0.4: the ramp is 1, the weight hits the cap of 2.
  assert.ok(Math.abs(contrastMask(faint.map((v) => v * 4), 1, 4)[1]! - 2) < 1e-6);
});

test('contrast term: an error of 30% of the step costs the same on a faint and a strong outline (up to the L1 / L2 ratio of the step); the outline term does not', () => {
  // Each reconstruction misses its outline pixels (columns 1-2) by 30% of the step, towards the other side.
  const pairs = [[[240, 110, 190], [200, 200, 200]], [[30, 160, 60], [255, 255, 255]]] as const;
  for (const [a, b] of pairs) {
    const x = stepImage(a, b);
    const r = x.slice();
    const d = [0, 1, 2].map((ch) => ((b[ch]! - a[ch]!) / 255) * 2);
    for (let ch = 0; ch < 3; ch++) for (let y = 0; y < 4; y++) {
      r[ch * 16 + y * 4 + 1]! += 0.3 * d[ch]!;
      r[ch * 16 + y * 4 + 2]! -= 0.3 * d[ch]!;
    }
    const got = tidy(() => {
      const { contrast, outline } = pixelLoss(tensor(r, [1, 3, 4, 4]), tensor(x, [1, 3, 4, 4]), x, { ...DEFAULT_LOSS_WEIGHTS, outline: 1, contrast: 1 });
      return { contrast: contrast!.item(), outline: outline!.item() };
    });
    // 8 outline pixels of 16, errors 0.3 |d_ch| on each channel: the outline term is their mean, the
    // contrast term the same divided by |d|_2.
    const l1 = d.reduce((s, v) => s + Math.abs(v), 0), l2 = Math.hypot(...d);
    assert.ok(Math.abs(got.outline - (8 / 48) * 0.3 * l1) < 1e-5, JSON.stringify(got));
    assert.ok(Math.abs(got.contrast - (8 / 48) * 0.3 * (l1 / l2)) < 1e-5, JSON.stringify(got));
  }
  // Weight 0 leaves the term out.
  const x = stepImage([0, 0, 0], [255, 255, 255]);
  const none = tidy(() => pixelLoss(tensor(x, [1, 3, 4, 4]), tensor(x, [1, 3, 4, 4]), x, DEFAULT_LOSS_WEIGHTS).contrast);
  assert.equal(none, null);
});

/** Every parameter outside `part` is bit for bit the same; some inside it changed. */
function assertOnlyPartMoved(before: StateDict, after: StateDict, part: string, mode: string): void {
  let moved = 0;
  for (const [name, t] of before) {
    const u = after.get(name)!.data;
    const same = t.data.every((v, i) => v === u[i]);
    if (name.startsWith(`${part}.`)) moved += same ? 0 : 1;
    else assert.ok(same, `${name} changed in ${mode} training`);
  }
  assert.ok(moved > 0, `the ${part} learned`);
}

type StateDict = ReturnType<ImageTokenizer['stateDict']>;

test('decoder-only training keeps every code, changes only the decoder, lowers the loss, and needs a start', async () => {
  const images = scenes(48, 16, 5).map((s) => s.rgb);
  const start = (await trainImageTokenizer({ out: join(dir, 'dec-start'), images, config: TINY, steps: 30, batchSize: 8, lr: 3e-3, warmup: 3, log: () => {} })).tokenizer;
  const before = start.stateDict();
  const probe = scenes(6, 16, 77);
  const codesBefore = start.encode(probe);
  const r = await trainImageTokenizer({
    out: join(dir, 'dec-only'), images, config: TINY, steps: 40, batchSize: 8, lr: 3e-3, warmup: 3, log: () => {},
    init: ImageTokenizer.load(join(dir, 'dec-start')), decoderOnly: true, loss: { outline: 2 },
  });
  const after = r.tokenizer.stateDict();
  assertOnlyPartMoved(before, after, 'decoder', 'decoder-only');
  assert.deepEqual(ImageTokenizer.load(join(dir, 'dec-only')).encode(probe), codesBefore);
  assert.equal(r.tokenizer.codesVersion, start.codesVersion, 'same codes, same codes version');
  const first = r.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
  const last = r.losses.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(last < first, `loss ${first.toFixed(4)} -> ${last.toFixed(4)}`);
  assert.throws(() => trainImageTokenizer({ out: join(dir, 'dec-bad'), images, config: TINY, steps: 1, decoderOnly: true, log: () => {} }), /needs a tokenizer to start from/);
  const other = { ...TINY, codebookSize: 16 };
  assert.throws(() => trainImageTokenizer({ out: join(dir, 'dec-bad'), images, config: other, steps: 1, init: start, log: () => {} }), /differs from the requested/);
});

test('whole training from a trained tokenizer keeps its codebook (no data re-initialisation at step 0)', async () => {
  const images = scenes(16, 16, 9).map((s) => s.rgb);
  const start = new ImageTokenizer(TINY, 4);
  const before = start.quantizer.codebook.dataSync().slice();
  // A learning rate of 0: only a restart could move the codebook, and step 0 of a fresh run restarts every code.
  await trainImageTokenizer({ out: join(dir, 'whole-init'), images, config: TINY, steps: 1, batchSize: 8, lr: 0, minLr: 0, warmup: 1, restartEvery: 50, init: start, log: () => {} });
  assert.deepEqual([...ImageTokenizer.load(join(dir, 'whole-init')).quantizer.codebook.dataSync()], [...before]);
  const fresh = await trainImageTokenizer({ out: join(dir, 'whole-fresh'), images, config: TINY, steps: 1, batchSize: 8, lr: 0, minLr: 0, warmup: 1, restartEvery: 50, seed: 4, log: () => {} });
  assert.notDeepEqual([...fresh.tokenizer.quantizer.codebook.dataSync()], [...new ImageTokenizer(TINY, 4).quantizer.codebook.dataSync()], 'a fresh run does re-seed');
});

test('encoder-only training keeps the codebook and decoder bit for bit (every grid decodes as before) and lowers the loss', async () => {
  const images = scenes(48, 16, 5).map((s) => s.rgb);
  const startDir = join(dir, 'enc-start');
  const start = (await trainImageTokenizer({ out: startDir, images, config: TINY, steps: 30, batchSize: 8, lr: 3e-3, warmup: 3, log: () => {} })).tokenizer;
  const before = start.stateDict();
  const grid = new Int32Array(start.grid * start.grid).map((_, i) => (i * 7) % TINY.codebookSize);
  const decodedBefore = start.decode([grid])[0]!.rgb;
  const r = await trainImageTokenizer({
    out: join(dir, 'enc-only'), images, config: TINY, steps: 40, batchSize: 8, lr: 3e-3, warmup: 3, log: () => {},
    init: ImageTokenizer.load(startDir), encoderOnly: true,
  });
  const after = r.tokenizer.stateDict();
  assertOnlyPartMoved(before, after, 'encoder', 'encoder-only');
  assert.notEqual(r.tokenizer.codesVersion, start.codesVersion, 'images get other codes: a new codes version');
  const saved = ImageTokenizer.load(join(dir, 'enc-only'));
  assert.deepEqual([...saved.decode([grid])[0]!.rgb], [...decodedBefore], 'a code grid decodes to the same pixels');
  // The frozen parts take gradients again afterwards (a later whole-model run trains them).
  assert.ok(r.tokenizer.parameters().every((p) => p.requiresGrad));
  const first = r.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
  const last = r.losses.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(last < first, `loss ${first.toFixed(4)} -> ${last.toFixed(4)}`);
  assert.throws(() => trainImageTokenizer({ out: join(dir, 'enc-bad'), images, config: TINY, steps: 1, encoderOnly: true, log: () => {} }), /needs a tokenizer to start from/);
  assert.throws(() => trainImageTokenizer({ out: join(dir, 'enc-bad'), images, config: TINY, steps: 1, init: start, encoderOnly: true, decoderOnly: true, log: () => {} }), /not both/);
});

test('a decoder grown by residual blocks decodes exactly as before, keeps codes, saves and loads', () => {
  const tok = new ImageTokenizer(TINY, 3);
  const grown = tok.withDecoderBlocks([1, 1, 2], 9);
  assert.deepEqual(grown.config.decoderResBlocks, [1, 1, 2]);
  assert.equal(grown.decoder.levels[2]!.blocks.length, 1, 'a block at full resolution');
  assert.equal(grown.encoder.levels[0]!.blocks.length, 0, 'the encoder is unchanged');
  const probe = scenes(4, 16, 21);
  const grids = tok.encode(probe);
  assert.deepEqual(grown.encode(probe), grids);
  assert.equal(grown.codesVersion, tok.codesVersion);
  assert.deepEqual(grown.decode(grids).map((im) => Array.from(im.rgb)), tok.decode(grids).map((im) => Array.from(im.rgb)));
  grown.save(join(dir, 'grown'));
  const loaded = ImageTokenizer.load(join(dir, 'grown'));
  assert.deepEqual(loaded.config, grown.config);
  assert.deepEqual(loaded.decode(grids).map((im) => Array.from(im.rgb)), tok.decode(grids).map((im) => Array.from(im.rgb)));
  assert.throws(() => tok.withDecoderBlocks([0, 0, 2]), /at least the current \[0,1,1\]/);
  assert.throws(() => tok.withDecoderBlocks([1, 1]), /need 3 whole numbers/);
  assert.throws(() => vqConfigFromDict({ ...TINY, decoderResBlocks: [1, 1] }), /decoderResBlocks needs 3 entries/);
});

test('save/load round trip and clear errors on corrupt or mismatched files', () => {
  const tok = new ImageTokenizer(TINY, 5);
  const path = join(dir, 'saved');
  tok.save(path);
  const back = ImageTokenizer.load(path);
  assert.deepEqual(back.config, TINY);
  const imgs = scenes(2, 16);
  assert.deepEqual(back.encode(imgs), tok.encode(imgs));
  assert.deepEqual(back.decode(tok.encode(imgs)), tok.decode(tok.encode(imgs)));
  // The codes version: stable across save/load, blind to the decoder, moved by any encoder or codebook weight.
  assert.match(tok.codesVersion, /^vq@[0-9a-f]{12}$/);
  assert.equal(back.codesVersion, tok.codesVersion);
  assert.notEqual(new ImageTokenizer(TINY, 6).codesVersion, tok.codesVersion);
  const nudged = (prefix: string) => {
    const state = back.stateDict();
    const [name, entry] = [...state].find(([k]) => k.startsWith(prefix))!;
    const data = Float32Array.from(entry.data as Float32Array);
    data[0] = data[0]! + 0.5;
    state.set(name, { shape: entry.shape, data });
    const t = new ImageTokenizer(TINY);
    t.loadStateDict(state);
    return t.codesVersion;
  };
  assert.equal(nudged('decoder.'), tok.codesVersion, 'a decoder weight does not change it');
  assert.notEqual(nudged('quantizer.'), tok.codesVersion, 'a codebook weight does');
  assert.notEqual(nudged('encoder.'), tok.codesVersion, 'an encoder weight does');

  assert.throws(() => ImageTokenizer.load(join(dir, 'nothing')), (e: Error) => e instanceof TokenizerError && /config.json is missing/.test(e.message));
  const weights = readFileSync(join(path, 'model.safetensors'));
  const cfg = readFileSync(join(path, 'config.json'), 'utf8');
  writeFileSync(join(path, 'model.safetensors'), weights.subarray(0, weights.length - 100));
  assert.throws(() => ImageTokenizer.load(path), (e: Error) => e instanceof TokenizerError && /truncated/.test(e.message));
  writeFileSync(join(path, 'model.safetensors'), weights);
  writeFileSync(join(path, 'config.json'), cfg.replace('"codebookSize": 32', '"codebookSize": 64'));
  assert.throws(() => ImageTokenizer.load(path), (e: Error) => e instanceof TokenizerError && /does not match/.test(e.message));
  writeFileSync(join(path, 'config.json'), '{ not json');
  assert.throws(() => ImageTokenizer.load(path), (e: Error) => e instanceof TokenizerError && /not valid JSON/.test(e.message));
  writeFileSync(join(path, 'config.json'), JSON.stringify({ format: 'something-else' }));
  assert.throws(() => ImageTokenizer.load(path), /format is "something-else"/);
  // Weights of another config under a config that has no stored copy: shape mismatch is named.
  const other = new ImageTokenizer({ ...TINY, codeDim: 4 }, 1);
  const p2 = join(dir, 'other');
  other.save(p2);
  const f = readFileSync(join(p2, 'model.safetensors'));
  const headerLen = Number(f.readBigUInt64LE(0));
  const header = JSON.parse(f.subarray(8, 8 + headerLen).toString()) as Record<string, unknown>;
  delete header['__metadata__'];
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8) json += ' ';
  const nb = Buffer.alloc(8);
  nb.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(join(path, 'model.safetensors'), Buffer.concat([nb, Buffer.from(json), f.subarray(8 + headerLen)]));
  writeFileSync(join(path, 'config.json'), cfg);
  assert.throws(() => ImageTokenizer.load(path), (e: Error) => e instanceof TokenizerError && /tensor 'encoder.convOut.weight' has shape \[4, 16, 1, 1\], the config needs \[8, 16, 1, 1\]/.test(e.message));
});

test('bad grids, images and configs give clear errors', () => {
  const tok = new ImageTokenizer(TINY, 6);
  assert.throws(() => tok.decode([new Int32Array(15)]), /grid 0 has 15 codes, this tokenizer needs 16 \(a 4x4 grid\)/);
  assert.throws(() => tok.decode([new Int32Array(64)]), /64 codes \(a 8x8 grid\)/);
  const bad = new Int32Array(16);
  bad[5] = 32;
  assert.throws(() => tok.decode([new Int32Array(16), bad]), /grid 1: code 32 at index 5 \(row 1, column 1\) is outside the codebook 0..31/);
  assert.throws(() => tok.decode([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 1.5]]), /code 1.5 at index 15/);
  assert.throws(() => tok.decode([Array(16).fill(-1)]), /code -1 at index 0/);
  assert.throws(() => tok.encode([{ width: 4, height: 4, rgb: new Uint8Array(40) }]), (e: Error) => e instanceof TokenizerError && /expected 48 RGB bytes/.test(e.message));
  assert.throws(() => tok.encode([{ width: 0, height: 4, rgb: new Uint8Array(0) }]), /invalid size 0x4/);
  assert.throws(() => validateVqConfig({ ...TINY, factor: 3 }), /factor must be a power of two/);
  assert.throws(() => validateVqConfig({ ...TINY, channels: [8, 16] }), /channels needs 3 entries/);
  assert.throws(() => validateVqConfig({ ...TINY, channels: [8, 16, 18] }), /not divisible by groups 4/);
  assert.throws(() => vqConfigFromDict({ imageSize: 64 }), /missing factor/);
});
