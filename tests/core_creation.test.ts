/**
 * Making tensors (from values, fills, ranges) and the seeded generator: the same seed gives the
 * same rand/randn/randint/randperm, different seeds differ.
 */
import assert from "node:assert/strict";
import {
  arange,
  eye,
  full,
  linspace,
  manualSeed,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  randperm,
  type Tensor,
  tensor,
  zeros,
  zerosLike,
} from "../mod.ts";

const list = async (t: Tensor) => Array.from(await t.data());

Deno.test("tensor from nested arrays, flat arrays with a shape, typed arrays and a number", async () => {
  const a = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(a.shape, [2, 3]);
  assert.equal(a.dtype, "float32");
  assert.equal(a.device, "cpu");
  assert.equal(a.requiresGrad, false);
  const b = tensor([1, 2, 3, 4], { shape: [2, 2], dtype: "float64" });
  assert.deepEqual(await b.toArray(), [[1, 2], [3, 4]]);
  assert.ok((await b.data()) instanceof Float64Array);
  const c = tensor(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2] });
  assert.deepEqual(c.shape, [3, 2]);
  const s = tensor(3.5);
  assert.deepEqual(s.shape, []);
  assert.equal(s.ndim, 0);
  assert.equal(await s.item(), 3.5);
  const labels = tensor([0, 2, 1], { dtype: "int32" });
  assert.ok((await labels.data()) instanceof Int32Array);
  assert.equal(tensor([[]]).numel(), 0);
});

Deno.test("tensor copies its input: changing the source array later changes nothing", async () => {
  const source = new Float32Array([1, 2]);
  const t = tensor(source);
  source[0] = 99;
  assert.deepEqual(await list(t), [1, 2]);
});

Deno.test("zeros, ones, full, zerosLike, onesLike", async () => {
  assert.deepEqual(await list(zeros([2, 2])), [0, 0, 0, 0]);
  assert.deepEqual(await list(ones([3])), [1, 1, 1]);
  assert.deepEqual(await list(full([2], 7, { dtype: "int32" })), [7, 7]);
  const f = full([2], 0.5, { dtype: "float64", requiresGrad: true });
  assert.equal(f.requiresGrad, true);
  assert.equal(f.dtype, "float64");
  const like = zerosLike(tensor([[1, 2]], { dtype: "float64" }));
  assert.deepEqual(like.shape, [1, 2]);
  assert.equal(like.dtype, "float64");
  assert.deepEqual(await list(onesLike(tensor([5, 6], { dtype: "int32" }))), [1, 1]);
  assert.equal(onesLike(tensor([5, 6], { dtype: "int32" })).dtype, "int32");
  assert.deepEqual(zeros([]).shape, []);
});

Deno.test("arange like torch.arange: integers give int32, fractions float32", async () => {
  assert.deepEqual(await list(arange(4)), [0, 1, 2, 3]);
  assert.equal(arange(4).dtype, "int32");
  assert.deepEqual(await list(arange(2, 8, 3)), [2, 5]);
  assert.deepEqual(await list(arange(3, 0, -1)), [3, 2, 1]);
  assert.deepEqual(await list(arange(0, 1, 0.25)), [0, 0.25, 0.5, 0.75]);
  assert.equal(arange(0, 1, 0.25).dtype, "float32");
  assert.equal(arange(3, undefined, 1, { dtype: "float64" }).dtype, "float64");
  assert.equal(arange(0).numel(), 0);
});

Deno.test("linspace includes both ends; eye is the identity", async () => {
  assert.deepEqual(await list(linspace(0, 1, 5)), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(await list(linspace(2, 2, 1)), [2]);
  assert.deepEqual(await eye(3).toArray(), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  assert.deepEqual(await eye(2, 3).toArray(), [[1, 0, 0], [0, 1, 0]]);
});

Deno.test("rand is in [0, 1) with mean near 1/2; randn has mean near 0 and std near 1", async () => {
  manualSeed(123);
  const u = await list(rand([10_000]));
  assert.ok(u.every((v) => v >= 0 && v < 1), "rand left [0, 1)");
  const uMean = u.reduce((s, v) => s + v, 0) / u.length;
  assert.ok(Math.abs(uMean - 0.5) < 0.02, `rand mean ${uMean}`);
  const n = randn([10_000]);
  const mean = await n.mean().item();
  const std = await n.std().item();
  assert.ok(Math.abs(mean) < 0.03, `randn mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 0.03, `randn std ${std}`);
});

Deno.test("randint stays in [low, high) and hits every value", async () => {
  manualSeed(5);
  const r = randint(-2, 3, [1000]);
  assert.equal(r.dtype, "int32");
  const seen = new Set(await list(r));
  assert.deepEqual([...seen].sort((a, b) => a - b), [-2, -1, 0, 1, 2]);
});

Deno.test("randperm is a permutation", () => {
  manualSeed(9);
  const p = randperm(50);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual(p, Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(randperm(0), []);
});

/** One draw of each random function, in a fixed order. */
async function draws() {
  return {
    rand: await list(rand([5])),
    randn: await list(randn([2, 3], { dtype: "float64" })),
    randint: await list(randint(0, 100, [6])),
    randperm: randperm(10),
  };
}

Deno.test("manualSeed: the same seed gives the same rand, randn, randint and randperm", async () => {
  manualSeed(42);
  const first = await draws();
  manualSeed(42);
  const second = await draws();
  assert.deepEqual(second, first);
});

Deno.test("manualSeed: different seeds give different numbers", async () => {
  manualSeed(1);
  const a = await draws();
  manualSeed(2);
  const b = await draws();
  assert.notDeepEqual(a.rand, b.rand);
  assert.notDeepEqual(a.randn, b.randn);
  assert.notDeepEqual(a.randint, b.randint);
  assert.notDeepEqual(a.randperm, b.randperm);
});

Deno.test("manualSeed: seed 0 works, and draws continue the sequence rather than repeat", async () => {
  manualSeed(0);
  const first = await list(rand([4]));
  const next = await list(rand([4]));
  assert.notDeepEqual(first, next);
  assert.ok(first.some((v) => v !== 0));
  manualSeed(0);
  assert.deepEqual(await list(rand([8])), [...first, ...next]);
});

Deno.test("random tensors honour dtype and requiresGrad", () => {
  const r = randn([2], { dtype: "float64", requiresGrad: true });
  assert.equal(r.dtype, "float64");
  assert.equal(r.requiresGrad, true);
  assert.equal(r.isLeaf, true);
});

Deno.test("dtype conversions: float, double, int truncate toward zero", async () => {
  const x = tensor([-1.7, 2.9]);
  assert.deepEqual(await list(x.int()), [-1, 2]);
  assert.equal(x.double().dtype, "float64");
  assert.equal(x.to("float32"), x, "converting to the same dtype returns the tensor itself");
  assert.equal(tensor([1], { dtype: "int32" }).float().dtype, "float32");
});

Deno.test("assign replaces values in place, keeping the tensor's identity", async () => {
  const p = zeros([2]);
  const same = p.assign(tensor([3, 4], { dtype: "float64" }));
  assert.equal(same, p);
  assert.equal(p.dtype, "float32");
  assert.deepEqual(await list(p), [3, 4]);
});
