/**
 * Golden test against PyTorch: a tiny CM3leon-shaped decoder (fixture written by
 * scripts/torch/make_golden.py) — logits, loss, every parameter gradient and the parameters after
 * one AdamW step must match within 1e-4 relative, on every backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { AdamW, backward, loadSafetensors, setBackend, tensor, tidy, type TypedArray } from '../../src/index.js';
import { Decoder, hfName } from '../../src/model/decoder.js';
import { assertClose } from '../helpers.js';

const fixture = loadSafetensors(fileURLToPath(new URL('../../../test/fixtures/engine-golden.safetensors', import.meta.url)));
const cfg = JSON.parse(fixture.metadata.config!) as {
  vocab: number; width: number; heads: number; layers: number; maxPositions: number; batch: number; seq: number;
  adamw: { lr: number; betas: [number, number]; eps: number; weightDecay: number };
};
const get = (name: string): TypedArray => {
  const t = fixture.tensors.get(name);
  assert.ok(t, `fixture lacks ${name}`);
  return t.data as TypedArray;
};

for (const backend of ['cpu-ref', 'cpu']) {
  test(`decoder matches PyTorch: logits, loss, gradients, AdamW step (${backend})`, () => {
    setBackend(backend);
    const model = new Decoder({ vocabSize: cfg.vocab, dim: cfg.width, heads: cfg.heads, layers: cfg.layers, maxPositions: cfg.maxPositions });
    const params = model.namedParameters();
    assert.equal(params.size, 2 + 6 * cfg.layers);
    const state = new Map([...params].map(([name, p]) => [name, { shape: p.shape, data: get(`param.${hfName(name)}`) }]));
    model.loadStateDict(state);
    const ids = tensor(get('input_ids'), [cfg.batch, cfg.seq], { dtype: 'i32' });
    const targets = tensor(get('targets'), [cfg.batch, cfg.seq], { dtype: 'i32' });
    tidy(() => {
      const logits = model.forward(ids);
      assert.deepEqual(logits.shape, [cfg.batch, cfg.seq, cfg.vocab]);
      assertClose(logits.dataSync(), get('logits'), 1e-4, 'logits');
      const loss = model.loss(ids, targets);
      assertClose([loss.item()], get('loss'), 1e-5, 'loss');
      backward(loss);
    });
    for (const [name, p] of params) {
      assert.ok(p.grad, `${name} has a gradient`);
      assertClose(p.grad.dataSync(), get(`grad.${hfName(name)}`), 1e-4, `grad ${hfName(name)}`);
    }
    // The first AdamW step is close to lr * sign(g), so gradients near zero amplify 1e-4 gradient
    // differences; feeding PyTorch's own gradients checks the optimizer's arithmetic exactly.
    for (const [name, p] of params) {
      p.grad!.dispose();
      p.grad = tensor(get(`grad.${hfName(name)}`), p.shape).keep();
    }
    const opt = new AdamW(model.parameters(), { lr: cfg.adamw.lr, betas: cfg.adamw.betas, eps: cfg.adamw.eps, weightDecay: cfg.adamw.weightDecay });
    opt.stepUpdate();
    for (const [name, p] of params) assertClose(p.dataSync(), get(`updated.${hfName(name)}`), 1e-6, `updated ${hfName(name)}`);
    opt.zeroGrad();
    setBackend('cpu');
  });
}
