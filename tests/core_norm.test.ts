/**
 * Tensor.norm: values for p = 1, 2, Infinity and 3 over all elements and over dimensions (the
 * values PyTorch's `torch.norm(x, p, dim, keepdim)` gives for the same input, worked out by
 * hand below), gradient checks, the zero-vector gradient (0, as PyTorch), errors, and CPU /
 * WebGPU parity.
 */
import assert from "node:assert/strict";
import { gradcheck, type Tensor, tensor, zeros } from "../mod.ts";
import { assertClose } from "../mod.ts";
import { assertThrowsWith, normal } from "./core_helpers.ts";
import { checkParity, gpuTest, input } from "./gpu_helpers.ts";

// x = [[3, -4], [0, 12]]: |x| sums to 19, its squares to 9 + 16 + 144 = 169 = 13^2.
const X = () => tensor([[3, -4], [0, 12]], { dtype: "float64" });

Deno.test("norm: p = 1, 2, Infinity and 3 over all elements, as torch.norm", async () => {
  assert.equal(await X().norm(1).item(), 19);
  assert.equal(await X().norm().item(), 13);
  assert.equal(await X().norm(2).item(), 13);
  assert.equal(await X().norm(Infinity).item(), 12);
  // (27 + 64 + 0 + 1728)^(1/3) = 1819^(1/3) = 12.2079...; torch.norm(x, 3) gives 12.207885.
  assertClose(X().norm(3), tensor(Math.cbrt(1819), { dtype: "float64" }), { atol: 1e-12 });
  assert.deepEqual(X().norm().shape, []);
});

Deno.test("norm over a dimension, with and without keepdim, as torch.norm(x, p, dim)", async () => {
  assert.deepEqual(await X().norm(2, 1).toArray(), [5, 12]); // rows: sqrt(9 + 16), 12
  assert.deepEqual(await X().norm(1, 0).toArray(), [3, 16]); // columns: 3 + 0, 4 + 12
  assert.deepEqual(await X().norm(Infinity, 0).toArray(), [3, 12]);
  assert.deepEqual(await X().norm(2, -1, true).toArray(), [[5], [12]]);
  assert.deepEqual(await X().norm(1, [0, 1]).item(), 19);
  const batch = tensor([[[1, 2], [2, 4]], [[0, 0], [0, 0]]]); // [2, 2, 2]
  assert.deepEqual(await batch.norm(2, [1, 2]).toArray(), [5, 0]);
});

Deno.test("gradient of norm for p = 1, 2, Infinity and 3 over all elements and over dims", async () => {
  const cases: [string, (x: Tensor) => Tensor][] = [
    ["norm(1)", (x) => x.norm(1)],
    ["norm(2)", (x) => x.norm(2)],
    ["norm(Infinity)", (x) => x.norm(Infinity)],
    ["norm(3)", (x) => x.norm(3)],
    ["norm(1.5)", (x) => x.norm(1.5)],
    ["norm(2, dim 1)", (x) => x.norm(2, 1)],
    ["norm(2, dim 0, keepdim)", (x) => x.norm(2, 0, true)],
    ["norm(1, dim 1)", (x) => x.norm(1, 1)],
    ["norm(Infinity, dim 0)", (x) => x.norm(Infinity, 0)],
    ["norm(3, dims [0, 2])", (x) => x.reshape([3, 2, 2]).norm(3, [0, 2])],
    ["squared norm(2) (an L2 penalty)", (x) => x.norm(2).square()],
  ];
  for (const [name, fn] of cases) {
    const checked = await gradcheck(fn, [normal([3, 4])], { name });
    assert.ok(checked > 0, `${name}: nothing checked`);
  }
});

Deno.test("gradient of the 2-norm and 3-norm at a zero vector is 0, not NaN (as PyTorch)", async () => {
  for (const p of [2, 3, 1.5]) {
    const x = zeros([2, 3], { dtype: "float64", requiresGrad: true });
    x.norm(p).backward();
    assert.deepEqual(await x.grad!.toArray(), [[0, 0, 0], [0, 0, 0]], `norm(${p})`);
  }
  // One zero row among non-zero ones: only that row's gradient is 0.
  const x = tensor([[3, 4], [0, 0]], { dtype: "float64", requiresGrad: true });
  x.norm(2, 1).sum().backward();
  assert.deepEqual(await x.grad!.toArray(), [[0.6, 0.8], [0, 0]]);
});

Deno.test("norm errors name the op, the bad p or dtype, and the fix", () => {
  assertThrowsWith(() => X().norm(0.5), ["norm", "p must be a number >= 1", "0.5"]);
  // deno-lint-ignore no-explicit-any
  assertThrowsWith(() => X().norm("fro" as any), ["norm", '"fro"', "p = 2"]);
  assertThrowsWith(() => X().norm(2, 2), ["norm", "2"]);
  assertThrowsWith(() => tensor([1, 2], { dtype: "int32" }).norm(), ["norm", "int32", "float()"]);
});

gpuTest("parity: norm for p = 1, 2, Infinity and 3, forward and gradient", async (t) => {
  const cases: [string, (x: Tensor) => Tensor][] = [
    ["norm(1)", (x) => x.norm(1)],
    ["norm(2)", (x) => x.norm()],
    ["norm(Infinity)", (x) => x.norm(Infinity)],
    ["norm(3, dim 1)", (x) => x.norm(3, 1)],
    ["norm(2, dim 0, keepdim)", (x) => x.norm(2, 0, true)],
  ];
  for (const [name, fn] of cases) {
    await t.step(
      name,
      () =>
        checkParity(name, [input([5, 37], 1, { low: -2, high: 2 })], fn, {
          atol: 1e-4,
          rtol: 2e-4,
        }),
    );
  }
});
