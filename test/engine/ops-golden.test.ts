/**
 * Single-op golden values from PyTorch in float64 (test/fixtures/ops-golden.safetensors, written by
 * scripts/torch/make_golden.py): conv2d, group norm, upsampling, GELU, layer norm, softmax and
 * log-softmax on overflowing rows, logsumexp, cross-entropy with ignore index, causal attention and
 * three AdamW steps. The f64 reference must agree to ~1e-10; f32 backends to 1e-5 of scale.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as T from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { assertClose, testBackends } from '../helpers.js';

const fixture = T.loadSafetensors(fileURLToPath(new URL('../../../test/fixtures/ops-golden.safetensors', import.meta.url)));
const raw = (name: string): { shape: number[]; data: Float64Array | Int32Array } => {
  const t = fixture.tensors.get(name);
  assert.ok(t, `fixture lacks ${name}`);
  return { shape: t.shape, data: t.data as Float64Array | Int32Array };
};

/**
 * The softmax fixture has rows near +-1e4, where f32 keeps only ~3 decimals of the input itself
 * (ulp(1e4) = 2^-10): the f32 results can be no closer to the f64 truth than that.
 */
const f32Tolerance: Record<string, number> = { 'softmax.y': 2e-4, 'softmax.gx': 2e-4, 'logsoftmax.y': 2e-4, 'logsoftmax.gx': 2e-4 };

type Runner = (get: (name: string, grad?: boolean) => Tensor, check: (name: string, t: Tensor | ArrayLike<number>) => void) => void;

const cases: Record<string, Runner> = {
  conv2d: (get, check) => {
    for (const [c, stride, padding] of [['conv2d', 2, 1], ['conv2d_s1', 1, 1]] as const) {
      const x = get(`${c}.x`, true);
      const w = get(`${c}.w`, true);
      const y = T.conv2d(x, w, { stride, padding });
      check(`${c}.y`, y);
      T.backward(y, { gradOutput: get(`${c}.gy`) });
      check(`${c}.gx`, x.grad!);
      check(`${c}.gw`, w.grad!);
    }
  },
  groupnorm: (get, check) => {
    const [x, w, b] = [get('groupnorm.x', true), get('groupnorm.weight', true), get('groupnorm.bias', true)];
    const y = T.groupNorm(x, 3, w, b, 1e-5);
    check('groupnorm.y', y);
    T.backward(y, { gradOutput: get('groupnorm.gy') });
    check('groupnorm.gx', x.grad!);
    check('groupnorm.gweight', w.grad!);
    check('groupnorm.gbias', b.grad!);
  },
  upsample: (get, check) => {
    const x = get('upsample.x', true);
    const y = T.upsampleNearest2d(x, 2);
    check('upsample.y', y);
    T.backward(y, { gradOutput: get('upsample.gy') });
    check('upsample.gx', x.grad!);
  },
  gelu: (get, check) => {
    const x = get('gelu.x', true);
    const y = T.gelu(x);
    check('gelu.y', y);
    T.backward(y, { gradOutput: get('gelu.gy') });
    check('gelu.gx', x.grad!);
  },
  layernorm: (get, check) => {
    const x = get('layernorm.x', true);
    const y = T.layerNorm(x, 1e-5);
    check('layernorm.y', y);
    T.backward(y, { gradOutput: get('layernorm.gy') });
    check('layernorm.gx', x.grad!);
  },
  'softmax and log-softmax with overflowing rows': (get, check) => {
    for (const [name, f] of [['softmax', T.softmax], ['logsoftmax', T.logSoftmax]] as const) {
      const x = get('softmax.x', true);
      const y = f(x);
      check(`${name}.y`, y);
      T.backward(y, { gradOutput: get('softmax.gy') });
      check(`${name}.gx`, x.grad!);
    }
    check('logsumexp.y', T.logsumexp(get('softmax.x'), -1));
  },
  'cross-entropy with ignore index': (get, check) => {
    const logits = get('xent.logits', true);
    const loss = T.crossEntropy(logits, get('xent.targets'));
    check('xent.loss', loss);
    T.backward(loss);
    check('xent.glogits', logits.grad!);
  },
  attention: (get, check) => {
    // The fixture is (B, H, T, D); the engine's attention takes (B, T, H, D) views.
    const bthd = (t: Tensor): Tensor => T.permute(t, [0, 2, 1, 3]);
    const [q, k, v] = [get('attention.q', true), get('attention.k', true), get('attention.v', true)];
    const y = bthd(T.attention(bthd(q), bthd(k), bthd(v)));
    check('attention.y', y);
    T.backward(y, { gradOutput: get('attention.gy') });
    check('attention.gq', q.grad!);
    check('attention.gk', k.grad!);
    check('attention.gv', v.grad!);
  },
  'AdamW, three steps': (get, check) => {
    const p = T.noGrad(() => T.add(get('adamw.p0'), 0)).keep();
    p.requiresGrad = true;
    const opt = new T.AdamW([p], { lr: 1e-2, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.1 });
    for (const g of ['adamw.g1', 'adamw.g2', 'adamw.g3']) {
      p.grad = get(g).keep();
      opt.stepUpdate();
      opt.zeroGrad();
    }
    check('adamw.p3', p);
    p.dispose();
  },
};

for (const backend of ['cpu-ref', ...testBackends()]) {
  for (const dtype of backend === 'cpu-ref' ? (['f64', 'f32'] as const) : (['f32'] as const)) {
    for (const [name, runCase] of Object.entries(cases)) {
      test(`golden ${name} (${backend}, ${dtype})`, () => {
        T.setBackend(backend);
        const leaves: Tensor[] = [];
        try {
          T.tidy(() => {
            const get = (n: string, grad = false): Tensor => {
              const r = raw(n);
              const t = r.data instanceof Int32Array ? T.tensor(r.data, r.shape, { dtype: 'i32' }) : T.tensor(dtype === 'f32' ? Float32Array.from(r.data) : r.data, r.shape);
              if (grad) {
                t.requiresGrad = true;
                leaves.push(t);
              }
              return t;
            };
            const check = (n: string, t: Tensor | ArrayLike<number>): void => {
              const got = 'dataSync' in t ? (t as Tensor).dataSync() : t;
              assertClose(got, raw(n).data, dtype === 'f64' ? 1e-10 : (f32Tolerance[n] ?? 1e-5), `${n} (${backend}, ${dtype})`);
            };
            runCase(get, check);
          });
        } finally {
          for (const t of leaves) t.grad?.dispose();
          T.setBackend('cpu');
        }
      });
    }
  }
}
