import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClipModel, defaultClipConfig, textBatch } from '../../src/retrieval/clip.js';
import { ClipEncoder } from '../../src/retrieval/clip-encoder.js';
import { evaluateClip, type ClipItem } from '../../src/retrieval/clip-eval.js';
import { clipBatchFor, trainClip } from '../../src/train/bi-encoder.js';
import { loadTokenizerJson } from '../../src/tokenizers/tokenizer-json.js';
import { isUnitLength } from '../../src/retrieval/vectors.js';

const TOKENIZER = 'models/text-tokenizer/tokenizer.json';
const COLOURS: [string, [number, number, number]][] = [
  ['red', [230, 30, 30]], ['green', [30, 200, 40]], ['blue', [30, 50, 230]], ['yellow', [240, 220, 30]],
  ['black', [10, 10, 10]], ['white', [250, 250, 250]], ['purple', [140, 40, 180]], ['orange', [250, 140, 20]],
];

/** A 16 px image: a colour block at the left or the right half, on grey. */
function block(colour: [number, number, number], right: boolean): Uint8Array {
  const rgb = new Uint8Array(16 * 16 * 3).fill(128);
  for (let y = 2; y < 14; y++) for (let x = right ? 9 : 1; x < (right ? 15 : 7); x++) rgb.set(colour, (y * 16 + x) * 3);
  return rgb;
}

function items(): ClipItem[] {
  return COLOURS.flatMap(([name, c]) => [false, true].map((right) => ({
    dataset: 'toy', imageId: `${name}-${right}`, conceptId: name, style: 'flat',
    captions: [`a ${name} block on the ${right ? 'right' : 'left'}`], rgb: block(c, right),
  })));
}

function tinyConfig(vocab: number) {
  return defaultClipConfig(vocab, { imageSize: 16, channels: [8, 16, 16, 16], textWidth: 32, textHeads: 2, textLayers: 1, hidden: 32, embedDim: 16, textMaxLen: 16 });
}

test('bi-encoder: unit embeddings; a text embeds the same alone or beside a longer one (causal, padded)', () => {
  const tok = loadTokenizerJson(TOKENIZER);
  const enc = new ClipEncoder(new ClipModel(tinyConfig(tok.vocabSize)), tok, TOKENIZER);
  const [alone] = enc.embedTextSync(['a red block']);
  const [inBatch] = enc.embedTextSync(['a red block', 'a much longer caption with many more words in it than the first']);
  assert.ok(isUnitLength(alone!));
  for (let i = 0; i < alone!.length; i++) assert.ok(Math.abs(alone![i]! - inBatch![i]!) < 1e-5, `component ${i}: ${alone![i]} vs ${inBatch![i]}`);
  const [image] = enc.embedImageSync([{ width: 32, height: 32, rgb: new Uint8Array(32 * 32 * 3).fill(90) }]); // resized to 16
  assert.ok(isUnitLength(image!));
  const { ids, pool } = textBatch([[5, 6, 7], [9]], 4);
  assert.deepEqual([...(ids.dataSync() as Int32Array)], [5, 6, 7, 0, 9, 0, 0, 0]);
  assert.deepEqual([...(pool.dataSync() as Float32Array)].map((x) => +x.toFixed(4)), [0.3333, 0.3333, 0.3333, 0, 1, 0, 0, 0]);
});

test('bi-encoder: trains on colour/position captions to perfect held-in recall; resume equals an uninterrupted run', async () => {
  const tok = loadTokenizerJson(TOKENIZER);
  const data = items();
  const dir = mkdtempSync(join(tmpdir(), 'clip-'));
  try {
    const common = { config: tinyConfig(tok.vocabSize), encoderFor: (m: ClipModel) => new ClipEncoder(m, tok, TOKENIZER), train: data, batch: 16, lr: 3e-3, warmup: 5, log: () => {}, checkpointEvery: 10 };
    const before = await evaluateClip(new ClipEncoder(new ClipModel(common.config), tok, TOKENIZER), data, 16);
    const full = await trainClip({ ...common, out: join(dir, 'full'), steps: 120 });
    const after = await evaluateClip(full.encoder, data, 16);
    assert.ok(after.datasets['toy']!.textToImage.r1 >= 0.9, `text->image R@1 ${after.datasets['toy']!.textToImage.r1} (before ${before.datasets['toy']!.textToImage.r1})`);
    assert.ok(after.datasets['toy']!.imageToText.r1 >= 0.9, `image->text R@1 ${after.datasets['toy']!.imageToText.r1}`);
    assert.equal(after.datasets['toy']!.chance.r1, 1 / 16);

    // 40 steps, "killed", resumed to 120: the same weights as the uninterrupted run.
    await trainClip({ ...common, out: join(dir, 'resumed'), steps: 120, maxSeconds: 0 }); // stops after its first step, checkpointed
    const resumed = await trainClip({ ...common, out: join(dir, 'resumed'), steps: 120, resume: true });
    assert.equal(resumed.step, 120);
    const a = full.encoder.model.stateDict();
    const b = resumed.encoder.model.stateDict();
    for (const [name, p] of a) assert.deepEqual([...b.get(name)!.data], [...p.data], name);

    // Save / load round trip: same embeddings, same version; a corrupt config is refused clearly.
    full.encoder.save(join(dir, 'enc'));
    const loaded = ClipEncoder.load(join(dir, 'enc'));
    assert.equal(loaded.id.version, full.encoder.id.version);
    assert.deepEqual(loaded.embedTextSync(['a red block on the left']), full.encoder.embedTextSync(['a red block on the left']));
    const cfgPath = join(dir, 'enc', 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, config: { ...cfg.config, embedDim: -1 } }));
    assert.throws(() => ClipEncoder.load(join(dir, 'enc')), /not a valid bi-encoder config/);
    assert.throws(() => ClipEncoder.load(join(dir, 'missing')), /not a bi-encoder directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bi-encoder batches: distinct images, seeded by the step only', () => {
  const data = items();
  const a = clipBatchFor(3, 7, data, 10);
  assert.deepEqual(a, clipBatchFor(3, 7, data, 10));
  assert.equal(new Set(a.index).size, 10);
  assert.notDeepEqual(a, clipBatchFor(3, 8, data, 10));
  assert.equal(clipBatchFor(0, 0, data, 100).index.length, data.length);
});
