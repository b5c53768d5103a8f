/**
 * Lesson 5, exercises. Replace each `throw new Todo(...)` with your code, then run
 * `deno task check 5` to see which tasks are done.
 *
 * A model's parameters are tensors: `model.parameters()` lists them, `p.numel()` is the number of
 * values in `p`, `p.requiresGrad` says whether it is trained, and `p.requiresGrad_(false)` turns
 * that off. A module finds its layers by looking at its fields, so assigning a new layer to a
 * field replaces the old one.
 *
 * @module
 */
import { nn, type Tensor } from "../../mod.ts";
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
  throw new Todo("5.1", "for each p of module.parameters(), call p.requiresGrad_(false)");
}

/**
 * Task 5.2: how many numbers an optimizer would train: the total size of the parameters that
 * require a gradient (frozen ones do not count).
 */
export function countTrainable(_module: nn.Module): number {
  throw new Todo("5.2", "add up p.numel() over the parameters p with p.requiresGrad");
}

/**
 * Task 5.3: replaces the head of `model` with a fresh linear layer that takes the same number
 * of features (`model.head.inFeatures`) and gives `classes` outputs. Returns the new head.
 */
export function replaceHead(_model: HeadedNet, _classes: number): nn.Linear {
  throw new Todo(
    "5.3",
    "assign model.head = new nn.Linear(model.head.inFeatures, classes), then return it",
  );
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
  throw new Todo(
    "5.4",
    "two groups: { params: model.features.parameters(), lr: backboneLr } and the same for the head",
  );
}
