/**
 * A linear-regression recipe for the training loop's own tests: w (4) and b (1) fit y = x . w* + b*
 * on seeded batches of 8 rows, mean squared error. `nanCalls` lists the calls of `loss` (0-based, counting retries) that give NaN.
 */
import { join } from 'node:path';
import { loadSafetensors, parameter, saveSafetensors, assignData } from '../../src/nn/index.js';
import * as T from '../../src/tensor/index.js';
import type { Recipe } from '../../src/train/fit.js';

const TRUE_W = [0.5, -1, 2, 0.25];

/** Rows (n, 4) and targets (n) of batch `micro` of step `step`. */
export function rows(step: number, micro: number, n: number): { x: Float32Array; y: Float32Array } {
  const rng = new T.Rng(1000 + step * 17 + micro);
  const x = Float32Array.from({ length: n * 4 }, () => rng.normal());
  const y = Float32Array.from({ length: n }, (_, i) => TRUE_W.reduce((s, w, k) => s + w * x[i * 4 + k]!, 0.3));
  return { x, y };
}

/** `joined`: one batch holding micro-batches 0 and 1 of the step (what accumulating 2 of them sees). */
function join2(a: { x: Float32Array; y: Float32Array }, b: { x: Float32Array; y: Float32Array }): { x: Float32Array; y: Float32Array } {
  return { x: Float32Array.from([...a.x, ...b.x]), y: Float32Array.from([...a.y, ...b.y]) };
}

export function linearRecipe(o: { batch?: number; nanCalls?: number[]; scale?: number; joined?: boolean } = {}): Recipe & { w: T.Tensor; b: T.Tensor } {
  const n = o.batch ?? 8;
  const w = parameter(T.tensor(new Float32Array(4), [4, 1]));
  const b = parameter(T.tensor(new Float32Array(1), [1]));
  let calls = 0;
  return {
    w, b,
    named: () => new Map([['w', w], ['b', b]]),
    betas: [0.9, 0.95],
    weightDecay: 0,
    itemsPerStep: n,
    unit: 'rows',
    loss(step, micro) {
      const { x, y } = o.joined ? join2(rows(step, 0, n / 2), rows(step, 1, n / 2)) : rows(step, micro, n);
      const pred = T.add(T.reshape(T.matmul(T.tensor(x, [n, 4]), w), [n]), b); // (n)
      const d = T.sub(pred, T.tensor(y, [n]));
      const mse = T.mul(T.mean(T.mul(d, d)), o.scale ?? 1);
      return o.nanCalls?.includes(calls++) ? T.mul(mse, NaN) : mse;
    },
    writeModel(dir) {
      saveSafetensors(join(dir, 'model.safetensors'), new Map([['w', { shape: [4, 1], data: w.dataSync() }], ['b', { shape: [1], data: b.dataSync() }]]), {});
    },
    restore(dir) {
      const f = loadSafetensors(join(dir, 'model.safetensors'));
      assignData(w, f.tensors.get('w')!.data as Float32Array);
      assignData(b, f.tensors.get('b')!.data as Float32Array);
    },
  };
}
