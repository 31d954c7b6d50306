/**
 * Reverse-mode automatic differentiation. Ops record a GradNode on their output when gradients are
 * enabled and some input requires them; `backward` walks the recorded graph in reverse topological
 * order and calls the gradient of each op from the one table in gradients.ts. Gradients are
 * computed with the same ops, under noGrad; they accumulate into `.grad` of leaf tensors, so calling
 * backward several times before an optimizer step accumulates gradients.
 */
import { gradients, type OpName } from './gradients.js';
import { isGradEnabled, noGrad } from './scope.js';
import { fmt, shapeEqual } from './shape.js';
import type { Tensor } from './tensor.js';
import { add, onesLike } from './ops/index.js';

export interface GradNode {
  readonly op: OpName;
  readonly inputs: readonly Tensor[];
  /** Tensors and values the gradient needs beyond inputs and output. */
  readonly saved: Readonly<Record<string, unknown>>;
}

/** Records `op` on `out` when autograd is on and an input needs gradients. Returns out. */
export function record(op: OpName, inputs: readonly Tensor[], out: Tensor, saved: Record<string, unknown> = {}): Tensor {
  if (!isGradEnabled()) return out;
  if (!inputs.some((t) => t.requiresGrad)) return out;
  out.requiresGrad = true;
  out.node = { op, inputs, saved };
  return out;
}

export interface BackwardOptions {
  /** Upstream gradient for a non-scalar root (default: ones for a scalar root). */
  gradOutput?: Tensor;
  /** Check every computed gradient for NaN/Inf and throw naming the op (slow: reads every gradient). */
  checkFinite?: boolean;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const next = inputs[i]!;
      if (next.requiresGrad && !visited.has(next)) {
        visited.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order; // inputs before the tensors computed from them
}

function assertFinite(op: string, g: Tensor, input: Tensor): void {
  const d = g.dataSync();
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) {
      throw new Error(`backward: gradient of ${op} for input of shape ${fmt(input.shape)} has a non-finite value (${d[i]}) at flat index ${i}`);
    }
  }
}

export function backward(root: Tensor, options: BackwardOptions = {}): void {
  root.assertLive('backward');
  if (!root.requiresGrad) throw new Error(`backward: tensor of shape ${fmt(root.shape)} does not require gradients (no recorded op leads to it)`);
  const { gradOutput, checkFinite = false } = options;
  if (!gradOutput && root.size !== 1) throw new Error(`backward: root has shape ${fmt(root.shape)}; pass gradOutput for a non-scalar root`);
  if (gradOutput && !shapeEqual(gradOutput.shape, root.shape)) {
    throw new Error(`backward: gradOutput shape ${fmt(gradOutput.shape)} differs from root shape ${fmt(root.shape)}`);
  }
  const order = topoOrder(root);
  noGrad(() => {
    const grads = new Map<Tensor, Tensor>();
    grads.set(root, gradOutput ?? onesLike(root));
    for (let n = order.length - 1; n >= 0; n--) {
      const t = order[n]!;
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      const node = t.node;
      if (!node) {
        // A leaf: accumulate into .grad, which survives scopes until the optimizer clears it.
        if (t.grad) {
          const sum = add(t.grad, g).keep();
          t.grad.dispose();
          if (g !== gradOutput) g.dispose();
          t.grad = sum;
        } else {
          t.grad = g === gradOutput ? add(g, 0).keep() : g.keep();
        }
        continue;
      }
      const gin = gradients[node.op](node, g, t);
      // A gradient fn may hand back g itself, or one tensor for several inputs: give each slot its
      // own view (views share the buffer by reference count), so every slot can be disposed alone.
      const used = new Set<Tensor>([g]);
      node.inputs.forEach((input, i) => {
        let gi = gin[i];
        if (!gi) return;
        if (used.has(gi)) gi = gi.view(gi.shape, gi.strides, gi.offset);
        used.add(gi);
        if (!input.requiresGrad) {
          gi.dispose();
          return;
        }
        if (!shapeEqual(gi.shape, input.shape)) {
          throw new Error(`backward: gradient of ${node.op} for input ${i} has shape ${fmt(gi.shape)}, expected ${fmt(input.shape)}`);
        }
        if (checkFinite) assertFinite(node.op, gi, input);
        const prev = grads.get(input);
        if (prev) {
          grads.set(input, add(prev, gi));
          prev.dispose();
          gi.dispose();
        } else {
          grads.set(input, gi);
        }
      });
      if (g !== gradOutput) g.dispose();
      // The graph below t is no longer needed by this backward pass.
      t.node = null;
    }
  });
}
