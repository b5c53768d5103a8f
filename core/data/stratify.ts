/**
 * Stratified splitting: the positions of each split chosen so that every class keeps (as nearly
 * as whole samples allow) its share of the whole dataset in every split, as scikit-learn's
 * `train_test_split(..., stratify=y)`. {@link randomSplit} uses it when given `stratify`.
 *
 * On a small dataset a plain random split can, by bad luck, leave a class nearly absent from the
 * validation or test split; then the validation accuracy says little about that class, and
 * the test accuracy depends on the luck of the draw. Stratifying removes that source of noise.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { randperm } from "../random.ts";

/** Class labels for stratifying: one number per sample, or a 1-D CPU tensor of them. */
export type StratifyLabels = readonly number[] | ArrayLike<number> | Tensor;

/** The labels as plain numbers (reading a CPU tensor synchronously). */
export function labelValues(op: string, labels: StratifyLabels, length: number): number[] {
  let values: ArrayLike<number>;
  if (labels && typeof (labels as Tensor).dataSync === "function") {
    const t = labels as Tensor;
    if (t.ndim !== 1) {
      throw new Error(
        `${op}: stratify labels must be one label per sample (shape [${length}]), got shape ` +
          `[${t.shape.join(", ")}]`,
      );
    }
    try {
      values = t.dataSync();
    } catch {
      throw new Error(
        `${op}: stratify labels on "${t.device}" cannot be read synchronously; pass ` +
          `Array.from(await labels.data()) instead`,
      );
    }
  } else if (labels && typeof (labels as ArrayLike<number>).length === "number") {
    values = labels as ArrayLike<number>;
  } else {
    throw new TypeError(
      `${op}: stratify must be the class label of every sample (an array or a tensor), got ` +
        String(labels),
    );
  }
  if (values.length !== length) {
    throw new Error(
      `${op}: stratify has ${values.length} labels but the dataset has ${length} samples ` +
        `(give one label per sample)`,
    );
  }
  return Array.from(values, (v, i) => {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new Error(`${op}: stratify label ${i} is ${v}, not a number`);
    }
    return v;
  });
}

/**
 * Splits the sample positions `0..n-1` into groups of the given sizes, each holding every class
 * in (nearly) the proportion it has overall. Each class's samples are shuffled with the seeded
 * generator, and so is each group's order.
 *
 * How many samples of class c go to split k: the ideal share `n_c * size_k / n`, rounded down,
 * then the samples still missing from the split go one each to the classes with the largest
 * rounded-off fractions. The last split takes what is left, so the sizes are exact.
 */
export function stratifiedPositions(labels: number[], sizes: number[]): number[][] {
  const n = labels.length;
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  // Each class's positions, in a seeded random order.
  const members = classes.map((c) => {
    const positions = labels.flatMap((label, i) => (label === c ? [i] : []));
    return randperm(positions.length).map((j) => positions[j]);
  });
  const remaining = members.map((m) => m.length);
  const taken = members.map(() => 0);
  const splits: number[][] = [];
  sizes.forEach((size, k) => {
    let counts: number[];
    if (k === sizes.length - 1) {
      counts = [...remaining];
    } else {
      const ideal = members.map((m) => (m.length * size) / n);
      counts = ideal.map((v, c) => Math.min(Math.floor(v), remaining[c]));
      let missing = size - counts.reduce((s, v) => s + v, 0);
      // Largest fraction first; at equal fractions the class with the most samples left.
      const order = classes.map((_, c) => c).sort((a, b) =>
        (ideal[b] - Math.floor(ideal[b])) - (ideal[a] - Math.floor(ideal[a])) ||
        remaining[b] - remaining[a] || a - b
      );
      while (missing > 0) {
        for (const c of order) {
          if (missing > 0 && counts[c] < remaining[c]) {
            counts[c]++;
            missing--;
          }
        }
      }
    }
    const split: number[] = [];
    counts.forEach((count, c) => {
      split.push(...members[c].slice(taken[c], taken[c] + count));
      taken[c] += count;
      remaining[c] -= count;
    });
    // Shuffle the split so that its samples do not come grouped by class.
    splits.push(randperm(split.length).map((j) => split[j]));
  });
  return splits;
}
