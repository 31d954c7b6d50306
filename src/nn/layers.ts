/** Basic layers: Linear (bias optional), Embedding, LayerNorm (affine optional). */
import { add, embedding, layerNorm, matmul, mul, transpose, zeros, ones, type Tensor } from '../tensor/index.js';
import { truncatedNormalInit } from './init.js';
import { Module, parameter } from './module.js';

export interface LinearOptions {
  bias?: boolean;
  /** Init std of the weight (truncated normal at 3 sigma). */
  std?: number;
  seed?: number;
}

/** y = x W^T (+ b); W is (out, in) as in PyTorch, read transposed in place by the matmul kernel. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | undefined;

  constructor(readonly inFeatures: number, readonly outFeatures: number, o: LinearOptions = {}) {
    super();
    this.weight = parameter(truncatedNormalInit([outFeatures, inFeatures], o.std ?? 0.02, o.seed ?? 0));
    this.bias = o.bias ? parameter(zeros([outFeatures])) : undefined;
  }

  forward(x: Tensor): Tensor {
    const y = matmul(x, transpose(this.weight));
    return this.bias ? add(y, this.bias) : y;
  }
}

export class Embedding extends Module {
  readonly weight: Tensor;

  constructor(readonly numEmbeddings: number, readonly dim: number, o: { std?: number; seed?: number } = {}) {
    super();
    this.weight = parameter(truncatedNormalInit([numEmbeddings, dim], o.std ?? 0.02, o.seed ?? 0));
  }

  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids);
  }
}

/** LayerNorm over the last dim; CM3leon uses it without affine parameters (affine: false). */
export class LayerNorm extends Module {
  readonly weight: Tensor | undefined;
  readonly bias: Tensor | undefined;

  constructor(readonly dim: number, readonly o: { affine?: boolean; eps?: number } = {}) {
    super();
    const affine = o.affine ?? true;
    this.weight = affine ? parameter(ones([dim])) : undefined;
    this.bias = affine ? parameter(zeros([dim])) : undefined;
  }

  forward(x: Tensor): Tensor {
    let y = layerNorm(x, this.o.eps ?? 1e-5);
    if (this.weight) y = mul(y, this.weight);
    if (this.bias) y = add(y, this.bias);
    return y;
  }
}
