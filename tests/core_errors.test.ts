/**
 * Bad input: one test per class of mistake, each asserting that the error names the op, the
 * shapes or values involved, and what was expected, and that it is thrown before any work.
 */
import assert from "node:assert/strict";
import {
  arange,
  cat,
  manualSeed,
  matmul,
  ones,
  randint,
  stack,
  Tensor,
  tensor,
  where,
  zeros,
} from "../mod.ts";
import type { Storage } from "../core/backend.ts";
import { avgPool2d, conv2d, maxPool2d } from "../core/ops/conv.ts";
import { assertRejectsWith, assertThrowsWith } from "./core_helpers.ts";

Deno.test("matmul of mismatched shapes says which shapes and which sizes differ", () => {
  const x = zeros([64, 784]);
  const w = zeros([128, 10]);
  assert.throws(() => x.matmul(w), {
    message: "matmul: shapes [64, 784] and [128, 10] cannot be multiplied (784 != 128)",
  });
  assertThrowsWith(() => zeros([3]).matmul(zeros([4, 2])), ["matmul", "[3]", "[4, 2]", "3 != 4"]);
  assertThrowsWith(() => matmul(zeros([2, 3, 4]), zeros([3, 4, 5])), [
    "matmul",
    "[2]",
    "[3]",
    "cannot be broadcast",
  ]);
  assertThrowsWith(() => matmul(zeros([]), zeros([2])), ["matmul", "at least one dimension"]);
  assertThrowsWith(() => matmul(zeros([2, 2], { dtype: "int32" }), zeros([2, 2])), [
    "matmul",
    "float",
    "int32",
  ]);
});

Deno.test("binary ops on shapes that do not broadcast name both shapes and the dimension", () => {
  assertThrowsWith(() => zeros([2, 3]).add(zeros([4])), [
    "add: shapes [2, 3] and [4] cannot be broadcast together",
    "sizes 3 and 4",
  ]);
  assertThrowsWith(() => zeros([2, 3]).mul(zeros([3, 2])), ["mul", "[2, 3]", "[3, 2]"]);
  assertThrowsWith(() => where(zeros([2]), zeros([3]), 0), ["where", "[2]", "[3]"]);
  assertThrowsWith(() => zeros([2, 1]).expand([2, 3, 4]), ["expand", "[2, 1]", "[2, 3, 4]"]);
  assertThrowsWith(() => zeros([2, 3]).expand([3]), ["expand", "fewer dimensions"]);
});

Deno.test("reshape to an invalid shape says the sizes that do not fit", () => {
  const x = zeros([2, 3]);
  assertThrowsWith(() => x.reshape([4]), ["reshape", "[4]", "size 6", "[2, 3] has 6 elements"]);
  assertThrowsWith(() => x.reshape([-1, 4]), ["reshape", "[-1, 4]", "not divisible by 4"]);
  assertThrowsWith(() => x.reshape([-1, -1]), ["reshape", "only one dimension can be -1"]);
  assertThrowsWith(() => x.view([2.5, 2]), ["reshape", "[2.5, 2]", "integers"]);
  assertThrowsWith(() => x.flatten(1, 0), ["flatten", "startDim"]);
});

Deno.test("dimensions out of range name the op, the dimension and the valid range", () => {
  const x = zeros([2, 3]);
  assertThrowsWith(() => x.sum(2), [
    "sum",
    "dimension 2 is out of range",
    "2 dimensions",
    "-2 to 1",
  ]);
  assertThrowsWith(() => x.mean(-3), ["mean", "dimension -3"]);
  assertThrowsWith(() => x.softmax(5), ["softmax", "dimension 5"]);
  assertThrowsWith(() => x.transpose(0, 2), ["transpose", "dimension 2"]);
  assertThrowsWith(() => x.unsqueeze(4), ["unsqueeze", "dimension 4"]);
  assertThrowsWith(() => x.permute([0]), ["permute", "[2, 3]"]);
  assertThrowsWith(() => x.permute([1, 1]), ["permute", "repeat"]);
  assertThrowsWith(() => x.sum([1, 1]), ["sum", "repeats a dimension"]);
  assertThrowsWith(() => x.argmax(2), ["argmax", "dimension 2"]);
  assertThrowsWith(() => x.slice(0, 0, 2, 0), ["slice", "step", "positive"]);
  assertThrowsWith(() => x.narrow(1, 2, 2), ["narrow", "exceeds dimension 1 of size 3"]);
});

Deno.test("gather and indexSelect reject float indices and indices out of range", () => {
  const x = zeros([3, 4]);
  assertThrowsWith(() => x.indexSelect(0, tensor([0, 1])), [
    "indexSelect",
    "int32",
    "float32",
  ]);
  assertThrowsWith(() => x.gather(1, tensor([[0], [1], [2]])), ["gather", "int32", "float32"]);
  const int = (v: number[] | number[][]) => tensor(v, { dtype: "int32" });
  assertThrowsWith(() => x.indexSelect(0, int([0, 3])), [
    "indexSelect",
    "index 3 is out of bounds for dimension 0 with size 3",
  ]);
  assertThrowsWith(() => x.indexSelect(1, int([-1])), ["indexSelect", "index -1", "size 4"]);
  assertThrowsWith(() => x.gather(1, int([[0], [4], [1]])), [
    "gather",
    "index 4 is out of bounds for dimension 1 with size 4",
  ]);
  assertThrowsWith(() => x.gather(1, int([[0], [1]])), ["gather", "[2, 1]", "[3, 4]"]);
  assertThrowsWith(() => x.indexSelect(0, int([[0]])), ["indexSelect", "1-D", "[1, 1]"]);
});

Deno.test("float-only ops on int32 tensors say so and how to convert", () => {
  const labels = tensor([1, 2], { dtype: "int32" });
  assertThrowsWith(() => labels.exp(), ["exp", "expected a float tensor, got int32", ".float()"]);
  assertThrowsWith(() => labels.log(), ["log", "int32"]);
  assertThrowsWith(() => labels.sigmoid(), ["sigmoid", "int32"]);
  assertThrowsWith(() => labels.pow(2), ["pow", "int32"]);
  // A conversion makes them work.
  assert.equal(labels.float().exp().dtype, "float32");
});

Deno.test("item() on a tensor of several elements names its shape", async () => {
  await assertRejectsWith(() => zeros([2, 3]).item(), [
    "item",
    "one element",
    "[2, 3]",
    "6 elements",
  ]);
  assert.equal(await zeros([1, 1]).item(), 0);
});

Deno.test("conv2d with mismatched channels, groups, bias or sizes says what was expected", () => {
  const image = zeros([1, 3, 8, 8]);
  assertThrowsWith(() => conv2d(image, zeros([4, 1, 3, 3])), [
    "conv2d",
    "the input has 3 channels",
    "[4, 1, 3, 3]",
    "expects 1",
  ]);
  assertThrowsWith(() => conv2d(image, zeros([4, 3, 3, 3]), null, { groups: 2 }), [
    "conv2d",
    "groups (2) must divide",
    "input channels (3)",
  ]);
  assertThrowsWith(() => conv2d(image, zeros([4, 3, 3, 3]), zeros([3])), [
    "conv2d",
    "bias must have shape [4]",
    "[3]",
  ]);
  assertThrowsWith(() => conv2d(zeros([3, 8, 8]), zeros([4, 3, 3, 3])), [
    "conv2d",
    "4-D input",
    "[3, 8, 8]",
  ]);
  assertThrowsWith(() => conv2d(image, zeros([4, 3, 3])), ["conv2d", "4-D weight", "[4, 3, 3]"]);
  assertThrowsWith(() => conv2d(zeros([1, 3, 2, 2]), zeros([4, 3, 3, 3])), [
    "conv2d",
    "smaller than the kernel",
  ]);
  assertThrowsWith(() => conv2d(image, zeros([4, 3, 3, 3]), null, { stride: 0 }), [
    "conv2d",
    "stride",
  ]);
  assertThrowsWith(() => maxPool2d(image, 2, { padding: 2 }), ["maxPool2d", "padding", "half"]);
  assertThrowsWith(() => avgPool2d(zeros([8, 8]), 2), ["avgPool2d", "4-D input"]);
});

Deno.test("cat and stack of mismatched tensors name the offending entry and its shape", () => {
  assertThrowsWith(() => cat([zeros([2, 3]), zeros([2, 4])], 0), [
    "cat",
    "except in dimension 0",
    "tensor 1 has shape [2, 4]",
  ]);
  assertThrowsWith(() => cat([zeros([2, 3]), zeros([2, 3], { dtype: "float64" })]), [
    "cat",
    "same dtype",
    "float64",
  ]);
  assertThrowsWith(() => cat([]), ["cat", "non-empty"]);
  assertThrowsWith(() => stack([zeros([2]), zeros([3])]), ["stack", "[2]", "[3]", "entry 1"]);
});

Deno.test("ops on tensors on different devices say so and how to move one", () => {
  // A stand-in tensor that claims to live on the GPU; the device check comes before any use of
  // its storage. Its reference count never drops to 0, so no backend is asked to free it.
  const storage: Storage = { device: "webgpu", length: 2, refs: 1 };
  const onGpu = new Tensor(storage, [2], "float32");
  const onCpu = zeros([2]);
  assertThrowsWith(() => onCpu.add(onGpu), ["add", "different devices", "cpu", "webgpu", ".to("]);
  assertThrowsWith(() => onCpu.mul(onGpu), ["mul", "different devices"]);
  assertThrowsWith(() => onCpu.reshape([1, 2]).matmul(onGpu), ["matmul", "different devices"]);
  assertThrowsWith(() => cat([onCpu, onGpu]), ["cat", "same dtype and device", "webgpu"]);
  assertThrowsWith(() => where(onCpu, onGpu, onGpu), ["where", "different devices"]);
});

Deno.test("a device without a backend says how to get one", () => {
  assertThrowsWith(() => zeros([2], { device: "webgpu" }), [
    'device "webgpu" is not available',
    "initWebGPU",
  ]);
});

Deno.test("bad arguments to creation functions are named", () => {
  assertThrowsWith(() => tensor([[1, 2], [3]]), ["tensor", "not rectangular"]);
  assertThrowsWith(() => tensor([1, 2, 3], { shape: [2, 2] }), [
    "tensor",
    "[2, 2]",
    "needs 4",
    "got 3",
  ]);
  assertThrowsWith(
    () => tensor([1], { dtype: "float16" as unknown as "float32" }),
    ["unknown dtype", "float16"],
  );
  assertThrowsWith(() => zeros([2, -1]), ["invalid shape [2, -1]"]);
  assertThrowsWith(() => arange(0, 5, 0), ["arange", "step"]);
  assertThrowsWith(() => randint(5, 5, [2]), ["randint", "high (5)", "low (5)"]);
  assertThrowsWith(() => manualSeed(Number.NaN), ["manualSeed", "NaN"]);
});

Deno.test("other invalid arguments: clamp bounds, var of one element, reductions of nothing", () => {
  const x = ones([3]);
  assertThrowsWith(() => x.clamp(), ["clamp", "at least one of min and max"]);
  assertThrowsWith(() => x.clamp(2, 1), ["clamp", "min (2) is greater than max (1)"]);
  assertThrowsWith(() => ones([1]).var(), ["var", "correction 1", "1 element"]);
  assertThrowsWith(() => zeros([0, 2]).max(), ["max", "empty", "[0, 2]"]);
  assertThrowsWith(() => zeros([0]).mean(), ["mean", "empty"]);
  assertThrowsWith(() => zeros([2, 3]).T.T.reshape([3, 2]).T.backward(), [
    "does not require a gradient",
  ]);
  assertThrowsWith(() => zeros([3]).T, ["T", "2-D", "[3]"]);
});

Deno.test("backward errors: non-scalar without a gradient, and a second pass", () => {
  const x = ones([2, 2], { requiresGrad: true });
  assertThrowsWith(() => x.mul(2).backward(), ["backward", "scalar", "[2, 2]"]);
  const loss = x.mul(x).sum();
  loss.backward();
  assertThrowsWith(() => loss.backward(), ["backward", "second time", "freed", "retainGraph"]);
});

Deno.test("a disposed tensor says so when it is used", () => {
  const x = ones([2]);
  x.dispose();
  assert.equal(x.isDisposed, true);
  assertThrowsWith(() => x.add(1), ["disposed", "[2]"]);
});
