/**
 * Matrix multiplication. `matmul` broadcasts batch dimensions and folds them into one batch (or
 * into M when the right operand is a plain matrix, the Linear-layer case), then calls the one
 * primitive `bmm` on 3-D views. Transposed operands stay views: the kernel reads them in place.
 */
import { record } from '../autograd.js';
import type { View } from '../backend.js';
import { broadcastShapes, broadcastStrides, fmt, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkFloat, checkInputs, checkSameDtype, wrap } from './core.js';
import { contiguous, expand, reshape } from './views.js';

/** Primitive: a (Ba, M, K) @ b (Bb, K, N) with Ba, Bb in {1, B} -> (B, M, N). */
export function bmm(a: Tensor, b: Tensor): Tensor {
  const backend = checkInputs('matmul', [a, b], 'matmul');
  checkFloat('matmul', a, b);
  checkSameDtype('matmul', a, b);
  if (a.rank !== 3 || b.rank !== 3) throw new Error(`matmul: bmm needs 3-D operands, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const [ba, m, k] = a.shape as [number, number, number];
  const [bb, k2, n] = b.shape as [number, number, number];
  if (k !== k2 || (ba !== bb && ba !== 1 && bb !== 1)) throw new Error(`matmul: shapes ${fmt(a.shape)} and ${fmt(b.shape)} do not match`);
  const batch = Math.max(ba, bb);
  const out = wrap(backend, backend.kernels.matmul(a, b), a.dtype, [batch, m, n]);
  return record('bmm', [a, b], out);
}

/** Strides of dims [from, to) merge into one when each is the next one's stride times its size. */
function mergeable(shape: readonly number[], strides: readonly number[], from: number, to: number): boolean {
  for (let i = from; i < to - 1; i++) {
    if (shape[i + 1] !== 1 && shape[i] !== 1 && strides[i] !== strides[i + 1]! * shape[i + 1]!) return false;
  }
  return true;
}

/** The stride of the merged dims [from, to) (the innermost non-unit one), 0 when all are broadcast. */
function mergedStride(shape: readonly number[], strides: readonly number[], from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) if (shape[i] !== 1) return strides[i]!;
  return 0;
}

function view3(t: Tensor | View, batch: number, s0: number, rows: number, cols: number, rank: number): View {
  return { buf: t.buf, dtype: t.dtype, shape: [batch, rows, cols], strides: [s0, t.strides[rank - 2]!, t.strides[rank - 1]!], offset: t.offset };
}

/** a (..., M, K) @ b (..., K, N) -> (..., M, N), batch dims broadcast. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkInputs('matmul', [a, b]);
  if (a.rank < 2 || b.rank < 2) throw new Error(`matmul: operands must have rank >= 2, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) throw new Error(`matmul: inner dimensions differ: ${fmt(a.shape)} @ ${fmt(b.shape)}`);
  // Linear layer case: (..., M, K) @ (K, N) folds all leading dims of a into M when its layout allows.
  if (b.rank === 2 && a.rank > 2 && mergeable(a.shape, a.strides, 0, a.rank - 1)) {
    const rows = sizeOf(a.shape.slice(0, -1));
    const a3 = a.view([1, rows, k], [0, mergedStride(a.shape, a.strides, 0, a.rank - 1), a.strides[a.rank - 1]!], a.offset);
    const b3 = b.view([1, k, n], [0, b.strides[0]!, b.strides[1]!], b.offset);
    // The views share buffers; recording them as reshapes keeps gradients flowing to a and b.
    const out = bmm(record('reshape', [a], a3), record('reshape', [b], b3));
    return reshape(out, [...a.shape.slice(0, -1), n]);
  }
  const batchShape = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = sizeOf(batchShape);
  const side = (t: Tensor, rows: number, cols: number): Tensor => {
    const r = t.rank;
    if (sizeOf(t.shape.slice(0, -2)) === 1) {
      // One matrix shared by every batch entry: stride 0, and bmm sums its gradient over the batch.
      return record('reshape', [t], t.view([1, rows, cols], [0, t.strides[r - 2]!, t.strides[r - 1]!], t.offset));
    }
    const full = [...batchShape, rows, cols];
    let e = expand(t, full);
    if (!mergeable(e.shape, e.strides, 0, full.length - 2)) e = contiguous(e);
    const v = view3(e, batch, mergedStride(e.shape, e.strides, 0, full.length - 2), rows, cols, full.length);
    return record('reshape', [e], e.view(v.shape, v.strides, v.offset));
  };
  const out = bmm(side(a, m, k), side(b, k, n));
  return reshape(out, [...batchShape, m, n]);
}
