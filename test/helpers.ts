/**
 * Shared test helpers: numeric comparison, the list of backends every conformance test runs on,
 * and reading a tensor on any backend (synchronously where it can, else awaited).
 */
import assert from 'node:assert/strict';
import { listBackends, type Tensor, type TypedArray } from '../src/index.js';
import { initWebGpu, webGpuAvailable } from '../src/backends/webgpu/index.js';

/** max |a - b| / max(max |b|, floor): relative to the tensor's scale, not per element. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number {
  assert.equal(a.length, b.length, `length ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = floor;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(y) || !Number.isFinite(y)) {
      if (!Object.is(x, y) && !(Number.isNaN(x) && Number.isNaN(y))) return Infinity;
      continue;
    }
    diff = Math.max(diff, Math.abs(x - y));
    scale = Math.max(scale, Math.abs(y));
  }
  return diff / scale;
}

export function assertClose(actual: ArrayLike<number> | TypedArray, expected: ArrayLike<number> | TypedArray, tol: number, what: string): void {
  const e = relErr(actual, expected);
  assert.ok(e <= tol, `${what}: relative error ${e.toExponential(3)} > ${tol}`);
}

/** The float backends to check against the reference (cpu-ref itself is the reference). */
export function testBackends(): string[] {
  return listBackends().filter((b) => b !== 'cpu-ref');
}

/**
 * Brings up the WebGPU backend when this machine has an adapter (a GPU, or Mesa lavapipe). Returns
 * null when it is registered, else the reason to skip its tests (CI installs lavapipe, so there it runs).
 */
export async function initTestWebGpu(): Promise<string | null> {
  if (process.env.CM3LEON_SKIP_WEBGPU) return 'CM3LEON_SKIP_WEBGPU is set';
  try {
    if (!(await webGpuAvailable())) return 'no WebGPU adapter here (install Mesa lavapipe: scripts/ci/install-lavapipe.sh)';
    await initWebGpu();
    return null;
  } catch (e) {
    return `WebGPU did not start: ${(e as Error).message}`;
  }
}

/** A tensor's values on any backend: dataSync where the backend reads synchronously, else await data(). */
export async function readTensor(t: Tensor): Promise<TypedArray> {
  return t.backend.readSync(t) ?? (await t.data());
}
