/**
 * The mechanics of autograd: deep graphs, accumulation, zeroGrad, detach, requiresGrad_,
 * retainGrad, noGrad, explicit gradients for non-scalars, and backward through a freed graph.
 */
import assert from "node:assert/strict";
import {
  isGradEnabled,
  noGrad,
  ones,
  onesLike,
  type Tensor,
  tensor,
  withNoGrad,
  zeros,
} from "../mod.ts";
import { assertThrowsWith } from "./core_helpers.ts";

const values = async (t: Tensor | null) => {
  assert.ok(t !== null, "expected a gradient, got null");
  return Array.from(await t.data());
};

Deno.test("a + a gives the gradient 2 (a node used twice collects both uses)", async () => {
  const a = tensor([1, -2, 3], { requiresGrad: true });
  a.add(a).sum().backward();
  assert.deepEqual(await values(a.grad), [2, 2, 2]);
});

Deno.test("a node used many times sums the gradient of every use", async () => {
  const a = tensor([2], { requiresGrad: true });
  let total = a;
  for (let i = 0; i < 9; i++) total = total.add(a); // 10 * a
  const y = total.mul(a); // 10 a^2, dy/da = 20 a = 40
  y.sum().backward();
  assert.deepEqual(await values(a.grad), [40]);
});

Deno.test("backward through a chain of 10,000 ops does not overflow the stack", async () => {
  const x = tensor([1.5], { dtype: "float64", requiresGrad: true });
  let y = x;
  for (let i = 0; i < 10_000; i++) y = y.mul(1.0001).add(0.001);
  y.sum().backward();
  // d/dx of 10,000 multiplications by 1.0001 is 1.0001^10000.
  const expected = Math.pow(1.0001, 10_000);
  const grad = (await values(x.grad))[0];
  assert.ok(Math.abs(grad - expected) < 1e-9 * expected, `got ${grad}, expected ${expected}`);
});

Deno.test("a deep chain of 10,000 binary ops between two leaves", async () => {
  const x = tensor([0.5], { dtype: "float64", requiresGrad: true });
  const w = tensor([1], { dtype: "float64", requiresGrad: true });
  let y = x;
  for (let i = 0; i < 10_000; i++) y = y.add(w); // x + 10000 w
  y.sum().backward();
  assert.deepEqual(await values(x.grad), [1]);
  assert.deepEqual(await values(w.grad), [10_000]);
});

Deno.test("gradients accumulate across two backward calls until zeroGrad", async () => {
  const w = tensor([1, 2], { requiresGrad: true });
  w.mul(3).sum().backward();
  assert.deepEqual(await values(w.grad), [3, 3]);
  w.mul(w).sum().backward(); // adds 2w = [2, 4]
  assert.deepEqual(await values(w.grad), [5, 7]);
  w.zeroGrad();
  assert.equal(w.grad, null);
  w.mul(-1).sum().backward();
  assert.deepEqual(await values(w.grad), [-1, -1]);
});

Deno.test("detach cuts the graph: no gradient flows through the detached copy", async () => {
  const a = tensor([2, 3], { requiresGrad: true });
  const d = a.mul(2).detach();
  assert.equal(d.requiresGrad, false);
  assert.equal(d.isLeaf, true);
  assert.deepEqual(Array.from(await d.data()), [4, 6]);
  // y = a * detach(a): the gradient sees only the first factor.
  a.mul(a.detach()).sum().backward();
  assert.deepEqual(await values(a.grad), [2, 3]);
});

Deno.test("requiresGrad_ turns gradient tracking on for a leaf, and off again", async () => {
  const a = tensor([1, 2]);
  assert.equal(a.requiresGrad, false);
  assert.equal(a.mul(2).requiresGrad, false);
  assert.equal(a.requiresGrad_(), a, "requiresGrad_ returns the tensor itself");
  assert.equal(a.requiresGrad, true);
  a.mul(5).sum().backward();
  assert.deepEqual(await values(a.grad), [5, 5]);
  a.requiresGrad_(false);
  assert.equal(a.mul(2).requiresGrad, false);
  assertThrowsWith(() => tensor([1], { dtype: "int32" }).requiresGrad_(), ["int32"]);
});

Deno.test("retainGrad keeps the gradient of a non-leaf; others stay null", async () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  const hidden = x.mul(2).retainGrad();
  const other = x.add(1);
  const loss = hidden.mul(hidden).add(other).sum();
  loss.backward();
  assert.equal(hidden.isLeaf, false);
  // d loss / d hidden = 2 * hidden = [4, 8, 12].
  assert.deepEqual(await values(hidden.grad), [4, 8, 12]);
  assert.equal(other.grad, null, "a non-leaf without retainGrad keeps no gradient");
  // d loss / dx = 2 * 2 * hidden + 1 = [9, 17, 25].
  assert.deepEqual(await values(x.grad), [9, 17, 25]);
});

Deno.test("noGrad with `using` turns graph recording off inside its block only", () => {
  const w = tensor([1, 2], { requiresGrad: true });
  assert.equal(isGradEnabled(), true);
  {
    using _ = noGrad();
    assert.equal(isGradEnabled(), false);
    const y = w.mul(2);
    assert.equal(y.requiresGrad, false);
    assert.equal(y.node, null);
    {
      using _inner = noGrad();
      assert.equal(isGradEnabled(), false);
    }
    assert.equal(isGradEnabled(), false, "leaving an inner block keeps the outer one off");
  }
  assert.equal(isGradEnabled(), true);
  assert.equal(w.mul(2).requiresGrad, true);
});

Deno.test("withNoGrad restores recording even when its function throws", () => {
  const w = tensor([1], { requiresGrad: true });
  const y = withNoGrad(() => w.mul(3));
  assert.equal(y.requiresGrad, false);
  assert.throws(() =>
    withNoGrad(() => {
      throw new Error("boom");
    })
  );
  assert.equal(isGradEnabled(), true);
});

Deno.test("backward of a non-scalar without a gradient throws and says how to fix it", () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  const y = x.mul(2);
  assertThrowsWith(() => y.backward(), ["scalar", "[3]", "backward(onesLike(t))", ".sum()"]);
});

Deno.test("backward of a non-scalar with an explicit gradient", async () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  const y = x.mul(x);
  y.backward(tensor([1, 0.5, -1]));
  assert.deepEqual(await values(x.grad), [2, 2, -6]);
  const z = x.mul(2);
  assertThrowsWith(() => z.backward(ones([2])), ["[2]", "[3]"]);
  z.backward(onesLike(z));
  assert.deepEqual(await values(x.grad), [4, 4, -4]);
});

Deno.test("backward twice through the same graph throws; retainGraph allows it", async () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = x.mul(x).sum();
  y.backward();
  assertThrowsWith(() => y.backward(), ["second time", "retainGraph: true"]);

  const x2 = tensor([1, 2], { requiresGrad: true });
  const y2 = x2.mul(x2).sum();
  y2.backward(undefined, { retainGraph: true });
  y2.backward();
  assert.deepEqual(await values(x2.grad), [4, 8]);
});

Deno.test("backward of a tensor that does not require a gradient says why", () => {
  const y = tensor([1, 2]).sum();
  assertThrowsWith(() => y.backward(), ["does not require a gradient", "requiresGrad: true"]);
});

Deno.test("only the leaves that took part get a gradient", async () => {
  const a = tensor([1], { requiresGrad: true });
  const unused = tensor([1], { requiresGrad: true });
  const frozen = tensor([4]);
  a.mul(frozen).sum().backward();
  assert.deepEqual(await values(a.grad), [4]);
  assert.equal(unused.grad, null);
  assert.equal(frozen.grad, null);
});

Deno.test("int32 tensors never require gradients, and comparisons record nothing", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  assert.equal(x.gt(1).requiresGrad, false);
  assert.equal(x.argmax().requiresGrad, false);
  assertThrowsWith(
    () => tensor([1, 2], { dtype: "int32", requiresGrad: true }),
    ["only float tensors", "int32"],
  );
});

Deno.test("pow with exponent 0 has gradient 0, also at 0 (not NaN)", async () => {
  const x = tensor([0, 2], { requiresGrad: true });
  x.pow(0).sum().backward();
  assert.deepEqual(await values(x.grad), [0, 0]);
});

Deno.test("a float32 graph computes float32 gradients; float64 stays float64", () => {
  const a = zeros([2], { requiresGrad: true });
  a.exp().sum().backward();
  assert.equal(a.grad!.dtype, "float32");
  const b = zeros([2], { dtype: "float64", requiresGrad: true });
  b.exp().sum().backward();
  assert.equal(b.grad!.dtype, "float64");
});

Deno.test("mixing float32 and float64 promotes, and each leaf gets a gradient of its dtype", () => {
  const a = tensor([1, 2], { requiresGrad: true });
  const b = tensor([3, 4], { dtype: "float64", requiresGrad: true });
  const y = a.mul(b);
  assert.equal(y.dtype, "float64");
  y.sum().backward();
  assert.equal(a.grad!.dtype, "float32");
  assert.equal(b.grad!.dtype, "float64");
});

Deno.test("pow with a tensor exponent at base 0 gives finite gradients (no 0 * inf)", async () => {
  const base = tensor([0, 0, 2], { requiresGrad: true });
  const exponent = tensor([0, 2, 3], { requiresGrad: true });
  base.pow(exponent).sum().backward();
  // d/da: 0 (b = 0), 2 * 0 = 0, 3 * 2^2 = 12. d/db: 0^0 ln 0 -> 0 (PyTorch), 0, 8 ln 2.
  assert.deepEqual(await values(base.grad), [0, 0, 12]);
  const db = await values(exponent.grad);
  assert.equal(db[0], 0);
  assert.equal(db[1], 0);
  assert.ok(Math.abs(db[2] - 8 * Math.LN2) < 1e-5, `d/db of 2^3 = ${db[2]}`);
});
