/**
 * Lesson 1, exercises. Replace each `throw new Todo(...)` with your code, then run
 * `deno task check 1` to see which tasks are done (`deno task check 1 --hint 2` for more help).
 *
 * @module
 */
// `noGrad` is for task 1.3 (the linter notes it unused until then).
// deno-lint-ignore no-unused-vars
import { type nn, noGrad, type optim, type Tensor } from "../../mod.ts";
import { Todo } from "../todo.ts";

/**
 * Task 1.1: the derivative of `L(w) = (w*x - y)^2` with respect to `w`, by hand.
 * For `w = 3, x = 2, y = 5` the answer is 4.
 */
export function squaredErrorGrad(_w: number, _x: number, _y: number): number {
  throw new Todo("1.1", "the chain rule: the derivative of the square, times that of the inside");
}

/**
 * Task 1.2: the gradients of the mean squared error of the line `yHat = w*x + b` over `N` points,
 * `L = mean((w*x + b - y)^2)`, by hand: use tensor operations (`mul`, `add`, `sub`, `mean`), not
 * `backward()`.
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
  throw new Todo("1.2", "task 1.1 for every point, then the mean over the points");
}

/**
 * Task 1.3: one step of plain gradient descent, by hand: move every parameter against its
 * gradient, `p <- p - lr * p.grad`, in place (`p.assign(newValues)`), then clear its gradient
 * (`p.zeroGrad()`). A parameter requires grad, so changing it in place must happen inside
 * `{ using _ = noGrad(); ... }`. Skip parameters without a gradient.
 */
export function sgdStep(_parameters: Tensor[], _lr: number): void {
  throw new Todo("1.3", "each parameter takes a small step downhill, then forgets its gradient");
}

/**
 * Task 1.4: one epoch of the training skeleton: for each batch `[X, y]` of `trainLoader` (a
 * `DataLoader`, or any list of batches), clear the old gradients, compute
 * `lossFn(model.forward(X), y)`, call `backward()`, take an optimizer step.
 *
 * @returns the mean of the batch losses, as a number
 */
export function trainEpoch(
  _model: nn.Module,
  _trainLoader: Iterable<Tensor[]>,
  _optimizer: optim.Optimizer,
  _lossFn: (yHat: Tensor, y: Tensor) => Tensor,
): Promise<number> {
  throw new Todo("1.4", "the four lines of the lesson's training loop, once for every batch");
}

/**
 * Tasks 1.5 and 1.6: autograd of your own, for single numbers (as in micrograd). A `Value` holds
 * a number, `data`, and after `backward()` the derivative of the output with respect to it,
 * `grad`.
 *
 * Each operation makes a new `Value` whose `children` are the Values it was computed from, and
 * gives it a `backwardStep`: a function that adds this Value's share of the gradient to each
 * child's `grad` (the chain rule: the child's grad grows by the local derivative times this
 * Value's `grad`).
 *
 * - Task 1.5: the forward half of `add`, `mul`, `pow`, `relu` and `tanh` (each returns a new
 *   Value with the right `data` and `children`); `other` may be a plain number.
 * - Task 1.6: the backward half: each op's `backwardStep`, and `backward()`, which sets the
 *   output's own `grad` to 1 and runs the `backwardStep` of every Value of the graph, each one
 *   only after every Value that uses it (reverse topological order).
 *
 * @example
 * ```ts ignore
 * const x = new Value(2);
 * const y = x.mul(x).add(3).tanh(); // tanh(x^2 + 3)
 * y.backward();
 * x.grad; // 2x (1 - tanh(x^2 + 3)^2)
 * ```
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

  /** `this + other`. */
  add(_other: Value | number): Value {
    throw new Todo("1.5", "a new Value with the sum as data and the two inputs as children");
  }

  /** `this * other`. */
  mul(_other: Value | number): Value {
    throw new Todo("1.5", "like add, with the product");
  }

  /** `this ** exponent`, for a plain number `exponent`. */
  pow(_exponent: number): Value {
    throw new Todo("1.5", "Math.pow gives the data; the exponent is a number, not a child");
  }

  /** `max(0, this)`. */
  relu(): Value {
    throw new Todo("1.5", "negative inputs give 0, others pass unchanged");
  }

  /** `tanh(this)`. */
  tanh(): Value {
    throw new Todo("1.5", "Math.tanh gives the data");
  }

  /** Fills in `grad` of every Value this one was computed from: d(this)/d(that Value). */
  backward(): void {
    throw new Todo(
      "1.6",
      "sort the graph so that every Value comes after its children, then walk it backwards",
    );
  }
}
