/** Training steps under tidy allocate and free the same buffers: the live count stays flat. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/index.js';
import { Decoder } from '../../src/model/decoder.js';

test('memory is flat across training steps (no buffer leaks)', () => {
  T.setBackend('cpu');
  const model = new Decoder({ vocabSize: 50, dim: 16, heads: 2, layers: 2, maxPositions: 8, initStd: 0.02, zeroOutputLayers: false });
  const opt = new T.AdamW(model.parameters(), { lr: 1e-2 });
  const ids = T.randint([2, 8], 50, { seed: 1 }).keep();
  const targets = T.randint([2, 8], 50, { seed: 2 }).keep();
  const losses: number[] = [];
  const step = (): void => {
    const loss = T.tidy(() => {
      const l = model.loss(ids, targets);
      T.backward(l);
      return l.item();
    });
    losses.push(loss);
    T.clipGradNorm(model.parameters(), 1.0);
    opt.stepUpdate();
    opt.zeroGrad();
  };
  for (let i = 0; i < 3; i++) step();
  const live = T.liveBuffers();
  for (let i = 0; i < 30; i++) step();
  assert.equal(T.liveBuffers(), live, 'live buffers grew during training');
  assert.ok(losses[losses.length - 1]! < losses[0]! - 0.5, `loss did not fall: ${losses[0]} -> ${losses[losses.length - 1]}`);
});
