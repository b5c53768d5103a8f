/**
 * Lesson 6, how each exercise is checked. The framework is the oracle: tensor reductions for the
 * standardization, the split's rules (sizes, class shares, every sample once, a new draw for a
 * new seed) for the stratified split, an SGD run whose weights are known at every epoch for early
 * stopping, and `metrics.precisionRecallF1` for the scores. `run` calls the student's code in the
 * sandbox; `judge` recomputes the answer here and names the likely mistakes.
 *
 * @module
 */
import { manualSeed, metrics, nn, optim, randn, type Tensor, tensor } from "../../mod.ts";
import { defineTasks, describe, expectClose, type Received, Wrong } from "../tasks.ts";
import type * as Solutions from "./solutions.ts";

// ---- 6.1: standardization with training statistics ----------------------------------------------

/** 30 rows of 3 columns with very different scales, and the 20 training rows among them. */
function standardizeInputs(): { features: Tensor; trainIndices: number[] } {
  manualSeed(61);
  const features = randn([30, 3]).mul(tensor([1, 5, 0.2])).add(tensor([10, -3, 1]));
  const trainIndices = Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 3 !== 1);
  return { features, trainIndices };
}

async function judgeStandardize(received: Received): Promise<void> {
  const { features, trainIndices } = standardizeInputs();
  const train = features.indexSelect(0, tensor(trainIndices, { dtype: "int32" }));
  const what = "standardizeWithTrainStats(features [30, 3], 20 training rows)";
  const biased = features.sub(train.mean(0)).div(train.std(0, { correction: 0 }));
  try {
    // Dividing by the biased standard deviation (scikit-learn's StandardScaler) is right too.
    await expectClose(what, received, biased, { atol: 1e-4 });
    return;
  } catch {
    // Not the biased one: compare with the unbiased one (PyTorch's default), naming mistakes.
  }
  await expectClose(what, received, features.sub(train.mean(0)).div(train.std(0)), {
    atol: 1e-4,
    mistakes: [
      {
        value: features.sub(features.mean(0)).div(features.std(0)),
        says: "the statistics come from all the rows: the validation and test rows leak into " +
          "the preprocessing; compute the mean and std over the training rows only",
      },
      {
        value: features.sub(train.mean(0)),
        says: "the values were centered but not divided by the standard deviation",
      },
      {
        value: features.sub(features.mean(1, true)).div(features.std(1, { keepdim: true })),
        says: "each row was standardized; standardize each column (a reduction over dim 0)",
      },
    ],
  });
}

// ---- 6.2: stratified split -----------------------------------------------------------------------

interface SplitCase {
  name: string;
  labels: number[];
  fractions: number[];
  seed: number;
}

/** Unbalanced classes split in two halves under five seeds, and Iris's 70 / 15 / 15. */
function splitCases(): SplitCase[] {
  const unbalanced = [
    ...Array(40).fill(0),
    ...Array(10).fill(1),
    ...Array(10).fill(2),
  ] as number[];
  const iris = Array.from({ length: 150 }, (_, i) => Math.floor(i / 50));
  return [
    ...[1, 2, 3, 4, 5].map((seed) => ({
      name: `40/10/10 samples of classes 0/1/2, fractions [0.5, 0.5], seed ${seed}`,
      labels: unbalanced,
      fractions: [0.5, 0.5],
      seed,
    })),
    {
      name: "150 samples, 50 of each class, fractions [0.7, 0.15, 0.15], seed 6",
      labels: iris,
      fractions: [0.7, 0.15, 0.15],
      seed: 6,
    },
  ];
}

function judgeSplit(received: Received): void {
  const cases = splitCases();
  const results = received as unknown[];
  for (const [k, { name, labels, fractions }] of cases.entries()) {
    const parts = results[k];
    const what = `stratifiedSplit (${name})`;
    if (
      !Array.isArray(parts) ||
      !parts.every((part) => Array.isArray(part) && part.every((i) => Number.isInteger(i)))
    ) {
      throw new Wrong(`${what}: expected an array of arrays of positions, got ${describe(parts)}`);
    }
    if (parts.length !== fractions.length) {
      throw new Wrong(`${what}: ${parts.length} parts for ${fractions.length} fractions`);
    }
    const n = labels.length;
    const seen = new Array<number>(n).fill(0);
    for (const part of parts as number[][]) {
      for (const i of part) {
        if (i < 0 || i >= n) throw new Wrong(`${what}: position ${i} is not in 0..${n - 1}`);
        seen[i]++;
      }
    }
    const twice = seen.findIndex((count) => count > 1);
    if (twice >= 0) throw new Wrong(`${what}: sample ${twice} is in ${seen[twice]} parts`);
    const sizes = fractions.map((f) => Math.floor(n * f));
    for (let i = 0; i < n - sizes.reduce((s, v) => s + v, 0); i++) sizes[i % sizes.length]++;
    const total = seen.reduce((s, v) => s + v, 0);
    if (total < n) {
      throw new Wrong(
        `${what}: the parts hold ${total} of the ${n} samples; samples are lost to rounding ` +
          `each class down: give the leftovers to a part (part sizes ${JSON.stringify(sizes)})`,
      );
    }
    (parts as number[][]).forEach((part, p) => {
      if (part.length !== sizes[p]) {
        throw new Wrong(
          `${what}: part ${p} holds ${part.length} samples, expected ${sizes[p]} ` +
            `(floor(N * fraction), leftovers to the first parts)`,
        );
      }
    });
    const classes = [...new Set(labels)];
    for (const [p, part] of (parts as number[][]).entries()) {
      for (const c of classes) {
        const count = part.filter((i) => labels[i] === c).length;
        const ideal = (labels.filter((label) => label === c).length * sizes[p]) / n;
        if (Math.abs(count - ideal) > 1 + 1e-9) {
          throw new Wrong(
            `${what}: part ${p} has ${count} samples of class ${c}, expected about ` +
              `${ideal.toFixed(1)}: not stratified; split each class on its own`,
          );
        }
      }
    }
  }
  const halves = (results.slice(0, 5) as number[][][]).map((parts) => JSON.stringify(parts));
  if (new Set(halves).size === 1) {
    throw new Wrong(
      "stratifiedSplit gave the same split for five different seeds: it is not random; " +
        "shuffle each class with randperm before cutting it",
    );
  }
}

// ---- 6.3: early stopping ---------------------------------------------------------------------------

/** Validation losses of three runs, and their patience. */
const STOPPING_RUNS: { losses: number[]; patience: number }[] = [
  // The best loss is at epoch 7; epochs 4-6 do not beat epoch 3, so a counter that is not
  // restarted at an improvement stops at epoch 6.
  { losses: [1.0, 0.8, 0.7, 0.75, 0.72, 0.71, 0.69, 0.7, 0.71, 0.72, 0.73, 0.6], patience: 3 },
  // A loss equal to the best is not an improvement.
  { losses: [0.9, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4, 0.4, 0.3], patience: 3 },
  // Never stops within the run: it keeps improving now and then.
  { losses: [2, 1.5, 1.6, 1.4, 1.45, 1.3, 1.2], patience: 2 },
];

const LR = 0.125;

/** The weight that the SGD run below has after `epochs` epochs. */
function initialWeight(): Tensor {
  manualSeed(63);
  return new nn.Linear(2, 1).weight;
}

function runStopping(impl: typeof Solutions) {
  return STOPPING_RUNS.map(({ losses, patience }) => {
    manualSeed(63);
    const model = new nn.Linear(2, 1);
    const optimizer = new optim.SGD(model.parameters(), { lr: LR });
    const stopper = new impl.EarlyStopping(patience);
    let stoppedAt = -1;
    for (const [e, loss] of losses.entries()) {
      // One epoch of "training": every weight goes down by LR (the gradient of sum(w) is 1).
      optimizer.zeroGrad();
      model.weight.sum().backward();
      optimizer.step();
      if (stopper.step(loss, model)) {
        stoppedAt = e + 1;
        break;
      }
    }
    stopper.restoreBest(model);
    return {
      stoppedAt,
      bestEpoch: stopper.bestEpoch,
      bestLoss: stopper.bestLoss,
      restored: model.weight,
    };
  });
}

/** What the reference early stopping does on a run. */
function expectedStopping(losses: number[], patience: number) {
  let best = Infinity;
  let bestEpoch = 0;
  let waited = 0;
  for (const [e, loss] of losses.entries()) {
    if (loss < best) {
      [best, bestEpoch, waited] = [loss, e + 1, 0];
    } else if (++waited >= patience) {
      return { stoppedAt: e + 1, bestEpoch, bestLoss: best };
    }
  }
  return { stoppedAt: -1, bestEpoch, bestLoss: best };
}

async function judgeStopping(received: Received): Promise<void> {
  const runs = received as {
    stoppedAt: number;
    bestEpoch: number;
    bestLoss: number;
    restored: unknown;
  }[];
  for (const [r, { losses, patience }] of STOPPING_RUNS.entries()) {
    const got = runs[r];
    const want = expectedStopping(losses, patience);
    const what = `EarlyStopping(${patience}) on the validation losses [${losses.join(", ")}]`;
    if (got.stoppedAt !== want.stoppedAt) {
      const stopped = (at: number) => (at < 0 ? "did not stop" : `stopped at epoch ${at}`);
      const early = got.stoppedAt > 0 && (want.stoppedAt < 0 || got.stoppedAt < want.stoppedAt);
      throw new Wrong(
        `${what}: ${stopped(got.stoppedAt)}, expected ${
          want.stoppedAt < 0 ? "to run all epochs" : `to stop at epoch ${want.stoppedAt}`
        }` +
          (early
            ? "; the count of epochs without improvement must restart at 0 whenever the loss " +
              "beats the best so far (and a loss equal to the best is not an improvement)"
            : "; stop once `patience` epochs in a row bring no new best"),
      );
    }
    await expectClose(`${what}: bestEpoch`, got.bestEpoch, want.bestEpoch, { atol: 0, rtol: 0 });
    await expectClose(`${what}: bestLoss`, got.bestLoss, want.bestLoss);
    const epochs = want.stoppedAt < 0 ? losses.length : want.stoppedAt;
    const initial = initialWeight();
    await expectClose(
      `${what}: the weights after restoreBest (epoch ${want.bestEpoch})`,
      got.restored,
      initial.sub(LR * want.bestEpoch),
      {
        mistakes: [{
          value: initial.sub(LR * epochs),
          says: "the restored weights are those of the last epoch: stateDict() gives the " +
            "model's own tensors, which training goes on changing; clone() each one to keep " +
            "a snapshot",
        }],
      },
    );
  }
}

// ---- 6.4: precision, recall and F1 from a confusion matrix ------------------------------------------

/** Two confusion matrices; in the second, class 1 has no samples and is predicted 3 times. */
const MATRICES = [
  [[5, 1, 0], [2, 3, 1], [0, 0, 4]],
  [[3, 0, 0, 1], [0, 0, 0, 0], [1, 2, 5, 0], [0, 1, 0, 2]],
];

/** The labels and predictions that a confusion matrix counts. */
function labelsOf(matrix: number[][]): { truth: number[]; predicted: number[] } {
  const truth: number[] = [];
  const predicted: number[] = [];
  matrix.forEach((row, i) =>
    row.forEach((count, j) => {
      for (let k = 0; k < count; k++) {
        truth.push(i);
        predicted.push(j);
      }
    })
  );
  return { truth, predicted };
}

async function judgeScores(received: Received): Promise<void> {
  const results = received as { precision: number[]; recall: number[]; f1: number[] }[];
  for (const [m, matrix] of MATRICES.entries()) {
    const { truth, predicted } = labelsOf(matrix);
    const want = await metrics.precisionRecallF1(predicted, truth, { numClasses: matrix.length });
    const got = results[m] ?? {};
    const what = `scoresFromConfusion(${JSON.stringify(matrix)})`;
    const swapped = "precision divides by the number predicted as c (column c's sum), recall " +
      "by the number that are c (row c's sum): they are swapped";
    await expectClose(`${what}.precision`, got.precision, want.precision, {
      mistakes: [{ value: want.recall, says: swapped }],
    });
    await expectClose(`${what}.recall`, got.recall, want.recall, {
      mistakes: [{ value: want.precision, says: swapped }],
    });
    await expectClose(`${what}.f1`, got.f1, want.f1, {
      mistakes: [{
        value: want.precision.map((p, c) => (p + want.recall[c]) / 2),
        says: "F1 is the harmonic mean 2PR / (P + R), not the average (P + R) / 2",
      }],
    });
  }
}

export default defineTasks<typeof Solutions>([
  {
    id: "6.1",
    title: "standardization with training statistics only",
    hints: [
      "the mean and standard deviation of each column, from the training rows only, applied to " +
      "every row",
      "pick the training rows with features.indexSelect(0, indices as an int32 tensor); mean(0) " +
      "and std(0) reduce over the rows, giving one number per column; broadcasting does the rest",
    ],
    run: (impl) => {
      const { features, trainIndices } = standardizeInputs();
      return impl.standardizeWithTrainStats(features, trainIndices);
    },
    judge: judgeStandardize,
  },
  {
    id: "6.2",
    title: "a stratified split (build it)",
    hints: [
      "split each class on its own, in the proportions of the fractions, then put the pieces of " +
      "each part together",
      "compute the part sizes first (floor(N * f), leftovers to the first parts); for each class, " +
      "shuffle its positions with randperm and give part k about (class size * part size / N) " +
      "of them; the rounding decides which class gets one more so that every part has its size",
    ],
    run: (impl) =>
      splitCases().map(({ labels, fractions, seed }) => {
        manualSeed(seed);
        return impl.stratifiedSplit(labels, fractions);
      }),
    judge: judgeSplit,
  },
  {
    id: "6.3",
    title: "early stopping that restores the best weights (build it)",
    hints: [
      "remember the best loss, its epoch and a copy of the weights; count the epochs since the " +
      "best and stop when the count reaches the patience",
      "at a new best (a loss strictly lower), restart the count at 0 and keep a snapshot: " +
      "Object.fromEntries of the state dict's entries, each tensor cloned; restoreBest passes the " +
      "snapshot to model.loadStateDict",
    ],
    run: (impl) => runStopping(impl),
    judge: judgeStopping,
  },
  {
    id: "6.4",
    title: "precision, recall and F1 from a confusion matrix",
    hints: [
      "rows are the true classes, columns the predicted ones; the diagonal holds the hits",
      "for class c: precision = matrix[c][c] / (sum of column c), recall = matrix[c][c] / (sum " +
      "of row c), F1 their harmonic mean; a zero denominator gives 0",
    ],
    run: (impl) => MATRICES.map((matrix) => impl.scoresFromConfusion(matrix)),
    judge: judgeScores,
  },
]);
