/**
 * Lesson 1, reference solutions. Same exports as `exercises.ts`; `deno task test` checks them.
 *
 * @module
 */
import { type nn, noGrad, type optim, type Tensor } from "../../mod.ts";

/**
 * Task 1.1: the derivative of `L(w) = (w*x - y)^2` with respect to `w`, by hand (the chain rule:
 * the outer square gives `2(w*x - y)`, the inner product `w*x` gives `x`).
 */
export function squaredErrorGrad(w: number, x: number, y: number): number {
  return 2 * (w * x - y) * x;
}

/**
 * Task 1.2: the gradients of the mean squared error of the line `yHat = w*x + b` over `N` points,
 * `L = mean((w*x + b - y)^2)`, by hand (no `backward()`):
 * `dL/dw = 2/N * sum((yHat - y) * x)` and `dL/db = 2/N * sum(yHat - y)`.
 *
 * @param X inputs, shape `[N, 1]`
 * @param y targets, shape `[N, 1]`
 */
export async function mseLineGrads(
  X: Tensor,
  y: Tensor,
  w: number,
  b: number,
): Promise<{ dw: number; db: number }> {
  const residual = X.mul(w).add(b).sub(y); // yHat - y
  const dw = await residual.mul(X).mean().mul(2).item();
  const db = await residual.mean().mul(2).item();
  return { dw, db };
}

/**
 * Task 1.3: one step of plain gradient descent, by hand: every parameter moves against its
 * gradient, `p <- p - lr * p.grad`, in place and outside the graph, then its gradient is cleared.
 */
export function sgdStep(parameters: Tensor[], lr: number): void {
  using _ = noGrad();
  for (const p of parameters) {
    if (!p.grad) continue;
    p.assign(p.sub(p.grad.mul(lr)));
    p.zeroGrad();
  }
}

/**
 * Task 1.4: one epoch of the training skeleton: for each batch, clear the gradients, compute the
 * loss, backward, step. Returns the mean of the batch losses.
 */
export async function trainEpoch(
  model: nn.Module,
  trainLoader: Iterable<Tensor[]>,
  optimizer: optim.Optimizer,
  lossFn: (yHat: Tensor, y: Tensor) => Tensor,
): Promise<number> {
  let lossSum = 0;
  let batches = 0;
  for (const [X, y] of trainLoader) {
    optimizer.zeroGrad();
    const loss = lossFn(model.forward(X), y);
    loss.backward();
    optimizer.step();
    lossSum += await loss.item();
    batches++;
  }
  return lossSum / batches;
}

/**
 * Tasks 1.5 and 1.6: autograd for single numbers. Each op makes a new Value and gives it a
 * `backwardStep` that applies the chain rule to its children; `backward()` runs those steps from
 * the output back to the inputs, each Value after every Value that uses it.
 */
export class Value {
  /** The number this Value holds. */
  data: number;
  /** d(output)/d(this Value), filled in by `backward()`; starts at 0. */
  grad = 0;
  /** The Values this one was computed from (none for an input). */
  children: Value[];
  /** Adds this Value's share of the gradient to its children's `grad`; set by each op. */
  backwardStep: () => void = () => {};

  /** A Value holding `data`, computed from `children`. */
  constructor(data: number, children: Value[] = []) {
    this.data = data;
    this.children = children;
  }

  /** `this + other`: both inputs get the output's gradient as it is. */
  add(other: Value | number): Value {
    const that = other instanceof Value ? other : new Value(other);
    const out = new Value(this.data + that.data, [this, that]);
    out.backwardStep = () => {
      this.grad += out.grad; // += : a Value used twice collects both shares
      that.grad += out.grad;
    };
    return out;
  }

  /** `this * other`: each factor's gradient is the other factor times the output's. */
  mul(other: Value | number): Value {
    const that = other instanceof Value ? other : new Value(other);
    const out = new Value(this.data * that.data, [this, that]);
    out.backwardStep = () => {
      this.grad += that.data * out.grad;
      that.grad += this.data * out.grad;
    };
    return out;
  }

  /** `this ** exponent`: the derivative is `exponent * this^(exponent - 1)`. */
  pow(exponent: number): Value {
    const out = new Value(this.data ** exponent, [this]);
    out.backwardStep = () => {
      this.grad += exponent * this.data ** (exponent - 1) * out.grad;
    };
    return out;
  }

  /** `max(0, this)`: the gradient passes where the input was positive. */
  relu(): Value {
    const out = new Value(Math.max(0, this.data), [this]);
    out.backwardStep = () => {
      this.grad += (this.data > 0 ? 1 : 0) * out.grad;
    };
    return out;
  }

  /** `tanh(this)`: the derivative is `1 - tanh^2`. */
  tanh(): Value {
    const t = Math.tanh(this.data);
    const out = new Value(t, [this]);
    out.backwardStep = () => {
      this.grad += (1 - t * t) * out.grad;
    };
    return out;
  }

  /** Fills in `grad` of every Value this one was computed from. */
  backward(): void {
    // Topological order: each Value after its children.
    const order: Value[] = [];
    const visited = new Set<Value>();
    const visit = (value: Value) => {
      if (visited.has(value)) return;
      visited.add(value);
      for (const child of value.children) visit(child);
      order.push(value);
    };
    visit(this);
    // Backwards: a Value passes its gradient on only once every user has added its share.
    this.grad = 1;
    for (const value of order.reverse()) value.backwardStep();
  }
}
