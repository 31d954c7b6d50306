/** The tensor engine's public surface (backend-independent). */
export * from './ops/index.js';
export { Tensor, withHostCopies } from './tensor.js';
export { backward, type BackwardOptions } from './autograd.js';
export { tidy, noGrad, dispose, isGradEnabled } from './scope.js';
export { getBackend, setBackend, listBackends, registerBackend, type Backend, type Kernels, type View } from './backend.js';
export { Rng } from './random.js';
export type { DType, TypedArray } from './dtype.js';
export { sizeOf, type Shape } from './shape.js';

import { Storage } from './tensor.js';
/** Number of device buffers currently held by live tensors (for leak checks). */
export const liveBuffers = (): number => Storage.live;
