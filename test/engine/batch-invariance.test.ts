/**
 * A row's result does not depend on the rest of its batch, bit for bit, on the CPU backends: what
 * lets batched decoding (guidance streams, many prompts) give exactly the unbatched tokens. Linear
 * layers with a few rows (M <= 16, weights read transposed) sum each row as the one-row product does;
 * attention over a KV cache sums each row over its own keys, whatever its left padding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/index.js';
import { testBackends } from '../helpers.js';

const rowsOf = (t: T.Tensor, n: number): Float32Array[] => {
  const d = Float32Array.from(t.dataSync() as Float32Array);
  const w = d.length / n;
  return Array.from({ length: n }, (_, r) => d.slice(r * w, (r + 1) * w));
};

test('x W^T with 2..16 rows: each row equals the one-row product exactly', () => {
  for (const backend of ['cpu-ref', ...testBackends()]) {
    T.setBackend(backend);
    try {
      // K = 37 and 256 (vector tails and none), N = 70 and 300 (several blocks and threads).
      for (const [k, n] of [[37, 70], [256, 300]] as const) {
        const w = T.randn([n, k], { seed: k });
        for (const m of [2, 3, 4, 5, 8, 16]) {
          const x = T.randn([m, k], { seed: m });
          const all = rowsOf(T.matmul(x, T.transpose(w)), m);
          for (let r = 0; r < m; r++) {
            const one = rowsOf(T.matmul(T.slice(x, 0, r, r + 1), T.transpose(w)), 1)[0]!;
            assert.deepEqual(all[r], one, `${backend}: K ${k}, N ${n}, M ${m}, row ${r}`);
          }
          x.dispose();
        }
        w.dispose();
      }
    } finally {
      T.setBackend('cpu');
    }
  }
});

test('attention over a left-padded KV cache: each row equals the unpadded row exactly', () => {
  for (const backend of ['cpu-ref', ...testBackends()]) {
    T.setBackend(backend);
    try {
      // Row r holds lens[r] real keys after pad[r] padding slots; one query (decoding) and three.
      const lens = [9, 4, 1];
      const tk = 12;
      const pad = lens.map((l) => tk - l);
      const k = T.randn([3, tk, 2, 20], { seed: 1 });
      const v = T.randn([3, tk, 2, 20], { seed: 2 });
      for (const tq of [1, 3]) {
        const q = T.randn([3, tq, 2, 20], { seed: 3 });
        const all = rowsOf(T.attention(q, k, v, { keyStarts: pad }), 3);
        lens.forEach((len, r) => {
          if (len < tq) return;
          const own = (t: T.Tensor): T.Tensor => T.slice(T.slice(t, 0, r, r + 1), 1, pad[r]!, tk);
          const one = rowsOf(T.attention(T.slice(q, 0, r, r + 1), own(k), own(v)), 1)[0]!;
          assert.deepEqual(all[r], one, `${backend}: Tq ${tq}, row ${r}`);
        });
        q.dispose();
      }
      T.dispose([k, v]);
    } finally {
      T.setBackend('cpu');
    }
  }
});
