/** Shared test helpers: numeric comparison and the list of backends every conformance test runs on. */
import assert from 'node:assert/strict';
import { listBackends, type TypedArray } from '../src/index.js';

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
