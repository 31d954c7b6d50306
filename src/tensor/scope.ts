/**
 * Memory scopes and the no-grad switch. `tidy(fn)` disposes every tensor created inside fn except
 * those it returns and those marked kept, so a training step allocates and frees the same amount
 * and long runs stay flat. `noGrad(fn)` runs fn without recording autograd nodes.
 */
import type { Tensor } from './tensor.js';

const scopes: Set<Tensor>[] = [];
let gradDisabled = 0;

export function trackTensor(t: Tensor): void {
  const top = scopes[scopes.length - 1];
  if (top) top.add(t);
}

function collect(value: unknown, into: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if ((value as { storage?: unknown }).storage !== undefined && typeof (value as Tensor).dispose === 'function') {
    into.add(value as Tensor);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, into, seen);
  else if (value instanceof Map) for (const v of value.values()) collect(v, into, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, into, seen);
}

/** Runs fn in a scope; tensors it created and did not return (directly or inside arrays/objects) are disposed. */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError('tidy: expected a function');
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error('tidy: the function must be synchronous (async work escapes the scope)');
  } finally {
    scopes.pop();
  }
  const returned = new Set<Tensor>();
  collect(result, returned);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (returned.has(t)) { if (parent) parent.add(t); continue; }
    if (!t.kept) t.dispose();
  }
  return result;
}

/** Disposes the given tensors (any nesting of arrays/objects). */
export function dispose(value: unknown): void {
  const all = new Set<Tensor>();
  collect(value, all);
  for (const t of all) t.dispose();
}

export function noGrad<T>(fn: () => T): T {
  gradDisabled++;
  try {
    return fn();
  } finally {
    gradDisabled--;
  }
}

export function isGradEnabled(): boolean {
  return gradDisabled === 0;
}

/** Number of open tidy scopes (tests use it to check that errors unwind scopes). */
export function scopeDepth(): number {
  return scopes.length;
}
