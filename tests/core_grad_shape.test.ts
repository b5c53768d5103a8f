/**
 * Gradient checks for the shape ops (reshape to gather) and for matmul in all its forms.
 */
import assert from "node:assert/strict";
import { cat, gradcheck, matmul, stack, type Tensor, tensor } from "../mod.ts";
import { normal } from "./core_helpers.ts";

interface Case {
  name: string;
  fn: (...inputs: Tensor[]) => Tensor;
  inputs: () => Tensor[];
  shape?: number[];
}

function check(cases: Case[]): void {
  for (const { name, fn, inputs, shape } of cases) {
    Deno.test(`gradient of ${name}`, async () => {
      const given = inputs();
      if (shape) {
        const got = fn(...given).shape;
        assert.deepEqual(got, shape, `${name}: output shape [${got}], expected [${shape}]`);
      }
      const checked = await gradcheck(fn, given, { name });
      assert.ok(checked > 0, `${name}: no input entry was checked`);
    });
  }
}

const int = (values: number[] | number[][]) => tensor(values, { dtype: "int32" });

// ---- views and reorderings -------------------------------------------------------------------

check([
  {
    name: "reshape [2, 3, 4] -> [6, 4]",
    fn: (x) => x.reshape([6, 4]).mul(x.reshape([6, 4])),
    inputs: () => [normal([2, 3, 4])],
    shape: [6, 4],
  },
  {
    name: "reshape with an inferred size (-1)",
    fn: (x) => x.reshape([4, -1]).exp(),
    inputs: () => [normal([2, 3, 2])],
    shape: [4, 3],
  },
  {
    name: "view [3, 4] -> [2, 6]",
    fn: (x) => x.view([2, 6]).exp(),
    inputs: () => [normal([3, 4])],
  },
  {
    name: "flatten of all dims",
    fn: (x) => x.flatten().mul(tensor([1, 2, 3, 4, 5, 6], { dtype: "float64" })),
    inputs: () => [normal([2, 3])],
    shape: [6],
  },
  {
    name: "flatten of dims 1..2 of [2, 3, 4, 5]",
    fn: (x) => x.flatten(1, 2).exp(),
    inputs: () => [normal([2, 3, 4, 5])],
    shape: [2, 12, 5],
  },
  {
    name: "squeeze of every size-1 dim",
    fn: (x) => x.squeeze().exp(),
    inputs: () => [normal([1, 3, 1, 2])],
    shape: [3, 2],
  },
  {
    name: "squeeze of one dim",
    fn: (x) => x.squeeze(2).exp(),
    inputs: () => [normal([1, 3, 1, 2])],
    shape: [1, 3, 2],
  },
  {
    name: "unsqueeze at 0",
    fn: (x) => x.unsqueeze(0).exp(),
    inputs: () => [normal([3, 2])],
    shape: [1, 3, 2],
  },
  {
    name: "unsqueeze at -1, then broadcast",
    fn: (x) => x.unsqueeze(-1).mul(tensor([1, -2], { dtype: "float64" })),
    inputs: () => [normal([3, 2])],
    shape: [3, 2, 2],
  },
  {
    name: "transpose of a matrix",
    fn: (x) => x.transpose(0, 1).mul(tensor([[1, 2], [3, 4], [5, 6]], { dtype: "float64" })),
    inputs: () => [normal([2, 3])],
    shape: [3, 2],
  },
  {
    name: "transpose of dims 0 and 2 of [2, 3, 4]",
    fn: (x) => x.transpose(0, -1).exp(),
    inputs: () => [normal([2, 3, 4])],
    shape: [4, 3, 2],
  },
  { name: "the T property", fn: (x) => x.T.exp(), inputs: () => [normal([2, 3])], shape: [3, 2] },
  {
    name: "permute [2, 3, 4] by [2, 0, 1]",
    fn: (x) => x.permute([2, 0, 1]).exp(),
    inputs: () => [normal([2, 3, 4])],
    shape: [4, 2, 3],
  },
  {
    name: "expand [3, 1] -> [2, 3, 4] (new leading dim and a stretched dim)",
    fn: (x) => x.expand([2, 3, 4]).exp(),
    inputs: () => [normal([3, 1])],
    shape: [2, 3, 4],
  },
  {
    name: "expand with -1 keeping a size",
    fn: (x) => x.expand([-1, 5]).exp(),
    inputs: () => [normal([2, 1])],
    shape: [2, 5],
  },
  { name: "clone", fn: (x) => x.clone().exp(), inputs: () => [normal([2, 2])] },
]);

// ---- joining and slicing ---------------------------------------------------------------------

check([
  {
    name: "cat of three tensors along dim 0",
    fn: (a, b, c) => cat([a, b, c], 0).exp(),
    inputs: () => [normal([1, 3], 1), normal([2, 3], 2), normal([3, 3], 3)],
    shape: [6, 3],
  },
  {
    name: "cat along the last dim",
    fn: (a, b) => cat([a, b], -1).exp(),
    inputs: () => [normal([2, 2, 1], 1), normal([2, 2, 3], 2)],
    shape: [2, 2, 4],
  },
  {
    name: "cat of a tensor with itself",
    fn: (a) => cat([a, a.mul(2)], 1).exp(),
    inputs: () => [normal([2, 2])],
    shape: [2, 4],
  },
  {
    name: "stack along dim 0",
    fn: (a, b) => stack([a, b]).exp(),
    inputs: () => [normal([2, 3], 1), normal([2, 3], 2)],
    shape: [2, 2, 3],
  },
  {
    name: "stack along the last dim",
    fn: (a, b, c) => stack([a, b, c], -1).exp(),
    inputs: () => [normal([2, 3], 1), normal([2, 3], 2), normal([2, 3], 3)],
    shape: [2, 3, 3],
  },
  {
    name: "slice of dim 1 with step 2",
    fn: (x) => x.slice(1, 1, 6, 2).exp(),
    inputs: () => [normal([2, 7])],
    shape: [2, 3],
  },
  {
    name: "slice with a negative start and step 3",
    fn: (x) => x.slice(0, -5, undefined, 3).exp(),
    inputs: () => [normal([6, 2])],
    shape: [2, 2],
  },
  {
    name: "slice of the middle dim of [2, 5, 3]",
    fn: (x) => x.slice(1, 1, 4).exp(),
    inputs: () => [normal([2, 5, 3])],
    shape: [2, 3, 3],
  },
  {
    name: "narrow",
    fn: (x) => x.narrow(1, 1, 2).exp(),
    inputs: () => [normal([3, 4])],
    shape: [3, 2],
  },
  {
    name: "narrow with a negative start",
    fn: (x) => x.narrow(0, -2, 2).exp(),
    inputs: () => [normal([4, 2])],
    shape: [2, 2],
  },
]);

// ---- indexing --------------------------------------------------------------------------------

check([
  {
    name: "indexSelect of rows with repeated indices",
    fn: (x) => x.indexSelect(0, int([2, 0, 2, 2, 1])).exp(),
    inputs: () => [normal([3, 4])],
    shape: [5, 4],
  },
  {
    name: "indexSelect of columns with repeated indices",
    fn: (x) => x.indexSelect(1, int([3, 3, 0])).exp(),
    inputs: () => [normal([2, 4])],
    shape: [2, 3],
  },
  {
    name: "indexSelect along the middle dim of [2, 3, 2]",
    fn: (x) => x.indexSelect(1, int([1, 1])).exp(),
    inputs: () => [normal([2, 3, 2])],
    shape: [2, 2, 2],
  },
  {
    name: "gather along dim 1 with repeated indices",
    fn: (x) => x.gather(1, int([[0, 0, 2], [1, 3, 3]])).exp(),
    inputs: () => [normal([2, 4])],
    shape: [2, 3],
  },
  {
    name: "gather along dim 0",
    fn: (x) => x.gather(0, int([[2, 0], [2, 2], [1, 0], [0, 1]])).exp(),
    inputs: () => [normal([3, 2])],
    shape: [4, 2],
  },
  {
    name: "gather of one class score per row (as cross entropy does)",
    fn: (x) => x.logSoftmax(1).gather(1, int([[1], [0], [2]])),
    inputs: () => [normal([3, 3])],
    shape: [3, 1],
  },
]);

// ---- matmul ------------------------------------------------------------------------------------

check([
  {
    name: "matmul 2-D [3, 4] @ [4, 5]",
    fn: (a, b) => a.matmul(b),
    inputs: () => [normal([3, 4], 1), normal([4, 5], 2)],
    shape: [3, 5],
  },
  {
    name: "matmul with 6 rows (register-blocked and leftover rows)",
    fn: (a, b) => a.matmul(b),
    inputs: () => [normal([6, 3], 1), normal([3, 2], 2)],
    shape: [6, 2],
  },
  {
    name: "matmul 1-D @ 2-D (a row vector)",
    fn: (a, b) => a.matmul(b),
    inputs: () => [normal([4], 1), normal([4, 3], 2)],
    shape: [3],
  },
  {
    name: "matmul 2-D @ 1-D (a column vector)",
    fn: (a, b) => a.matmul(b),
    inputs: () => [normal([3, 4], 1), normal([4], 2)],
    shape: [3],
  },
  {
    name: "matmul 1-D @ 1-D (a dot product)",
    fn: (a, b) => matmul(a, b),
    inputs: () => [normal([5], 1), normal([5], 2)],
    shape: [],
  },
  {
    name: "matmul batched [2, 3, 4] @ [2, 4, 5]",
    fn: (a, b) => a.matmul(b),
    inputs: () => [normal([2, 3, 4], 1), normal([2, 4, 5], 2)],
    shape: [2, 3, 5],
  },
  {
    name: "matmul broadcasting the right matrix: [2, 3, 4] @ [4, 5]",
    fn: (a, b) => a.matmul(b),
    inputs: () => [normal([2, 3, 4], 1), normal([4, 5], 2)],
    shape: [2, 3, 5],
  },
  {
    name: "matmul broadcasting the left matrix: [3, 4] @ [2, 4, 5]",
    fn: (a, b) => a.matmul(b),
    inputs: () => [normal([3, 4], 1), normal([2, 4, 5], 2)],
    shape: [2, 3, 5],
  },
  {
    name: "matmul broadcasting batch dims both ways: [2, 1, 3, 4] @ [5, 4, 2]",
    fn: (a, b) => a.matmul(b),
    inputs: () => [normal([2, 1, 3, 4], 1), normal([5, 4, 2], 2)],
    shape: [2, 5, 3, 2],
  },
  {
    name: "matmul broadcasting size-1 batch dims: [1, 3, 2, 4] @ [2, 1, 4, 3]",
    fn: (a, b) => a.matmul(b),
    inputs: () => [normal([1, 3, 2, 4], 1), normal([2, 1, 4, 3], 2)],
    shape: [2, 3, 2, 3],
  },
  {
    name: "matmul 1-D @ batched 3-D",
    fn: (a, b) => a.matmul(b),
    inputs: () => [normal([4], 1), normal([2, 4, 3], 2)],
    shape: [2, 3],
  },
  {
    name: "matmul batched 3-D @ 1-D",
    fn: (a, b) => a.matmul(b),
    inputs: () => [normal([2, 3, 4], 1), normal([4], 2)],
    shape: [2, 3],
  },
  {
    name: "matmul of a matrix with its own transpose",
    fn: (a) => a.matmul(a.T),
    inputs: () => [normal([3, 2])],
    shape: [3, 3],
  },
  {
    name: "a linear layer: x @ W^T + b",
    fn: (x, w, b) => x.matmul(w.T).add(b).relu(),
    inputs: () => [normal([4, 3], 1), normal([2, 3], 2), normal([2], 3)],
    shape: [4, 2],
  },
]);
