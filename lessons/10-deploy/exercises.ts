/**
 * Lesson 10, exercises. Replace each `throw new Todo(...)` with your code, then run
 * `deno task check 10` to see which tasks are done (`deno task check 10 --hint 2` for more help).
 *
 * @module
 */
// F, load and save are for tasks 10.2 and 10.4 (the linter notes them unused until then).
// deno-lint-ignore no-unused-vars
import { F, load, type nn, save, type Tensor } from "../../mod.ts";
import { Todo } from "../todo.ts";

/**
 * Task 10.1: the magnitude-pruning mask of `weight`: a float tensor of the same shape, 0 at the
 * `Math.round(amount * n)` entries of smallest ABSOLUTE value (n = the number of entries), 1
 * elsewhere. (The tutorial's mask `w <= threshold` gets this backwards: see the lesson.)
 */
export function magnitudeMask(_weight: Tensor, _amount: number): Tensor {
  throw new Todo("10.1", "find the size below which the weights go, then compare every size");
}

/**
 * Task 10.2: the distillation loss `alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) *
 * CE(student, labels)`, where `p_T = softmax(logits / T)` and the KL divergence is per example.
 * `F.klDiv(input, target, ...)` takes the student's LOG-probabilities as input and the
 * teacher's probabilities as target, as PyTorch's `kl_div`.
 */
export function distillationLoss(
  _studentLogits: Tensor,
  _teacherLogits: Tensor,
  _labels: Tensor,
  _temperature: number,
  _alpha: number,
): Tensor {
  throw new Todo("10.2", "soften both with the temperature, compare them with KL, mix in CE");
}

/** Task 10.3: the share (0 to 1) of exactly-zero entries among all the entries of `weights`. */
export function sparsity(_weights: Tensor[]): Promise<number> {
  throw new Todo("10.3", "count the zeros of every tensor and every entry, then divide");
}

/**
 * Task 10.4: a round trip through the safetensors format, in memory: save `model`'s state dict
 * to bytes with `save`, read them back with `load`, put them into `fresh` (a model with the same
 * layers and other weights), and return `fresh`.
 */
export function roundTrip(_model: nn.Module, _fresh: nn.Module): Promise<nn.Module> {
  throw new Todo("10.4", "everything the model needs to predict is in its state dict");
}
