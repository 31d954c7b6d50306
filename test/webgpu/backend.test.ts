/**
 * The WebGPU backend beyond the shared conformance suite: every kernel compiles (both dtypes, the
 * head dims attention specialises on), the embedded WGSL is current, integer ops, larger and
 * batched matmuls, strided reads, batching, clear errors (f64, head dim, unsupported dtype, a lost
 * device), batched decoding over a left-padded cache, and a few training steps of a small decoder
 * that track the CPU's. Skipped, with the
 * reason, where no adapter exists.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as T from '../../src/index.js';
import { attentionTuning, createWebGpuBackend, matmulTuning, webGpuBackend, type WebGpuBackend } from '../../src/backends/webgpu/index.js';
import { wgslSources } from '../../src/backends/webgpu/wgsl.generated.js';
import { Decoder } from '../../src/model/decoder.js';
import { generateImageBatchAsync, generateImageCodesAsync } from '../../src/decoding/generate.js';
import { assertClose, initTestWebGpu } from '../helpers.js';

const skip = await initTestWebGpu();

test('the embedded WGSL matches src/backends/webgpu/wgsl/*.wgsl', () => {
  const r = spawnSync(process.execPath, ['scripts/embed-wgsl.mjs', '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

/** The same computation on cpu and on webgpu; returns both results. */
async function both(f: () => T.Tensor): Promise<[Float64Array, Float64Array]> {
  const out: Float64Array[] = [];
  for (const b of ['cpu', 'webgpu']) {
    T.setBackend(b);
    try {
      const t = T.tidy(f);
      out.push(Float64Array.from(await t.data()));
      t.dispose();
    } finally {
      T.setBackend('cpu');
    }
  }
  return [out[0]!, out[1]!];
}

describe('webgpu backend', { skip: skip ?? false }, () => {
  let gpu: WebGpuBackend;
  before(() => { gpu = webGpuBackend()!; });

  test('every kernel compiles', async () => {
    const subs: Record<string, Record<string, string | number>[]> = {
      binary: [{ T: 'f32' }, { T: 'i32' }],
      reduce: [{ T: 'f32' }, { T: 'i32' }],
      'reduce-thread': [{ T: 'f32' }, { T: 'i32' }],
      cast: [{ SRC: 'f32', DST: 'i32' }, { SRC: 'i32', DST: 'f32' }],
      'matmul-tiled': [{ __BK__: 8 }, { __BK__: 16 }],
      'attention-decode': [1, 64, 256].map((d) => ({ __D__: d, __W__: Math.max(1, Math.min(64, Math.floor(4096 / d))) })),
      ...Object.fromEntries(['attention', 'attention-backward-query', 'attention-backward-key'].map((k) => [k, [1, 64, 256].map((d) => ({ __D__: d, __KT__: Math.max(1, Math.min(32, Math.floor(1024 / d))) }))])),
    };
    const errors: string[] = [];
    for (const name of Object.keys(wgslSources)) {
      if (['prelude', 'math', 'reduce-row', 'matmul-batch'].includes(name)) continue;
      for (const s of subs[name] ?? [{}]) errors.push(...(await gpu.pipelines.compileErrors(name, s)));
    }
    assert.deepEqual(errors, []);
  });

  test('i32 layout, binary, reduce and casts agree with the cpu', async () => {
    const ids = Int32Array.from({ length: 60 }, (_, i) => (i * 37) % 23 - 7);
    const f = (): T.Tensor => {
      const a = T.tensor(ids, [3, 4, 5], { dtype: 'i32' });
      const b = T.tensor(Int32Array.from([2, -3, 5, 7, 1]), [5], { dtype: 'i32' });
      const s = T.sum(T.mul(T.add(T.transpose(a, 0, 2), T.reshape(b, [5, 1, 1])), 3), 1);
      return T.cast(T.add(T.cast(T.max(s, 0), 'f32'), 0.75), 'i32');
    };
    const [c, g] = await both(f);
    assert.deepEqual(g, c);
  });

  test('larger, batched and transposed matmuls agree with the cpu', async () => {
    const [c, g] = await both(() => {
      const a = T.randn([3, 130, 70], { seed: 1 });
      const b = T.randn([70, 97], { seed: 2 });
      const w = T.randn([3, 97, 70], { seed: 3 });
      return T.matmul(T.matmul(T.matmul(a, b), w), T.transpose(a, 1, 2));
    });
    assertClose(g, c, 2e-5, 'matmul chain');
  });

  test('each matmul kernel (64 and 128 tiles, K steps 8 and 16, split K) agrees with the cpu on ragged, transposed, batched operands', async () => {
    const saved = { ...matmulTuning };
    const f = (): T.Tensor => {
      const a = T.randn([2, 259, 45], { seed: 4 });
      const b = T.randn([45, 131], { seed: 5 });
      const w = T.randn([2, 200, 131], { seed: 6 }); // read transposed: unit stride along K
      const y = T.matmul(T.matmul(a, b), T.transpose(w, 1, 2)); // (2, 259, 200)
      return T.matmul(T.transpose(y, 1, 2), T.randn([259, 17], { seed: 7 })); // a with unit stride along M
    };
    try {
      // The last setting splits K (every product here has fewer than 1000 tiles): 2-5 parts.
      for (const setting of [{ kernel: 'tile64' }, { kernel: 'tile128', bk: 8 }, { kernel: 'tile128', bk: 16 }, { kernel: 'auto', bk: 8, minTiles: 1000, splitTarget: 16, minSplitK: 40 }] as const) {
        Object.assign(matmulTuning, setting);
        const [c, g] = await both(f);
        assertClose(g, c, 5e-5, `matmul ${JSON.stringify(setting)}`);
      }
    } finally {
      Object.assign(matmulTuning, saved);
    }
  });

  test('attention on the fused kernels and on the matmul path agrees with the cpu, gradients included', async () => {
    const saved = { ...attentionTuning };
    // Returns out, dq, dk, dv concatenated; q read through a permuted view, keys longer than queries.
    const run = async (backend: string, causal: boolean): Promise<Float64Array> => {
      T.setBackend(backend);
      try {
        const q = T.contiguous(T.permute(T.randn([2, 3, 5, 8], { seed: 11 }), [0, 2, 1, 3]));
        const qv = T.permute(T.randn([2, 3, 5, 8], { seed: 11 }), [0, 2, 1, 3]); // same values, strided
        const k = T.randn([2, 7, 3, 8], { seed: 12 });
        const v = T.randn([2, 7, 3, 8], { seed: 13 });
        const w = T.randn([2, 5, 3, 8], { seed: 14 });
        for (const t of [qv, k, v]) t.requiresGrad = true;
        const o = T.attention(qv, k, v, { causal });
        T.backward(T.sum(T.mul(o, w)));
        const parts = [o, qv.grad!, k.grad!, v.grad!, q];
        const data = await Promise.all(parts.map((t) => t.data()));
        T.dispose([q, qv, k, v, w, o, ...parts]);
        return Float64Array.from(data.flatMap((d) => [...d]));
      } finally {
        T.setBackend('cpu');
      }
    };
    try {
      for (const causal of [true, false]) {
        const want = await run('cpu', causal);
        for (const mode of ['fused', 'matmul'] as const) {
          for (const chunkElements of mode === 'matmul' ? [32 * 2 ** 20, 3 * 5 * 7] : [32 * 2 ** 20]) {
            Object.assign(attentionTuning, { mode, chunkElements }); // 3 * 5 * 7: one batch row per chunk
            assertClose(await run('webgpu', causal), want, 2e-5, `attention ${mode} causal=${causal} chunk=${chunkElements}`);
          }
        }
      }
    } finally {
      Object.assign(attentionTuning, saved);
    }
  });

  test('skinny matmuls (1 to 16 rows, decoding) agree with the cpu, weights read transposed or not', async () => {
    for (const m of [1, 5, 16]) {
      const [c, g] = await both(() => {
        const x = T.randn([3, m, 70], { seed: 31 });
        const w = T.randn([45, 70], { seed: 32 });
        const y = T.matmul(x, T.transpose(w)); // (3, m, 45)
        return T.matmul(y, T.randn([3, 45, 33], { seed: 33 }));
      });
      assertClose(g, c, 2e-5, `skinny matmul m=${m}`);
    }
  });

  test('reductions: many short ones (a thread each), few long ones (split in parts), sums and maxima', async () => {
    const [c, g] = await both(() => {
      const x = T.randn([3, 70, 80], { seed: 41 }); // sum over the batch: 5600 outputs of 3
      const y = T.randn([5, 40000], { seed: 42 }); // 5 outputs of 40000: split in 2 parts
      const z = T.randn([100000], { seed: 43 });
      return T.concat([T.reshape(T.sum(x, 0), [-1]), T.sum(y, 1), T.max(y, 1), T.reshape(T.sum(z), [1]), T.reshape(T.max(z), [1])], 0);
    });
    assertClose(g, c, 2e-5, 'reductions');
  });

  test('causal attention on the matmul path skips masked tiles and still agrees with the cpu (T = 200 > one tile)', async () => {
    const saved = { ...attentionTuning };
    const run = async (backend: string): Promise<Float64Array> => {
      T.setBackend(backend);
      try {
        const q = T.randn([2, 200, 2, 16], { seed: 51 });
        const k = T.randn([2, 260, 2, 16], { seed: 52 }); // 60 cached keys before the queries
        const v = T.randn([2, 260, 2, 16], { seed: 53 });
        const w = T.randn([2, 200, 2, 16], { seed: 54 });
        for (const t of [q, k, v]) t.requiresGrad = true;
        const o = T.attention(q, k, v, { causal: true });
        T.backward(T.sum(T.mul(o, w)));
        const parts = [o, q.grad!, k.grad!, v.grad!];
        const data = await Promise.all(parts.map((t) => t.data()));
        T.dispose([q, k, v, w, o, ...parts]);
        return Float64Array.from(data.flatMap((d) => [...d]));
      } finally {
        T.setBackend('cpu');
      }
    };
    try {
      const want = await run('cpu');
      Object.assign(attentionTuning, { mode: 'matmul' });
      for (const kernel of ['auto', 'tile128'] as const) { // 64-row tiles, then 128-row tiles
        matmulTuning.kernel = kernel;
        assertClose(await run('webgpu'), want, 3e-5, `causal attention, matmul path, ${kernel}`);
      }
    } finally {
      Object.assign(attentionTuning, saved);
      matmulTuning.kernel = 'auto';
    }
  });

  test('attention softmax over rows longer than it holds in registers (Tk = 2100) agrees with the cpu', async () => {
    const saved = { ...attentionTuning };
    try {
      Object.assign(attentionTuning, { mode: 'matmul' });
      for (const causal of [false, true]) {
        const [c, g] = await both(() => T.attention(T.randn([1, 6, 2, 8], { seed: 61 }), T.randn([1, 2100, 2, 8], { seed: 62 }), T.randn([1, 2100, 2, 8], { seed: 63 }), { causal }));
        assertClose(g, c, 2e-5, `long rows causal=${causal}`);
      }
    } finally {
      Object.assign(attentionTuning, saved);
    }
  });

  test('decode-shaped attention (1 to 4 queries over a longer cache) agrees with the cpu', async () => {
    for (const tq of [1, 3]) {
      for (const causal of [true, false]) {
        const [c, g] = await both(() => {
          const q = T.randn([2, tq, 3, 16], { seed: 21 });
          const k = T.randn([2, 100, 3, 16], { seed: 22 });
          const v = T.randn([2, 100, 3, 16], { seed: 23 });
          return T.attention(q, k, v, { causal });
        });
        assertClose(g, c, 2e-5, `decode attention tq=${tq} causal=${causal}`);
      }
    }
  });

  test('reads strided views and one-element tensors; itemAsync', async () => {
    T.setBackend('webgpu');
    try {
      const x = T.tensor(Float32Array.from({ length: 24 }, (_, i) => i), [4, 6]);
      const v = T.slice(T.transpose(x), 0, 2, 5);
      assert.deepEqual([...(await v.data())], [2, 8, 14, 20, 3, 9, 15, 21, 4, 10, 16, 22]);
      assert.equal(await T.sum(x).itemAsync(), 276);
      assert.throws(() => x.dataSync(), /only reads asynchronously; use await tensor.data\(\)/);
      T.dispose([x, v]);
    } finally {
      T.setBackend('cpu');
    }
  });

  test('batches many dispatches into few submits', async () => {
    T.setBackend('webgpu');
    try {
      const before = { d: gpu.queue.dispatches, s: gpu.queue.submits };
      const y = T.tidy(() => {
        let x = T.ones([64]);
        for (let i = 0; i < 200; i++) x = T.mul(T.add(x, 1), 0.5);
        return x;
      });
      assertClose(await y.data(), new Float32Array(64).fill(1), 1e-6, 'fixed point');
      const d = gpu.queue.dispatches - before.d;
      const s = gpu.queue.submits - before.s;
      // After a read the batches grow 16, 32, 64, 128, then 256 dispatches.
      assert.ok(d >= 400 && s <= Math.ceil(d / 256) + 5, `${d} dispatches in ${s} submits`);
      y.dispose();
    } finally {
      T.setBackend('cpu');
    }
  });

  test('clear errors: f64, unsupported dtype, head dim, lost device', async () => {
    assert.throws(() => T.tensor(new Float64Array(3), [3], { backend: 'webgpu' }), /f64 tensors are not supported on WebGPU/);
    const i = T.tensor(Int32Array.from([1, 2]), [1, 2], { dtype: 'i32', backend: 'webgpu' });
    assert.throws(() => T.exp(i), /must be a float tensor|does not support/);
    const q = T.zeros([1, 2, 1, 300], { backend: 'webgpu' });
    assert.throws(() => T.attention(q, q, q), /head dim 300 is not supported/);
    T.dispose([i, q]);
    const other = await createWebGpuBackend();
    const x = other.kernels.full('f32', 4, 1);
    other.destroy();
    await new Promise((r) => setTimeout(r, 10));
    await assert.rejects(other.read({ buf: x, dtype: 'f32', shape: [4], strides: [1], offset: 0 }), /device was lost|webgpu/);
  });

  test('batched decoding on webgpu (left-padded cache, key starts in attention-decode) gives the sequential codes', async () => {
    T.setBackend('webgpu');
    try {
      const model = new Decoder({ vocabSize: 60, dim: 16, heads: 2, layers: 1, maxPositions: 40, initStd: 0.3, zeroOutputLayers: false, seed: 2 });
      const span = { imageStart: 40, codebookSize: 20, length: 12 };
      const guidance = { uncondPrompt: Int32Array.of(7), cfg: 3 };
      const prompts = [Int32Array.of(3, 4, 5), Int32Array.of(9, 8, 7, 6, 5)];
      const batch = await generateImageBatchAsync(model, prompts, span, { seed: 1, guidance });
      for (const [i, p] of prompts.entries()) {
        const alone = await generateImageCodesAsync(model, p, span, { seed: 1 + i, guidance, streams: 'sequential' });
        assert.deepEqual([...batch[i]!], [...alone], `prompt ${i}`);
      }
      T.dispose(model.parameters());
    } finally {
      T.setBackend('cpu');
    }
  });

  test('a small decoder trains on webgpu as on the cpu', async () => {
    const losses: number[][] = [];
    for (const b of ['cpu', 'webgpu']) {
      T.setBackend(b);
      try {
        const model = new Decoder({ vocabSize: 40, dim: 32, heads: 4, layers: 2, maxPositions: 16, initStd: 0.05, zeroOutputLayers: false, seed: 5 });
        const opt = new T.AdamW(model.parameters(), { lr: 3e-3 });
        const ids = T.tensor(Int32Array.from({ length: 32 }, (_, k) => (k * 7) % 40), [2, 16], { dtype: 'i32' });
        const targets = T.tensor(Int32Array.from({ length: 32 }, (_, k) => (k * 7 + 7) % 40), [2, 16], { dtype: 'i32' });
        const seen: number[] = [];
        for (let step = 0; step < 4; step++) {
          const loss = T.tidy(() => { const l = model.loss(ids, targets); T.backward(l); return l; });
          seen.push(await loss.itemAsync());
          loss.dispose();
          await T.clipGradNormAsync(model.parameters(), 1);
          opt.stepUpdate();
          opt.zeroGrad();
        }
        losses.push(seen);
        T.dispose([ids, targets, ...model.parameters()]);
      } finally {
        T.setBackend('cpu');
      }
    }
    assertClose(losses[1]!, losses[0]!, 1e-4, 'losses');
    assert.ok(losses[1]![3]! < losses[1]![0]!, `loss falls: ${losses[1]}`);
  });
});
