/**
 * AdamW (decoupled weight decay, exactly torch.optim.AdamW) as one fused kernel per parameter,
 * the warmup + cosine learning-rate schedule, and global gradient-norm clipping.
 */
import { loadSafetensors, saveSafetensors, type TensorEntry } from './safetensors.js';
import { add, contiguous, mul, noGrad, sqrt, sum, tensor, tidy, zerosLike, type Tensor, type TypedArray } from '../tensor/index.js';

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export interface ParamGroup {
  params: Tensor[];
  /** Overrides the optimizer's weight decay for this group (e.g. 0 for embeddings or norms). */
  weightDecay?: number;
}

interface Slot { m: Tensor; v: Tensor }

export class AdamW {
  readonly groups: ParamGroup[];
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Number of steps taken (the bias corrections use it). */
  step = 0;
  private state = new Map<Tensor, Slot>();

  constructor(params: Tensor[] | ParamGroup[], o: AdamWOptions = {}) {
    this.groups = params.length > 0 && !(params[0] as ParamGroup).params ? [{ params: params as Tensor[] }] : (params as ParamGroup[]);
    this.lr = o.lr ?? 1e-3;
    [this.beta1, this.beta2] = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0.01;
    for (const [name, v] of Object.entries({ lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay })) {
      if (!Number.isFinite(v) || v < 0 || ((name === 'beta1' || name === 'beta2') && v >= 1)) throw new Error(`AdamW: invalid ${name} ${v}`);
    }
  }

  private slot(p: Tensor): Slot {
    let s = this.state.get(p);
    if (!s) {
      s = noGrad(() => ({ m: zerosLike(p).keep(), v: zerosLike(p).keep() }));
      this.state.set(p, s);
    }
    return s;
  }

  /** One update of every parameter that has a gradient. */
  stepUpdate(): void {
    this.step++;
    const bc1 = 1 - this.beta1 ** this.step;
    const bc2 = 1 - this.beta2 ** this.step;
    for (const g of this.groups) {
      const wd = g.weightDecay ?? this.weightDecay;
      for (const p of g.params) {
        if (!p.grad) continue;
        if (!p.isContiguous) throw new Error(`AdamW: parameter of shape [${p.shape.join(', ')}] is not contiguous`);
        const { m, v } = this.slot(p);
        const grad = p.grad.isContiguous ? p.grad : noGrad(() => contiguous(p.grad!));
        p.backend.kernels.adamw(p, grad, m, v, { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: wd, bc1, bc2 });
        if (grad !== p.grad) grad.dispose();
      }
    }
  }

  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Optimizer state as host arrays in parameter order (for checkpoints). */
  /** The moment tensors of every parameter (created when missing), e.g. to read them to the host. */
  stateTensors(): Tensor[] {
    return this.groups.flatMap((g) => g.params).flatMap((p) => [this.slot(p).m, this.slot(p).v]);
  }

  exportState(): { step: number; m: TypedArray[]; v: TypedArray[] } {
    const all = this.groups.flatMap((g) => g.params);
    return { step: this.step, m: all.map((p) => this.slot(p).m.dataSync()), v: all.map((p) => this.slot(p).v.dataSync()) };
  }

  importState(s: { step: number; m: TypedArray[]; v: TypedArray[] }): void {
    const all = this.groups.flatMap((g) => g.params);
    if (s.m.length !== all.length || s.v.length !== all.length) throw new Error(`AdamW: state has ${s.m.length} slots for ${all.length} parameters`);
    all.forEach((p, i) => {
      const slot = this.slot(p);
      for (const [t, d] of [[slot.m, s.m[i]!], [slot.v, s.v[i]!]] as const) {
        if (d.length !== p.size) throw new Error(`AdamW: state slot ${i} has ${d.length} values, parameter has ${p.size}`);
        noGrad(() => {
          const src = tensor(d, p.shape, { dtype: p.dtype, backend: p.backend.name });
          p.backend.kernels.assign(t, src);
          src.dispose();
        });
      }
    });
    this.step = s.step;
  }
}

/** Linear warmup from 0 to peak over `warmup` steps, then cosine decay to minLr at totalSteps. */
export function warmupCosine(step: number, o: { peakLr: number; warmup: number; totalSteps: number; minLr?: number }): number {
  const minLr = o.minLr ?? 0;
  if (step < o.warmup) return (o.peakLr * (step + 1)) / o.warmup;
  if (step >= o.totalSteps) return minLr;
  const t = (step - o.warmup) / Math.max(1, o.totalSteps - o.warmup);
  return minLr + 0.5 * (o.peakLr - minLr) * (1 + Math.cos(Math.PI * t));
}

/**
 * Scales all gradients so their global L2 norm is at most maxNorm; returns the norm before
 * clipping (NaN/Inf when a gradient is not finite, in which case nothing is scaled).
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  const withGrad = params.filter((p) => p.grad);
  if (withGrad.length === 0) return 0;
  const norm = tidy(() => gradNorm(withGrad).item());
  scaleGrads(withGrad, norm, maxNorm);
  return norm;
}

/** clipGradNorm for backends that read only asynchronously (WebGPU); the same on the CPU. */
export async function clipGradNormAsync(params: Tensor[], maxNorm: number): Promise<number> {
  const withGrad = params.filter((p) => p.grad);
  if (withGrad.length === 0) return 0;
  const n = gradNorm(withGrad);
  const norm = await n.itemAsync().finally(() => n.dispose());
  scaleGrads(withGrad, norm, maxNorm);
  return norm;
}

/** The global L2 norm of the gradients, as a scalar tensor (only it survives the scope). */
function gradNorm(withGrad: Tensor[]): Tensor {
  return tidy(() => noGrad(() => {
    let total: Tensor | null = null;
    for (const p of withGrad) {
      const s = sum(mul(p.grad!, p.grad!));
      total = total ? add(total, s) : s;
    }
    return sqrt(total!);
  }));
}

function scaleGrads(withGrad: Tensor[], norm: number, maxNorm: number): void {
  if (!(Number.isFinite(norm) && norm > maxNorm)) return;
  const coef = maxNorm / (norm + 1e-6);
  noGrad(() => {
    for (const p of withGrad) {
      const scaled = mul(p.grad!, coef).keep();
      p.grad!.dispose();
      p.grad = scaled;
    }
  });
}

/**
 * AdamW moments as safetensors: `m.<i>` and `v.<i>` per parameter in the optimizer's order, the
 * step in the metadata. Written atomically like every other file here.
 */
export function saveOptimizerState(path: string, opt: AdamW): void {
  const os = opt.exportState();
  const shapes = opt.groups.flatMap((g) => g.params.map((p) => p.shape));
  const entries = new Map<string, TensorEntry>();
  os.m.forEach((d, i) => entries.set(`m.${i}`, { shape: shapes[i]!, data: d }));
  os.v.forEach((d, i) => entries.set(`v.${i}`, { shape: shapes[i]!, data: d }));
  saveSafetensors(path, entries, { step: String(os.step) });
}

/** Reads what saveOptimizerState wrote; `fallbackStep` when the metadata has no step. */
export function loadOptimizerState(path: string, fallbackStep = 0): { step: number; m: TypedArray[]; v: TypedArray[] } {
  const file = loadSafetensors(path);
  const m: TypedArray[] = [];
  const v: TypedArray[] = [];
  for (let i = 0; file.tensors.has(`m.${i}`); i++) {
    m.push(file.tensors.get(`m.${i}`)!.data as TypedArray);
    v.push(file.tensors.get(`v.${i}`)!.data as TypedArray);
  }
  return { step: Number(file.metadata['step'] ?? fallbackStep), m, v };
}
