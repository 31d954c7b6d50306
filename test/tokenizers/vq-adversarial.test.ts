/**
 * The patch discriminator and the adversarial term of image tokenizer training: hinge losses by
 * hand, the discriminator's output shape, its save/load, and that a run with it checkpoints the
 * discriminator and resumes to the same weights as an uninterrupted run.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import '../../src/index.js';
import { tensor } from '../../src/tensor/index.js';
import { PatchDiscriminator, hingeDiscriminatorLoss, hingeGeneratorLoss } from '../../src/tokenizers/vq/discriminator.js';
import { ImageTokenizer, type VqConfig } from '../../src/tokenizers/vq/index.js';
import { trainImageTokenizer } from '../../src/train/image-tokenizer.js';
import { renderScene, sampleScene, Rng as DataRng } from '../../src/data/index.js';
import { assertSameWeights } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cm3leon-vq-adv-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const TINY: VqConfig = { imageSize: 16, factor: 4, codebookSize: 32, codeDim: 8, channels: [8, 16, 16], resBlocks: [0, 1, 1], groups: 4 };

function scenes(n: number, size: number, seed = 3): Uint8Array[] {
  const rng = new DataRng(seed);
  return Array.from({ length: n }, () => renderScene(sampleScene(rng, 'train'), size).rgb);
}

test('hinge losses match the formulas', () => {
  const real = tensor(new Float32Array([2, 0.5, -1, 0]), [4]);
  const fake = tensor(new Float32Array([-2, -0.5, 1, 0]), [4]);
  // D: mean relu(1 - real) = (0 + 0.5 + 2 + 1) / 4; mean relu(1 + fake) = (0 + 0.5 + 2 + 1) / 4.
  assert.ok(Math.abs(hingeDiscriminatorLoss(real, fake).item() - 1.75) < 1e-6);
  // G: -mean fake = -(-2 - 0.5 + 1 + 0) / 4.
  assert.ok(Math.abs(hingeGeneratorLoss(fake).item() - 0.375) < 1e-6);
});

test('the discriminator gives one logit per patch and saves and loads exactly', () => {
  const d = new PatchDiscriminator(8, 3, 1);
  const x = tensor(new Float32Array(2 * 3 * 64 * 64).map((_, i) => Math.sin(i)), [2, 3, 64, 64]);
  const y = d.forward(x);
  assert.deepEqual(y.shape, [2, 1, 8, 8]);
  const path = join(dir, 'd.safetensors');
  d.save(path);
  const e = PatchDiscriminator.load(path);
  assert.deepEqual([...e.forward(x).dataSync()], [...y.dataSync()]);
  writeFileSync(join(dir, 'bad.safetensors'), readFileSync(path).subarray(0, 40));
  assert.throws(() => PatchDiscriminator.load(join(dir, 'bad.safetensors')), /discriminator .*bad\.safetensors/);
});

test('adversarial decoder training checkpoints the discriminator and resumes exactly', async () => {
  const images = scenes(32, 16, 4);
  const start = new ImageTokenizer(TINY, 2);
  start.save(join(dir, 'start'));
  const base = {
    images, config: TINY, batchSize: 4, lr: 2e-3, warmup: 2, checkpointEvery: 6, log: () => {},
    decoderOnly: true, loss: { adversarial: 0.1 },
  };
  const lines: string[] = [];
  const straight = await trainImageTokenizer({ ...base, out: join(dir, 'straight'), steps: 8, init: ImageTokenizer.load(join(dir, 'start')), log: (l) => lines.push(l), logEvery: 4 });
  assert.ok(lines.some((l) => / gen -?[0-9.]+ disc [0-9.]+ /.test(l)), 'the log shows both sides of the game');
  assert.ok(existsSync(join(dir, 'straight', 'checkpoint', 'discriminator.safetensors')));
  assert.ok(existsSync(join(dir, 'straight', 'checkpoint', 'discriminator-optimizer.safetensors')));
  await trainImageTokenizer({ ...base, out: join(dir, 'split'), steps: 8, init: ImageTokenizer.load(join(dir, 'start')), maxSeconds: 0 });
  const split = await trainImageTokenizer({ ...base, out: join(dir, 'split'), steps: 8, init: ImageTokenizer.load(join(dir, 'start')), resume: true });
  assertSameWeights(straight.tokenizer.stateDict(), split.tokenizer.stateDict(), 1e-5);
  const da = PatchDiscriminator.load(join(dir, 'straight', 'checkpoint', 'discriminator.safetensors')).stateDict();
  const db = PatchDiscriminator.load(join(dir, 'split', 'checkpoint', 'discriminator.safetensors')).stateDict();
  assertSameWeights(da, db, 1e-5, 'discriminator ');
  const moved = [...da].some(([name, t]) => {
    const init = new PatchDiscriminator(32, 3, 1 + 7).stateDict().get(name)!.data;
    return t.data.some((v, i) => v !== init[i]);
  });
  assert.ok(moved, 'the discriminator learned');
});
