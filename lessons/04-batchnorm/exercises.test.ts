/**
 * Lesson 4's exercises: every solution passes its check, every stub says it is not done, and
 * the likely wrong answers are named (`LESSON_EXERCISES=student` checks the student's file
 * instead).
 *
 * @module
 */
import type { Tensor } from "../../mod.ts";
import { testTasks } from "../tasks.ts";
import tasks from "./tasks.ts";
import * as exercises from "./exercises.ts";
import * as solutions from "./solutions.ts";

const DIMS = [0, 2, 3];
const perChannel = (values: Tensor) => values.reshape([1, values.shape[0], 1, 1]);

/** Batch norm's training formula with chosen statistics. */
function normalizeWith(dims: number[], correction: number) {
  return (input: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor => {
    const mean = input.mean(dims, true);
    const variance = input.var(dims, { keepdim: true, correction });
    return input.sub(mean).div(variance.add(eps).sqrt()).mul(perChannel(gamma))
      .add(perChannel(beta));
  };
}

/** The backward pass with the batch statistics treated as constants, or without one term. */
function mistakenBackward(mistake: "constants" | "no variance term") {
  return (input: Tensor, gamma: Tensor, gradOutput: Tensor, eps = 1e-5) => {
    const right = solutions.batchNormBackward(input, gamma, gradOutput, eps);
    const s = input.var(DIMS, { keepdim: true, correction: 0 }).add(eps).sqrt();
    const scale = perChannel(gamma).div(s);
    const gradInput = mistake === "constants"
      ? gradOutput.mul(scale)
      : gradOutput.sub(gradOutput.mean(DIMS, true)).mul(scale);
    return { ...right, gradInput };
  };
}

/** The running statistics with the biased variance, or with the momentum the wrong way. */
function mistakenRunningStats(mistake: "biased" | "swapped") {
  return (runningMean: Tensor, runningVar: Tensor, input: Tensor, momentum = 0.1) => {
    const m = mistake === "swapped" ? 1 - momentum : momentum;
    const batchVar = input.var(DIMS, { correction: mistake === "biased" ? 0 : 1 });
    return {
      runningMean: runningMean.mul(1 - m).add(input.mean(DIMS).mul(m)),
      runningVar: runningVar.mul(1 - m).add(batchVar.mul(m)),
    };
  };
}

/** A layer that never updates its running statistics. */
class FrozenStatsBatchNorm extends solutions.MyBatchNorm2d {
  override forward(input: Tensor): Tensor {
    if (!this.training) return super.forward(input);
    return solutions.batchNormForward(input, this.weight, this.bias, this.eps);
  }
}

/** A layer that uses the batch's statistics in evaluation mode too. */
class AlwaysTrainingBatchNorm extends solutions.MyBatchNorm2d {
  override forward(input: Tensor): Tensor {
    if (this.training) return super.forward(input);
    return solutions.batchNormForward(input, this.weight, this.bias, this.eps);
  }
}

testTasks(tasks, solutions, exercises, {
  folder: new URL("./", import.meta.url),
  wrongAnswers: {
    "4.1": [
      {
        mistake: "the unbiased variance",
        says: "the unbiased variance: normalization uses the biased one",
        impl: { batchNormForward: normalizeWith(DIMS, 1) },
      },
      {
        mistake: "per-image statistics",
        says: "statistics of each image alone",
        impl: { batchNormForward: normalizeWith([2, 3], 0) },
      },
    ],
    "4.2": [
      {
        mistake: "mean and variance as constants",
        says: "treated as constants",
        impl: { batchNormBackward: mistakenBackward("constants") },
      },
      {
        mistake: "no term through the variance",
        says: "the term through the variance is missing",
        impl: { batchNormBackward: mistakenBackward("no variance term") },
      },
    ],
    "4.3": [
      {
        mistake: "the biased variance",
        says: "the biased batch variance",
        impl: { updateRunningStats: mistakenRunningStats("biased") },
      },
      {
        mistake: "momentum the wrong way",
        says: "momentum weighs the new batch",
        impl: { updateRunningStats: mistakenRunningStats("swapped") },
      },
    ],
    "4.4": [
      {
        mistake: "the batch's statistics",
        says: "evaluation mode uses the running ones",
        impl: {
          batchNormEval: (input, _mean, _variance, gamma, beta) =>
            normalizeWith(DIMS, 0)(input, gamma, beta),
        },
      },
      {
        mistake: "no square root",
        says: "divide by its square root",
        impl: {
          batchNormEval: (input, runningMean, runningVar, gamma, beta, eps = 1e-5) =>
            input.sub(perChannel(runningMean)).div(perChannel(runningVar).add(eps))
              .mul(perChannel(gamma)).add(perChannel(beta)),
        },
      },
    ],
    "4.5": [
      {
        mistake: "running statistics never updated",
        says: "the running mean never changed",
        impl: { MyBatchNorm2d: FrozenStatsBatchNorm },
      },
      {
        mistake: "batch statistics in evaluation mode",
        says: "evaluation mode used the batch's statistics",
        impl: { MyBatchNorm2d: AlwaysTrainingBatchNorm },
      },
    ],
  },
});
