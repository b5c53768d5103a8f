/**
 * Lesson 7's exercises: every solution passes its check, every stub says it is not done, and
 * the likely wrong answers are named (`LESSON_EXERCISES=student` checks the student's file
 * instead).
 *
 * @module
 */
import { cat, rand, type Tensor, tensor, zeros } from "../../mod.ts";
import { testTasks } from "../tasks.ts";
import tasks from "./tasks.ts";
import * as exercises from "./exercises.ts";
import * as solutions from "./solutions.ts";

/** The penalty with the seed's unsquared norm, or without the half. */
function mistakenPenalty(mistake: "unsquared" | "no half") {
  return {
    l2Penalty: (parameters: Tensor[], lambda: number) => {
      let total = tensor(0);
      for (const w of parameters) {
        total = total.add(mistake === "unsquared" ? w.norm() : w.square().sum());
      }
      return total.mul(lambda);
    },
  };
}

/** Dropout with one mistake. */
function mistakenDropout(mistake: "no scale" | "on in eval" | "keeps with p" | "same mask") {
  let fixedMask: Tensor | null = null;
  return {
    dropout: (input: Tensor, p: number, training: boolean) => {
      if (!training && mistake !== "on in eval") return input;
      let keep = mistake === "keeps with p" ? rand(input.shape).lt(p) : rand(input.shape).ge(p);
      if (mistake === "same mask") keep = fixedMask ??= keep;
      const kept = input.mul(keep);
      if (mistake === "no scale") return kept;
      return kept.div(mistake === "keeps with p" ? p : 1 - p);
    },
  };
}

/** The share of near-zero weights with one mistake. */
function mistakenShare(mistake: "exact zeros" | "no abs" | "per tensor") {
  return {
    shareNearZero: async (parameters: Tensor[], threshold: number) => {
      const shares: number[] = [];
      let near = 0;
      let total = 0;
      for (const w of parameters) {
        const small = mistake === "exact zeros"
          ? w.eq(0)
          : mistake === "no abs"
          ? w.lt(threshold)
          : w.abs().lt(threshold);
        const count = await small.sum().item();
        shares.push(count / w.numel());
        near += count;
        total += w.numel();
      }
      return mistake === "per tensor"
        ? shares.reduce((s, v) => s + v, 0) / shares.length
        : near / total;
    },
  };
}

/** The crop with the corner taken in the unpadded image, or top and left swapped. */
function mistakenCrop(mistake: "not padded first" | "swapped") {
  return {
    cropWithPadding: (image: Tensor, padding: number, top: number, left: number) => {
      if (mistake === "swapped") return solutions.cropWithPadding(image, padding, left, top);
      // Shift the image by (top, left) with zeros behind it: the padding forgotten.
      const [channels, height, width] = image.shape;
      const right = zeros([channels, height, left]);
      const shifted = cat([image, right], 2).narrow(2, left, width);
      const below = zeros([channels, top, width]);
      return cat([shifted, below], 1).narrow(1, top, height);
    },
  };
}

testTasks(tasks, solutions, exercises, {
  folder: new URL("./", import.meta.url),
  wrongAnswers: {
    "7.1": [
      {
        mistake: "the tutorial's unsquared norm",
        says: "the norm is not squared",
        impl: mistakenPenalty("unsquared"),
      },
      { mistake: "no half", says: "twice too large", impl: mistakenPenalty("no half") },
      {
        mistake: "a number, not a tensor",
        says: "return a tensor",
        impl: {
          l2Penalty: (parameters: Tensor[], lambda: number) => {
            let total = 0;
            for (const w of parameters) {
              total += Array.from(w.dataSync()).reduce((s, v) => s + v * v, 0);
            }
            return (total * lambda / 2) as unknown as Tensor;
          },
        },
      },
    ],
    "7.2": [
      { mistake: "no 1/(1-p) scaling", says: "scaled by", impl: mistakenDropout("no scale") },
      {
        mistake: "dropout in evaluation mode",
        says: "in evaluation mode dropout passes the input through unchanged",
        impl: mistakenDropout("on in eval"),
      },
      {
        mistake: "keeps with probability p",
        says: "it keeps with probability p",
        impl: mistakenDropout("keeps with p"),
      },
      {
        mistake: "the same mask on every call",
        says: "dropped the same elements",
        impl: mistakenDropout("same mask"),
      },
    ],
    "7.3": [
      {
        mistake: "exact zeros only",
        says: "only exact zeros were counted",
        impl: mistakenShare("exact zeros"),
      },
      { mistake: "no absolute value", says: "compare |w|", impl: mistakenShare("no abs") },
      {
        mistake: "the mean of per-tensor shares",
        says: "count over all the weights together",
        impl: mistakenShare("per tensor"),
      },
    ],
    "7.4": [
      {
        mistake: "the corner taken in the unpadded image",
        says: "pad first",
        impl: mistakenCrop("not padded first"),
      },
      {
        mistake: "top and left swapped",
        says: "top and left are swapped",
        impl: mistakenCrop("swapped"),
      },
    ],
  },
});
