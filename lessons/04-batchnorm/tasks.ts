/**
 * Lesson 4, how each exercise is checked. The framework is the oracle: `F.batchNorm` for the
 * forward passes and the running statistics, autograd for the gradients, `nn.BatchNorm2d` for
 * the layer of task 4.5. `run` calls the student's code in the sandbox; `judge` recomputes the
 * answer here and names the likely mistakes.
 *
 * @module
 */
import { F, manualSeed, nn, rand, randn, type Tensor } from "../../mod.ts";
import { defineTasks, expectClose, type Received, Wrong } from "../tasks.ts";
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

/** Input shapes the checks try: square maps, and a small batch with rectangular maps. */
const SHAPES = [[4, 3, 5, 5], [2, 2, 3, 4]];

const STAT_DIMS = [0, 2, 3];
const EPS = 1e-5;
const TIGHT = { atol: 1e-9, rtol: 1e-7 };

/** A `[C]` tensor as `[1, C, 1, 1]`. */
const perChannel = (values: Tensor) => values.reshape([1, values.shape[0], 1, 1]);

/** Batch norm's training formula with chosen statistics (the right ones, or a mistake's). */
function normalize(
  input: Tensor,
  gamma: Tensor,
  beta: Tensor,
  dims: number[],
  correction: number,
): Tensor {
  const mean = input.mean(dims, true);
  const variance = input.var(dims, { keepdim: true, correction });
  return input.sub(mean).div(variance.add(EPS).sqrt()).mul(perChannel(gamma)).add(perChannel(beta));
}

/** The seeded inputs of task 4.1 for one shape. */
function forwardInputs(shape: number[]) {
  return { input: featureMaps(shape), gamma: normal([shape[1]]), beta: normal([shape[1]]) };
}

/** The seeded inputs of task 4.2 for one shape. */
function backwardInputs(shape: number[]) {
  return {
    input: featureMaps(shape, true),
    gamma: normal([shape[1]], true),
    beta: normal([shape[1]], true),
    gradOutput: normal(shape),
  };
}

/** The seeded inputs of task 4.3. */
function runningInputs() {
  manualSeed(43);
  return ([[[8, 3, 4, 4], 0.1], [[2, 5, 3, 3], 0.25]] as const).map(([shape, momentum]) => ({
    shape: [...shape],
    momentum,
    input: featureMaps([...shape]),
    runningMean: normal([shape[1]]),
    runningVar: rand([shape[1]], { dtype: "float64" }).add(0.5),
  }));
}

/** The seeded inputs of task 4.4. */
function evalInputs() {
  manualSeed(44);
  return SHAPES.map((shape) => ({
    shape,
    input: featureMaps(shape),
    runningMean: normal([shape[1]]),
    runningVar: rand([shape[1]], { dtype: "float64" }).add(0.5),
    gamma: normal([shape[1]]),
    beta: normal([shape[1]]),
  }));
}

/** The batches of task 4.5: three for training, one for evaluation. */
function layerBatches(): Tensor[] {
  manualSeed(45);
  return [0, 1, 2, 3].map(() => featureMaps([4, 3, 4, 4]).float());
}

/** Runs a batch norm layer through task 4.5's batches: what the sandbox sends back. */
async function runLayer(
  layer: nn.Module & { runningMean: Tensor | null; runningVar: Tensor | null },
) {
  const batches = layerBatches();
  const names = layer.namedParameters().map(([name]) => name);
  const trainOutputs: Tensor[] = [];
  for (const batch of batches.slice(0, 3)) trainOutputs.push(layer.forward(batch));
  const afterTraining = { mean: layer.runningMean!, variance: layer.runningVar! };
  layer.eval();
  const evalOutput = layer.forward(batches[3]);
  const unchanged = (await layer.runningMean!.sub(afterTraining.mean).abs().sum().item()) === 0;
  return {
    names,
    trainOutputs,
    runningMean: afterTraining.mean,
    runningVar: afterTraining.variance,
    evalOutput,
    evalLeftStatsAlone: unchanged,
  };
}

export default defineTasks<typeof Solutions>([
  {
    id: "4.1",
    title: "batch norm forward, training mode",
    hints: [
      "normalize each channel with the statistics of this batch, then scale and shift",
      "a channel's mean and variance run over the batch, the rows and the columns (dimensions " +
      "0, 2 and 3, kept for broadcasting); the variance is the biased one (correction 0); " +
      "subtract, divide by sqrt(variance + eps), times gamma plus beta, both as [1, C, 1, 1]",
    ],
    run: (impl) => {
      manualSeed(41);
      return SHAPES.map((shape) => {
        const { input, gamma, beta } = forwardInputs(shape);
        return impl.batchNormForward(input, gamma, beta);
      });
    },
    judge: async (received) => {
      manualSeed(41);
      for (const [i, shape] of SHAPES.entries()) {
        const { input, gamma, beta } = forwardInputs(shape);
        const expected = F.batchNorm(input, null, null, {
          weight: gamma,
          bias: beta,
          training: true,
        });
        await expectClose(
          `batchNormForward(input [${shape.join(", ")}], gamma, beta)`,
          received?.[i],
          expected,
          {
            ...TIGHT,
            mistakes: [
              {
                value: normalize(input, gamma, beta, STAT_DIMS, 1),
                says: "the unbiased variance: normalization uses the biased one (correction: 0)",
              },
              {
                value: normalize(input, gamma, beta, [2, 3], 0),
                says: "statistics of each image alone: batch norm's run over the batch too, " +
                  "dimensions [0, 2, 3]",
              },
              {
                value: normalize(input, gamma, beta, [0], 0),
                says: "statistics of each pixel over the batch: a channel's run over the batch " +
                  "and the pixels, dimensions [0, 2, 3]",
              },
            ],
          },
        );
      }
    },
  },
  {
    id: "4.2",
    title: "batch norm backward by hand",
    hints: [
      "the chain rule through xHat, and through the mean and variance that every xHat depends on",
      "gradBeta sums the output gradient g over dimensions [0, 2, 3], gradGamma sums g * xHat; " +
      "gradInput is gamma / s times (g minus its channel mean, minus xHat times the channel mean " +
      "of g * xHat)",
    ],
    run: (impl) => {
      manualSeed(42);
      return SHAPES.map((shape) => {
        const { input, gamma, gradOutput } = backwardInputs(shape);
        return impl.batchNormBackward(input.detach(), gamma.detach(), gradOutput);
      });
    },
    judge: async (received: Received) => {
      manualSeed(42);
      for (const [i, shape] of SHAPES.entries()) {
        const { input, gamma, beta, gradOutput } = backwardInputs(shape);
        const output = F.batchNorm(input, null, null, {
          weight: gamma,
          bias: beta,
          training: true,
        });
        // With loss = sum(output * g), the gradient reaching the output is exactly g.
        output.mul(gradOutput).sum().backward();

        // The pieces of the likely mistakes.
        const x = input.detach();
        const s = x.var(STAT_DIMS, { keepdim: true, correction: 0 }).add(EPS).sqrt();
        const xHat = x.sub(x.mean(STAT_DIMS, true)).div(s);
        const scale = perChannel(gamma.detach()).div(s);
        const g = gradOutput;
        const constants = g.mul(scale);
        const meanOnly = g.sub(g.mean(STAT_DIMS, true)).mul(scale);

        const grads = received?.[i] ?? {};
        const tolerance = { atol: 1e-8, rtol: 1e-6 };
        const what = `batchNormBackward(input [${shape.join(", ")}], gamma, gradOutput)`;
        await expectClose(`${what}.gradBeta`, grads.gradBeta, beta.grad!, {
          ...tolerance,
          mistakes: [{
            value: g.mul(xHat).sum(STAT_DIMS),
            says: "gradBeta and gradGamma swapped: beta's is the plain sum of the output gradient",
          }],
        });
        await expectClose(`${what}.gradGamma`, grads.gradGamma, gamma.grad!, {
          ...tolerance,
          mistakes: [{
            value: g.sum(STAT_DIMS),
            says: "gradBeta and gradGamma swapped: gamma's sums the output gradient times xHat",
          }],
        });
        await expectClose(`${what}.gradInput`, grads.gradInput, input.grad!, {
          ...tolerance,
          mistakes: [
            {
              value: constants,
              says: "the batch's mean and variance treated as constants: they depend on every " +
                "input of the channel, which adds two terms",
            },
            {
              value: meanOnly,
              says: "the term through the variance is missing (xHat times the mean of g * xHat)",
            },
          ],
        });
      }
    },
  },
  {
    id: "4.3",
    title: "the running-statistics update",
    hints: [
      "blend each running statistic with the batch's, weighted by momentum",
      "new = (1 - momentum) * running + momentum * batch statistic, per channel; the batch's " +
      "variance here is the unbiased one (correction 1); return new tensors",
    ],
    run: (impl) =>
      runningInputs().map(({ input, runningMean, runningVar, momentum }) => {
        const stats = impl.updateRunningStats(runningMean, runningVar, input, momentum);
        return { ...stats, argumentsAfter: [runningMean, runningVar] };
      }),
    judge: async (received) => {
      for (
        const [i, { shape, momentum, input, runningMean, runningVar }] of runningInputs()
          .entries()
      ) {
        const [meanBefore, varBefore] = [runningMean.clone(), runningVar.clone()];
        // F.batchNorm updates the running statistics it is given, in place.
        const [expectedMean, expectedVar] = [runningMean.clone(), runningVar.clone()];
        F.batchNorm(input, expectedMean, expectedVar, { training: true, momentum });
        const batchMean = input.mean(STAT_DIMS);
        const blend = (running: Tensor, batch: Tensor, m: number) =>
          running.mul(1 - m).add(batch.mul(m));
        const what = `updateRunningStats(runningMean, runningVar, input [${shape.join(", ")}], ` +
          `${momentum})`;
        const stats = received?.[i] ?? {};
        await expectClose(`${what}.runningMean`, stats.runningMean, expectedMean, {
          ...TIGHT,
          mistakes: [{
            value: blend(batchMean, meanBefore, momentum),
            says: "momentum weighs the new batch: (1 - momentum) * running + momentum * batch",
          }],
        });
        await expectClose(`${what}.runningVar`, stats.runningVar, expectedVar, {
          ...TIGHT,
          mistakes: [
            {
              value: blend(varBefore, input.var(STAT_DIMS, { correction: 0 }), momentum),
              says: "the biased batch variance: the running variance takes the unbiased one " +
                "(correction: 1), as PyTorch's does",
            },
            {
              value: blend(input.var(STAT_DIMS, { correction: 1 }), varBefore, momentum),
              says: "momentum weighs the new batch: (1 - momentum) * running + momentum * batch",
            },
          ],
        });
        const [meanAfter, varAfter] = stats.argumentsAfter ?? [];
        await expectClose(
          `${what}: runningMean, the argument, after the call`,
          meanAfter,
          meanBefore,
          {
            mistakes: [{ value: expectedMean, says: "the argument was changed in place" }],
          },
        );
        await expectClose(
          `${what}: runningVar, the argument, after the call`,
          varAfter,
          varBefore,
          {
            mistakes: [{ value: expectedVar, says: "the argument was changed in place" }],
          },
        );
      }
    },
  },
  {
    id: "4.4",
    title: "batch norm forward, evaluation mode",
    hints: [
      "the formula of 4.1, with the running statistics in place of the batch's",
      "reshape runningMean, runningVar, gamma and beta to [1, C, 1, 1]; subtract the mean, " +
      "divide by the square root of (variance + eps), scale, shift; no statistic of the batch",
    ],
    run: (impl) =>
      evalInputs().map(({ input, runningMean, runningVar, gamma, beta }) =>
        impl.batchNormEval(input, runningMean, runningVar, gamma, beta)
      ),
    judge: async (received) => {
      for (
        const [i, { shape, input, runningMean, runningVar, gamma, beta }] of evalInputs()
          .entries()
      ) {
        const expected = F.batchNorm(input, runningMean, runningVar, { weight: gamma, bias: beta });
        const noSqrt = input.sub(perChannel(runningMean)).div(perChannel(runningVar).add(EPS))
          .mul(perChannel(gamma)).add(perChannel(beta));
        await expectClose(
          `batchNormEval(input [${shape.join(", ")}], runningMean, runningVar, gamma, beta)`,
          received?.[i],
          expected,
          {
            ...TIGHT,
            mistakes: [
              {
                value: normalize(input, gamma, beta, STAT_DIMS, 0),
                says: "the batch's statistics: evaluation mode uses the running ones",
              },
              { value: noSqrt, says: "divided by the variance: divide by its square root" },
            ],
          },
        );
      }
    },
  },
  {
    id: "4.5",
    title: "a batch norm layer, training and evaluation",
    hints: [
      "two parameters and two buffers, one value a channel each; this.training picks the mode",
      "weight = nn.Parameter(ones), bias = nn.Parameter(zeros), runningMean and runningVar " +
      "registered as buffers; in training, call task 4.3's function on input.detach() and keep " +
      "its results, then return task 4.1's; in evaluation, return task 4.4's",
    ],
    run: async (impl) => await runLayer(new impl.MyBatchNorm2d(3)),
    judge: async (received) => {
      const expected = await runLayer(new nn.BatchNorm2d(3));
      const names = (received.names ?? []) as string[];
      if (!names.includes("weight") || !names.includes("bias")) {
        throw new Wrong(
          `parameters() of MyBatchNorm2d(3) found [${names.join(", ")}]: weight and bias must ` +
            `be parameters (nn.Parameter), or training never changes them`,
        );
      }
      for (const [i, output] of expected.trainOutputs.entries()) {
        await expectClose(`training batch ${i + 1}: the output`, received.trainOutputs[i], output);
      }
      await expectClose(
        "runningMean after three training batches",
        received.runningMean,
        expected.runningMean,
        {
          mistakes: [{
            value: new nn.BatchNorm2d(3).runningMean!,
            says: "the running mean never changed: training mode updates it (task 4.3)",
          }],
        },
      );
      await expectClose(
        "runningVar after three training batches",
        received.runningVar,
        expected.runningVar,
      );
      const batches = layerBatches();
      await expectClose("the output in evaluation mode", received.evalOutput, expected.evalOutput, {
        mistakes: [{
          value: F.batchNorm(batches[3], null, null, { training: true }),
          says: "evaluation mode used the batch's statistics: it normalizes with the running ones",
        }],
      });
      if (!received.evalLeftStatsAlone) {
        throw new Wrong("evaluation mode changed the running statistics: only training does");
      }
    },
  },
]);
