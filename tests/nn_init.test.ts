import assert from "node:assert/strict";
import { assertClose, manualSeed, nn, type Tensor, zeros } from "../mod.ts";

/** Mean, standard deviation and largest magnitude of a tensor's values. */
async function stats(t: Tensor) {
  const values = Array.from(await t.data());
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance), max: Math.max(...values.map(Math.abs)) };
}

Deno.test("calculateGain matches PyTorch's table", () => {
  assert.equal(nn.init.calculateGain("linear"), 1);
  assert.equal(nn.init.calculateGain("sigmoid"), 1);
  assert.equal(nn.init.calculateGain("tanh"), 5 / 3);
  assert.equal(nn.init.calculateGain("relu"), Math.SQRT2);
  assert.equal(nn.init.calculateGain("leakyRelu"), Math.sqrt(2 / (1 + 0.01 ** 2)));
  assert.equal(nn.init.calculateGain("leaky_relu", Math.sqrt(5)), Math.sqrt(1 / 3));
  assert.equal(nn.init.calculateGain("selu"), 0.75);
  assert.throws(
    () => nn.init.calculateGain("swish" as "relu"),
    /calculateGain: unknown nonlinearity "swish"/,
  );
});

Deno.test("fan in and fan out count the kernel area of convolution weights", () => {
  assert.deepEqual(nn.init.calculateFanInAndFanOut(zeros([10, 784])), { fanIn: 784, fanOut: 10 });
  assert.deepEqual(nn.init.calculateFanInAndFanOut(zeros([16, 8, 3, 3])), {
    fanIn: 72,
    fanOut: 144,
  });
  assert.throws(() => nn.init.calculateFanInAndFanOut(zeros([5])), /at least 2 dimensions/);
});

Deno.test("uniform initializers stay within their bounds and fill them", async () => {
  manualSeed(1);
  const w = zeros([200, 300]);
  const cases: [string, () => Tensor, number][] = [
    ["uniform(-2, 3)", () => nn.init.uniform(w, -2, 3), 3],
    ["xavierUniform", () => nn.init.xavierUniform(w), Math.sqrt(6 / 500)],
    ["xavierUniform gain 2", () => nn.init.xavierUniform(w, 2), 2 * Math.sqrt(6 / 500)],
    ["kaimingUniform", () => nn.init.kaimingUniform(w), Math.SQRT2 * Math.sqrt(3 / 300)],
    [
      "kaimingUniform fanOut relu",
      () => nn.init.kaimingUniform(w, { mode: "fanOut", nonlinearity: "relu" }),
      Math.SQRT2 * Math.sqrt(3 / 200),
    ],
    [
      "kaimingUniform a = sqrt(5)",
      () => nn.init.kaimingUniform(w, { a: Math.sqrt(5) }),
      1 / Math.sqrt(300),
    ],
  ];
  for (const [name, init, bound] of cases) {
    const out = init();
    assert.equal(out, w, `${name} works in place and returns its tensor`);
    const { max } = await stats(w);
    assert.ok(max <= bound && max > 0.99 * bound, `${name}: max |value| ${max}, bound ${bound}`);
  }
});

Deno.test("normal initializers have the expected standard deviation", async () => {
  manualSeed(2);
  const w = zeros([256, 400]);
  const cases: [string, () => Tensor, number, number][] = [
    ["normal(1, 0.5)", () => nn.init.normal(w, 1, 0.5), 1, 0.5],
    ["xavierNormal", () => nn.init.xavierNormal(w), 0, Math.sqrt(2 / 656)],
    ["kaimingNormal", () => nn.init.kaimingNormal(w), 0, Math.SQRT2 / 20],
    [
      "kaimingNormal fanOut tanh",
      () => nn.init.kaimingNormal(w, { mode: "fanOut", nonlinearity: "tanh" }),
      0,
      5 / 3 / 16,
    ],
  ];
  for (const [name, init, mean, std] of cases) {
    init();
    const s = await stats(w);
    assert.ok(
      Math.abs(s.mean - mean) < 0.02 * std + 1e-3,
      `${name}: mean ${s.mean}, expected ${mean}`,
    );
    assert.ok(Math.abs(s.std / std - 1) < 0.02, `${name}: std ${s.std}, expected ${std}`);
  }
});

Deno.test("constant initializers, seeding, and identity of the parameter", async () => {
  const layer = new nn.Linear(3, 2);
  const weight = layer.weight;
  nn.init.ones(layer.weight);
  nn.init.zeros(layer.bias!);
  await assertClose(layer.weight, [1, 1, 1, 1, 1, 1]);
  await assertClose(layer.bias!, [0, 0]);
  nn.init.constant(layer.bias!, 0.25);
  await assertClose(layer.bias!, [0.25, 0.25]);
  assert.equal(layer.weight, weight);
  assert.ok(layer.weight.requiresGrad && layer.weight.isLeaf);

  manualSeed(7);
  const a = await nn.init.kaimingNormal(zeros([4, 4])).data();
  manualSeed(7);
  const b = await nn.init.kaimingNormal(zeros([4, 4])).data();
  assert.deepEqual(a, b, "the same seed gives the same weights");
});
