/**
 * Reverse-mode automatic differentiation.
 *
 * Every op that produces a tensor from tensors that require gradients records a {@link GradNode}
 * on its output: which op made it, from which inputs, and a `backward` function that turns the
 * gradient of the output into gradients of the inputs. `backward()` visits the recorded graph in
 * reverse topological order (outputs before the inputs they came from), with an explicit stack
 * instead of recursion, so a chain of 10,000 ops does not overflow the call stack.
 *
 * @module
 */
import type { Tensor } from "./tensor.ts";
import { fmtShape } from "./shape.ts";

/** How a tensor was made: the op, its inputs, and the rule for its gradient. */
export interface GradNode {
  op: string;
  inputs: Tensor[];
  /**
   * Gradients of the inputs given the gradient of the output (null for an input that needs
   * none). Set to null once used, which frees what it captured.
   */
  backward: ((grad: Tensor) => (Tensor | null)[]) | null;
}

let gradEnabled = true;

/** Whether ops currently record the graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Turns graph recording off until the returned handle is disposed, like PyTorch's
 * `with torch.no_grad():`. Use it for evaluation and for optimizer updates.
 *
 * @example
 * ```ts
 * import { noGrad, tensor } from "../mod.ts";
 * const w = tensor([1, 2], { requiresGrad: true });
 * {
 *   using _ = noGrad();
 *   const y = w.mul(2); // not recorded
 *   console.assert(!y.requiresGrad);
 * }
 * ```
 */
export function noGrad(): Disposable & { restore(): void } {
  const previous = gradEnabled;
  gradEnabled = false;
  const restore = () => {
    gradEnabled = previous;
  };
  return { restore, [Symbol.dispose]: restore };
}

/** Runs `fn` with graph recording off and returns its result. */
export function withNoGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/**
 * Records how `out` was made, when any input requires a gradient and recording is on. Each op
 * calls this right after computing its forward result, with its backward rule beside it.
 */
export function record(
  op: string,
  out: Tensor,
  inputs: Tensor[],
  backward: (grad: Tensor) => (Tensor | null)[],
): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}

/** Options of {@link runBackward}. */
export interface BackwardOptions {
  /** Keep the graph so that backward can run through it again. */
  retainGraph?: boolean;
}

/**
 * Computes the gradient of `root` with respect to every leaf tensor that requires one, adding
 * it to the leaf's `grad` (gradients accumulate until `zeroGrad`).
 */
export function runBackward(root: Tensor, gradient: Tensor, options: BackwardOptions = {}): void {
  // 1. Topological order by an iterative depth-first search: a tensor is placed after every
  //    tensor that was computed from it has been placed, i.e. `order` lists inputs first.
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [tensor, next] = top;
    const inputs = tensor.node?.inputs ?? [];
    if (next < inputs.length) {
      top[1]++;
      const input = inputs[next];
      if (input.requiresGrad && !visited.has(input)) {
        visited.add(input);
        stack.push([input, 0]);
      }
    } else {
      stack.pop();
      order.push(tensor);
    }
  }

  // 2. Walk from the root back to the leaves, summing the gradient contributions of every use.
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    const grads = new Map<Tensor, Tensor>([[root, gradient]]);
    // Intermediate gradients are needed only until they have been passed on. Their storage is
    // given back as soon as nothing holds them any more (a GPU or wasm memory does not wait for
    // the garbage collector then). `holders` counts the entries of `grads` that hold a tensor;
    // `kept` are those the user can see: the root's gradient and every `.grad`.
    const holders = new Map<Tensor, number>([[gradient, 1]]);
    const kept = new Set<Tensor>([gradient]);
    const hold = (t: Tensor, change: number) => holders.set(t, (holders.get(t) ?? 0) + change);
    const release = (t: Tensor) => {
      if (!kept.has(t) && !(holders.get(t)! > 0)) t.dispose();
    };
    for (let i = order.length - 1; i >= 0; i--) {
      const tensor = order[i];
      const grad = grads.get(tensor);
      if (!grad) continue;
      grads.delete(tensor);
      hold(grad, -1);
      const node = tensor.node;
      if (!node || tensor.retainsGrad) {
        const previousGrad = tensor.grad;
        tensor.grad = previousGrad ? previousGrad.add(grad) : grad;
        kept.add(tensor.grad);
      }
      if (!node) {
        release(grad);
        continue;
      }
      if (!node.backward) {
        throw new Error(
          `backward: trying to go backward through the graph a second time (through ` +
            `"${node.op}"); its saved values were freed after the first backward. Pass ` +
            `{ retainGraph: true } to the first backward() if you need to go back twice.`,
        );
      }
      const inputGrads = node.backward(grad);
      if (!options.retainGraph) node.backward = null;
      // Gradients that were computed but not kept as they are: released once all are placed.
      const spent: Tensor[] = [grad];
      node.inputs.forEach((input, k) => {
        let g = inputGrads[k];
        if (!g) return;
        if (!input.requiresGrad) {
          spent.push(g);
          return;
        }
        // An op that promoted this input (float32 * float64) computed its gradient in the wider
        // dtype: bring it back to the input's own dtype, as PyTorch does.
        if (g.dtype !== input.dtype) g = g.to(input.dtype);
        if (g.shape.length !== input.shape.length || g.shape.some((d, j) => d !== input.shape[j])) {
          throw new Error(
            `backward of "${node.op}" produced a gradient of shape ${fmtShape(g.shape)} ` +
              `for an input of shape ${fmtShape(input.shape)} (a bug in that op)`,
          );
        }
        const sum = grads.get(input);
        const total = sum ? sum.add(g) : g;
        grads.set(input, total);
        hold(total, 1);
        if (sum) {
          hold(sum, -1);
          spent.push(sum, g);
        }
      });
      for (const t of spent) release(t);
    }
  } finally {
    gradEnabled = previous;
  }
}
