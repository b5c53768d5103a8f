/**
 * Lesson 2's exercises: every solution passes its check, every stub says it is not done, and
 * the likely wrong answers are named (`LESSON_EXERCISES=student` checks the student's file
 * instead).
 *
 * @module
 */
import { F, nn, noGrad, randn, randperm, type Tensor, tensor } from "../../mod.ts";
import { testTasks } from "../tasks.ts";
import tasks from "./tasks.ts";
import * as exercises from "./exercises.ts";
import * as solutions from "./solutions.ts";

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** A layer whose forward forgets the bias. */
class NoBiasLinear extends solutions.MyLinear {
  override forward(x: Tensor): Tensor {
    return x.matmul(this.weight.transpose(0, 1));
  }
}

/** A layer that starts from randn, as a first attempt often does. */
class RandnLinear extends solutions.MyLinear {
  constructor(inFeatures: number, outFeatures: number) {
    super(inFeatures, outFeatures);
    this.weight = nn.Parameter(randn([outFeatures, inFeatures]));
  }
}

/** A layer whose tensors are plain tensors, not parameters. */
class UnregisteredLinear extends solutions.MyLinear {
  constructor(inFeatures: number, outFeatures: number) {
    super(inFeatures, outFeatures);
    this.weight = this.weight.detach().requiresGrad_(false);
    this.bias = this.bias.detach().requiresGrad_(false);
  }
}

/** The held-out error of every row. */
async function allRowsError(model: nn.Module, X: Tensor, y: Tensor): Promise<number> {
  using _ = noGrad();
  return await F.mseLoss(model.forward(X), y).item();
}

testTasks(tasks, solutions, exercises, {
  folder: new URL("./", import.meta.url),
  wrongAnswers: {
    "2.1": [
      {
        mistake: "log() taken for log10",
        says: "log() is the natural log",
        impl: {
          targetFunction: (x) =>
            x.log().div(x).add(x.add(x.square()).sub(x.add(1).log()).log().abs().mul(0.65)),
        },
      },
      {
        mistake: "no absolute value",
        says: "the absolute value |...| is missing",
        impl: {
          targetFunction: (x) => {
            const log10 = x.add(1).log().div(Math.LN10);
            return x.log().div(x).add(x.add(x.square()).sub(log10).log().mul(0.65));
          },
        },
      },
    ],
    "2.2": [
      {
        mistake: "one index too many",
        says: "one index too many",
        impl: {
          extrapolationSplit: (n, count) => ({
            trainIdx: range(0, count + 1),
            testIdx: range(count + 1, n),
          }),
        },
      },
      {
        mistake: "the boundary index in both lists",
        says: "in both lists",
        impl: {
          extrapolationSplit: (n, count) => ({
            trainIdx: range(0, count),
            testIdx: range(count - 1, n),
          }),
        },
      },
    ],
    "2.3": [
      {
        mistake: "the last points held out",
        says: "an extrapolation split; draw them at random",
        impl: { interpolationSplit: solutions.extrapolationSplit },
      },
      {
        mistake: "the end points may be held out",
        says: "the end points must train",
        impl: {
          interpolationSplit: (n, count) => {
            const order = randperm(n);
            const byValue = (a: number, b: number) => a - b;
            return {
              trainIdx: order.slice(0, count).sort(byValue),
              testIdx: order.slice(count).sort(byValue),
            };
          },
        },
      },
      {
        mistake: "lists not sorted",
        says: "sort both lists",
        impl: {
          interpolationSplit: (n, count) => {
            const inner = randperm(n - 2).map((i) => i + 1);
            return {
              trainIdx: [0, n - 1, ...inner.slice(0, count - 2)],
              testIdx: inner.slice(count - 2),
            };
          },
        },
      },
    ],
    "2.4": [
      {
        mistake: "every row",
        says: "the error over every row",
        impl: { heldOutError: (model, X, y) => allRowsError(model, X, y) },
      },
      {
        mistake: "a sum of squares",
        says: "a sum instead of a mean",
        impl: {
          heldOutError: async (model, X, y, testIdx) => {
            const index = tensor(testIdx, { dtype: "int32" });
            using _ = noGrad();
            const errors = model.forward(X.indexSelect(0, index)).sub(y.indexSelect(0, index));
            return await errors.square().sum().item();
          },
        },
      },
    ],
    "2.5": [
      {
        mistake: "no bias in forward",
        says: "the bias is missing",
        impl: { MyLinear: NoBiasLinear },
      },
      {
        mistake: "randn for the start",
        says: "the weights start far too large",
        impl: { MyLinear: RandnLinear },
      },
      {
        mistake: "plain tensors, not parameters",
        says: "must be parameters (wrap each tensor in nn.Parameter)",
        impl: { MyLinear: UnregisteredLinear },
      },
    ],
    "2.6": [
      {
        mistake: "the kink's sign",
        says: "the sign: a unit switches where w x + b = 0",
        impl: {
          reluKinks: async (hidden, output) => {
            const right = await solutions.reluKinks(hidden, output);
            return { ...right, kinks: right.kinks.map((x) => -x).sort((a, b) => a - b) };
          },
        },
      },
      {
        mistake: "every unit in the slope",
        says: "every unit counted",
        impl: {
          reluKinks: async (hidden, output) => {
            const right = await solutions.reluKinks(hidden, output);
            const slope = right.rightSlope + right.leftSlope;
            return { ...right, rightSlope: slope, leftSlope: slope };
          },
        },
      },
    ],
  },
});
