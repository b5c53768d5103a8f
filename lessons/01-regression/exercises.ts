/**
 * Lesson 1, exercises. Replace each `throw new Todo(...)` with your code, then run
 * `deno task check 1` to see which tasks are done.
 *
 * @module
 */
import type { data, nn, optim, Tensor } from "../../mod.ts";
import { Todo } from "../todo.ts";

/**
 * Task 1.1: the derivative of `L(w) = (w*x - y)^2` with respect to `w`, by hand.
 * For `w = 3, x = 2, y = 5` the answer is 4.
 */
export function squaredErrorGrad(_w: number, _x: number, _y: number): number {
  throw new Todo("1.1", "apply the chain rule: the derivative of u^2 is 2u, times du/dw = x");
}

/**
 * Task 1.2: the gradients of the mean squared error of the line `yHat = w*x + b` over `N` points,
 * `L = mean((w*x + b - y)^2)`, by hand: use tensor operations, not `backward()`.
 *
 * @param X inputs, shape `[N, 1]`
 * @param y targets, shape `[N, 1]`
 * @returns `dL/dw` and `dL/db` as numbers (`await t.item()` reads a one-element tensor)
 */
export function mseLineGrads(
  _X: Tensor,
  _y: Tensor,
  _w: number,
  _b: number,
): Promise<{ dw: number; db: number }> {
  throw new Todo(
    "1.2",
    "with r = w*x + b - y: dL/dw = 2 * mean(r * x) and dL/db = 2 * mean(r)",
  );
}

/**
 * Task 1.3: one step of plain gradient descent, by hand: move every parameter against its
 * gradient, `p <- p - lr * p.grad`, in place (`p.assign(...)`) and under `noGrad()`, then clear
 * its gradient (`p.zeroGrad()`). Skip parameters without a gradient.
 */
export function sgdStep(_parameters: Tensor[], _lr: number): void {
  throw new Todo(
    "1.3",
    "inside { using _ = noGrad(); ... } do p.assign(p.sub(p.grad.mul(lr))), then p.zeroGrad()",
  );
}

/**
 * Task 1.4: one epoch of the training skeleton: for each batch `[X, y]` of `trainLoader`, clear
 * the gradients, compute `lossFn(model.forward(X), y)`, call `backward()`, take an optimizer step.
 *
 * @returns the mean of the batch losses
 */
export function trainEpoch(
  _model: nn.Module,
  _trainLoader: data.DataLoader<Tensor[]>,
  _optimizer: optim.Optimizer,
  _lossFn: (yHat: Tensor, y: Tensor) => Tensor,
): Promise<number> {
  throw new Todo(
    "1.4",
    "for (const [X, y] of trainLoader) { zeroGrad, loss, backward, step }; average loss.item()",
  );
}
