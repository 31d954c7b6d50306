/**
 * One conformance suite for every backend (ggml test-backend-ops style): each case of cases.ts runs
 * on the f64 reference (cpu-ref), whose gradients are checked by central finite differences, and
 * then on every other registered backend in f32, whose outputs and gradients must match the
 * reference within the case's tolerance. WebGPU joins when this machine has an adapter (a GPU, or
 * Mesa lavapipe as in CI); its tensors are read with `await data()`, the CPU's synchronously.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { cases, type Case, type InputSpec } from './cases.js';
import { initTestWebGpu, readTensor, relErr, testBackends } from '../helpers.js';

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

async function run(c: Case, data: Data[], gy: Float64Array, backend: string, dtype: 'f32' | 'f64', withGrad = true): Promise<Result> {
  T.setBackend(backend);
  let kept: { out: Tensor; grads: (Tensor | null)[] };
  try {
    kept = T.tidy(() => {
      const inputs: Tensor[] = [];
      c.inputs.forEach((spec, i) => {
        const d = data[i]!;
        const t = spec.int ? T.tensor(d, spec.shape, { dtype: 'i32' }) : T.tensor(dtype === 'f32' ? Float32Array.from(d) : d, spec.shape);
        if (withGrad && !spec.int && !spec.noGrad) t.requiresGrad = true;
        inputs.push(t);
      });
      const out = c.f(...inputs);
      if (withGrad && out.requiresGrad) {
        T.backward(out, { gradOutput: T.tensor(dtype === 'f32' ? Float32Array.from(gy) : gy, out.shape) });
      }
      // Gradients are kept tensors: they outlive the inputs, which the scope disposes.
      return { out, grads: inputs.map((t) => t.grad) };
    });
  } finally {
    T.setBackend('cpu');
  }
  try {
    const out = toF64(await readTensor(kept.out));
    const grads: (Float64Array | null)[] = [];
    for (const g of kept.grads) grads.push(g ? toF64(await readTensor(g)) : null);
    return { out, grads };
  } finally {
    T.dispose(kept);
  }
}

/** Central differences of L = sum(f(x) * gy) at a few elements of each float input. */
async function checkFiniteDifferences(c: Case, data: Data[], gy: Float64Array, ref: Result): Promise<void> {
  const h = 1e-5;
  const loss = async (d: Data[]): Promise<number> => {
    const out = (await run(c, d, gy, 'cpu-ref', 'f64', false)).out;
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i]! * gy[i]!;
    return s;
  };
  for (const [i, spec] of c.inputs.entries()) {
    if (spec.int || spec.noGrad) continue;
    const g = ref.grads[i];
    assert.ok(g, `${c.name}: input ${i} got no gradient`);
    const d = data[i] as Float64Array;
    const picks = d.length <= 12 ? [...d.keys()] : Array.from({ length: 12 }, (_, k) => Math.floor((k * d.length) / 12 + (k % 3)) % d.length);
    for (const j of picks) {
      const keep = d[j]!;
      d[j] = keep + h;
      const up = await loss(data);
      d[j] = keep - h;
      const down = await loss(data);
      d[j] = keep;
      const fd = (up - down) / (2 * h);
      const err = Math.abs(fd - g[j]!) / (1e-4 + Math.abs(fd));
      assert.ok(err < 1e-4, `${c.name}: input ${i} element ${j}: analytic ${g[j]} vs finite difference ${fd}`);
    }
  }
}

describe('conformance: every op on the f64 reference, gradients by finite differences', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const rng = new T.Rng(7);
      const data = c.inputs.map((s) => makeData(s, rng));
      const outSize = (await run(c, data, new Float64Array(0), 'cpu-ref', 'f64', false)).out.length;
      const gy = makeData({ shape: [outSize] }, rng) as Float64Array;
      const ref = await run(c, data, gy, 'cpu-ref', 'f64');
      for (const v of ref.out) assert.ok(Number.isFinite(v), `${c.name}: reference output not finite`);
      if (!c.noFd) await checkFiniteDifferences(c, data, gy, ref);
    });
  }
});

/**
 * Tolerance of a backend for a case, relative to the tensor's scale: the case's own (default 2e-5)
 * for outputs, 5x that for gradients. WebGPU meets the CPU's tolerances on lavapipe; the factor is
 * here for GPUs whose exp/log are looser (WGSL allows a few ulps): raise it for them, with a note.
 */
function toleranceFor(backend: string, c: Case): number {
  return (c.tol ?? 2e-5) * (backend === 'webgpu' ? WEBGPU_TOL_FACTOR : 1);
}
const WEBGPU_TOL_FACTOR = 1;

const webGpuSkip = await initTestWebGpu();
if (webGpuSkip) describe('conformance: webgpu (f32) against the f64 reference', { skip: webGpuSkip }, () => {});

for (const backend of testBackends()) {
  describe(`conformance: ${backend} (f32) against the f64 reference`, () => {
    for (const c of cases) {
      test(c.name, async () => {
        const rng = new T.Rng(7);
        const data = c.inputs.map((s) => makeData(s, rng));
        const outSize = (await run(c, data, new Float64Array(0), 'cpu-ref', 'f64', false)).out.length;
        const gy = makeData({ shape: [outSize] }, rng) as Float64Array;
        const ref = await run(c, data, gy, 'cpu-ref', 'f64');
        const got = await run(c, data, gy, backend, 'f32');
        const tol = toleranceFor(backend, c);
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
