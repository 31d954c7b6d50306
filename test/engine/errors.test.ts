/** Bad input gives errors that name the op and the shapes, and loses nothing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/index.js';

const f = (shape: number[]): T.Tensor => T.zeros(shape);

test('shape mismatches name the op and both shapes', () => {
  assert.throws(() => T.add(f([2, 3]), f([4])), /add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
  assert.throws(() => T.matmul(f([2, 3]), f([4, 5])), /matmul: inner dimensions differ: \[2, 3\] @ \[4, 5\]/);
  assert.throws(() => T.reshape(f([2, 3]), [4, 2]), /reshape: cannot reshape \[2, 3\]/);
  assert.throws(() => T.concat([f([2, 3]), f([3, 3])], 1), /concat: shapes \[2, 3\], \[3, 3\]/);
  assert.throws(() => T.attention(f([1, 2, 2, 4]), f([1, 3, 2, 4]), f([1, 2, 2, 4])), /attention: q \(B, Tq, H, D\) and k, v \(B, Tk, H, D\) with Tk >= Tq expected, got \[1, 2, 2, 4\], \[1, 3, 2, 4\], \[1, 2, 2, 4\]/);
  assert.throws(() => T.conv2d(f([1, 3, 4, 4]), f([2, 2, 3, 3])), /conv2d: expected x \(N, C, H, W\)/);
  assert.throws(() => T.slice(f([4]), 0, 2, 7), /slice: range \[2, 7\) out of bounds/);
  assert.throws(() => T.groupNorm(f([1, 6, 2, 2]), 4), /groupNorm: 6 channels do not split into 4 groups/);
});

test('wrong dtypes are refused', () => {
  const ids = T.tensor([1, 2], [2], { dtype: 'i32' });
  assert.throws(() => T.exp(ids), /exp: input 0 must be a float tensor, got i32/);
  assert.throws(() => T.add(ids, f([2])), /add: dtypes differ/);
  assert.throws(() => T.embedding(f([4, 2]), f([3])), /embedding: ids must be i32/);
  assert.throws(() => T.crossEntropy(f([3, 5]), f([3])), /crossEntropy: targets must be i32/);
});

test('out-of-range indices are refused before any kernel reads them', () => {
  assert.throws(() => T.embedding(f([4, 2]), T.tensor([0, 4], [2], { dtype: 'i32' })), /embedding: index 4 at position 1 is out of range \[0, 4\)/);
  assert.throws(() => T.crossEntropy(f([2, 5]), T.tensor([1, 5], [2], { dtype: 'i32' })), /crossEntropy: index 5 at position 1/);
  assert.throws(() => T.crossEntropy(f([2, 5]), T.tensor([1, 2, 3], [3], { dtype: 'i32' })), /crossEntropy: logits \[2, 5\] and targets \[3\] do not match/);
});

test('disposed tensors are refused by name', () => {
  const x = f([2, 2]);
  x.dispose();
  assert.throws(() => T.exp(x), /exp: input 0 \(shape \[2, 2\], f32\) was disposed/);
  assert.throws(() => x.dataSync(), /dataSync: input 0 .* was disposed/);
  const y = T.randn([2, 2], { requiresGrad: true });
  const z = T.sum(T.mul(y, y));
  y.dispose();
  assert.throws(() => T.backward(z), /was disposed/);
});

test('NaN gradients are reported with the op that produced them', () => {
  const x = T.tensor([1, 0, 4], [3], { requiresGrad: true });
  const loss = T.sum(T.sqrt(x));
  assert.throws(() => T.backward(loss, { checkFinite: true }), /gradient of sqrt for input of shape \[3\] has a non-finite value \(Infinity\) at flat index 1/);
});

test('backward needs a scalar root or an explicit upstream gradient', () => {
  const x = T.randn([3], { requiresGrad: true });
  assert.throws(() => T.backward(T.mul(x, 2)), /backward: root has shape \[3\]; pass gradOutput/);
  assert.throws(() => T.backward(T.zeros([1])), /does not require gradients/);
});

test('tidy disposes what it does not return, keeps what it returns and kept tensors', () => {
  const kept = T.zeros([2]).keep();
  let inner: T.Tensor | null = null;
  const out = T.tidy(() => {
    inner = T.ones([3]);
    return { result: T.add(inner, 1) };
  });
  assert.equal(inner!.disposed, true);
  assert.equal(out.result.disposed, false);
  assert.deepEqual([...out.result.dataSync()], [2, 2, 2]);
  assert.equal(kept.disposed, false);
  assert.throws(() => T.tidy(() => { T.ones([1]); throw new Error('boom'); }), /boom/);
});

test('noGrad records nothing; gradients accumulate across backward calls', () => {
  const w = T.tensor([2], [1], { requiresGrad: true }).keep();
  const y = T.noGrad(() => T.mul(w, 3));
  assert.equal(y.requiresGrad, false);
  T.backward(T.sum(T.mul(w, 3)));
  T.backward(T.sum(T.mul(w, 4)));
  assert.deepEqual([...w.grad!.dataSync()], [7]);
});

test('reshape makes a view whenever the layout allows, and copies only when it must', () => {
  const x = T.randn([2, 3, 4]);
  const t = T.transpose(x, 0, 1); // (3, 2, 4), strides (4, 12, 1)
  assert.equal(T.reshape(t, [3, 2, 2, 2]).storage, x.storage, 'splitting a dim is a view');
  const s = T.slice(x, 2, 0, 2); // (2, 3, 2), strides (12, 4, 1): dims 0 and 1 still contiguous together
  assert.equal(T.reshape(s, [6, 2]).storage, x.storage, 'merging dims contiguous among themselves is a view');
  assert.notEqual(T.reshape(t, [3, 8]).storage, x.storage, 'merging dims 1 and 2 of the transpose copies');
  assert.notEqual(T.reshape(T.transpose(x), [8, 3]).storage, x.storage, 'flattening a transpose copies');
});

test('attention keyStarts: one integer in [0, Tk] per batch row, inference only', () => {
  const q = f([2, 1, 2, 4]);
  const k = f([2, 5, 2, 4]);
  assert.throws(() => T.attention(q, k, k, { keyStarts: [0] }), /attention: keyStarts has 1 entries for a batch of 2/);
  assert.throws(() => T.attention(q, k, k, { keyStarts: [0, 6] }), /attention: keyStarts\[1\] = 6 is not an integer in \[0, 5\]/);
  assert.throws(() => T.attention(q, k, k, { keyStarts: [0.5, 1] }), /attention: keyStarts\[0\] = 0.5 is not an integer/);
  const g = f([2, 1, 2, 4]);
  g.requiresGrad = true;
  assert.throws(() => T.attention(g, k, k, { keyStarts: [0, 1] }), /keyStarts \(left padding\) is for inference; it has no gradient/);
  assert.doesNotThrow(() => T.noGrad(() => T.attention(g, k, k, { keyStarts: [0, 1] })));
});
