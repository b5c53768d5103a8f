/**
 * Lesson 1, reference solutions. Same exports as `exercises.ts`; `deno task test` checks them.
 *
 * @module
 */
import { type data, type nn, noGrad, type optim, type Tensor } from "../../mod.ts";

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
  {
    using _ = noGrad();
    for (const p of parameters) {
      if (p.grad) p.assign(p.sub(p.grad.mul(lr)));
    }
  }
  for (const p of parameters) p.zeroGrad();
}

/**
 * Task 1.4: one epoch of the training skeleton: for each batch, clear the gradients, compute the
 * loss, backward, step. Returns the mean of the batch losses.
 */
export async function trainEpoch(
  model: nn.Module,
  trainLoader: data.DataLoader<Tensor[]>,
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
