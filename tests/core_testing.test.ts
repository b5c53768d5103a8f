/**
 * The testing helpers themselves: gradcheck catches a wrong backward rule and says where, and
 * assertClose reports the first value that differs.
 */
import assert from "node:assert/strict";
import { assertClose, gradcheck, type Tensor, tensor } from "../mod.ts";
import { record } from "../core/autograd.ts";
import { assertRejectsWith, normal } from "./core_helpers.ts";

/** `x * x` with a deliberately wrong backward rule (x instead of 2x). */
function badSquare(x: Tensor): Tensor {
  const out = x.detach().mul(x.detach());
  return record("badSquare", out, [x], (grad) => [grad.mul(x.detach())]);
}

Deno.test("gradcheck catches a wrong backward rule and names the op, input and index", async () => {
  await assertRejectsWith(() => gradcheck(badSquare, [normal([2, 2])], { name: "badSquare" }), [
    "gradcheck(badSquare)",
    "input 0 of shape [2, 2]",
    "flat index 0",
    "autograd",
    "numerical",
    "tolerance",
  ]);
});

Deno.test("gradcheck passes a correct rule and counts the entries it checked", async () => {
  const checked = await gradcheck((a, b) => a.mul(b), [normal([2, 3], 1), normal([3], 2)]);
  assert.equal(checked, 9);
});

Deno.test("gradcheck skips inputs that do not require a gradient", async () => {
  const fixed = tensor([1, 2, 3], { dtype: "float64" });
  const checked = await gradcheck((a, b) => a.mul(b), [normal([3]), fixed]);
  assert.equal(checked, 3);
});

Deno.test("gradcheck refuses float32 inputs and says why", async () => {
  await assertRejectsWith(
    () => gradcheck((a) => a.exp(), [tensor([1, 2], { requiresGrad: true })], { name: "exp" }),
    ["gradcheck(exp)", "float64", "float32"],
  );
});

Deno.test("assertClose reports the index, both values and the tolerance", async () => {
  await assertClose(tensor([1, 2]), [1, 2 + 1e-7]);
  await assertRejectsWith(() => assertClose(tensor([1, 2, 3]), [1, 2.5, 3], {}, "probe"), [
    "probe",
    "flat index 1",
    "got 2",
    "expected 2.5",
    "atol=",
  ]);
  await assertRejectsWith(() => assertClose(tensor([[1, 2]]), tensor([1, 2])), [
    "shape [1, 2]",
    "[2]",
  ]);
  await assertRejectsWith(() => assertClose([Number.NaN], [0]), ["got NaN"]);
  await assertRejectsWith(() => assertClose([1], [Infinity]), ["expected Infinity"]);
  await assertClose([Infinity, -Infinity], [Infinity, -Infinity]);
});
