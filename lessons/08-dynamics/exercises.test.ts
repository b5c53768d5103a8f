/**
 * Lesson 8's exercises: every solution passes its check, every stub says it is not done, and
 * the likely wrong answers are named (`LESSON_EXERCISES=student` checks the student's file
 * instead).
 *
 * @module
 */
import { nn, noGrad, type Tensor } from "../../mod.ts";
import { testTasks } from "../tasks.ts";
import tasks from "./tasks.ts";
import * as exercises from "./exercises.ts";
import * as solutions from "./solutions.ts";

type Schedule = solutions.WarmupCosineOptions;

/** A clipping written with a mistake: each gradient by its own norm, or always rescaled. */
function mistakenClip(mistake: "per tensor" | "always" | "norm after") {
  return {
    clipGradNorm: async (parameters: Tensor[], maxNorm: number) => {
      const grads = parameters.filter((p) => p.grad !== null).map((p) => p.grad!);
      const norms: number[] = [];
      for (const g of grads) norms.push(Math.sqrt(await g.square().sum().item()));
      const norm = Math.hypot(...norms);
      using _ = noGrad();
      grads.forEach((g, i) => {
        if (mistake === "per tensor" && norms[i] > maxNorm) g.assign(g.mul(maxNorm / norms[i]));
        if (mistake === "always") g.assign(g.mul(maxNorm / norm));
        if (mistake === "norm after" && norm > maxNorm) g.assign(g.mul(maxNorm / norm));
      });
      return mistake === "norm after" ? Math.min(norm, maxNorm) : norm;
    },
  };
}

/** An RMSprop step written with a mistake. */
function mistakenRmsprop(mistake: "eps inside sqrt" | "no sqrt" | "no 1 - alpha") {
  return {
    rmspropStep: (
      param: Tensor,
      grad: Tensor,
      squareAvg: Tensor,
      { lr, alpha, eps }: solutions.RMSpropStepOptions,
    ) => {
      const weight = mistake === "no 1 - alpha" ? 1 : 1 - alpha;
      const average = squareAvg.mul(alpha).add(grad.square().mul(weight));
      const denominator = mistake === "eps inside sqrt"
        ? average.add(eps).sqrt()
        : mistake === "no sqrt"
        ? average.add(eps)
        : average.sqrt().add(eps);
      return { param: param.sub(grad.div(denominator).mul(lr)), squareAvg: average };
    },
  };
}

/** Kaiming's initialization with a mistaken standard deviation, or biases left as they were. */
function mistakenInit(std: (fanIn: number, fanOut: number) => number, zeroBias = true) {
  return {
    initKaiming: (model: nn.Sequential) => {
      for (const layer of model) {
        if (!(layer instanceof nn.Linear)) continue;
        const [fanOut, fanIn] = layer.weight.shape;
        nn.init.normal(layer.weight, 0, std(fanIn, fanOut));
        if (zeroBias) nn.init.zeros(layer.bias!);
      }
    },
  };
}

testTasks(tasks, solutions, exercises, {
  folder: new URL("./", import.meta.url),
  wrongAnswers: {
    "8.1": [
      {
        mistake: "the cosine counted from epoch 0",
        says: "use epoch - warmupEpochs",
        impl: {
          warmupCosineLr: (epoch: number, o: Schedule) =>
            epoch < o.warmupEpochs
              ? o.baseLr * (o.startFactor + (1 - o.startFactor) * epoch / o.warmupEpochs)
              : o.baseLr * (1 + Math.cos(Math.PI * epoch / (o.totalEpochs - o.warmupEpochs))) / 2,
        },
      },
      {
        mistake: "a warm-up from 0",
        says: "the warm-up starts at 0, not at startFactor * baseLr",
        impl: {
          warmupCosineLr: (epoch: number, o: Schedule) =>
            epoch < o.warmupEpochs
              ? o.baseLr * epoch / o.warmupEpochs
              : solutions.warmupCosineLr(epoch, o),
        },
      },
      {
        mistake: "a cosine over all the epochs",
        says: "only totalEpochs - warmupEpochs are left",
        impl: {
          warmupCosineLr: (epoch: number, o: Schedule) =>
            epoch < o.warmupEpochs
              ? solutions.warmupCosineLr(epoch, o)
              : o.baseLr * (1 + Math.cos(Math.PI * (epoch - o.warmupEpochs) / o.totalEpochs)) / 2,
        },
      },
    ],
    "8.2": [
      {
        mistake: "each gradient clipped by its own norm",
        says: "each gradient was clipped by its own norm",
        impl: mistakenClip("per tensor"),
      },
      {
        mistake: "always rescaled to maxNorm",
        says: "clip only when the norm is above maxNorm",
        impl: mistakenClip("always"),
      },
      {
        mistake: "the norm after clipping returned",
        says: "return the one before",
        impl: mistakenClip("norm after"),
      },
    ],
    "8.3": [
      {
        mistake: "eps inside the square root",
        says: "eps goes outside the square root",
        impl: mistakenRmsprop("eps inside sqrt"),
      },
      {
        mistake: "no square root",
        says: "not by the average itself",
        impl: mistakenRmsprop("no sqrt"),
      },
      {
        mistake: "the new grad^2 without its weight 1 - alpha",
        says: "weight 1 - alpha",
        impl: mistakenRmsprop("no 1 - alpha"),
      },
    ],
    "8.4": [
      {
        mistake: "Xavier's rule",
        says: "that is Xavier's rule",
        impl: mistakenInit((fanIn, fanOut) => Math.sqrt(2 / (fanIn + fanOut))),
      },
      {
        mistake: "no factor 2 for the ReLU",
        says: "double it for ReLU",
        impl: mistakenInit((fanIn) => Math.sqrt(1 / fanIn)),
      },
      {
        mistake: "the fan-out for the fan-in",
        says: "weight.shape[0] is the fan-out",
        impl: mistakenInit((_fanIn, fanOut) => Math.sqrt(2 / fanOut)),
      },
      {
        mistake: "the variance given as the standard deviation",
        says: "nn.init.normal takes the standard deviation",
        impl: mistakenInit((fanIn) => 2 / fanIn),
      },
      {
        mistake: "biases left as they were",
        says: "set it with nn.init.zeros",
        impl: mistakenInit((fanIn) => Math.sqrt(2 / fanIn), false),
      },
    ],
    "8.5": [
      {
        mistake: "a uniform draw",
        says: "that is a uniform draw",
        impl: { logUniform: (low: number, high: number, u: number) => low + u * (high - low) },
      },
      {
        mistake: "e for the power",
        says: "use 10 ** exponent",
        impl: {
          logUniform: (low: number, high: number, u: number) =>
            Math.exp(Math.log10(low) + u * (Math.log10(high) - Math.log10(low))),
        },
      },
    ],
  },
});
