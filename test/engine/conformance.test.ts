/**
 * One conformance suite for every backend (ggml test-backend-ops style): each case of cases.ts runs
 * on the f64 reference (cpu-ref), whose gradients are checked by central finite differences, and
 * then on every other registered backend in f32, whose outputs and gradients must match the
 * reference within the case's tolerance.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { cases, type Case, type InputSpec } from './cases.js';
import { relErr, testBackends } from '../helpers.js';

type Data = Float64Array | Int32Array;

function makeData(spec: InputSpec, rng: T.Rng): Data {
  const n = spec.shape.reduce((a, d) => a * d, 1);
  if (spec.int) {
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = spec.int.ignore && i % 4 === 1 ? -100 : rng.int(spec.int.high);
    return a;
  }
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = spec.range ? spec.range[0] + (spec.range[1] - spec.range[0]) * rng.uniform() : rng.normal();
  return a;
}

interface Result { out: Float64Array; grads: (Float64Array | null)[] }

function toF64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a);
}

function run(c: Case, data: Data[], gy: Float64Array, backend: string, dtype: 'f32' | 'f64', withGrad = true): Result {
  T.setBackend(backend);
  const inputs: Tensor[] = [];
  try {
    return T.tidy(() => {
      c.inputs.forEach((spec, i) => {
        const d = data[i]!;
        const t = spec.int ? T.tensor(d, spec.shape, { dtype: 'i32' }) : T.tensor(dtype === 'f32' ? Float32Array.from(d) : d, spec.shape);
        if (withGrad && !spec.int && !spec.noGrad) t.requiresGrad = true;
        inputs.push(t);
      });
      const out = c.f(...inputs);
      const result: Result = { out: toF64(out.dataSync()), grads: [] };
      if (withGrad && out.requiresGrad) {
        T.backward(out, { gradOutput: T.tensor(dtype === 'f32' ? Float32Array.from(gy) : gy, out.shape) });
      }
      result.grads = inputs.map((t) => (t.grad ? toF64(t.grad.dataSync()) : null));
      return result;
    });
  } finally {
    for (const t of inputs) t.grad?.dispose();
    T.setBackend('cpu');
  }
}

/** Central differences of L = sum(f(x) * gy) at a few elements of each float input. */
function checkFiniteDifferences(c: Case, data: Data[], gy: Float64Array, ref: Result): void {
  const h = 1e-5;
  const loss = (d: Data[]): number => {
    const out = run(c, d, gy, 'cpu-ref', 'f64', false).out;
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i]! * gy[i]!;
    return s;
  };
  c.inputs.forEach((spec, i) => {
    if (spec.int || spec.noGrad) return;
    const g = ref.grads[i];
    assert.ok(g, `${c.name}: input ${i} got no gradient`);
    const d = data[i] as Float64Array;
    const picks = d.length <= 12 ? [...d.keys()] : Array.from({ length: 12 }, (_, k) => Math.floor((k * d.length) / 12 + (k % 3)) % d.length);
    for (const j of picks) {
      const keep = d[j]!;
      d[j] = keep + h;
      const up = loss(data);
      d[j] = keep - h;
      const down = loss(data);
      d[j] = keep;
      const fd = (up - down) / (2 * h);
      const err = Math.abs(fd - g[j]!) / (1e-4 + Math.abs(fd));
      assert.ok(err < 1e-4, `${c.name}: input ${i} element ${j}: analytic ${g[j]} vs finite difference ${fd}`);
    }
  });
}

describe('conformance: every op on the f64 reference, gradients by finite differences', () => {
  for (const c of cases) {
    test(c.name, () => {
      const rng = new T.Rng(7);
      const data = c.inputs.map((s) => makeData(s, rng));
      const outSize = run(c, data, new Float64Array(0), 'cpu-ref', 'f64', false).out.length;
      const gy = makeData({ shape: [outSize] }, rng) as Float64Array;
      const ref = run(c, data, gy, 'cpu-ref', 'f64');
      for (const v of ref.out) assert.ok(Number.isFinite(v), `${c.name}: reference output not finite`);
      if (!c.noFd) checkFiniteDifferences(c, data, gy, ref);
    });
  }
});

for (const backend of testBackends()) {
  describe(`conformance: ${backend} (f32) against the f64 reference`, () => {
    for (const c of cases) {
      test(c.name, () => {
        const rng = new T.Rng(7);
        const data = c.inputs.map((s) => makeData(s, rng));
        const outSize = run(c, data, new Float64Array(0), 'cpu-ref', 'f64', false).out.length;
        const gy = makeData({ shape: [outSize] }, rng) as Float64Array;
        const ref = run(c, data, gy, 'cpu-ref', 'f64');
        const got = run(c, data, gy, backend, 'f32');
        const tol = c.tol ?? 2e-5;
        const e = relErr(got.out, ref.out, 1e-2);
        assert.ok(e <= tol, `${c.name} on ${backend}: output relative error ${e.toExponential(2)} > ${tol}`);
        ref.grads.forEach((g, i) => {
          if (!g) return;
          const gg = got.grads[i];
          assert.ok(gg, `${c.name} on ${backend}: input ${i} got no gradient`);
          // Scale floor 1e-2: a gradient that is exactly 0 in theory (attention with T = 1) is f32 rounding noise.
          const ge = relErr(gg, g, 1e-2);
          assert.ok(ge <= tol * 5, `${c.name} on ${backend}: gradient ${i} relative error ${ge.toExponential(2)} > ${tol * 5}`);
        });
      });
    }
  });
}
