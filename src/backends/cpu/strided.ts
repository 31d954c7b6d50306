/**
 * Offsets of every element of a strided view, in row-major order of its shape. The reference
 * kernels use it to read any layout (transposed, sliced, broadcast with stride 0) simply.
 */
import type { View } from '../../tensor/backend.js';
import { isContiguous } from '../../tensor/shape.js';

export function offsetsOf(v: Pick<View, 'shape' | 'strides' | 'offset'>): Int32Array {
  const { shape, strides, offset } = v;
  let n = 1;
  for (const d of shape) n *= d;
  const out = new Int32Array(n);
  if (n === 0) return out;
  if (isContiguous(shape, strides)) {
    for (let i = 0; i < n; i++) out[i] = offset + i;
    return out;
  }
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  const inner = rank > 0 ? shape[rank - 1]! : 1;
  const innerStride = rank > 0 ? strides[rank - 1]! : 0;
  let base = offset;
  for (let i = 0; i < n; i += inner) {
    for (let j = 0; j < inner; j++) out[i + j] = base + j * innerStride;
    // Advance the odometer over all but the last dimension.
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      base += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      base -= idx[d]! * strides[d]!;
      idx[d] = 0;
    }
  }
  return out;
}
