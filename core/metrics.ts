/**
 * Classification metrics: accuracy, the confusion matrix, and per-class precision, recall and
 * F1, with the same definitions as scikit-learn's `accuracy_score`, `confusion_matrix` and
 * `precision_recall_fscore_support` (PyTorch itself has none; `torchmetrics` has the same).
 *
 * Every function takes the predictions and the true labels. Predictions are either class
 * indices (`[N]`, integers) or scores (`[N, C]`: logits or probabilities, of which the largest
 * in each row is the predicted class); labels are class indices `[N]`. Both may be tensors on
 * any device or plain arrays. The results are plain numbers, ready to print or to put in a
 * table, so the functions are asynchronous (reading a tensor back is).
 *
 * @example
 * ```ts
 * import { metrics, tensor } from "../mod.ts";
 * const logits = tensor([[2, 1, 0], [0, 3, 1], [1, 0, 0.5], [0, 0, 1]]);
 * const labels = tensor([0, 1, 2, 2], { dtype: "int32" });
 * console.assert((await metrics.accuracy(logits, labels)) === 0.75);
 * const matrix = await metrics.confusionMatrix(logits, labels);
 * console.assert(JSON.stringify(matrix) === "[[1,0,0],[0,1,0],[1,0,1]]");
 * ```
 * @module
 */
import { Tensor } from "./tensor.ts";
import { checkOptions } from "./options.ts";
import { fmtShape } from "./shape.ts";

/** Class indices or scores: a tensor, or plain numbers (one per sample). */
export type Labels = Tensor | readonly number[] | Int32Array | Float32Array | Float64Array;

/** Options shared by the metrics. */
export interface MetricOptions {
  /**
   * The number of classes (rows and columns of the confusion matrix). By default one more
   * than the largest class seen in the predictions and labels, or the number of score
   * columns when the predictions are scores.
   */
  numClasses?: number;
}

/** How {@link precisionRecallF1} combines the classes. */
export type Average = "none" | "macro" | "micro" | "weighted";

/** Options of {@link precisionRecallF1}. */
export interface PrecisionRecallF1Options extends MetricOptions {
  /**
   * `"none"` (default): one value per class. `"macro"`: the plain mean over classes.
   * `"weighted"`: the mean weighted by each class's support. `"micro"`: computed from the
   * totals over all classes (equal to the accuracy for single-label classification).
   */
  average?: Average;
  /** The value of a ratio whose denominator is 0 (a class never predicted, or absent): 0. */
  zeroDivision?: number;
}

/** Per-class precision, recall, F1 and support (number of true samples of the class). */
export interface PerClassScores {
  /** Of the samples predicted as class c, the share that is c: TP / (TP + FP). */
  precision: number[];
  /** Of the samples of class c, the share predicted as c: TP / (TP + FN). */
  recall: number[];
  /** The harmonic mean of precision and recall: 2 P R / (P + R). */
  f1: number[];
  /** The number of samples whose true class is c. */
  support: number[];
}

/** The three scores averaged over classes, and the total support. */
export interface AveragedScores {
  /** The averaged precision. */
  precision: number;
  /** The averaged recall. */
  recall: number;
  /** The averaged F1 (the average of the per-class F1s, as scikit-learn does). */
  f1: number;
  /** The number of samples. */
  support: number;
}

/** The values of `labels` as numbers, with the shape they came in. */
async function readValues(labels: Labels): Promise<{ values: ArrayLike<number>; shape: number[] }> {
  if (labels instanceof Tensor) return { values: await labels.data(), shape: [...labels.shape] };
  if (Array.isArray(labels) || ArrayBuffer.isView(labels)) {
    return { values: labels as ArrayLike<number>, shape: [labels.length] };
  }
  throw new TypeError(
    `expected a tensor or an array of numbers, got ${
      (labels as object)?.constructor?.name ?? typeof labels
    }`,
  );
}

/** Row-wise argmax of `[n, c]` scores (the first of tied maxima, as argmax does). */
function rowArgmax(values: ArrayLike<number>, n: number, c: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (values[i * c + j] > values[i * c + best]) best = j;
    out[i] = best;
  }
  return out;
}

/** Checks that every value is a class index (a non-negative integer below `limit`, if given). */
function checkClasses(op: string, what: string, values: ArrayLike<number>, limit?: number) {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || (limit !== undefined && v >= limit)) {
      throw new Error(
        `${op}: ${what}[${i}] is ${v}, not a class index` +
          (limit !== undefined ? ` in 0..${limit - 1}` : " (a non-negative integer)") +
          (what === "predictions" && !Number.isInteger(v)
            ? "; pass scores as a [N, C] tensor, or their argmax(1)"
            : ""),
      );
    }
  }
}

/** Reads predictions (indices or scores) and labels as two arrays of class indices. */
async function classes(
  op: string,
  predictions: Labels,
  labels: Labels,
  options: MetricOptions,
): Promise<{ predicted: ArrayLike<number>; actual: ArrayLike<number>; numClasses: number }> {
  const pred = await readValues(predictions).catch((e) => {
    throw new TypeError(`${op}: predictions: ${e.message}`);
  });
  const act = await readValues(labels).catch((e) => {
    throw new TypeError(`${op}: labels: ${e.message}`);
  });
  if (act.shape.length !== 1) {
    throw new Error(
      `${op}: labels must be class indices of shape [N], got shape ${fmtShape(act.shape)}`,
    );
  }
  let predicted = pred.values;
  let scoreColumns: number | undefined;
  if (pred.shape.length === 2) {
    scoreColumns = pred.shape[1];
    predicted = rowArgmax(pred.values, pred.shape[0], scoreColumns);
  } else if (pred.shape.length !== 1) {
    throw new Error(
      `${op}: predictions must be class indices [N] or scores [N, C], got shape ` +
        fmtShape(pred.shape),
    );
  }
  if (predicted.length !== act.values.length) {
    throw new Error(
      `${op}: ${predicted.length} predictions but ${act.values.length} labels ` +
        `(predictions of shape ${fmtShape(pred.shape)}, labels of shape ${fmtShape(act.shape)})`,
    );
  }
  if (predicted.length === 0) throw new Error(`${op}: no samples (empty predictions and labels)`);
  const { numClasses } = options;
  if (numClasses !== undefined && !(Number.isInteger(numClasses) && numClasses > 0)) {
    throw new Error(`${op}: numClasses must be a positive integer, got ${numClasses}`);
  }
  if (numClasses !== undefined && scoreColumns !== undefined && scoreColumns !== numClasses) {
    throw new Error(
      `${op}: the scores have ${scoreColumns} columns but numClasses is ${numClasses}`,
    );
  }
  checkClasses(op, "predictions", predicted, numClasses);
  checkClasses(op, "labels", act.values, numClasses ?? scoreColumns);
  let count = numClasses ?? scoreColumns ?? 0;
  if (count === 0) {
    for (let i = 0; i < predicted.length; i++) {
      count = Math.max(count, predicted[i] + 1, act.values[i] + 1);
    }
  }
  return { predicted, actual: act.values, numClasses: count };
}

/**
 * The share of samples whose predicted class is the true one (between 0 and 1).
 *
 * @param predictions class indices `[N]` or scores `[N, C]` (the largest score is the class)
 * @param labels the true class indices `[N]`
 *
 * @example
 * ```ts
 * import { metrics } from "../mod.ts";
 * console.assert((await metrics.accuracy([0, 1, 1, 2], [0, 1, 2, 2])) === 0.75);
 * ```
 */
export async function accuracy(
  predictions: Labels,
  labels: Labels,
  options: MetricOptions = {},
): Promise<number> {
  checkOptions("metrics.accuracy", arguments, 2, ["numClasses"]);
  const { predicted, actual } = await classes("accuracy", predictions, labels, options);
  let correct = 0;
  for (let i = 0; i < actual.length; i++) if (predicted[i] === actual[i]) correct++;
  return correct / actual.length;
}

/**
 * The confusion matrix: entry `[i][j]` counts the samples of true class `i` predicted as class
 * `j` (rows are the truth, columns the prediction, as in scikit-learn). The diagonal holds the
 * correct predictions.
 *
 * @param predictions class indices `[N]` or scores `[N, C]`
 * @param labels the true class indices `[N]`
 * @returns `numClasses` rows of `numClasses` counts
 *
 * @example
 * ```ts
 * import { metrics } from "../mod.ts";
 * const matrix = await metrics.confusionMatrix([0, 2, 1, 2], [0, 1, 1, 2]);
 * console.assert(JSON.stringify(matrix) === "[[1,0,0],[0,1,1],[0,0,1]]");
 * ```
 */
export async function confusionMatrix(
  predictions: Labels,
  labels: Labels,
  options: MetricOptions = {},
): Promise<number[][]> {
  checkOptions("metrics.confusionMatrix", arguments, 2, ["numClasses"]);
  const { predicted, actual, numClasses } = await classes(
    "confusionMatrix",
    predictions,
    labels,
    options,
  );
  return countMatrix(predicted, actual, numClasses);
}

function countMatrix(predicted: ArrayLike<number>, actual: ArrayLike<number>, size: number) {
  const matrix = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  for (let i = 0; i < actual.length; i++) matrix[actual[i]][predicted[i]]++;
  return matrix;
}

/** `numerator / denominator`, or `fallback` when the denominator is 0. */
function ratio(numerator: number, denominator: number, fallback: number): number {
  return denominator === 0 ? fallback : numerator / denominator;
}

/**
 * Precision, recall and F1 of each class (or averaged over classes), with the support of
 * each class, from the confusion matrix `M` (rows: truth, columns: prediction):
 *
 * - precision of class c = M[c][c] / (column c's sum): of the samples predicted c, how many are c;
 * - recall of class c = M[c][c] / (row c's sum): of the samples that are c, how many were found;
 * - F1 = 2 P R / (P + R), high only when both are.
 *
 * A ratio with nothing to divide by (a class never predicted, or with no samples) is
 * `zeroDivision` (0), as scikit-learn's default.
 *
 * @example
 * ```ts
 * import { metrics } from "../mod.ts";
 * const scores = await metrics.precisionRecallF1([0, 2, 1, 2], [0, 1, 1, 2]);
 * console.assert(scores.precision[2] === 0.5 && scores.recall[1] === 0.5);
 * const macro = await metrics.precisionRecallF1([0, 2, 1, 2], [0, 1, 1, 2], { average: "macro" });
 * console.assert(Math.abs(macro.recall - 5 / 6) < 1e-12);
 * ```
 */
export function precisionRecallF1(
  predictions: Labels,
  labels: Labels,
  options?: PrecisionRecallF1Options & { average?: "none" },
): Promise<PerClassScores>;
export function precisionRecallF1(
  predictions: Labels,
  labels: Labels,
  options: PrecisionRecallF1Options & { average: "macro" | "micro" | "weighted" },
): Promise<AveragedScores>;
export async function precisionRecallF1(
  predictions: Labels,
  labels: Labels,
  options: PrecisionRecallF1Options = {},
): Promise<PerClassScores | AveragedScores> {
  const op = "precisionRecallF1";
  checkOptions("metrics.precisionRecallF1", arguments, 2, [
    "average",
    "numClasses",
    "zeroDivision",
  ]);
  const { average = "none", zeroDivision = 0 } = options;
  if (!["none", "macro", "micro", "weighted"].includes(average)) {
    throw new Error(
      `${op}: average must be "none", "macro", "micro" or "weighted", got ${
        JSON.stringify(average)
      }`,
    );
  }
  const { predicted, actual, numClasses } = await classes(op, predictions, labels, options);
  const matrix = countMatrix(predicted, actual, numClasses);
  const truePositives = matrix.map((row, c) => row[c]);
  const support = matrix.map((row) => row.reduce((s, v) => s + v, 0));
  const predictedCount = matrix[0].map((_, c) => matrix.reduce((s, row) => s + row[c], 0));

  if (average === "micro") {
    // Summed over classes, every wrong prediction is one false positive (for the class
    // predicted) and one false negative (for the true class): P = R = F1 = accuracy.
    const tp = truePositives.reduce((s, v) => s + v, 0);
    const precision = ratio(tp, actual.length, zeroDivision);
    const recall = ratio(tp, actual.length, zeroDivision);
    const f1 = ratio(2 * precision * recall, precision + recall, zeroDivision);
    return { precision, recall, f1, support: actual.length };
  }

  const precision = truePositives.map((tp, c) => ratio(tp, predictedCount[c], zeroDivision));
  const recall = truePositives.map((tp, c) => ratio(tp, support[c], zeroDivision));
  // F1 = 2PR / (P + R) = 2 TP / (2 TP + FP + FN) = 2 TP / (predicted c + truly c); the second
  // form stays defined when P or R is 0/0 (as scikit-learn computes it).
  const f1 = truePositives.map((tp, c) =>
    ratio(2 * tp, predictedCount[c] + support[c], zeroDivision)
  );
  if (average === "none") return { precision, recall, f1, support };

  const weights = average === "macro" ? support.map(() => 1) : support;
  const totalWeight = weights.reduce((s, v) => s + v, 0);
  const mean = (values: number[]) =>
    ratio(values.reduce((s, v, c) => s + v * weights[c], 0), totalWeight, zeroDivision);
  return {
    precision: mean(precision),
    recall: mean(recall),
    f1: mean(f1),
    support: actual.length,
  };
}
