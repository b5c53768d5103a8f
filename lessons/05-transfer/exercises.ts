/**
 * Lesson 5, exercises. Replace each `throw new Todo(...)` with your code, then run
 * `deno task check 5` to see which tasks are done (`deno task check 5 --hint 2` for more help).
 *
 * A model's parameters are tensors: `model.parameters()` lists them, `p.numel()` is the number of
 * values in `p`, `p.requiresGrad` says whether it is trained, and `p.requiresGrad_(false)` turns
 * that off. A module finds its layers by looking at its fields, so assigning a new layer to a
 * field replaces the old one.
 *
 * @module
 */
// Everything the tasks need; the linter notes what you have not used yet.
// deno-lint-ignore no-unused-vars
import { nn, noGrad, type Tensor } from "../../mod.ts";
import { Todo } from "../todo.ts";

/** A network in two parts, like the lesson's: a backbone (`features`) and a linear `head`. */
export interface HeadedNet extends nn.Module {
  features: nn.Module;
  head: nn.Linear;
}

/** A group of parameters with its own learning rate, as optimizers take them. */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
}

/**
 * Task 5.1: freezes a module: none of its parameters is trained any more (autograd computes no
 * gradient for them). Go through the parameters one by one rather than calling the module's own
 * `requiresGrad_`.
 */
export function freeze(_module: nn.Module): void {
  throw new Todo("5.1", "a frozen parameter is one autograd computes no gradient for");
}

/**
 * Task 5.2: how many numbers an optimizer would train: the total size of the parameters that
 * require a gradient (frozen ones do not count).
 */
export function countTrainable(_module: nn.Module): number {
  throw new Todo("5.2", "count numbers, not tensors, and only the ones still trained");
}

/**
 * Task 5.3: replaces the head of `model` with a fresh linear layer that takes the same number
 * of features (`model.head.inFeatures`) and gives `classes` outputs. Returns the new head.
 */
export function replaceHead(_model: HeadedNet, _classes: number): nn.Linear {
  throw new Todo("5.3", "a new layer, put where the model looks for its head");
}

/**
 * Task 5.4: the parameter groups of fine-tuning: the backbone's parameters with `backboneLr`,
 * then the head's with `headLr`, ready for `new optim.Adam(groups, { lr: headLr })`.
 */
export function fineTuningGroups(
  _model: HeadedNet,
  _backboneLr: number,
  _headLr: number,
): ParamGroup[] {
  throw new Todo("5.4", "one group for each part of the network, each with its own lr");
}

/**
 * Task 5.5: plain gradient descent with parameter groups, as `optim.SGD(groups, { lr })`:
 *
 * - `groups` lists `{ params, lr? }`; a group without its own `lr` takes `options.lr`;
 * - `step()` moves every parameter of every group against its gradient, `p <- p - lr * p.grad`,
 *   with its group's `lr`, in place under `noGrad()`; a parameter without a gradient (a frozen
 *   one, or one the loss did not reach) is left alone;
 * - `zeroGrad()` clears the gradient of every parameter of every group.
 */
export class MySGD {
  groups: ParamGroup[];

  constructor(_groups: { params: Tensor[]; lr?: number }[], _options: { lr: number }) {
    throw new Todo("5.5", "keep each group with the learning rate it will use");
  }

  step(): void {
    throw new Todo("5.5", "the step of task 1.3, for each group with its own lr");
  }

  zeroGrad(): void {
    throw new Todo("5.5", "every parameter of every group forgets its gradient");
  }
}
