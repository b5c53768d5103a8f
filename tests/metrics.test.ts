/**
 * Classification metrics: hand-computed cases, scikit-learn goldens, scores as logits, tensors
 * and plain arrays alike, and the errors for mismatched or invalid input.
 *
 * The goldens were computed once with scikit-learn 1.2.1 (Debian's python3-sklearn):
 *
 * ```python
 * from sklearn.metrics import accuracy_score, confusion_matrix
 * from sklearn.metrics import precision_recall_fscore_support as prfs
 * accuracy_score(Y_TRUE, Y_PRED); confusion_matrix(Y_TRUE, Y_PRED, labels=range(5))
 * prfs(Y_TRUE, Y_PRED, labels=range(5), average=avg, zero_division=0)  # avg: None, macro, ...
 * prfs(Y_TRUE, Y_PRED, average="macro")  # the classes seen: 0..3
 * prfs([0,1,2,3,3,1], [0,1,2,4,4,0], labels=range(5), zero_division=zd)  # zd: 0, 1
 * ```
 */
import assert from "node:assert/strict";
import { metrics, tensor } from "../mod.ts";
import { assertClose } from "../mod.ts";

const Y_TRUE = [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 2, 1, 0, 3, 3, 2, 1, 0, 2];
const Y_PRED = [0, 1, 1, 3, 0, 2, 2, 3, 1, 1, 2, 0, 1, 0, 2, 3, 2, 2, 0, 1];

/** Asserts that two lists of numbers agree to 1e-12, naming the quantity. */
function assertNumbers(what: string, actual: number[], expected: number[]) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((v, i) => {
    assert.ok(
      Math.abs(v - expected[i]) <= 1e-12,
      `${what}[${i}]: expected ${expected[i]} (scikit-learn), received ${v}`,
    );
  });
}

/** Expects an async call to reject with a message containing every piece of `parts`. */
async function rejectsWith(fn: () => Promise<unknown>, parts: string[]) {
  let message: string | null = null;
  try {
    await fn();
  } catch (error) {
    message = error instanceof Error ? error.message : String(error);
  }
  assert.ok(message !== null, `expected an error mentioning ${JSON.stringify(parts)}`);
  for (const part of parts) {
    assert.ok(message.includes(part), `the message ${JSON.stringify(message)} lacks "${part}"`);
  }
}

Deno.test("accuracy, confusion matrix and per-class scores on a hand-computed case", async () => {
  // Truth [0, 1, 1, 2], predictions [0, 2, 1, 2]: sample 1 (a 1) was called a 2.
  const predicted = [0, 2, 1, 2];
  const truth = [0, 1, 1, 2];
  assert.equal(await metrics.accuracy(predicted, truth), 0.75);
  assert.deepEqual(await metrics.confusionMatrix(predicted, truth), [
    [1, 0, 0],
    [0, 1, 1],
    [0, 0, 1],
  ]);
  const scores = await metrics.precisionRecallF1(predicted, truth);
  // Class 2 was predicted twice, once rightly: precision 1/2; all of class 2 found: recall 1.
  // Class 1: predicted once, rightly (precision 1); one of its two found (recall 1/2).
  assertNumbers("precision", scores.precision, [1, 1, 0.5]);
  assertNumbers("recall", scores.recall, [1, 0.5, 1]);
  assertNumbers("f1", scores.f1, [1, 2 / 3, 2 / 3]);
  assert.deepEqual(scores.support, [1, 2, 1]);
});

Deno.test("confusion matrix and accuracy match scikit-learn, with an absent class 4", async () => {
  assert.equal(await metrics.accuracy(Y_PRED, Y_TRUE), 0.65);
  assert.deepEqual(await metrics.confusionMatrix(Y_PRED, Y_TRUE, { numClasses: 5 }), [
    [4, 1, 0, 0, 0],
    [0, 3, 2, 0, 0],
    [1, 2, 3, 0, 0],
    [0, 0, 1, 3, 0],
    [0, 0, 0, 0, 0],
  ]);
});

Deno.test("precision, recall and F1 match scikit-learn for every average", async () => {
  const perClass = await metrics.precisionRecallF1(Y_PRED, Y_TRUE, { numClasses: 5 });
  assertNumbers("precision", perClass.precision, [0.8, 0.5, 0.5, 1.0, 0.0]);
  assertNumbers("recall", perClass.recall, [0.8, 0.6, 0.5, 0.75, 0.0]);
  assertNumbers("f1", perClass.f1, [
    0.8000000000000002,
    0.5454545454545454,
    0.5,
    0.8571428571428571,
    0,
  ]);
  assert.deepEqual(perClass.support, [5, 5, 6, 4, 0]);

  const goldens: ["macro" | "micro" | "weighted", number, number, number][] = [
    ["macro", 0.5599999999999999, 0.53, 0.5405194805194806],
    ["micro", 0.65, 0.65, 0.65],
    ["weighted", 0.675, 0.65, 0.6577922077922078],
  ];
  for (const [average, precision, recall, f1] of goldens) {
    const scores = await metrics.precisionRecallF1(Y_PRED, Y_TRUE, { numClasses: 5, average });
    assertNumbers(`${average} [precision, recall, f1]`, [
      scores.precision,
      scores.recall,
      scores.f1,
    ], [
      precision,
      recall,
      f1,
    ]);
    assert.equal(scores.support, 20);
  }
  // Without numClasses the classes are those seen (0..3), as scikit-learn's default labels.
  const seen = await metrics.precisionRecallF1(Y_PRED, Y_TRUE, { average: "macro" });
  assertNumbers("macro over the seen classes", [seen.precision, seen.recall, seen.f1], [
    0.7,
    0.6625,
    0.6756493506493507,
  ]);
});

Deno.test("zeroDivision fills ratios with nothing to divide by, as scikit-learn", async () => {
  // Class 3 is never predicted (precision 0/0); class 4 is predicted but never true (recall 0/0).
  const truth = [0, 1, 2, 3, 3, 1];
  const predicted = [0, 1, 2, 4, 4, 0];
  const zero = await metrics.precisionRecallF1(predicted, truth, { numClasses: 5 });
  assertNumbers("precision", zero.precision, [0.5, 1, 1, 0, 0]);
  assertNumbers("recall", zero.recall, [1, 0.5, 1, 0, 0]);
  assertNumbers("f1", zero.f1, [2 / 3, 2 / 3, 1, 0, 0]);
  const one = await metrics.precisionRecallF1(predicted, truth, { numClasses: 5, zeroDivision: 1 });
  assertNumbers("precision", one.precision, [0.5, 1, 1, 1, 0]);
  assertNumbers("recall", one.recall, [1, 0.5, 1, 0, 1]);
  assertNumbers("f1", one.f1, [2 / 3, 2 / 3, 1, 0, 0]);
  const macro = await metrics.precisionRecallF1(predicted, truth, {
    numClasses: 5,
    zeroDivision: 1,
    average: "macro",
  });
  assertNumbers("macro", [macro.precision, macro.recall, macro.f1], [0.7, 0.7, 0.4666666666666666]);
});

Deno.test("metrics read logits [N, C] as their argmax, and int32 or float tensors of indices", async () => {
  const logits = tensor([[2, 1, 0], [0, 3, 1], [1, 0, 0.5], [0, 0, 1]]);
  const labels = tensor([0, 1, 2, 2], { dtype: "int32" });
  assert.equal(await metrics.accuracy(logits, labels), 0.75);
  assert.equal(await metrics.accuracy(logits.argmax(1), labels), 0.75);
  assert.equal(await metrics.accuracy(tensor([0, 1, 0, 2]), [0, 1, 2, 2]), 0.75);
  // The number of classes comes from the score columns, even when a class never appears.
  const matrix = await metrics.confusionMatrix(tensor([[5, 0, 0, 0]]), [0]);
  assert.deepEqual(matrix, [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]);
  const scores = await metrics.precisionRecallF1(logits, labels);
  assertClose(tensor(scores.recall), tensor([1, 1, 0.5]));
});

Deno.test("metrics errors name the function, the sizes and the likely fix", async () => {
  await rejectsWith(() => metrics.accuracy([0, 1, 2], [0, 1]), [
    "accuracy",
    "3 predictions",
    "2 labels",
  ]);
  await rejectsWith(() => metrics.confusionMatrix([0.2, 0.7], [0, 1]), [
    "confusionMatrix",
    "predictions[0] is 0.2",
    "[N, C]",
  ]);
  await rejectsWith(() => metrics.confusionMatrix([0, 3], [0, 1], { numClasses: 3 }), [
    "predictions[1] is 3",
    "0..2",
  ]);
  await rejectsWith(() => metrics.accuracy(tensor([[1, 0]]), tensor([[0]])), [
    "labels must be class indices of shape [N]",
    "[1, 1]",
  ]);
  await rejectsWith(() => metrics.accuracy([], []), ["no samples"]);
  await rejectsWith(
    // deno-lint-ignore no-explicit-any
    () => metrics.precisionRecallF1([0], [0], { zero_division: 1 } as any),
    ['unknown option "zero_division"', 'did you mean "zeroDivision"'],
  );
  await rejectsWith(
    // deno-lint-ignore no-explicit-any
    () => metrics.precisionRecallF1([0], [0], { average: "binary" } as any),
    ["average must be", '"binary"'],
  );
  await rejectsWith(() => metrics.accuracy(tensor([[1, 0, 0]]), [0], { numClasses: 2 }), [
    "3 columns",
    "numClasses is 2",
  ]);
});
