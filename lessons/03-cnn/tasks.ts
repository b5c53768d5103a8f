/**
 * Lesson 3, how each exercise is checked. The framework is the oracle: `F.conv2d` and
 * `F.maxPool2d` for the forward passes, autograd for the gradients. `run` calls the student's
 * code in the sandbox; `judge` recomputes the answer here and names the likely mistakes.
 *
 * @module
 */
import { F, manualSeed, randn, type Tensor, tensor, zeros } from "../../mod.ts";
import { defineTasks, expectClose, expectEqual, type Received, Wrong } from "../tasks.ts";
import type * as Solutions from "./solutions.ts";

/** Convolution settings the checks try, the plain case first so that failures say which. */
const SETTINGS = [
  { stride: 1, padding: 0 },
  { stride: 1, padding: 1 },
  { stride: 2, padding: 0 },
  { stride: 2, padding: 1 },
];

type Setting = (typeof SETTINGS)[number];

const describeSetting = (o: Setting) => `stride ${o.stride}, padding ${o.padding}`;

/** Seeded float64 inputs, so that sums of products agree to many digits. */
function normal(shape: number[], requiresGrad = false): Tensor {
  return randn(shape, { dtype: "float64", requiresGrad });
}

/** The same values with each k x k kernel turned by 180 degrees (a true convolution's kernel). */
async function flipped(weight: Tensor): Promise<Tensor> {
  const [O, C, k] = weight.shape;
  const w = await weight.data();
  const out = new Float64Array(w.length);
  for (let plane = 0; plane < O * C; plane++) {
    for (let u = 0; u < k; u++) {
      for (let v = 0; v < k; v++) {
        out[(plane * k + u) * k + v] = w[(plane * k + (k - 1 - u)) * k + (k - 1 - v)];
      }
    }
  }
  return tensor(out, { shape: [O, C, k, k], dtype: "float64" });
}

/** The cases of task 3.1: (inSize, kernelSize, stride, padding). */
const SIZE_CASES = [[28, 3, 1, 0], [28, 3, 1, 1], [28, 5, 1, 2], [28, 3, 2, 1], [7, 2, 2, 0]];

/** The convolution of tasks 3.2 and 3.3, seeded. */
function convInputs(seed: number) {
  manualSeed(seed);
  return { input: normal([2, 3, 7, 6]), weight: normal([4, 3, 3, 3]), bias: normal([4]) };
}

/** What a failure at `setting` most likely means, when the settings before it passed. */
function settingDiagnosis(setting: Setting, passed: Setting[]): string {
  if (setting.padding > 0 && passed.some((p) => p.stride === setting.stride && !p.padding)) {
    return "right without padding, wrong with it: positions outside the image are zeros, " +
      "and the input row of output i is i*stride + u - padding";
  }
  if (setting.stride > 1 && passed.some((p) => p.stride === 1 && p.padding === setting.padding)) {
    return "right with stride 1, wrong with stride 2: output i starts at input row i*stride";
  }
  return "";
}

/** A quantised copy of `values` (steps of 0.5), so that windows hold tied maxima. */
async function withTies(values: Tensor): Promise<Tensor> {
  const data = Array.from(await values.data(), (v) => Math.round(v * 2) / 2);
  return tensor(data, { shape: values.shape, dtype: "float64" });
}

/** The gradient of max pooling sent to every tied maximum, or spread evenly (wrong answers). */
async function poolBackwardVariant(
  input: Tensor,
  gradOutput: Tensor,
  k: number,
  rule: "every tied max" | "last tied max" | "spread",
): Promise<Tensor> {
  const [N, C, H, W] = input.shape;
  const [outH, outW] = [Math.floor(H / k), Math.floor(W / k)];
  const x = await input.data();
  const g = await gradOutput.data();
  const grad = new Float64Array(x.length);
  for (let plane = 0; plane < N * C; plane++) {
    for (let i = 0; i < outH; i++) {
      for (let j = 0; j < outW; j++) {
        const cells: number[] = [];
        for (let u = 0; u < k; u++) {
          for (let v = 0; v < k; v++) cells.push((plane * H + i * k + u) * W + j * k + v);
        }
        const best = Math.max(...cells.map((index) => x[index]));
        const tied = cells.filter((index) => x[index] === best);
        const gradient = g[(plane * outH + i) * outW + j];
        if (rule === "spread") cells.forEach((index) => grad[index] += gradient / cells.length);
        else if (rule === "last tied max") grad[tied.at(-1)!] += gradient;
        else tied.forEach((index) => grad[index] += gradient);
      }
    }
  }
  return tensor(grad, { shape: [N, C, H, W], dtype: "float64" });
}

/** The pooling probes of task 3.5: without ties, then with. */
async function poolBackwardCases(seed: number) {
  manualSeed(seed);
  const cases: { name: string; input: Tensor; gradOutput: Tensor; k: number }[] = [];
  for (const ties of [false, true]) {
    for (const k of [2, 3]) {
      const plain = normal([2, 3, 8, 6]);
      const input = ties ? await withTies(plain) : plain;
      const gradOutput = normal([2, 3, Math.floor(8 / k), Math.floor(6 / k)]);
      cases.push({
        name: ties ? "an input with tied maxima" : "an input without ties",
        input,
        gradOutput,
        k,
      });
    }
  }
  return cases;
}

export default defineTasks<typeof Solutions>([
  {
    id: "3.1",
    title: "the output size of a convolution",
    hints: [
      "count the places a window fits in the padded input, a stride apart",
      "the padded input has inSize + 2 * padding positions; the window's first position is 0 " +
      "and its last start is that size minus kernelSize; count the starts a stride apart",
    ],
    run: (impl) => SIZE_CASES.map(([size, k, s, p]) => impl.convOutputSize(size, k, s, p)),
    judge: (received) => {
      for (const [i, [size, k, s, p]] of SIZE_CASES.entries()) {
        const expected = F.conv2d(normal([1, 1, size, size]), normal([1, 1, k, k]), null, {
          stride: s,
          padding: p,
        }).shape[2];
        const got = received?.[i];
        const says = p > 0 && got === Math.floor((size + p - k) / s) + 1
          ? "the padding is added on both sides (2 * padding)"
          : got === expected - 1
          ? "one too few: the first window position counts too (+ 1)"
          : typeof got === "number" && !Number.isInteger(got)
          ? "a window that does not fit whole is not a position: round down"
          : "";
        expectEqual(`convOutputSize(${size}, ${k}, ${s}, ${p})`, got, expected, says);
      }
    },
  },
  {
    id: "3.2",
    title: "convolution forward by loops",
    hints: [
      "one output value per window position: a weighted sum of the window, plus the bias",
      "loop over n, o, i, j for the outputs; inside, sum weight[o, c, u, v] times the input at " +
      "row i*stride + u - padding and column j*stride + v - padding over c, u, v, skipping " +
      "positions outside the image (they are padding zeros)",
    ],
    run: async (impl) => {
      const { input, weight, bias } = convInputs(31);
      const outputs: Tensor[] = [];
      for (const setting of SETTINGS) {
        outputs.push(await impl.conv2dByLoops(input, weight, bias, setting));
      }
      return { outputs, noBias: await impl.conv2dByLoops(input, weight, null) };
    },
    judge: async (received) => {
      const { input, weight, bias } = convInputs(31);
      const turned = await flipped(weight);
      const passed: Setting[] = [];
      for (const [i, setting] of SETTINGS.entries()) {
        const what = `conv2dByLoops(input [2, 3, 7, 6], weight [4, 3, 3, 3], bias, ${
          describeSetting(setting)
        })`;
        try {
          await expectClose(what, received.outputs[i], F.conv2d(input, weight, bias, setting), {
            atol: 1e-9,
            rtol: 1e-9,
            mistakes: [
              {
                value: F.conv2d(input, turned, bias, setting),
                says: "the kernel is turned around: a network's convolution does not flip it, " +
                  "weight[o, c, u, v] meets the input at row i*stride + u - padding",
              },
              { value: F.conv2d(input, weight, null, setting), says: "the bias is missing" },
            ],
          });
        } catch (error) {
          const why = error instanceof Wrong ? settingDiagnosis(setting, passed) : "";
          throw why ? new Wrong(`${(error as Error).message}: ${why}`) : error;
        }
        passed.push(setting);
      }
      await expectClose(
        "conv2dByLoops(input, weight, null) (no bias)",
        received.noBias,
        F.conv2d(input, weight),
        { atol: 1e-9, rtol: 1e-9 },
      );
    },
  },
  {
    id: "3.3",
    title: "convolution backward by loops",
    hints: [
      "every product weight * input of the forward pass sends gradOutput back to both factors, " +
      "and every output sends its gradient to its bias",
      "the loops of 3.2 again; at output [n, o, i, j] with gradient g: gradBias[o] += g, and " +
      "for each window position gradWeight[o, c, u, v] += g * input value, gradInput at that " +
      "position += g * weight value (+=: a value is reached from many windows)",
    ],
    run: async (impl) => {
      const { input, weight } = convInputs(32);
      const results: Solutions.ConvGrads[] = [];
      for (const [i, setting] of SETTINGS.entries()) {
        manualSeed(320 + i);
        const outShape = F.conv2d(input, weight, null, setting).shape;
        const gradOutput = normal([...outShape]);
        results.push(await impl.conv2dBackwardByLoops(input, weight, gradOutput, setting));
      }
      return results;
    },
    judge: async (received: Received) => {
      const { input, weight } = convInputs(32);
      const passed: Setting[] = [];
      for (const [i, setting] of SETTINGS.entries()) {
        manualSeed(320 + i);
        const x = input.clone().requiresGrad_(true);
        const w = weight.clone().requiresGrad_(true);
        const b = zeros([4], { dtype: "float64" }).requiresGrad_(true);
        const output = F.conv2d(x, w, b, setting);
        const gradOutput = normal([...output.shape]);
        // With loss = sum(output * gradOutput), the gradient reaching the output is gradOutput.
        output.mul(gradOutput).sum().backward();
        const grads = received?.[i] ?? {};
        const what = `conv2dBackwardByLoops(input [2, 3, 7, 6], weight [4, 3, 3, 3], ` +
          `gradOutput [${output.shape.join(", ")}], ${describeSetting(setting)})`;
        const positions = output.shape[0] * output.shape[2] * output.shape[3];
        const tolerance = { atol: 1e-9, rtol: 1e-9 };
        try {
          await expectClose(`${what}.gradBias`, grads.gradBias, b.grad!, {
            ...tolerance,
            mistakes: [{
              value: b.grad!.div(positions),
              says: "a mean instead of a sum: every output position adds its gradient",
            }],
          });
          await expectClose(`${what}.gradWeight`, grads.gradWeight, w.grad!, {
            ...tolerance,
            mistakes: [{
              value: w.grad!.div(input.shape[0]),
              says: "a mean over the batch instead of a sum",
            }],
          });
          await expectClose(`${what}.gradInput`, grads.gradInput, x.grad!, tolerance);
        } catch (error) {
          const why = error instanceof Wrong ? settingDiagnosis(setting, passed) : "";
          throw why ? new Wrong(`${(error as Error).message}: ${why}`) : error;
        }
        passed.push(setting);
      }
    },
  },
  {
    id: "3.4",
    title: "max pooling forward by loops",
    hints: [
      "the largest value of each k x k window; windows sit side by side, they do not overlap",
      "output [n, c, i, j] is the largest input in rows i*k to i*k + k - 1 and columns j*k to " +
      "j*k + k - 1; the output is floor(H / k) by floor(W / k)",
    ],
    run: async (impl) => {
      manualSeed(34);
      const input = normal([2, 3, 8, 6]);
      return [await impl.maxPool2dByLoops(input, 2), await impl.maxPool2dByLoops(input, 3)];
    },
    judge: async (received) => {
      manualSeed(34);
      const input = normal([2, 3, 8, 6]);
      for (const [i, k] of [2, 3].entries()) {
        const got = received?.[i];
        const overlapping = [2, 3, 8 - k + 1, 6 - k + 1].join();
        if (got?.shape?.join() === overlapping) {
          throw new Wrong(
            `maxPool2dByLoops(input [2, 3, 8, 6], ${k}): received shape [${got.shape.join(", ")}]` +
              `: the windows overlap; they sit side by side (stride ${k})`,
          );
        }
        await expectClose(
          `maxPool2dByLoops(input [2, 3, 8, 6], ${k})`,
          got,
          F.maxPool2d(input, k),
          {
            mistakes: [{
              value: F.avgPool2d(input, k),
              says: "the mean of each window: max pooling keeps the largest value",
            }],
          },
        );
      }
    },
  },
  {
    id: "3.5",
    title: "max pooling backward by loops",
    hints: [
      "only the input that was the maximum reached the output, so only it gets a gradient",
      "for each window, find the position of its maximum (the first one when several tie, " +
      "keeping the first with a strict >), add the output's gradient there; every other input " +
      "gets 0",
    ],
    run: async (impl) => {
      const results: Tensor[] = [];
      for (const { input, gradOutput, k } of await poolBackwardCases(35)) {
        results.push(await impl.maxPool2dBackwardByLoops(input, gradOutput, k));
      }
      return results;
    },
    judge: async (received) => {
      for (const [i, { name, input, gradOutput, k }] of (await poolBackwardCases(35)).entries()) {
        const x = input.clone().requiresGrad_(true);
        F.maxPool2d(x, k).mul(gradOutput).sum().backward();
        await expectClose(
          `maxPool2dBackwardByLoops on ${name}, gradOutput [${gradOutput.shape.join(", ")}], ${k}`,
          received?.[i],
          x.grad!,
          {
            mistakes: [
              {
                value: await poolBackwardVariant(input, gradOutput, k, "every tied max"),
                says: "ties: the gradient went to every tied maximum; the output came from one " +
                  "of them, the first in reading order",
              },
              {
                value: await poolBackwardVariant(input, gradOutput, k, "last tied max"),
                says: "ties: the gradient went to the last tied maximum; it belongs to the first",
              },
              {
                value: await poolBackwardVariant(input, gradOutput, k, "spread"),
                says: "the gradient was spread over the window (average pooling's backward)",
              },
            ],
          },
        );
      }
    },
  },
]);
