/**
 * Lesson 4, how each exercise is checked. The framework is the oracle: `F.batchNorm` for the
 * forward passes and the running statistics, autograd for the gradients (and autograd itself
 * is checked against finite differences by `gradcheck` in the framework's tests).
 *
 * @module
 */
import { F, manualSeed, rand, randn, type Tensor } from "../../mod.ts";
import { defineTasks, expectClose } from "../tasks.ts";
import type * as Solutions from "./solutions.ts";

/** Seeded float64 values, so that the sums agree to many digits. */
function normal(shape: number[], requiresGrad = false): Tensor {
  return randn(shape, { dtype: "float64", requiresGrad });
}

/** A batch whose channels have different means and spreads, as real feature maps do. */
function featureMaps(shape: number[], requiresGrad = false): Tensor {
  const channels = shape[1];
  const spread = rand([1, channels, 1, 1], { dtype: "float64" }).mul(3).add(0.2);
  const shift = normal([1, channels, 1, 1]).mul(4);
  const maps = normal(shape).mul(spread).add(shift).detach();
  return requiresGrad ? maps.requiresGrad_(true) : maps;
}

/** Input shapes the checks try: square maps, and a batch of one with rectangular maps. */
const SHAPES = [[4, 3, 5, 5], [1, 2, 3, 4]];

export default defineTasks<typeof Solutions>([
  {
    id: "4.1",
    title: "batch norm forward, training mode",
    hint: "mean and biased variance over [0, 2, 3]; (x - mean) / sqrt(var + eps) * gamma + beta",
    check: async (impl) => {
      manualSeed(41);
      for (const shape of SHAPES) {
        const input = featureMaps(shape);
        const gamma = normal([shape[1]]);
        const beta = normal([shape[1]]);
        const expected = F.batchNorm(input, null, null, {
          weight: gamma,
          bias: beta,
          training: true,
        });
        await expectClose(
          `batchNormForward(input [${shape.join(", ")}], gamma, beta)`,
          impl.batchNormForward(input, gamma, beta),
          expected,
          { atol: 1e-9, rtol: 1e-7 },
        );
      }
    },
  },
  {
    id: "4.2",
    title: "batch norm backward by hand",
    hint: "gradInput = gamma / s * (g - mean(g) - xHat * mean(g * xHat)), means over [0, 2, 3]",
    check: async (impl) => {
      manualSeed(42);
      for (const shape of SHAPES) {
        const input = featureMaps(shape, true);
        const gamma = normal([shape[1]], true);
        const beta = normal([shape[1]], true);
        const output = F.batchNorm(input, null, null, {
          weight: gamma,
          bias: beta,
          training: true,
        });
        // With loss = sum(output * g), the gradient reaching the output is exactly g.
        const gradOutput = normal(shape);
        output.mul(gradOutput).sum().backward();

        const grads = impl.batchNormBackward(input.detach(), gamma.detach(), gradOutput);
        const tolerance = { atol: 1e-8, rtol: 1e-6 };
        const what = `batchNormBackward(input [${shape.join(", ")}], gamma, gradOutput)`;
        await expectClose(`${what}.gradBeta`, grads.gradBeta, beta.grad!, tolerance);
        await expectClose(`${what}.gradGamma`, grads.gradGamma, gamma.grad!, tolerance);
        await expectClose(`${what}.gradInput`, grads.gradInput, input.grad!, tolerance);
      }
    },
  },
  {
    id: "4.3",
    title: "the running-statistics update",
    hint: "(1 - momentum) * running + momentum * batch value; the batch variance is unbiased",
    check: async (impl) => {
      manualSeed(43);
      for (const [shape, momentum] of [[[8, 3, 4, 4], 0.1], [[2, 5, 3, 3], 0.25]] as const) {
        const channels = shape[1];
        const input = featureMaps([...shape]);
        const runningMean = normal([channels]);
        const runningVar = rand([channels], { dtype: "float64" }).add(0.5);
        const [meanBefore, varBefore] = [runningMean.clone(), runningVar.clone()];
        // F.batchNorm updates the running statistics it is given, in place.
        const expectedMean = runningMean.clone();
        const expectedVar = runningVar.clone();
        F.batchNorm(input, expectedMean, expectedVar, { training: true, momentum });

        const what = `updateRunningStats(runningMean, runningVar, input [${
          shape.join(", ")
        }], ${momentum})`;
        const stats = impl.updateRunningStats(runningMean, runningVar, input, momentum);
        await expectClose(`${what}.runningMean`, stats.runningMean, expectedMean, {
          atol: 1e-9,
          rtol: 1e-7,
        });
        await expectClose(`${what}.runningVar`, stats.runningVar, expectedVar, {
          atol: 1e-9,
          rtol: 1e-7,
        });
        await expectClose(`${what} left runningMean unchanged`, runningMean, meanBefore);
        await expectClose(`${what} left runningVar unchanged`, runningVar, varBefore);
      }
    },
  },
  {
    id: "4.4",
    title: "batch norm forward, evaluation mode",
    hint: "the formula of 4.1 with runningMean and runningVar, reshaped to [1, C, 1, 1]",
    check: async (impl) => {
      manualSeed(44);
      for (const shape of SHAPES) {
        const channels = shape[1];
        const input = featureMaps(shape);
        const runningMean = normal([channels]);
        const runningVar = rand([channels], { dtype: "float64" }).add(0.5);
        const gamma = normal([channels]);
        const beta = normal([channels]);
        const expected = F.batchNorm(input, runningMean, runningVar, {
          weight: gamma,
          bias: beta,
        });
        await expectClose(
          `batchNormEval(input [${shape.join(", ")}], runningMean, runningVar, gamma, beta)`,
          impl.batchNormEval(input, runningMean, runningVar, gamma, beta),
          expected,
          { atol: 1e-9, rtol: 1e-7 },
        );
      }
    },
  },
]);
