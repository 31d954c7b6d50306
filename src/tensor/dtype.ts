/**
 * Element types. f32 is the working type; i32 holds indices (token ids, targets); f64 exists only on
 * the CPU reference kernels, for gradient checks by finite differences. f16/bf16 storage is planned
 * (the names are reserved here so backends can declare them unsupported rather than misread them).
 */
export type DType = 'f32' | 'i32' | 'f64';
export type ReservedDType = 'f16' | 'bf16';

export type TypedArray = Float32Array | Int32Array | Float64Array;
export type FloatArray = Float32Array | Float64Array;

export function typedArrayFor(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'f32': return new Float32Array(size);
    case 'i32': return new Int32Array(size);
    case 'f64': return new Float64Array(size);
  }
}

export function dtypeOf(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Int32Array) return 'i32';
  return 'f64';
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'f64' ? 8 : 4;
}

export function isFloat(dtype: DType): boolean {
  return dtype !== 'i32';
}
