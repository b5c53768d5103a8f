/**
 * sort, topk and kthvalue: values and indices against PyTorch 1.13, stability with ties,
 * gradients (float64 central differences), CPU / WebGPU parity and errors.
 *
 * The PyTorch numbers were produced once by this script:
 *
 * ```python
 * import torch
 * def seq(n, f, scale): return f(scale * torch.arange(n, dtype=torch.float64))
 * def show(name, t): print(name, list(t.shape), [float('%.10g' % v) for v in t.flatten().tolist()])
 * x = seq(15, torch.sin, 1.7).reshape(3, 5)
 * v, i = torch.sort(x, 1); show("sort1", v); show("sort1i", i)
 * v, i = torch.sort(x, 0, descending=True); show("sort0d", v); show("sort0di", i)
 * t = torch.tensor([[2., 1, 2, 0, 1], [3, 3, 3, 1, 1]], dtype=torch.float64)
 * v, i = torch.sort(t, dim=1, stable=True); show("ties", v); show("tiesi", i)
 * v, i = torch.sort(t, dim=1, descending=True, stable=True); show("tiesd", v); show("tiesdi", i)
 * v, i = torch.topk(x, 2, 1); show("topk", v); show("topki", i)
 * v, i = torch.topk(x, 2, 0, largest=False); show("topk0s", v); show("topk0si", i)
 * v, i = torch.kthvalue(x, 3, 1); show("kth", v); show("kthi", i)
 * v, i = torch.kthvalue(x, 2, 0, keepdim=True); show("kth0", v); show("kth0i", i)
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  assertClose,
  gradcheck,
  kthvalue,
  sort,
  type SortResult,
  type Tensor,
  tensor,
  topk,
} from "../mod.ts";
import { assertThrowsWith, normal } from "./core_helpers.ts";
import { checkParity, gpuTest, input } from "./gpu_helpers.ts";

/** `f(scale * i)` for i = 0..n-1 as a float64 tensor of `shape` (the script's `seq`). */
function seq(shape: number[], f: (x: number) => number, scale: number): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return tensor(Float64Array.from({ length: n }, (_, i) => f(scale * i)), {
    shape,
    dtype: "float64",
  });
}

async function expectTorch(
  name: string,
  { values, indices }: SortResult,
  shape: number[],
  expectedValues: number[],
  expectedIndices: number[],
) {
  assert.deepEqual(values.shape, shape, `${name}: shape [${values.shape}], PyTorch has [${shape}]`);
  assert.equal(indices.dtype, "int32", `${name}: indices are ${indices.dtype}, expected int32`);
  await assertClose(values, expectedValues, { atol: 1e-8, rtol: 1e-8 }, `${name} values`);
  assert.deepEqual(
    [...await indices.data()],
    expectedIndices,
    `${name}: indices differ from PyTorch's`,
  );
}

const x = () => seq([3, 5], Math.sin, 1.7);

Deno.test("sort along each dimension, ascending and descending, matches PyTorch", async () => {
  await expectTorch("sort dim 1", sort(x(), { dim: 1 }), [3, 5], [
    -0.9258146823,
    -0.255541102,
    0.0,
    0.4941133511,
    0.9916648105,
    -0.6998746876,
    -0.6181371122,
    0.3967405731,
    0.7984871126,
    0.8591618149,
    -0.9717984457,
    -0.9613974919,
    -0.1489990258,
    -0.1086365954,
    0.9997929001,
  ], [3, 2, 0, 4, 1, 1, 2, 4, 0, 3, 4, 0, 1, 3, 2]);
  await expectTorch("sort dim 0 descending", x().sort({ dim: 0, descending: true }), [3, 5], [
    0.7984871126,
    0.9916648105,
    0.9997929001,
    0.8591618149,
    0.4941133511,
    0.0,
    -0.1489990258,
    -0.255541102,
    -0.1086365954,
    0.3967405731,
    -0.9613974919,
    -0.6998746876,
    -0.6181371122,
    -0.9258146823,
    -0.9717984457,
  ], [1, 0, 2, 1, 0, 0, 2, 0, 2, 1, 2, 1, 1, 0, 2]);
});

Deno.test("sort is stable: tied values keep their order, both ways, as PyTorch's stable sort", async () => {
  const t = tensor([[2, 1, 2, 0, 1], [3, 3, 3, 1, 1]], { dtype: "float64" });
  await expectTorch("sort with ties", sort(t), [2, 5], [0, 1, 1, 2, 2, 1, 1, 3, 3, 3], [
    3,
    1,
    4,
    0,
    2,
    3,
    4,
    0,
    1,
    2,
  ]);
  await expectTorch("sort with ties descending", sort(t, { descending: true }), [2, 5], [
    2,
    2,
    1,
    1,
    0,
    3,
    3,
    3,
    1,
    1,
  ], [0, 2, 1, 4, 3, 0, 1, 2, 3, 4]);
});

Deno.test("topk of the largest and of the smallest matches PyTorch", async () => {
  await expectTorch("topk 2 along dim 1", topk(x(), 2, { dim: 1 }), [3, 2], [
    0.9916648105,
    0.4941133511,
    0.8591618149,
    0.7984871126,
    0.9997929001,
    -0.1086365954,
  ], [1, 4, 3, 0, 2, 3]);
  await expectTorch("topk 2 smallest along dim 0", x().topk(2, { dim: 0, largest: false }), [
    2,
    5,
  ], [
    -0.9613974919,
    -0.6998746876,
    -0.6181371122,
    -0.9258146823,
    -0.9717984457,
    0.0,
    -0.1489990258,
    -0.255541102,
    -0.1086365954,
    0.3967405731,
  ], [2, 1, 1, 0, 2, 0, 2, 0, 2, 1]);
});

Deno.test("kthvalue with and without keepdim matches PyTorch", async () => {
  await expectTorch("kthvalue 3 along dim 1", kthvalue(x(), 3, { dim: 1 }), [3], [
    0.0,
    0.3967405731,
    -0.1489990258,
  ], [0, 4, 1]);
  await expectTorch(
    "kthvalue 2 along dim 0 keepdim",
    x().kthvalue(2, { dim: 0, keepdim: true }),
    [
      1,
      5,
    ],
    [0.0, -0.1489990258, -0.255541102, -0.1086365954, 0.3967405731],
    [0, 2, 0, 2, 1],
  );
});

Deno.test("sort puts NaN last (largest) on the CPU, as PyTorch", async () => {
  const { indices } = sort(tensor([NaN, 1, -Infinity, 2]));
  assert.deepEqual([...await indices.data()], [2, 1, 3, 0]);
});

Deno.test("sort, topk and kthvalue of a 0-d tensor and of int32 values", async () => {
  const scalar = sort(tensor(4));
  assert.deepEqual(scalar.values.shape, []);
  assert.equal(await scalar.values.item(), 4);
  const ints = topk(tensor([5, -2, 9, 0], { dtype: "int32" }), 3);
  assert.equal(ints.values.dtype, "int32");
  assert.deepEqual([...await ints.values.data()], [9, 5, 0]);
  assert.deepEqual([...await topk(tensor([1, 2]), 0).values.data()], []);
});

for (
  const [name, fn] of [
    ["sort along dim 1", (a: Tensor) => sort(a, { dim: 1 }).values],
    ["sort along dim 0 descending", (a: Tensor) => sort(a, { dim: 0, descending: true }).values],
    ["topk 2 along dim 1", (a: Tensor) => topk(a, 2, { dim: 1 }).values],
    ["topk 1 smallest along dim 0", (a: Tensor) => topk(a, 1, { dim: 0, largest: false }).values],
    ["kthvalue 2 along dim 1", (a: Tensor) => kthvalue(a, 2, { dim: 1 }).values],
  ] as const
) {
  Deno.test(`gradient of ${name} goes to the picked entries only`, async () => {
    const checked = await gradcheck(fn, [normal([3, 4], 7)], { name });
    assert.ok(checked > 0, `${name}: no input entry was checked`);
  });
}

Deno.test("sort, topk and kthvalue with bad arguments say what was expected", () => {
  const t = tensor([[1, 2, 3], [4, 5, 6]]);
  assertThrowsWith(() => topk(t, 4), ["topk", "k (4)", "from 0 to 3", "[2, 3]"]);
  assertThrowsWith(() => topk(t, 1.5), ["topk", "k (1.5)"]);
  assertThrowsWith(() => kthvalue(t, 0), ["kthvalue", "k (0)", "from 1 to 3", "k = 1 is the min"]);
  assertThrowsWith(() => sort(t, { dim: 2 }), ["sort", "dimension 2 is out of range"]);
  assertThrowsWith(() => topk(t, 2, 0 as never), ["topk", "{ dim: 0 }"]);
  assertThrowsWith(() => sort(t, { descend: true } as never), ["sort", "descending"]);
  assertThrowsWith(() => sort([3, 1, 2] as never), ["sort", "expected a tensor"]);
});

gpuTest("parity: sort, topk and kthvalue, forward and gradient", async (t) => {
  // Distinct values (a shuffled ramp), so that both devices agree on the order of every entry.
  const ramp = () => {
    const n = 4 * 37;
    const values = Float32Array.from({ length: n }, (_, i) => ((i * 53) % n) / n - 0.5);
    return tensor(values, { shape: [4, 37], requiresGrad: true });
  };
  const cases: [string, () => Tensor, (a: Tensor) => Tensor][] = [
    ["sort along the last dim", ramp, (a) => a.sort().values],
    [
      "sort indices along dim 0 descending",
      ramp,
      (a) => a.sort({ dim: 0, descending: true }).indices,
    ],
    ["topk 5 along the last dim", ramp, (a) => a.topk(5).values],
    ["topk 2 smallest along dim 0", ramp, (a) => a.topk(2, { dim: 0, largest: false }).values],
    ["kthvalue 10 along the last dim", ramp, (a) => a.kthvalue(10).values],
    ["sort of random values", () => input([3, 65], 21), (a) => a.sort({ descending: true }).values],
    ["sort across several workgroups", () => input([2, 700], 22), (a) => a.sort().values],
    ["topk of a long line", () => input([3000], 23), (a) => a.topk(40, { largest: false }).values],
    ["sort along a middle dim", () => input([3, 50, 7], 24), (a) => a.sort({ dim: 1 }).values],
  ];
  for (const [name, make, fn] of cases) {
    await t.step(name, () => checkParity(name, [make()], fn));
  }
  const ties = tensor([[2, 1, 2, 0, 1], [3, 3, 3, 1, 1]]);
  await t.step("stable order of ties", () => checkParity("ties", [ties], (a) => a.sort().indices));
});
