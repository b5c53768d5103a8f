/**
 * Lesson 6's exercises: every solution passes its check, every stub says it is not done, and
 * the likely wrong answers are named (`LESSON_EXERCISES=student` checks the student's file
 * instead).
 *
 * @module
 */
import { manualSeed, type nn, randperm, type Tensor, tensor } from "../../mod.ts";
import { testTasks } from "../tasks.ts";
import tasks from "./tasks.ts";
import * as exercises from "./exercises.ts";
import * as solutions from "./solutions.ts";

/** A split with one of three mistakes: no stratification, no shuffling, lost leftovers. */
function mistakenSplit(mistake: "plain" | "unshuffled" | "lost leftovers") {
  return {
    stratifiedSplit: (labels: number[], fractions: number[]): number[][] => {
      const n = labels.length;
      if (mistake === "plain") {
        const sizes = fractions.map((f) => Math.floor(n * f));
        for (let i = 0; i < n - sizes.reduce((s, v) => s + v, 0); i++) sizes[i]++;
        const order = randperm(n);
        let start = 0;
        return sizes.map((size) => order.slice(start, start += size));
      }
      if (mistake === "unshuffled") {
        // Right proportions, but the same positions whatever the seed (a fixed order).
        manualSeed(0);
        return solutions.stratifiedSplit(labels, fractions);
      }
      const parts: number[][] = fractions.map(() => []);
      for (const c of [...new Set(labels)]) {
        const members = labels.flatMap((label, i) => (label === c ? [i] : []));
        const order = randperm(members.length).map((j) => members[j]);
        let start = 0;
        fractions.forEach((f, k) => {
          parts[k].push(...order.slice(start, start += Math.floor(members.length * f)));
        });
      }
      return parts;
    },
  };
}

/** Early stopping with a mistake: a count not restarted at a new best, or weights not cloned. */
function mistakenStopping(mistake: "no reset" | "no clone") {
  class EarlyStopping {
    bestLoss = Infinity;
    bestEpoch = 0;
    epoch = 0;
    epochsWithoutImprovement = 0;
    bestWeights: Record<string, Tensor> = {};
    constructor(readonly patience: number) {}
    step(valLoss: number, model: nn.Module): boolean {
      this.epoch++;
      if (valLoss < this.bestLoss) {
        this.bestLoss = valLoss;
        this.bestEpoch = this.epoch;
        if (mistake !== "no reset") this.epochsWithoutImprovement = 0;
        this.bestWeights = mistake === "no clone"
          ? model.stateDict()
          : Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, t.clone()]));
        return false;
      }
      this.epochsWithoutImprovement++;
      return this.epochsWithoutImprovement >= this.patience;
    }
    restoreBest(model: nn.Module): void {
      model.loadStateDict(this.bestWeights);
    }
  }
  return { EarlyStopping };
}

/** Scores from a confusion matrix with precision and recall swapped, or F1 as a plain mean. */
function mistakenScores(mistake: "swapped" | "mean") {
  return {
    scoresFromConfusion: (matrix: number[][]) => {
      const right = solutions.scoresFromConfusion(matrix);
      if (mistake === "swapped") {
        return { precision: right.recall, recall: right.precision, f1: right.f1 };
      }
      return { ...right, f1: right.precision.map((p, c) => (p + right.recall[c]) / 2) };
    },
  };
}

testTasks(tasks, solutions, exercises, {
  folder: new URL("./", import.meta.url),
  wrongAnswers: {
    "6.1": [
      {
        mistake: "statistics of all rows (leakage)",
        says: "the validation and test rows leak into the preprocessing",
        impl: {
          standardizeWithTrainStats: (features) =>
            features.sub(features.mean(0)).div(features.std(0)),
        },
      },
      {
        mistake: "each row standardized instead of each column",
        says: "standardize each column (a reduction over dim 0)",
        impl: {
          standardizeWithTrainStats: (features) =>
            features.sub(features.mean(1, true)).div(features.std(1, { keepdim: true })),
        },
      },
      {
        mistake: "centered only",
        says: "not divided by the standard deviation",
        impl: {
          standardizeWithTrainStats: (features, trainIndices) =>
            features.sub(features.indexSelect(0, tensor(trainIndices, { dtype: "int32" })).mean(0)),
        },
      },
    ],
    "6.2": [
      {
        mistake: "a plain random split",
        says: "not stratified; split each class on its own",
        impl: mistakenSplit("plain"),
      },
      {
        mistake: "no shuffling",
        says: "the same split for five different seeds",
        impl: mistakenSplit("unshuffled"),
      },
      {
        mistake: "leftovers of the rounding lost",
        says: "samples are lost to rounding",
        impl: mistakenSplit("lost leftovers"),
      },
    ],
    "6.3": [
      {
        mistake: "the count not restarted at a new best",
        says: "must restart at 0 whenever the loss beats the best",
        impl: mistakenStopping("no reset"),
      },
      {
        mistake: "the best weights kept without clone()",
        says: "clone() each one to keep a snapshot",
        impl: mistakenStopping("no clone"),
      },
    ],
    "6.4": [
      {
        mistake: "precision and recall swapped",
        says: "they are swapped",
        impl: mistakenScores("swapped"),
      },
      {
        mistake: "F1 as the plain mean",
        says: "F1 is the harmonic mean",
        impl: mistakenScores("mean"),
      },
    ],
  },
});
