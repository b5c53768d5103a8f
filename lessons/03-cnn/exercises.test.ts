/**
 * Lesson 3's exercises: every solution passes its check, every stub says it is not done, and
 * the likely wrong answers are named (`LESSON_EXERCISES=student` checks the student's file
 * instead).
 *
 * @module
 */
import { F, type Tensor, tensor } from "../../mod.ts";
import { testTasks } from "../tasks.ts";
import tasks from "./tasks.ts";
import * as exercises from "./exercises.ts";
import * as solutions from "./solutions.ts";
import type { ConvGrads, ConvOptions } from "./solutions.ts";

/** The backward pass of a convolution by loops, with one of the likely mistakes. */
function mistakenConvBackward(mistake: "mean bias" | "no stride" | "no padding") {
  return async (
    input: Tensor,
    weight: Tensor,
    gradOutput: Tensor,
    options: ConvOptions = {},
  ): Promise<ConvGrads> => {
    const right = await solutions.conv2dBackwardByLoops(input, weight, gradOutput, options);
    if (mistake === "mean bias") {
      const [N, , outH, outW] = gradOutput.shape;
      return { ...right, gradBias: right.gradBias.div(N * outH * outW) };
    }
    // Ignoring the stride (or the padding) shifts the windows: the loops of the solution, with
    // the setting left out, give the gradients of a different convolution.
    const wrongOptions = mistake === "no stride"
      ? { ...options, stride: 1 }
      : { ...options, padding: 0 };
    const sameShape = (t: Tensor, shape: number[]) =>
      t.shape.join() === shape.join()
        ? t
        : tensor(new Float64Array(shape.reduce((a, b) => a * b)), {
          shape,
          dtype: "float64",
        });
    const outShape = F.conv2d(input, weight, null, wrongOptions).shape;
    const g = sameShape(gradOutput, [...outShape]);
    const wrong = await solutions.conv2dBackwardByLoops(input, weight, g, wrongOptions);
    return { ...wrong, gradBias: right.gradBias };
  };
}

/** Max pooling's backward with the gradient sent to every tied maximum (a `>=` for a `>`). */
async function everyTiedMax(input: Tensor, gradOutput: Tensor, k: number): Promise<Tensor> {
  const [N, C, H, W] = input.shape;
  const [outH, outW] = [Math.floor(H / k), Math.floor(W / k)];
  const x = await input.data();
  const g = await gradOutput.data();
  const grad = new Float64Array(x.length);
  for (let plane = 0; plane < N * C; plane++) {
    for (let i = 0; i < outH; i++) {
      for (let j = 0; j < outW; j++) {
        let best = -Infinity;
        for (let u = 0; u < k; u++) {
          for (let v = 0; v < k; v++) {
            best = Math.max(best, x[(plane * H + i * k + u) * W + j * k + v]);
          }
        }
        for (let u = 0; u < k; u++) {
          for (let v = 0; v < k; v++) {
            const index = (plane * H + i * k + u) * W + j * k + v;
            if (x[index] === best) grad[index] += g[(plane * outH + i) * outW + j];
          }
        }
      }
    }
  }
  return tensor(grad, { shape: [N, C, H, W], dtype: input.dtype });
}

/** Max pooling's backward that spreads each gradient over its window. */
async function spreadOverWindow(input: Tensor, gradOutput: Tensor, k: number): Promise<Tensor> {
  const x = input.clone().requiresGrad_(true);
  F.avgPool2d(x, k).mul(gradOutput).sum().backward();
  return await Promise.resolve(x.grad!);
}

testTasks(tasks, solutions, exercises, {
  folder: new URL("./", import.meta.url),
  wrongAnswers: {
    "3.1": [
      {
        mistake: "no + 1",
        says: "one too few",
        impl: { convOutputSize: (size, k, s = 1, p = 0) => Math.floor((size + 2 * p - k) / s) },
      },
      {
        mistake: "padding on one side",
        says: "the padding is added on both sides",
        impl: { convOutputSize: (size, k, s = 1, p = 0) => Math.floor((size + p - k) / s) + 1 },
      },
    ],
    "3.2": [
      {
        mistake: "a flipped kernel",
        says: "the kernel is turned around",
        impl: {
          conv2dByLoops: async (input, weight, bias, options) => {
            const [O, C, k] = weight.shape;
            const w = await weight.data();
            const turned = new Float64Array(w.length);
            for (let plane = 0; plane < O * C; plane++) {
              for (let i = 0; i < k * k; i++) {
                turned[plane * k * k + i] = w[plane * k * k + k * k - 1 - i];
              }
            }
            const flippedWeight = tensor(turned, { shape: weight.shape, dtype: "float64" });
            return await solutions.conv2dByLoops(input, flippedWeight, bias, options);
          },
        },
      },
      {
        mistake: "the bias left out",
        says: "the bias is missing",
        impl: {
          conv2dByLoops: (input, weight, _bias, options) =>
            solutions.conv2dByLoops(input, weight, null, options),
        },
      },
    ],
    "3.3": [
      {
        mistake: "a mean for the bias gradient",
        says: "a mean instead of a sum",
        impl: { conv2dBackwardByLoops: mistakenConvBackward("mean bias") },
      },
      {
        mistake: "the stride ignored",
        says: "right with stride 1, wrong with stride 2",
        impl: { conv2dBackwardByLoops: mistakenConvBackward("no stride") },
      },
      {
        mistake: "the padding ignored",
        says: "right without padding, wrong with it",
        impl: { conv2dBackwardByLoops: mistakenConvBackward("no padding") },
      },
    ],
    "3.4": [
      {
        mistake: "average pooling",
        says: "the mean of each window",
        impl: { maxPool2dByLoops: (input, k) => Promise.resolve(F.avgPool2d(input, k)) },
      },
      {
        mistake: "overlapping windows",
        says: "the windows overlap",
        impl: {
          maxPool2dByLoops: (input, k) => Promise.resolve(F.maxPool2d(input, k, { stride: 1 })),
        },
      },
    ],
    "3.5": [
      {
        mistake: "every tied maximum fed",
        says: "ties: the gradient went to every tied maximum",
        impl: { maxPool2dBackwardByLoops: everyTiedMax },
      },
      {
        mistake: "the gradient spread over the window",
        says: "spread over the window",
        impl: { maxPool2dBackwardByLoops: spreadOverWindow },
      },
    ],
  },
});
