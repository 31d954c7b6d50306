/** Parameter initialisers (host-side, seeded): truncated normal as in the paper, zeros. */
import { assignData } from './module.js';
import { Rng, truncatedNormal, type Tensor } from '../tensor/index.js';

/** A new f32 tensor ~ N(0, std^2) truncated at cut*std (the paper: std 0.006, cut 3). */
export function truncatedNormalInit(shape: readonly number[], std: number, seed = 0, cut = 3): Tensor {
  return truncatedNormal(shape, std, cut, { seed });
}

/** In-place re-initialisation with a truncated normal. */
export function truncatedNormal_(t: Tensor, std: number, rng: Rng, cut = 3): void {
  const a = new Float32Array(t.size);
  for (let i = 0; i < a.length; i++) a[i] = rng.truncatedNormal(std, cut);
  assignData(t, a);
}

export function zeros_(t: Tensor): void {
  assignData(t, new Float32Array(t.size));
}
