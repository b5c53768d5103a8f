/**
 * Lesson 10, exercises solved: the reference answers that `deno task test` checks.
 *
 * @module
 */
import { F, load, type nn, save, type Tensor } from "../../mod.ts";

/**
 * Task 10.1: the magnitude-pruning mask of `weight`: a tensor of its shape, 0 at the
 * `round(amount * n)` entries of smallest absolute value, 1 elsewhere.
 */
export function magnitudeMask(weight: Tensor, amount: number): Tensor {
  const count = Math.round(amount * weight.numel());
  if (count === 0) return weight.mul(0).add(1);
  const sizes = weight.abs().flatten();
  const threshold = sizes.kthvalue(count).values;
  return weight.abs().gt(threshold).float();
}

/**
 * Task 10.2: the distillation loss: `alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) *
 * crossEntropy(student, labels)`, with `p_T = softmax(logits / T)` and the KL divergence per
 * example (`F.klDiv` with reduction "batchmean").
 */
export function distillationLoss(
  studentLogits: Tensor,
  teacherLogits: Tensor,
  labels: Tensor,
  temperature: number,
  alpha: number,
): Tensor {
  const soft = F.klDiv(
    F.logSoftmax(studentLogits.div(temperature), 1),
    F.softmax(teacherLogits.div(temperature), 1),
    { reduction: "batchmean" },
  ).mul(temperature * temperature);
  return soft.mul(alpha).add(F.crossEntropy(studentLogits, labels).mul(1 - alpha));
}

/** Task 10.3: the share of exactly-zero entries among all the entries of `weights`, together. */
export async function sparsity(weights: Tensor[]): Promise<number> {
  let zeros = 0;
  let total = 0;
  for (const weight of weights) {
    zeros += await weight.eq(0).float().sum().item();
    total += weight.numel();
  }
  return zeros / total;
}

/**
 * Task 10.4: a round trip through the safetensors format: save `model`'s state dict as bytes,
 * load them, and put them into `fresh` (a model of the same layers); return `fresh`.
 */
export async function roundTrip(model: nn.Module, fresh: nn.Module): Promise<nn.Module> {
  const bytes = await save(model.stateDict());
  fresh.loadStateDict(load(bytes));
  return fresh;
}
