/** Decoder checkpoints: Hugging Face OPT names and shapes, round trip, and clear errors on bad files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../../src/index.js';
import { Decoder } from '../../src/model/decoder.js';
import { hfStateDict, loadDecoder, saveDecoder } from '../../src/model/checkpoint.js';
import { presetConfig, fromHfConfig, toHfConfig } from '../../src/model/config.js';

const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('../../../test/fixtures/opt-causal-lm-tiny.json', import.meta.url)), 'utf8')) as {
  config: Record<string, unknown>; tensors: Record<string, number[]>;
};

const tinyConfig = { vocabSize: 50, dim: 16, heads: 2, layers: 2, maxPositions: 8, initStd: 0.02, zeroOutputLayers: false, seed: 3 };

test('tensor names and shapes are exactly what OPTForCausalLM expects', () => {
  const model = new Decoder(tinyConfig);
  const names = [...hfStateDict(model)].map(([n, t]) => [n, [...t.shape]]);
  assert.deepEqual(Object.fromEntries(names), fixture.tensors);
  const hf = toHfConfig(model.config);
  for (const [k, v] of Object.entries(fixture.config)) assert.deepEqual(hf[k], v, `config.json ${k}`);
});

test('save and load round trip gives identical logits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-ckpt-'));
  const model = new Decoder(tinyConfig);
  saveDecoder(dir, model);
  const back = loadDecoder(dir);
  const ids = T.randint([2, 8], 50, { seed: 5 });
  assert.deepEqual([...back.forward(ids).dataSync()], [...model.forward(ids).dataSync()]);
  const cfg = fromHfConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
  assert.deepEqual([cfg.vocabSize, cfg.dim, cfg.heads, cfg.layers, cfg.maxPositions, cfg.eps], [50, 16, 2, 2, 8, 1e-5]);
});

test('bad checkpoints and configs give clear errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-ckpt-'));
  const model = new Decoder(tinyConfig);
  saveDecoder(dir, model);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 3 }));
  assert.throws(() => loadDecoder(dir), /missing tensors model\.decoder\.layers\.2\./);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, hidden_size: 32, word_embed_proj_dim: 32, ffn_dim: 128 }));
  assert.throws(() => loadDecoder(dir), /has shape \[50, 16\], expected \[50, 32\]/);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, enable_bias: true }));
  assert.throws(() => loadDecoder(dir), /enable_bias true is not supported/);
  writeFileSync(join(dir, 'config.json'), '{ not json');
  assert.throws(() => loadDecoder(dir), /config.json is not valid JSON/);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  writeFileSync(join(dir, 'model.safetensors'), readFileSync(join(dir, 'model.safetensors')).subarray(0, 100));
  assert.throws(() => loadDecoder(dir), /safetensors: .*model\.safetensors/);
  assert.throws(() => presetConfig('huge', 10), /unknown preset 'huge'/);
  assert.throws(() => presetConfig('tiny', 10, { heads: 3 }), /dim 64 is not divisible by heads 3/);
});
