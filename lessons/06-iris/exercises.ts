/**
 * Lesson 6, exercises. Replace each `throw new Todo(...)` with your code, then run
 * `deno task check 6` to see which tasks are done (`deno task check 6 --hint 2` for more help).
 *
 * @module
 */
// `randperm` and `tensor` are for tasks 6.1 and 6.2 (the linter notes them unused until then).
// deno-lint-ignore no-unused-vars
import { type nn, randperm, type Tensor, tensor } from "../../mod.ts";
import { Todo } from "../todo.ts";

/**
 * Task 6.1: standardize every row of `features` (shape `[N, F]`: N samples, F columns) with the
 * mean and standard deviation of each column computed over the **training rows only**, the rows
 * whose positions are in `trainIndices`. Return all N rows, standardized:
 * `(features - mean) / std`, with `mean` and `std` of shape `[F]`.
 */
export function standardizeWithTrainStats(_features: Tensor, _trainIndices: number[]): Tensor {
  throw new Todo("6.1", "statistics come from the training rows; they are applied to every row");
}

/**
 * Task 6.2 (build it): a stratified split, like `data.randomSplit(dataset, fractions,
 * { stratify: labels })`. `labels[i]` is the class of sample i; `fractions` sum to 1.
 * Return one array of sample positions (0 to N-1) per fraction, such that:
 *
 * - every position is in exactly one part;
 * - part k holds `floor(N * fractions[k])` samples, leftovers going to the first parts;
 * - in every part, each class has (within one sample) the share it has in the whole;
 * - the choice is random, from the seeded generator (`randperm(n)`: a shuffled `0..n-1`), so
 *   that a different seed gives a different split.
 */
export function stratifiedSplit(_labels: number[], _fractions: number[]): number[][] {
  throw new Todo("6.2", "split each class on its own, then put the pieces together");
}

/**
 * Task 6.3 (build it): early stopping. `step(valLoss, model)` is called once per epoch (epochs
 * 1, 2, ...) with that epoch's validation loss; it returns true when the last `patience` epochs
 * brought no loss lower than the best so far, and false otherwise. It keeps `bestLoss`,
 * `bestEpoch` and a copy of the model's weights at the best epoch; `restoreBest(model)` loads
 * that copy back into the model (`model.loadStateDict`).
 */
export class EarlyStopping {
  /** The lowest validation loss so far. */
  bestLoss = Infinity;
  /** The epoch (1, 2, ...) of the lowest loss. */
  bestEpoch = 0;
  /** The number of epochs seen. */
  epoch = 0;
  /** Epochs since the best one. */
  epochsWithoutImprovement = 0;
  /** A copy of the weights of the best epoch. */
  bestWeights: Record<string, Tensor> = {};

  constructor(readonly patience: number) {}

  step(_valLoss: number, _model: nn.Module): boolean {
    throw new Todo(
      "6.3",
      "count the epochs since the best loss; save the weights at each new best",
    );
  }

  restoreBest(_model: nn.Module): void {
    throw new Todo("6.3", "load the weights saved at the best epoch back into the model");
  }
}

/**
 * Task 6.4: per-class precision, recall and F1 from a confusion matrix, where `matrix[i][j]`
 * counts the samples of true class i predicted as class j. A ratio whose denominator is 0 is 0.
 */
export function scoresFromConfusion(
  _matrix: number[][],
): { precision: number[]; recall: number[]; f1: number[] } {
  throw new Todo("6.4", "precision looks at what was predicted as c, recall at what is c");
}
