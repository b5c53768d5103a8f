/**
 * Gradient checks for unfold (im2col), conv2d and the pooling ops of core/ops/conv.ts, over the
 * cases that break implementations: stride 2, padding, dilation, groups, overlapping windows,
 * uneven adaptive windows. Also: which input gets the gradient when a max-pool window has ties.
 */
import assert from "node:assert/strict";
import { gradcheck, type Tensor, tensor } from "../mod.ts";
import {
  adaptiveAvgPool2d,
  avgPool2d,
  conv2d,
  type Conv2dOptions,
  maxPool2d,
  unfold,
  windowGeometry,
} from "../core/ops/conv.ts";
import { normal } from "./core_helpers.ts";

interface Case {
  name: string;
  fn: (...inputs: Tensor[]) => Tensor;
  inputs: () => Tensor[];
  shape: number[];
}

function check(cases: Case[]): void {
  for (const { name, fn, inputs, shape } of cases) {
    Deno.test(`gradient of ${name}`, async () => {
      const given = inputs();
      const got = fn(...given).shape;
      assert.deepEqual(got, shape, `${name}: output shape [${got}], expected [${shape}]`);
      const checked = await gradcheck(fn, given, { name });
      assert.ok(checked > 0, `${name}: no input entry was checked`);
    });
  }
}

check([
  {
    name: "unfold with a 2x2 kernel",
    fn: (x) => unfold(x, windowGeometry("unfold", x.shape, 2, {})),
    inputs: () => [normal([1, 2, 3, 3])],
    shape: [1, 8, 4],
  },
  {
    name: "unfold with stride 2, padding 1 and dilation 2 (overlapping windows)",
    fn: (x) =>
      unfold(x, windowGeometry("unfold", x.shape, 3, { stride: 2, padding: 1, dilation: 2 })),
    inputs: () => [normal([2, 1, 5, 6])],
    shape: [2, 9, 4],
  },
]);

const convCase = (
  name: string,
  input: number[],
  weight: number[],
  options: Conv2dOptions,
  shape: number[],
  withBias = true,
): Case => ({
  name: `conv2d ${name}`,
  fn: withBias ? (x, w, b) => conv2d(x, w, b, options) : (x, w) => conv2d(x, w, null, options),
  inputs: () => {
    const list = [normal(input, 1), normal(weight, 2)];
    if (withBias) list.push(normal([weight[0]], 3));
    return list;
  },
  shape,
});

check([
  convCase("3x3, no padding", [2, 2, 5, 5], [3, 2, 3, 3], {}, [2, 3, 3, 3]),
  convCase("without bias", [1, 2, 4, 4], [2, 2, 3, 3], {}, [1, 2, 2, 2], false),
  convCase("with padding 1", [1, 2, 4, 4], [3, 2, 3, 3], { padding: 1 }, [1, 3, 4, 4]),
  convCase("with stride 2", [1, 1, 6, 6], [2, 1, 3, 3], { stride: 2 }, [1, 2, 2, 2]),
  convCase(
    "with stride 2 and padding 1 on an odd size",
    [2, 2, 5, 5],
    [2, 2, 3, 3],
    { stride: 2, padding: 1 },
    [2, 2, 3, 3],
  ),
  convCase("with dilation 2", [1, 1, 6, 6], [2, 1, 3, 3], { dilation: 2 }, [1, 2, 2, 2]),
  convCase("with 2 groups", [1, 4, 4, 4], [6, 2, 3, 3], { groups: 2 }, [1, 6, 2, 2]),
  convCase(
    "depthwise (groups = channels) with padding",
    [2, 3, 4, 4],
    [3, 1, 3, 3],
    { groups: 3, padding: 1 },
    [2, 3, 4, 4],
  ),
  convCase(
    "with rectangular kernel, stride [1, 2], padding [2, 1], dilation [2, 1]",
    [1, 2, 5, 6],
    [2, 2, 2, 3],
    { stride: [1, 2], padding: [2, 1], dilation: [2, 1] },
    [1, 2, 7, 3],
  ),
  convCase(
    "with stride 2, padding 1, dilation 2 and 2 groups together",
    [2, 4, 7, 7],
    [4, 2, 3, 3],
    { stride: 2, padding: 1, dilation: 2, groups: 2 },
    [2, 4, 3, 3],
  ),
  convCase("1x1 (a per-pixel linear map)", [2, 3, 2, 2], [4, 3, 1, 1], {}, [2, 4, 2, 2]),
  // Stride 1 with padding below the kernel: the direct convolution (its reference loops here).
  convCase(
    "with rectangular kernel and padding [1, 2], stride 1 (the direct kernel)",
    [2, 2, 4, 5],
    [3, 2, 2, 3],
    { padding: [1, 2] },
    [2, 3, 5, 7],
  ),
]);

check([
  {
    name: "maxPool2d 2x2 (non-overlapping)",
    fn: (x) => maxPool2d(x, 2),
    inputs: () => [normal([2, 2, 4, 4])],
    shape: [2, 2, 2, 2],
  },
  {
    name: "maxPool2d 3x3 stride 1 (overlapping windows)",
    fn: (x) => maxPool2d(x, 3, { stride: 1 }),
    inputs: () => [normal([1, 2, 5, 5])],
    shape: [1, 2, 3, 3],
  },
  {
    name: "maxPool2d 3x3 stride 2 padding 1",
    fn: (x) => maxPool2d(x, 3, { stride: 2, padding: 1 }),
    inputs: () => [normal([1, 1, 5, 5])],
    shape: [1, 1, 3, 3],
  },
  {
    name: "maxPool2d 2x2 with dilation 2",
    fn: (x) => maxPool2d(x, 2, { stride: 1, dilation: 2 }),
    inputs: () => [normal([1, 1, 4, 4])],
    shape: [1, 1, 2, 2],
  },
  {
    name: "maxPool2d on an odd size (the last row is dropped)",
    fn: (x) => maxPool2d(x, 2),
    inputs: () => [normal([1, 1, 5, 5])],
    shape: [1, 1, 2, 2],
  },
  {
    name: "avgPool2d 2x2",
    fn: (x) => avgPool2d(x, 2),
    inputs: () => [normal([2, 2, 4, 4])],
    shape: [2, 2, 2, 2],
  },
  {
    name: "avgPool2d 3x3 stride 1 (overlapping windows)",
    fn: (x) => avgPool2d(x, 3, { stride: 1 }),
    inputs: () => [normal([1, 2, 4, 5])],
    shape: [1, 2, 2, 3],
  },
  {
    name: "avgPool2d 3x3 stride 2 padding 1 (zeros counted)",
    fn: (x) => avgPool2d(x, 3, { stride: 2, padding: 1 }),
    inputs: () => [normal([1, 1, 5, 5])],
    shape: [1, 1, 3, 3],
  },
  {
    name: "adaptiveAvgPool2d to 1x1 (global average)",
    fn: (x) => adaptiveAvgPool2d(x, 1),
    inputs: () => [normal([2, 3, 4, 4])],
    shape: [2, 3, 1, 1],
  },
  {
    name: "adaptiveAvgPool2d 6x4 -> 3x2 (even windows)",
    fn: (x) => adaptiveAvgPool2d(x, [3, 2]),
    inputs: () => [normal([1, 2, 6, 4])],
    shape: [1, 2, 3, 2],
  },
  {
    name: "adaptiveAvgPool2d 5x7 -> 3x2 (uneven, overlapping windows)",
    fn: (x) => adaptiveAvgPool2d(x, [3, 2]),
    inputs: () => [normal([1, 2, 5, 7])],
    shape: [1, 2, 3, 2],
  },
  {
    name: "conv2d, relu, maxPool2d and a sum: a tiny CNN",
    fn: (x, w, b) => maxPool2d(conv2d(x, w, b, { padding: 1 }).relu(), 2).sum([1, 2, 3]),
    inputs: () => [normal([2, 1, 4, 4], 1), normal([2, 1, 3, 3], 2), normal([2], 3)],
    shape: [2],
  },
]);

Deno.test("maxPool2d sends the gradient of a window with ties to one of the tied entries", async () => {
  // The window [[1, 1], [1, 0]] has three tied maxima: the whole gradient goes to the first.
  const x = tensor([[[[1, 1], [1, 0]]]], { requiresGrad: true });
  const out = maxPool2d(x, 2);
  assert.deepEqual(await out.toArray(), [[[[1]]]]);
  out.sum().backward();
  assert.deepEqual(await x.grad!.toArray(), [[[[1, 0], [0, 0]]]]);
});

Deno.test("maxPool2d with overlapping windows adds the gradient of each window that picks a pixel", async () => {
  // The 5 in the middle wins all four 2x2 windows (stride 1), so it collects 4.
  const x = tensor([[[[0, 1, 0], [2, 5, 3], [0, 4, 0]]]], { requiresGrad: true });
  const out = maxPool2d(x, 2, { stride: 1 });
  assert.deepEqual(await out.toArray(), [[[[5, 5], [5, 5]]]]);
  out.sum().backward();
  assert.deepEqual(await x.grad!.toArray(), [[[[0, 0, 0], [0, 4, 0], [0, 0, 0]]]]);
});

Deno.test("maxPool2d padding never wins, even over negative values", async () => {
  const x = tensor([[[[-5, -6], [-7, -8]]]], { requiresGrad: true });
  const out = maxPool2d(x, 2, { stride: 1, padding: 1 });
  assert.deepEqual(await out.toArray(), [[[[-5, -5, -6], [-5, -5, -6], [-7, -7, -8]]]]);
});
