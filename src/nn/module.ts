/**
 * Modules and parameters. A Module's parameters are found by walking its own fields: a field
 * holding a parameter tensor is named after the field, a sub-module (or an array of them) adds a
 * prefix — so `layers.0.self_attn.q_proj.weight` comes straight from the object structure.
 */
// Everything that builds modules needs a device: registering the CPU backends here makes it so.
import '../backends/cpu/index.js';
import { createHash } from 'node:crypto';
import { Tensor, noGrad, tensor } from '../tensor/index.js';
import type { TypedArray } from '../tensor/index.js';

const PARAM = Symbol('parameter');

/** Marks t as a trainable parameter: requires gradients and survives tidy scopes. */
export function parameter(t: Tensor): Tensor {
  t.requiresGrad = true;
  t.keep();
  (t as unknown as Record<symbol, boolean>)[PARAM] = true;
  return t;
}

export function isParameter(v: unknown): v is Tensor {
  return v instanceof Tensor && (v as unknown as Record<symbol, boolean>)[PARAM] === true;
}

export abstract class Module {
  /** Parameters by dotted path, in field order. */
  namedParameters(prefix = ''): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [key, value] of Object.entries(this)) {
      const name = prefix ? `${prefix}.${key}` : key;
      if (isParameter(value)) out.set(name, value);
      else if (value instanceof Module) for (const [k, v] of value.namedParameters(name)) out.set(k, v);
      else if (Array.isArray(value)) {
        value.forEach((item, i) => {
          if (item instanceof Module) for (const [k, v] of item.namedParameters(`${name}.${i}`)) out.set(k, v);
          else if (isParameter(item)) out.set(`${name}.${i}`, item);
        });
      }
    }
    return out;
  }

  parameters(): Tensor[] {
    return [...this.namedParameters().values()];
  }

  numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  /** Host copies of every parameter, by name. */
  stateDict(): Map<string, { shape: readonly number[]; data: TypedArray }> {
    const out = new Map<string, { shape: readonly number[]; data: TypedArray }>();
    for (const [name, p] of this.namedParameters()) out.set(name, { shape: p.shape, data: p.dataSync() });
    return out;
  }

  /** Copies values into the parameters; every parameter must be present with its exact shape. */
  loadStateDict(state: Map<string, { shape: readonly number[]; data: TypedArray }>, strict = true): void {
    const params = this.namedParameters();
    if (strict) {
      const missing = [...params.keys()].filter((k) => !state.has(k));
      const unexpected = [...state.keys()].filter((k) => !params.has(k));
      if (missing.length || unexpected.length) {
        throw new Error(`loadStateDict: missing ${JSON.stringify(missing.slice(0, 5))}${missing.length > 5 ? '...' : ''}, unexpected ${JSON.stringify(unexpected.slice(0, 5))}${unexpected.length > 5 ? '...' : ''}`);
      }
    }
    for (const [name, p] of params) {
      const s = state.get(name);
      if (!s) continue;
      if (s.shape.length !== p.shape.length || s.shape.some((d, i) => d !== p.shape[i])) {
        throw new Error(`loadStateDict: ${name} has shape [${s.shape.join(', ')}], expected [${p.shape.join(', ')}]`);
      }
      assignData(p, s.data);
    }
  }

  /**
   * Moves every parameter to `backend` (a backend name: 'cpu', 'webgpu'), replacing each parameter
   * field by a copy there and freeing the old one. Parameters are found as namedParameters finds
   * them. A no-op for parameters already there. Returns this.
   */
  moveTo(backend: string): this {
    const move = (p: Tensor): Tensor => {
      if (p.backend.name === backend) return p;
      const moved = parameter(tensor(p.dataSync(), p.shape, { dtype: p.dtype, backend }));
      p.dispose();
      return moved;
    };
    const fields = this as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(this)) {
      if (isParameter(value)) fields[key] = move(value);
      else if (value instanceof Module) value.moveTo(backend);
      else if (Array.isArray(value)) {
        value.forEach((item, i) => {
          if (item instanceof Module) item.moveTo(backend);
          else if (isParameter(item)) value[i] = move(item);
        });
      }
    }
    return this;
  }

  zeroGrad(): void {
    for (const p of this.parameters()) {
      if (p.grad) p.grad.dispose();
      p.grad = null;
    }
  }
}

/** Overwrites a tensor's values in place from host data (same size). */
export function assignData(t: Tensor, data: TypedArray | number[]): void {
  if (data.length !== t.size) throw new Error(`assignData: ${data.length} values for a tensor of ${t.size} elements`);
  noGrad(() => {
    const src = tensor(data instanceof Array ? Float32Array.from(data) : data, t.shape, { dtype: t.dtype, backend: t.backend.name });
    t.backend.kernels.assign(t, src);
    src.dispose();
  });
}

/**
 * A version of some weights: the first 12 hex digits of a sha256 over `header` (a config as JSON)
 * and each parameter's name and f32 bytes, in order. Banks and models record such versions so
 * that data made by other weights is refused.
 */
export function weightsHash(header: string, params: Iterable<[string, Tensor]>): string {
  const h = createHash('sha256').update(header);
  for (const [name, p] of params) {
    const d = p.dataSync() as Float32Array;
    h.update(name).update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return h.digest('hex').slice(0, 12);
}
