/**
 * End to end through the CLI, on a small freshly built Shapes dataset: text tokenizer training,
 * CM3leon training (tiny preset, a few steps, with an untrained image tokenizer so the test stays
 * fast — the image tokenizer's own tests cover its quality), then generate and caption. Checks
 * the mechanics a user relies on: files written, image of the right size, resume, clear errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePng } from '../../src/data/index.js';
import { ImageTokenizer } from '../../src/tokenizers/vq/image-tokenizer.js';
import { DEFAULT_VQ_CONFIG } from '../../src/tokenizers/vq/config.js';
import { webGpuAvailable } from '../../src/backends/index.js';
import { Cm3leon } from '../../src/decoding/pipeline.js';

const gpu = await webGpuAvailable();

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = (...args: string[]): { code: number; out: string; err: string } => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
};

test('data -> tokenizers -> train -> generate -> caption, through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-e2e-'));
  const data = join(dir, 'shapes');
  let r = run('data', 'build', 'shapes', '--n', '60', '--seed', '4', '--out', data);
  assert.equal(r.code, 0, r.err);
  r = run('data', 'text', data, '-o', join(dir, 'corpus.txt'));
  assert.equal(r.code, 0, r.err);
  r = run('tokenizer', 'train-text', '--input', join(dir, 'corpus.txt'), '--vocab-size', '400', '-o', join(dir, 'text.json'));
  assert.equal(r.code, 0, r.err);
  new ImageTokenizer({ ...DEFAULT_VQ_CONFIG, factor: 8, codebookSize: 64, channels: [8, 16, 16, 16], resBlocks: [0, 0, 0, 1] }, 1).save(join(dir, 'vq'));
  const common = ['--preset', 'tiny', '--data', data, '--text-tokenizer', join(dir, 'text.json'), '--image-tokenizer', join(dir, 'vq'), '--seq', '96', '--batch', '2', '--steps', '4', '--run', join(dir, 'run'), '--out', join(dir, 'model'), '--eval-every', '2', '--checkpoint-every', '2'];
  r = run('train', ...common, '--stop-after', '2');
  assert.equal(r.code, 0, r.err);
  r = run('train', ...common, '--resume');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err + r.out, /resumed from .* at step 2/);
  assert.match(r.out, /wrote .*model: step 4/);
  const metrics = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n');
  assert.ok(metrics.length >= 4);
  assert.ok(existsSync(join(dir, 'run', 'loss.png')));

  r = run('generate', 'a large red circle in the centre', '-o', join(dir, 'out.png'), '--model', join(dir, 'model'), '--seed', '1');
  assert.equal(r.code, 0, r.err);
  const png = decodePng(readFileSync(join(dir, 'out.png')));
  assert.deepEqual([png.width, png.height], [64, 64]);
  r = run('caption', join(dir, 'out.png'), '--model', join(dir, 'model'), '--temperature', '1', '--seed', '2');
  assert.equal(r.code, 0, r.err);
  const captionOut = r;
  // Several samples: seeds 1, 2, 3; the first is the single sample above.
  r = run('generate', 'a large red circle in the centre', '-o', join(dir, 'many.png'), '--model', join(dir, 'model'), '--seed', '1', '--samples', '3');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(readFileSync(join(dir, 'many-1.png')), readFileSync(join(dir, 'out.png')));
  assert.ok(existsSync(join(dir, 'many-3.png')));
  r = run('generate', 'x', '-o', join(dir, 'g.png'), '--model', join(dir, 'model'), '--samples', '0');
  assert.equal(r.code, 2);
  assert.match(r.err, /--samples must be an integer in \[1, 256\]/);
  // --batch: the samples two at a time as one batch (with CFG: 4 rows), the same images as one at a time.
  for (const batch of ['1', '2']) {
    r = run('generate', 'a large red circle in the centre', '-o', join(dir, `cfg-b${batch}.png`), '--model', join(dir, 'model'), '--seed', '1', '--samples', '3', '--cfg', '3', '--batch', batch);
    assert.equal(r.code, 0, r.err);
  }
  for (const i of [1, 2, 3]) assert.deepEqual(readFileSync(join(dir, `cfg-b2-${i}.png`)), readFileSync(join(dir, `cfg-b1-${i}.png`)), `sample ${i}`);
  r = run('generate', 'x', '-o', join(dir, 'g.png'), '--model', join(dir, 'model'), '--samples', '2', '--batch', '0');
  assert.equal(r.code, 2);
  assert.match(r.err, /--batch must be an integer in \[1, 64\], got '0'/);
  // The API: several captions as one batch, streamed per row, with previews of the partial images.
  const m = Cm3leon.loadSync(join(dir, 'model'));
  // The model records whose codes it learnt; a tokenizer that gives images other codes is refused.
  const infoPath = join(dir, 'model', 'cm3leon.json');
  const info = readFileSync(infoPath, 'utf8');
  assert.equal((JSON.parse(info) as { imageTokenizerCodes: string }).imageTokenizerCodes, ImageTokenizer.load(join(dir, 'vq')).codesVersion);
  writeFileSync(infoPath, JSON.stringify({ ...JSON.parse(info), imageTokenizerCodes: 'vq@000000000000' }));
  assert.throws(() => Cm3leon.loadSync(join(dir, 'model')), /trained on the codes of image tokenizer vq@000000000000, but .*vq \(cm3leon\.json\) makes vq@[0-9a-f]{12}/);
  writeFileSync(infoPath, info);
  const captions = ['a large red circle in the centre', 'a small blue square'];
  const partial: { row: number; done: number; gray: boolean }[] = [];
  const tokens = [0, 0];
  const batched = m.generateImages(captions, { seed: 7, cfg: 2, partialEvery: 16, onToken: (_id, _i, row) => tokens[row]!++, onPartialImage: (p) => {
    assert.deepEqual([p.image.width, p.image.height], [64, 64]);
    partial.push({ row: p.row, done: p.codes.length, gray: p.image.rgb.at(-1) === 128 && p.image.rgb.at(-3) === 128 });
  } });
  captions.forEach((c, i) => assert.deepEqual([...batched[i]!.codes], [...m.generateImage(c, { seed: 7 + i, cfg: 2 }).codes], `caption ${i}`));
  assert.deepEqual(tokens, [m.tok.imageLength, m.tok.imageLength]);
  // 64 codes, a preview every 16: after 16, 32, 48 (last cell still gray) and 64 codes, for each row.
  assert.deepEqual(partial, [16, 32, 48, 64].flatMap((done) => [0, 1].map((row) => ({ row, done, gray: done < 64 }))));
  assert.throws(() => m.generateImages([]), /give at least one caption/);
  assert.throws(() => m.generateImages(['x'], { onPartialImage: () => {}, partialEvery: 0 }), /partialEvery must be a positive integer/);
  r = captionOut;
  if (gpu) {
    const cpuCaption = r.out;
    // Training on WebGPU through the CLI (the same two steps as above, in its own run directory).
    r = run('train', ...common.map((a) => (a === join(dir, 'run') ? join(dir, 'run-gpu') : a === join(dir, 'model') ? join(dir, 'model-gpu') : a)), '--stop-after', '2', '--device', 'webgpu');
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /on webgpu/);
    assert.ok(existsSync(join(dir, 'model-gpu', 'model.safetensors')));
    // The decoder on WebGPU: the same tokens (so the same image bytes) and the same caption.
    r = run('generate', 'a large red circle in the centre', '-o', join(dir, 'out-gpu.png'), '--model', join(dir, 'model'), '--seed', '1', '--device', 'webgpu');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /on webgpu\)/);
    assert.deepEqual(readFileSync(join(dir, 'out-gpu.png')), readFileSync(join(dir, 'out.png')));
    r = run('caption', join(dir, 'out.png'), '--model', join(dir, 'model'), '--temperature', '1', '--seed', '2', '--device', 'webgpu');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, cpuCaption);
  }

  // Held-out evaluation with a CFG sweep (the Shapes set stands in for emoji too).
  r = run('eval', '--model', join(dir, 'model'), '--shapes', data, '--emoji', data, '--n', '2', '--cfg-sweep', '1,2', '-o', join(dir, 'eval'));
  assert.equal(r.code, 0, r.err);
  const evalJson = JSON.parse(readFileSync(join(dir, 'eval', 'eval.json'), 'utf8')) as { cfgSweep: { cfg: number }[] };
  assert.deepEqual(evalJson.cfgSweep.map((x) => x.cfg), [1, 2]);
  assert.ok(existsSync(join(dir, 'eval', 'cfg-sweep.png')));
  r = run('eval', '--model', join(dir, 'model'), '--shapes', data, '--emoji', data, '--cfg-sweep', '1,x');
  assert.equal(r.code, 2);
  assert.match(r.err, /--cfg-sweep takes non-negative scales/);

  // Bad input: clear one-line errors, exit code 2, nothing spent.
  r = run('train', ...common, '--data', join(dir, 'missing'));
  assert.equal(r.code, 2);
  assert.match(r.err, /is not a dataset directory/);
  r = run('train', ...common, '--preset', 'huge');
  assert.match(r.err, /unknown preset 'huge'/);
  r = run('generate', 'x', '-o', join(dir, 'g.png'), '--model', join(dir, 'model'), '--top-p', '0');
  assert.equal(r.code, 2);
  assert.match(r.err, /top-p must be in \(0, 1\], got 0/);
  r = run('generate', 'x', '-o', join(dir, 'g.png'), '--model', join(dir, 'model'), '--device', 'tpu');
  assert.equal(r.code, 2);
  assert.match(r.err, /--device: .*tpu/);
  r = run('caption', join(dir, 'corpus.txt'), '--model', join(dir, 'model'));
  assert.equal(r.code, 2);
  assert.match(r.err, /not an image in a supported format/);
});
