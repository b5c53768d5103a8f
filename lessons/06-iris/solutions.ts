/**
 * Lesson 6, solutions: the same exports as `exercises.ts`, solved.
 *
 * @module
 */
import { type nn, randperm, type Tensor, tensor } from "../../mod.ts";

/**
 * Task 6.1: standardize every row of `features` (`[N, F]`) with the mean and standard deviation
 * of each column computed over the training rows only (`trainIndices`).
 */
export function standardizeWithTrainStats(features: Tensor, trainIndices: number[]): Tensor {
  const train = features.indexSelect(0, tensor(trainIndices, { dtype: "int32" }));
  const mean = train.mean(0);
  const std = train.std(0);
  return features.sub(mean).div(std);
}

/**
 * Task 6.2: a stratified split. Returns one array of sample positions per fraction; every class
 * keeps (within one sample) its share of the whole in every part; all positions are used once.
 */
export function stratifiedSplit(labels: number[], fractions: number[]): number[][] {
  const n = labels.length;
  // Overall sizes: rounded down, leftovers to the first parts (as data.randomSplit).
  const sizes = fractions.map((f) => Math.floor(n * f));
  for (let i = 0; i < n - sizes.reduce((s, v) => s + v, 0); i++) sizes[i % sizes.length]++;
  const parts: number[][] = fractions.map(() => []);
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  // Shuffle each class, then deal its samples out to the parts in proportion.
  const shuffled = classes.map((c) => {
    const members = labels.flatMap((label, i) => (label === c ? [i] : []));
    return randperm(members.length).map((j) => members[j]);
  });
  const taken = classes.map(() => 0);
  for (let k = 0; k < fractions.length; k++) {
    const last = k === fractions.length - 1;
    const ideal = shuffled.map((members) => (members.length * sizes[k]) / n);
    const counts = ideal.map((v, c) =>
      last ? shuffled[c].length - taken[c] : Math.min(Math.floor(v), shuffled[c].length - taken[c])
    );
    // Give the samples still missing to the classes with the largest remainders.
    let missing = last ? 0 : sizes[k] - counts.reduce((s, v) => s + v, 0);
    // Largest remainder first; at equal remainders, the class with the most samples left.
    const left = (c: number) => shuffled[c].length - taken[c];
    const order = classes.map((_, c) => c)
      .sort((a, b) => (ideal[b] % 1) - (ideal[a] % 1) || left(b) - left(a));
    while (missing > 0) {
      for (const c of order) {
        if (missing > 0 && taken[c] + counts[c] < shuffled[c].length) {
          counts[c]++;
          missing--;
        }
      }
    }
    counts.forEach((count, c) => {
      parts[k].push(...shuffled[c].slice(taken[c], taken[c] + count));
      taken[c] += count;
    });
  }
  return parts.map((part) => randperm(part.length).map((j) => part[j]));
}

/**
 * Task 6.3: early stopping. `step(valLoss, model)` is called once per epoch; it returns true
 * when `patience` epochs in a row brought no improvement of the best loss. `restoreBest(model)`
 * puts the weights of the best epoch back.
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

  step(valLoss: number, model: nn.Module): boolean {
    this.epoch++;
    if (valLoss < this.bestLoss) {
      this.bestLoss = valLoss;
      this.bestEpoch = this.epoch;
      this.epochsWithoutImprovement = 0;
      const entries = Object.entries(model.stateDict());
      this.bestWeights = Object.fromEntries(entries.map(([name, t]) => [name, t.clone()]));
      return false;
    }
    this.epochsWithoutImprovement++;
    return this.epochsWithoutImprovement >= this.patience;
  }

  restoreBest(model: nn.Module): void {
    model.loadStateDict(this.bestWeights);
  }
}

/**
 * Task 6.4: per-class precision, recall and F1 from a confusion matrix (`matrix[i][j]`: samples
 * of true class i predicted as j). A ratio with a zero denominator is 0.
 */
export function scoresFromConfusion(
  matrix: number[][],
): { precision: number[]; recall: number[]; f1: number[] } {
  const classes = matrix.length;
  const precision: number[] = [];
  const recall: number[] = [];
  const f1: number[] = [];
  for (let c = 0; c < classes; c++) {
    const truePositives = matrix[c][c];
    const predicted = matrix.reduce((sum, row) => sum + row[c], 0); // column c
    const actual = matrix[c].reduce((sum, v) => sum + v, 0); // row c
    const p = predicted === 0 ? 0 : truePositives / predicted;
    const r = actual === 0 ? 0 : truePositives / actual;
    precision.push(p);
    recall.push(r);
    f1.push(p + r === 0 ? 0 : (2 * p * r) / (p + r));
  }
  return { precision, recall, f1 };
}
