/**
 * Lesson 3, how each exercise is checked. The framework is the oracle: `F.conv2d` and
 * `F.maxPool2d` for the forward passes, autograd for the gradients.
 *
 * @module
 */
import { F, manualSeed, randn, type Tensor } from "../../mod.ts";
import { defineTasks, expectClose, expectEqual } from "../tasks.ts";
import type * as Solutions from "./solutions.ts";

/** Convolution settings the checks try: plain, padded, strided, both. */
const SETTINGS = [
  { stride: 1, padding: 0 },
  { stride: 1, padding: 1 },
  { stride: 2, padding: 0 },
  { stride: 2, padding: 1 },
];

const describeOptions = (o: { stride: number; padding: number }) =>
  `stride ${o.stride}, padding ${o.padding}`;

/** Seeded float64 inputs, so that sums of products agree to many digits. */
function normal(shape: number[], requiresGrad = false): Tensor {
  return randn(shape, { dtype: "float64", requiresGrad });
}

export default defineTasks<typeof Solutions>([
  {
    id: "3.1",
    title: "the output size of a convolution",
    hint: "floor((inSize + 2 * padding - kernelSize) / stride) + 1",
    check: (impl) => {
      const cases = [[28, 3, 1, 0], [28, 3, 1, 1], [28, 5, 1, 2], [28, 3, 2, 1], [7, 2, 2, 0]];
      for (const [size, k, s, p] of cases) {
        const expected = F.conv2d(normal([1, 1, size, size]), normal([1, 1, k, k]), null, {
          stride: s,
          padding: p,
        }).shape[2];
        expectEqual(
          `convOutputSize(${size}, ${k}, ${s}, ${p})`,
          impl.convOutputSize(size, k, s, p),
          expected,
        );
      }
    },
  },
  {
    id: "3.2",
    title: "convolution forward by loops",
    hint: "one output value per (n, o, i, j): the bias plus a sum over c, u, v",
    check: async (impl) => {
      manualSeed(31);
      const input = normal([2, 3, 7, 6]);
      const weight = normal([4, 3, 3, 3]);
      const bias = normal([4]);
      for (const options of SETTINGS) {
        await expectClose(
          `conv2dByLoops(input [2, 3, 7, 6], weight [4, 3, 3, 3], bias, ${
            describeOptions(options)
          })`,
          await impl.conv2dByLoops(input, weight, bias, options),
          F.conv2d(input, weight, bias, options),
          { atol: 1e-9, rtol: 1e-9 },
        );
      }
      await expectClose(
        "conv2dByLoops(input, weight, null) (no bias)",
        await impl.conv2dByLoops(input, weight, null),
        F.conv2d(input, weight),
        { atol: 1e-9, rtol: 1e-9 },
      );
    },
  },
  {
    id: "3.3",
    title: "convolution weight gradient by loops",
    hint: "correlate the input with the output gradient: sum gradOutput * input over n, i, j",
    check: async (impl) => {
      manualSeed(32);
      const input = normal([2, 3, 7, 6]);
      for (const options of SETTINGS) {
        const weight = normal([4, 3, 3, 3], true);
        const output = F.conv2d(input, weight, null, options);
        // With L = sum(output * gradOutput), dL/doutput is gradOutput.
        const gradOutput = normal([...output.shape]);
        output.mul(gradOutput).sum().backward();
        await expectClose(
          `conv2dWeightGradByLoops(input [2, 3, 7, 6], gradOutput [${gradOutput.shape}], 3, ${
            describeOptions(options)
          })`,
          await impl.conv2dWeightGradByLoops(input, gradOutput, 3, options),
          weight.grad!,
          { atol: 1e-9, rtol: 1e-9 },
        );
      }
    },
  },
  {
    id: "3.4",
    title: "max pooling forward by loops",
    hint: "the largest value of each k x k window, windows side by side (stride k)",
    check: async (impl) => {
      manualSeed(34);
      const input = normal([2, 3, 8, 6]);
      for (const k of [2, 3]) {
        await expectClose(
          `maxPool2dByLoops(input [2, 3, 8, 6], ${k})`,
          await impl.maxPool2dByLoops(input, k),
          F.maxPool2d(input, k),
        );
      }
    },
  },
  {
    id: "3.5",
    title: "max pooling backward by loops",
    hint: "each output's gradient goes to the position of its window's maximum, the rest get 0",
    check: async (impl) => {
      manualSeed(35);
      for (const k of [2, 3]) {
        const input = normal([2, 3, 8, 6], true);
        const output = F.maxPool2d(input, k);
        const gradOutput = normal([...output.shape]);
        output.mul(gradOutput).sum().backward();
        await expectClose(
          `maxPool2dBackwardByLoops(input [2, 3, 8, 6], gradOutput [${gradOutput.shape}], ${k})`,
          await impl.maxPool2dBackwardByLoops(input.detach(), gradOutput, k),
          input.grad!,
        );
      }
    },
  },
]);
