/**
 * Lesson 10's exercises: every solution passes its check, every stub says it is not done, and
 * the likely wrong answers are named (`LESSON_EXERCISES=student` checks the student's file
 * instead).
 *
 * @module
 */
import { F, load, type nn, save, type Tensor } from "../../mod.ts";
import { testTasks } from "../tasks.ts";
import tasks from "./tasks.ts";
import * as exercises from "./exercises.ts";
import * as solutions from "./solutions.ts";

/** The count-th smallest size of `weight`'s entries. */
const threshold = (weight: Tensor, amount: number) =>
  weight.abs().flatten().kthvalue(Math.round(amount * weight.numel())).values;

testTasks(tasks, solutions, exercises, {
  folder: new URL("./", import.meta.url),
  wrongAnswers: {
    "10.1": [
      {
        mistake: "the tutorial's mask, which keeps the small weights",
        says: "keeps the SMALL weights",
        impl: {
          magnitudeMask: (weight: Tensor, amount: number) =>
            weight.le(threshold(weight, amount)).float(),
        },
      },
      {
        mistake: "signed values instead of sizes",
        says: "compare sizes, |w|",
        impl: {
          magnitudeMask: (weight: Tensor, amount: number) =>
            weight.gt(weight.flatten().kthvalue(Math.round(amount * weight.numel())).values)
              .float(),
        },
      },
    ],
    "10.2": [
      {
        mistake: "no T^2",
        says: "missing its factor T^2",
        impl: {
          distillationLoss: (s: Tensor, t: Tensor, y: Tensor, T: number, alpha: number) =>
            F.klDiv(F.logSoftmax(s.div(T), 1), F.softmax(t.div(T), 1), { reduction: "batchmean" })
              .mul(alpha).add(F.crossEntropy(s, y).mul(1 - alpha)),
        },
      },
      {
        mistake: 'reduction "mean"',
        says: '"batchmean" is the KL divergence per example',
        impl: {
          distillationLoss: (s: Tensor, t: Tensor, y: Tensor, T: number, alpha: number) =>
            F.klDiv(F.logSoftmax(s.div(T), 1), F.softmax(t.div(T), 1)).mul(T * T).mul(alpha)
              .add(F.crossEntropy(s, y).mul(1 - alpha)),
        },
      },
    ],
    "10.3": [
      {
        mistake: "the mean of each tensor's share",
        says: "the mean of each tensor's share",
        impl: {
          sparsity: async (weights: Tensor[]) => {
            let sum = 0;
            for (const w of weights) sum += (await w.eq(0).float().sum().item()) / w.numel();
            return sum / weights.length;
          },
        },
      },
      {
        mistake: "the count, not the share",
        says: "divide the zeros by the number of entries",
        impl: {
          sparsity: async (weights: Tensor[]) => {
            let zeros = 0;
            for (const w of weights) zeros += await w.eq(0).float().sum().item();
            return zeros;
          },
        },
      },
    ],
    "10.4": [
      {
        mistake: "the bytes never loaded into the fresh model",
        says: "load the bytes into it",
        impl: {
          roundTrip: async (model: nn.Module, fresh: nn.Module) => {
            await save(model.stateDict());
            return fresh;
          },
        },
      },
      {
        mistake: "only the parameters saved",
        says: "running statistics (buffers) were not carried",
        impl: {
          roundTrip: async (model: nn.Module, fresh: nn.Module) => {
            const bytes = await save(Object.fromEntries(model.namedParameters()));
            fresh.loadStateDict(load(bytes), { strict: false });
            return fresh;
          },
        },
      },
    ],
  },
});
