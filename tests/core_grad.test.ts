/**
 * Gradient checks (float64 central differences against autograd) for the elementwise ops,
 * broadcasting, the reductions and softmax. Each case is its own test, named after what it
 * checks, so a failure says which op and which shapes broke.
 */
import assert from "node:assert/strict";
import { gradcheck, type Tensor, tensor, where } from "../mod.ts";
import { normal, uniform } from "./core_helpers.ts";

interface Case {
  name: string;
  fn: (...inputs: Tensor[]) => Tensor;
  inputs: () => Tensor[];
}

function check(cases: Case[]): void {
  for (const { name, fn, inputs } of cases) {
    Deno.test(`gradient of ${name}`, async () => {
      const checked = await gradcheck(fn, inputs(), { name });
      assert.ok(checked > 0, `${name}: no input entry was checked`);
    });
  }
}

// ---- elementwise arithmetic ------------------------------------------------------------------

check([
  {
    name: "add of two [2, 3] tensors",
    fn: (a, b) => a.add(b),
    inputs: () => [normal([2, 3], 1), normal([2, 3], 2)],
  },
  { name: "add of a scalar", fn: (a) => a.add(2.5), inputs: () => [normal([2, 3])] },
  {
    name: "sub of two [2, 3] tensors",
    fn: (a, b) => a.sub(b),
    inputs: () => [normal([2, 3], 1), normal([2, 3], 2)],
  },
  { name: "sub of a scalar", fn: (a) => a.sub(1.5), inputs: () => [normal([4])] },
  {
    name: "mul of two [2, 3] tensors",
    fn: (a, b) => a.mul(b),
    inputs: () => [normal([2, 3], 1), normal([2, 3], 2)],
  },
  { name: "mul by a scalar", fn: (a) => a.mul(-3), inputs: () => [normal([2, 3])] },
  {
    name: "div of two tensors (divisor away from 0)",
    fn: (a, b) => a.div(b),
    inputs: () => [normal([2, 3], 1), uniform([2, 3], 0.5, 2, 2)],
  },
  { name: "div by a scalar", fn: (a) => a.div(4), inputs: () => [normal([2, 3])] },
  {
    name: "div of a scalar tensor by a tensor",
    fn: (a, b) => a.div(b),
    inputs: () => [normal([], 3), uniform([3], -2, -0.5, 4)],
  },
  { name: "neg", fn: (a) => a.neg(), inputs: () => [normal([2, 3])] },
  {
    name: "pow with a tensor exponent (positive base)",
    fn: (a, b) => a.pow(b),
    inputs: () => [uniform([2, 3], 0.5, 2, 1), normal([2, 3], 2)],
  },
  {
    name: "pow with a broadcast tensor exponent",
    fn: (a, b) => a.pow(b),
    inputs: () => [uniform([2, 3], 0.5, 2, 1), normal([3], 2)],
  },
  {
    name: "pow with scalar exponent 2.5",
    fn: (a) => a.pow(2.5),
    inputs: () => [uniform([5], 0.5, 2)],
  },
  {
    name: "pow with scalar exponent -1.5",
    fn: (a) => a.pow(-1.5),
    inputs: () => [uniform([5], 0.5, 2)],
  },
  {
    name: "pow of a negative base with integer exponent 3",
    fn: (a) => a.pow(3),
    inputs: () => [uniform([5], -2, -0.5)],
  },
  {
    name: "pow of a negative base with integer exponent -2",
    fn: (a) => a.pow(-2),
    inputs: () => [uniform([5], -2, -0.5)],
  },
  {
    name: "pow of a negative base with an integer tensor exponent",
    fn: (a) => a.pow(tensor([2, 3, -1, 4], { dtype: "float64" })),
    inputs: () => [uniform([4], -2, -0.5)],
  },
  { name: "exp", fn: (a) => a.exp(), inputs: () => [normal([2, 3])] },
  { name: "log", fn: (a) => a.log(), inputs: () => [uniform([2, 3], 0.2, 3)] },
  { name: "sqrt", fn: (a) => a.sqrt(), inputs: () => [uniform([2, 3], 0.2, 3)] },
  { name: "abs (no entry at 0)", fn: (a) => a.abs(), inputs: () => [normal([2, 4])] },
  { name: "clamp with both bounds", fn: (a) => a.clamp(-0.5, 0.5), inputs: () => [normal([3, 4])] },
  {
    name: "clamp with a lower bound only",
    fn: (a) => a.clamp(0.1),
    inputs: () => [normal([3, 4])],
  },
  {
    name: "clamp with an upper bound only",
    fn: (a) => a.clamp(undefined, 0.1),
    inputs: () => [normal([3, 4])],
  },
  {
    name: "maximum of two tensors",
    fn: (a, b) => a.maximum(b),
    inputs: () => [normal([2, 3], 1), normal([2, 3], 2)],
  },
  {
    name: "maximum with a broadcast row",
    fn: (a, b) => a.maximum(b),
    inputs: () => [normal([2, 3], 1), normal([3], 2)],
  },
  { name: "maximum with a scalar", fn: (a) => a.maximum(0.2), inputs: () => [normal([2, 3])] },
  {
    name: "minimum of two tensors",
    fn: (a, b) => a.minimum(b),
    inputs: () => [normal([2, 3], 1), normal([2, 3], 2)],
  },
  {
    name: "minimum with a broadcast column",
    fn: (a, b) => a.minimum(b),
    inputs: () => [normal([2, 3], 1), normal([2, 1], 2)],
  },
]);

// ---- activations -----------------------------------------------------------------------------

check([
  { name: "relu", fn: (a) => a.relu(), inputs: () => [normal([3, 4])] },
  {
    name: "leakyRelu with the default slope",
    fn: (a) => a.leakyRelu(),
    inputs: () => [normal([3, 4])],
  },
  { name: "leakyRelu with slope 0.2", fn: (a) => a.leakyRelu(0.2), inputs: () => [normal([3, 4])] },
  {
    name: "sigmoid",
    fn: (a) => a.sigmoid(),
    inputs: () => [normal([3, 4]).mul(3).detach().requiresGrad_()],
  },
  {
    name: "tanh",
    fn: (a) => a.tanh(),
    inputs: () => [normal([3, 4]).mul(2).detach().requiresGrad_()],
  },
  // The erf approximation is good to 1.5e-7, so its derivative is checked a little looser.
  {
    name: "gelu",
    fn: (a) => a.gelu(),
    inputs: () => [normal([3, 4]).mul(2).detach().requiresGrad_()],
  },
  {
    name: "where with a broadcast condition and a broadcast second branch",
    fn: (a, b) => where(tensor([[1], [0]], { dtype: "float64" }), a, b),
    inputs: () => [normal([2, 3], 1), normal([3], 2)],
  },
  {
    name: "where with a mixed condition",
    fn: (a, b) => where(tensor([[1, 0, 1], [0, 0, 1]]), a, b),
    inputs: () => [normal([2, 3], 1), normal([2, 3], 2)],
  },
  {
    name: "where with a scalar second branch",
    fn: (a) => where(a.gt(0), a, 0.5),
    inputs: () => [normal([2, 3])],
  },
]);

// ---- broadcasting ----------------------------------------------------------------------------

check([
  {
    name: "add [2, 3] + [3] (row broadcast)",
    fn: (a, b) => a.add(b),
    inputs: () => [normal([2, 3], 1), normal([3], 2)],
  },
  {
    name: "add [3] + [2, 3] (broadcast on the left)",
    fn: (a, b) => a.add(b),
    inputs: () => [normal([3], 1), normal([2, 3], 2)],
  },
  {
    name: "add [2, 1] + [1, 3] (both operands broadcast)",
    fn: (a, b) => a.add(b),
    inputs: () => [normal([2, 1], 1), normal([1, 3], 2)],
  },
  {
    name: "mul [2, 1] * [1, 3] (both operands broadcast)",
    fn: (a, b) => a.mul(b),
    inputs: () => [normal([2, 1], 1), normal([1, 3], 2)],
  },
  {
    name: "sub [4, 1, 3] - [2, 1]",
    fn: (a, b) => a.sub(b),
    inputs: () => [normal([4, 1, 3], 1), normal([2, 1], 2)],
  },
  {
    name: "div [2, 3] / [2, 1]",
    fn: (a, b) => a.div(b),
    inputs: () => [normal([2, 3], 1), uniform([2, 1], 0.5, 2, 2)],
  },
  {
    name: "mul by a 0-d tensor",
    fn: (a, b) => a.mul(b),
    inputs: () => [normal([2, 3], 1), normal([], 2)],
  },
  {
    name: "add of a 0-d tensor and a [2, 3] tensor",
    fn: (a, b) => a.add(b),
    inputs: () => [normal([], 1), normal([2, 3], 2)],
  },
]);

// ---- a node used several times -------------------------------------------------------------

check([
  { name: "a + a (one node used twice)", fn: (a) => a.add(a), inputs: () => [normal([2, 3])] },
  { name: "a * a", fn: (a) => a.mul(a), inputs: () => [normal([2, 3])] },
  {
    name: "a node used four times: (a*b + a) * (a - exp(a))",
    fn: (a, b) => a.mul(b).add(a).mul(a.sub(a.exp())),
    inputs: () => [normal([3], 1), normal([3], 2)],
  },
  {
    name: "an intermediate used by several branches",
    fn: (a) => {
      const h = a.tanh();
      return h.mul(h).add(h.sigmoid()).sub(h.sum());
    },
    inputs: () => [normal([2, 2])],
  },
]);

// ---- reductions ------------------------------------------------------------------------------

const reductions: [string, (x: Tensor, dims: number[] | undefined, keepdim: boolean) => Tensor][] =
  [
    ["sum", (x, d, k) => x.sum(d, k)],
    ["mean", (x, d, k) => x.mean(d, k)],
    ["max", (x, d, k) => x.max(d, k)],
    ["min", (x, d, k) => x.min(d, k)],
    ["var", (x, d, k) => x.var(d, { keepdim: k })],
    ["std", (x, d, k) => x.std(d, { keepdim: k })],
    ["logsumexp", (x, d, k) => x.logsumexp(d ?? [0, 1, 2], k)],
  ];
const dimCases: [string, number[] | undefined][] = [
  ["dim 1", [1]],
  ["the last dim (-1)", [-1]],
  ["dims [0, 2]", [0, 2]],
  ["dims [1, 2]", [1, 2]],
  ["all dims", undefined],
];
for (const [op, reduce] of reductions) {
  for (const [dimName, dims] of dimCases) {
    for (const keepdim of [false, true]) {
      check([{
        name: `${op} of [2, 3, 4] over ${dimName}${keepdim ? " with keepdim" : ""}`,
        fn: (x) => reduce(x, dims, keepdim),
        inputs: () => [normal([2, 3, 4], 7)],
      }]);
    }
  }
}

check([
  {
    name: "var with correction 0 (biased) over dims [0, 1]",
    fn: (x) => x.var([0, 1], { correction: 0 }),
    inputs: () => [normal([3, 4, 2])],
  },
  {
    name: "std with correction 0 and keepdim",
    fn: (x) => x.std(1, { correction: 0, keepdim: true }),
    inputs: () => [normal([3, 4])],
  },
  {
    name: "logsumexp of large values (1000 + noise)",
    fn: (x) => x.add(1000).logsumexp(1),
    inputs: () => [normal([2, 5])],
  },
  { name: "sum of a 0-d tensor", fn: (x) => x.sum(), inputs: () => [normal([])] },
  { name: "mean over a size-1 dim", fn: (x) => x.mean(1), inputs: () => [normal([3, 1, 2])] },
]);

// ---- softmax -------------------------------------------------------------------------------

check([
  { name: "softmax over the last dim", fn: (x) => x.softmax(-1), inputs: () => [normal([3, 5])] },
  { name: "softmax over dim 0", fn: (x) => x.softmax(0), inputs: () => [normal([3, 5])] },
  {
    name: "softmax over the middle dim of [2, 3, 4]",
    fn: (x) => x.softmax(1),
    inputs: () => [normal([2, 3, 4])],
  },
  {
    name: "logSoftmax over the last dim",
    fn: (x) => x.logSoftmax(-1),
    inputs: () => [normal([3, 5])],
  },
  { name: "logSoftmax over dim 0", fn: (x) => x.logSoftmax(0), inputs: () => [normal([4, 2])] },
  {
    name: "softmax of large logits (around 1000)",
    fn: (x) => x.mul(3).add(1000).softmax(1),
    inputs: () => [normal([2, 4])],
  },
  {
    name: "logSoftmax of large logits (around -1000 and 1000)",
    fn: (x) => x.mul(tensor([[1000], [-1000]], { dtype: "float64" })).logSoftmax(1),
    inputs: () => [uniform([2, 4], 0.99, 1.01)],
  },
]);

Deno.test("softmax and logSoftmax of logits like 1000 give no NaN or infinity", async () => {
  const logits = tensor([[1000, 999, 0], [-1000, -1001, -1002]], { requiresGrad: true });
  const probs = logits.softmax(1);
  const logProbs = logits.logSoftmax(1);
  const values = [...(await probs.data()), ...(await logProbs.data())];
  assert.ok(values.every(Number.isFinite), `non-finite values: ${values}`);
  const row = await probs.toArray() as number[][];
  assert.ok(Math.abs(row[0][0] - 0.7310586) < 1e-6, `softmax [1000, 999, 0][0] = ${row[0][0]}`);
  const lp = await logProbs.toArray() as number[][];
  assert.ok(Math.abs(lp[1][0] - -0.4076059) < 1e-5, `logSoftmax row 2 = ${lp[1]}`);
  logProbs.sum().add(probs.mul(probs).sum()).backward();
  assert.ok((await logits.grad!.data()).every(Number.isFinite), "the gradient has NaN or inf");
});
