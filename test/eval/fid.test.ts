import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frechetDistance, meanAndCovariance, symmetricEigen } from '../../src/eval/fid.js';
import { Rng } from '../../src/tensor/index.js';

test('symmetric eigen-decomposition reconstructs the matrix', () => {
  const rng = new Rng(1);
  const n = 7;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) { const x = rng.normal(); a[i * n + j] = x; a[j * n + i] = x; }
  const { values, vectors } = symmetricEigen(a, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vectors[i * n + k]! * values[k]! * vectors[j * n + k]!;
      assert.ok(Math.abs(s - a[i * n + j]!) < 1e-9, `(${i}, ${j}): ${s} vs ${a[i * n + j]}`);
    }
  }
});

test('Fréchet distance: 0 for the same set; closed forms in one dimension; grows with the shift', () => {
  const rng = new Rng(2);
  const a = Array.from({ length: 400 }, () => [rng.normal(), rng.normal() * 2, rng.normal() * 0.5]);
  assert.ok(frechetDistance(a, a) < 1e-8);
  // Along x only: means 0 and 3, variances 2 and 2 -> (0 - 3)^2 + (sqrt 2 - sqrt 2)^2 = 9.
  const d1 = [[-1, 0], [1, 0]];
  const d2 = [[2, 0], [4, 0]];
  assert.ok(Math.abs(frechetDistance(d1, d2) - 9) < 1e-9, `${frechetDistance(d1, d2)}`);
  // Variances 2 and 8, same mean -> (sqrt 2 - sqrt 8)^2 = 2.
  assert.ok(Math.abs(frechetDistance(d1, [[-2, 0], [2, 0]]) - 2) < 1e-9);
  // Diagonal covariances (independent axes): sum over axes of the 1-D terms, up to sampling.
  const shifted = a.map((x) => [x[0]! + 1, x[1]!, x[2]!]);
  const { mean } = meanAndCovariance(a);
  assert.ok(Math.abs(frechetDistance(a, shifted) - 1) < 1e-6, `${frechetDistance(a, shifted)} (means ${[...mean]})`);
  assert.ok(frechetDistance(a, a.map((x) => x.map((v) => v + 0.5))) > frechetDistance(a, a.map((x) => x.map((v) => v + 0.1))));
  assert.throws(() => frechetDistance([[1, 2]], [[1, 2], [3, 4]]), /at least 2 vectors/);
});
