/**
 * CPU / WebGPU parity: every op, function, layer and loss of the core, forward and gradients,
 * on the same seeded inputs on both devices.
 *
 * Tolerance (float32 on both sides): |gpu - cpu| <= atol + rtol * |cpu| with atol = 1e-5 and
 * rtol = 1e-4 for most ops; transcendental functions (exp, log, pow, tanh, erf) allow
 * rtol = 2e-4, because WGSL lets them differ from the correctly rounded result by a few units in
 * the last place; sums and products over long axes allow atol = 1e-4 (the GPU adds in a tree,
 * the CPU in a row, so rounding differs). Shapes are chosen to stress the kernels: sizes that are
 * not multiples of the tile sizes, dimensions of size 1, long reductions, batched matmul with
 * broadcast batch dimensions.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  arange,
  cat,
  F,
  manualSeed,
  nn,
  rand,
  stack,
  type Tensor,
  tensor,
  type Tolerance,
  where,
} from "../mod.ts";
import { assertClose } from "../mod.ts";
import { checkParity, gpuTest, input, onGpu } from "./gpu_helpers.ts";

const LOOSE: Tolerance = { atol: 1e-5, rtol: 2e-4 };
const LONG: Tolerance = { atol: 1e-4, rtol: 2e-4 };

/** An int32 index tensor on the CPU. */
const ints = (values: number[], shape = [values.length]) =>
  tensor(values, { dtype: "int32", shape });

gpuTest("parity: unary ops and activations, forward and gradient", async (t) => {
  const x = () => input([3, 37], 1, { low: -3, high: 3 });
  const positive = () => input([3, 37], 2, { low: 0.1, high: 4 });
  const cases: [string, () => Tensor, (x: Tensor) => Tensor, Tolerance?][] = [
    ["neg", x, (a) => a.neg()],
    ["abs", x, (a) => a.abs()],
    ["exp", x, (a) => a.exp(), LOOSE],
    ["log", positive, (a) => a.log(), LOOSE],
    ["sqrt", positive, (a) => a.sqrt(), LOOSE],
    ["square", x, (a) => a.square()],
    ["relu", x, (a) => a.relu()],
    ["leakyRelu", x, (a) => a.leakyRelu(0.2)],
    ["sigmoid", x, (a) => a.sigmoid(), LOOSE],
    ["tanh", x, (a) => a.tanh(), LOOSE],
    ["gelu", x, (a) => a.gelu(), LOOSE],
    ["clamp", x, (a) => a.clamp(-1, 0.5)],
    ["clamp below only", x, (a) => a.clamp(-0.5)],
    ["pow by a scalar", positive, (a) => a.pow(2.5), LOOSE],
    ["pow of negatives by an integer", x, (a) => a.pow(3), LOOSE],
    ["add a scalar", x, (a) => a.add(2.5)],
    ["sub a scalar", x, (a) => a.sub(1.25)],
    ["mul by a scalar", x, (a) => a.mul(-3)],
    ["div by a scalar", x, (a) => a.div(7)],
  ];
  for (const [name, make, fn, tolerance] of cases) {
    await t.step(name, () => checkParity(name, [make()], fn, tolerance));
  }
});

gpuTest("parity: binary ops with broadcasting, forward and gradient", async (t) => {
  const shapes: [number[], number[]][] = [
    [[5, 7], [5, 7]],
    [[5, 7], [7]],
    [[5, 1], [1, 7]],
    [[2, 3, 1, 5], [4, 1]],
    [[1], [3, 1, 65]],
    [[], [4, 3]],
  ];
  const ops: [string, (a: Tensor, b: Tensor) => Tensor, Tolerance?][] = [
    ["add", (a, b) => a.add(b)],
    ["sub", (a, b) => a.sub(b)],
    ["mul", (a, b) => a.mul(b)],
    ["div", (a, b) => a.div(b), LOOSE],
    ["pow", (a, b) => a.pow(b), LOOSE],
    ["maximum", (a, b) => a.maximum(b)],
    ["minimum", (a, b) => a.minimum(b)],
  ];
  for (const [op, fn, tolerance] of ops) {
    for (const [sa, sb] of shapes) {
      const name = `${op} [${sa}] and [${sb}]`;
      // pow needs a positive base; div a divisor away from 0.
      const a = input(sa, 3, op === "pow" ? { low: 0.5, high: 2 } : {});
      const b = input(sb, 4, op === "div" ? { low: 0.5, high: 2 } : {});
      await t.step(name, () => checkParity(name, [a, b], fn, tolerance));
    }
  }
});

gpuTest("parity: comparisons and where", async (t) => {
  // Rounded values, so that ties (where eq, ge and le differ from gt and lt) occur.
  const rounded = (seed: number, shape: number[]) =>
    tensor((input(shape, seed).mul(3)).dataSync().map(Math.round), { shape });
  const x = rounded(6, [4, 9]);
  const y = rounded(7, [9]);
  for (const op of ["eq", "gt", "ge", "lt", "le"] as const) {
    await t.step(op, () => checkParity(op, [x, y], (p, q) => p[op](q)));
  }
  const cond = rounded(8, [4, 1]);
  await t.step(
    "where with broadcasting",
    () =>
      checkParity("where", [cond, input([4, 9], 9), input([9], 10)], (c, p, q) => where(c, p, q)),
  );
  await t.step(
    "where with a scalar",
    () => checkParity("where scalar", [x, input([4, 9], 11)], (c, p) => where(c.gt(0), p, 0.5)),
  );
});

gpuTest("parity: int32 arithmetic, comparisons, reductions and casts", async (t) => {
  manualSeed(3);
  const values = Array.from({ length: 60 }, (_, i) => ((i * 7919) % 23) - 11);
  const a = ints(values, [5, 12]);
  const b = ints(values.slice(0, 12).map((v) => v + 3), [12]);
  const cases: [string, (p: Tensor, q: Tensor) => Tensor][] = [
    ["add", (p, q) => p.add(q)],
    ["sub", (p, q) => p.sub(q)],
    ["mul", (p, q) => p.mul(q)],
    ["maximum", (p, q) => p.maximum(q)],
    ["gt", (p, q) => p.gt(q)],
    ["eq", (p, q) => p.eq(q)],
    ["add a scalar", (p) => p.add(7)],
    ["mul by a scalar", (p) => p.mul(-2)],
    ["neg", (p) => p.neg()],
    ["abs", (p) => p.abs()],
    ["relu", (p) => p.relu()],
    ["clamp", (p) => p.clamp(-3, 4)],
    ["sum", (p) => p.sum(1)],
    ["max", (p) => p.max(0)],
    ["argmax", (p) => p.argmax(1)],
    ["argmin", (p) => p.argmin(0)],
    ["to float32", (p) => p.float()],
    ["float to int32 truncates toward zero", (p) => p.float().div(4).int()],
    ["div gives float32", (p, q) => p.div(q.add(20))],
    ["transpose", (p) => p.T],
  ];
  for (const [name, fn] of cases) {
    await t.step(`int32 ${name}`, () => checkParity(`int32 ${name}`, [a, b], fn));
  }
});

gpuTest("parity: reductions over one, several and all dimensions", async (t) => {
  const x = () => input([3, 5, 7, 2], 12);
  const cases: [string, (x: Tensor) => Tensor][] = [
    ["sum all", (a) => a.sum()],
    ["sum dim 1", (a) => a.sum(1)],
    ["sum dims 0 and 2 keepdim", (a) => a.sum([0, 2], true)],
    ["sum last dim", (a) => a.sum(-1)],
    ["mean dims 1 and 3", (a) => a.mean([1, 3])],
    ["max dim 2", (a) => a.max(2)],
    ["max all", (a) => a.max()],
    ["min dims 0 and 1", (a) => a.min([0, 1])],
    ["var dim 1", (a) => a.var(1)],
    ["var biased, keepdim", (a) => a.var([0, 2, 3], { keepdim: true, correction: 0 })],
    ["std", (a) => a.std(2)],
    ["logsumexp", (a) => a.logsumexp(1)],
    ["softmax dim 1", (a) => a.softmax(1)],
    ["softmax last dim", (a) => a.softmax(-1)],
    ["logSoftmax", (a) => a.logSoftmax(2)],
    ["argmax dim 1", (a) => a.argmax(1)],
    ["argmin flattened", (a) => a.argmin()],
    ["argmax keepdim", (a) => a.argmax(2, true)],
  ];
  for (const [name, fn] of cases) {
    await t.step(name, () => checkParity(name, [x()], fn, LOOSE));
  }
  await t.step("softmax of large logits stays finite", async () => {
    const logits = tensor([[1000, 0, -1000], [50, 51, 52]]);
    await checkParity("softmax large", [logits.requiresGrad_()], (a) => a.softmax(1));
    const out = await onGpu(logits).logSoftmax(1).data();
    assert.ok(out.every(Number.isFinite), `logSoftmax gave ${out}`);
  });
});

gpuTest("parity: long reductions (a million elements, tree and chunked kernels)", async (t) => {
  manualSeed(21);
  const big = rand([1_000_000]);
  const values = big.dataSync();
  let exact = 0;
  for (const v of values) exact += v;
  await t.step("sum of 1e6 values against a float64 sum", async () => {
    const got = await onGpu(big).sum().item();
    assert.ok(
      Math.abs(got - exact) <= 1e-5 * Math.abs(exact),
      `sum of 1e6 values: webgpu ${got}, float64 ${exact} (rtol 1e-5)`,
    );
  });
  await t.step("max, argmax and mean of 1e6 values", async () => {
    const g = onGpu(big);
    await assertClose(g.max(), big.max(), {}, "max of 1e6");
    await assertClose(g.argmax(), big.argmax(), {}, "argmax of 1e6");
    await assertClose(g.mean(), exact / values.length, { rtol: 1e-5, atol: 0 }, "mean of 1e6");
  });
  await t.step("sum over the middle of [2, 100000, 3]", () =>
    checkParity(
      "sum middle",
      [big.narrow(0, 0, 600_000).reshape([2, 100_000, 3]).detach()],
      (a) => a.sum(1),
      { atol: 2e-2, rtol: 1e-4 },
    ));
  await t.step("sum over rows of [1000, 1000] (loop kernel) and columns", async () => {
    const square = big.reshape([1000, 1000]).detach();
    await checkParity("sum dim 0", [square], (a) => a.sum(0), LONG);
    await checkParity("sum dim 1", [square], (a) => a.sum(1), LONG);
    await checkParity("max dim 0", [square], (a) => a.max(0), LONG);
    await checkParity("argmin dim 0", [square], (a) => a.argmin(0));
  });
  await t.step("sum over [3, 5000, 40] (loop kernel in chunks)", () =>
    checkParity(
      "sum chunked loop",
      [big.narrow(0, 0, 600_000).reshape([3, 5000, 40]).detach()],
      (a) => a.sum(1),
      { atol: 2e-3, rtol: 1e-4 },
    ));
});

gpuTest("parity: shape ops, forward and gradient", async (t) => {
  const x = () => input([2, 3, 4, 5], 13);
  const cases: [string, (x: Tensor) => Tensor][] = [
    ["reshape", (a) => a.reshape([6, 20])],
    ["flatten", (a) => a.flatten(1)],
    ["squeeze and unsqueeze", (a) => a.unsqueeze(2).squeeze(2)],
    ["transpose", (a) => a.transpose(1, 3)],
    ["permute", (a) => a.permute([3, 1, 0, 2])],
    ["expand", (a) => a.narrow(1, 0, 1).expand([2, 7, 4, 5])],
    ["slice with a step", (a) => a.slice(3, 1, 5, 2)],
    ["narrow", (a) => a.narrow(2, 1, 2)],
    ["clone", (a) => a.clone()],
    ["cat", (a) => cat([a, a.mul(2), a.narrow(1, 0, 1)], 1)],
    ["stack", (a) => stack([a, a.neg()], 2)],
    ["indexSelect", (a) => a.indexSelect(2, onDevice(a, ints([3, 0, 3, 1])))],
    ["gather", (a) => a.gather(1, onDevice(a, ints(gatherIndex(), [2, 2, 4, 5])))],
    ["T of a matrix", (a) => a.reshape([6, 20]).T],
  ];
  for (const [name, fn] of cases) {
    await t.step(name, () => checkParity(name, [x()], fn));
  }
});

/** An int32 tensor on the device of `like`. */
function onDevice(like: Tensor, index: Tensor): Tensor {
  return like.device === "webgpu" ? onGpu(index) : index;
}

function gatherIndex(): number[] {
  return Array.from({ length: 80 }, (_, i) => (i * 7) % 3);
}

gpuTest("parity: matmul, tiled kernels at awkward sizes", async (t) => {
  const cases: [number[], number[]][] = [
    [[1, 1], [1, 1]],
    [[5, 1], [1, 7]],
    [[67, 33], [33, 129]],
    [[64, 128], [128, 256]],
    [[3, 17, 19], [3, 19, 23]],
    [[3, 1, 17, 19], [4, 19, 23]],
    [[2, 6, 8], [8, 12]],
    [[19], [19, 5]],
    [[5, 19], [19]],
    [[600, 70], [70, 530]],
  ];
  for (const [sa, sb] of cases) {
    const name = `[${sa}] @ [${sb}]`;
    const tolerance = { atol: 1e-4, rtol: 1e-4 };
    await t.step(
      name,
      () => checkParity(name, [input(sa, 14), input(sb, 15)], (a, b) => a.matmul(b), tolerance),
    );
  }
});

gpuTest("parity: convolution and pooling", async (t) => {
  const image = () => input([2, 4, 9, 11], 16);
  const weight = (shape: number[]) => input(shape, 17, { low: -0.5, high: 0.5 });
  const bias = () => input([6], 18);
  const cases: [string, Tensor[], (...xs: Tensor[]) => Tensor][] = [
    [
      "conv2d 3x3 pad 1 with bias",
      [image(), weight([6, 4, 3, 3]), bias()],
      (x, w, b) => F.conv2d(x, w, b, { padding: 1 }),
    ],
    [
      "conv2d stride 2",
      [image(), weight([6, 4, 3, 3])],
      (x, w) => F.conv2d(x, w, null, { stride: 2 }),
    ],
    [
      "conv2d stride 2 pad 2 dilation 2",
      [image(), weight([6, 4, 3, 2])],
      (x, w) => F.conv2d(x, w, null, { stride: 2, padding: 2, dilation: 2 }),
    ],
    [
      "conv2d groups 2",
      [image(), weight([6, 2, 3, 3])],
      (x, w) => F.conv2d(x, w, null, { groups: 2, padding: [1, 0] }),
    ],
    ["conv2d 1x1", [image(), weight([3, 4, 1, 1])], (x, w) => F.conv2d(x, w)],
    ["maxPool2d 2", [image()], (x) => F.maxPool2d(x, 2)],
    ["maxPool2d 3 stride 2 pad 1", [image()], (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1 })],
    ["avgPool2d 2", [image()], (x) => F.avgPool2d(x, 2)],
    ["adaptiveAvgPool2d uneven", [image()], (x) => F.adaptiveAvgPool2d(x, [4, 3])],
    ["adaptiveAvgPool2d to 1x1", [image()], (x) => F.adaptiveAvgPool2d(x, 1)],
  ];
  for (const [name, inputs, fn] of cases) {
    await t.step(name, () => checkParity(name, inputs, fn, LONG));
  }
});

gpuTest("parity: losses", async (t) => {
  const logits = () => input([6, 5], 19, { low: -3, high: 3 });
  const targets = ints([0, 4, 2, 2, 1, 3]);
  const regression = () => input([6, 5], 20);
  const cases: [string, Tensor[], (...xs: Tensor[]) => Tensor][] = [
    ["crossEntropy", [logits(), targets], (x, y) => F.crossEntropy(x, y)],
    [
      "crossEntropy with label smoothing",
      [logits(), targets],
      (x, y) => F.crossEntropy(x, y, { labelSmoothing: 0.1 }),
    ],
    ["crossEntropy with class weights, sum", [logits(), targets, rand([5]).add(0.5)], (
      x,
      y,
      w,
    ) => F.crossEntropy(x, y, { weight: w, reduction: "sum" })],
    ["nllLoss", [logits(), targets], (x, y) => F.nllLoss(x.logSoftmax(1), y)],
    ["mseLoss", [logits(), regression()], (x, y) => F.mseLoss(x, y)],
    ["l1Loss", [logits(), regression()], (x, y) => F.l1Loss(x, y)],
    [
      "binaryCrossEntropyWithLogits",
      [logits(), rand([6, 5])],
      (x, y) => F.binaryCrossEntropyWithLogits(x, y),
    ],
  ];
  for (const [name, inputs, fn] of cases) {
    await t.step(name, () => checkParity(name, inputs, fn, LOOSE));
  }
});

gpuTest("parity: layers (forward and parameter gradients)", async (t) => {
  const layers: [string, () => nn.Module, number[]][] = [
    ["Linear", () => new nn.Linear(13, 7), [5, 13]],
    ["Conv2d", () => new nn.Conv2d(3, 5, 3, { padding: 1 }), [2, 3, 8, 7]],
    ["BatchNorm2d (training)", () => new nn.BatchNorm2d(3), [4, 3, 5, 5]],
    ["BatchNorm1d (training)", () => new nn.BatchNorm1d(6), [8, 6]],
    ["MaxPool2d", () => new nn.MaxPool2d(2), [2, 3, 8, 8]],
    ["Flatten + Linear", () => new nn.Sequential(new nn.Flatten(), new nn.Linear(12, 3)), [
      2,
      3,
      2,
      2,
    ]],
    ["GELU", () => new nn.GELU(), [3, 4]],
    ["Dropout (seeded mask)", () => new nn.Dropout(0.3), [4, 50]],
  ];
  for (const [name, make, shape] of layers) {
    await t.step(name, async () => {
      manualSeed(30);
      const cpuLayer = make();
      manualSeed(30);
      const gpuLayer = make().to("webgpu");
      const x = input(shape, 31);
      const xg = onGpu(x);
      manualSeed(32);
      const expected = cpuLayer.forward(x);
      manualSeed(32);
      const actual = gpuLayer.forward(xg);
      await assertClose(actual, expected, LOOSE, `${name} forward`);
      manualSeed(33);
      const probe = rand(expected.shape);
      expected.mul(probe).sum().backward();
      actual.mul(onGpu(probe)).sum().backward();
      await assertClose(xg.grad!, x.grad!, LONG, `${name} input gradient`);
      const cpuParams = cpuLayer.parameters();
      const gpuParams = gpuLayer.parameters();
      for (const [i, p] of cpuParams.entries()) {
        await assertClose(gpuParams[i].grad!, p.grad!, LONG, `${name} parameter ${i} gradient`);
      }
      // Running statistics of batch norm, updated on the device.
      const cpuBuffers = cpuLayer.buffers();
      const gpuBuffers = gpuLayer.buffers();
      for (const [i, b] of cpuBuffers.entries()) {
        await assertClose(gpuBuffers[i], b, LOOSE, `${name} buffer ${i}`);
      }
    });
  }
});

gpuTest("parity: arange, creation on the device, casts and device moves", async () => {
  const values = await arange(0, 10, 1, { device: "webgpu" }).data();
  assert.deepEqual(Array.from(values), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const x = tensor([[1.5, -2.5], [3.25, 0]], { device: "webgpu" });
  assert.equal(x.device, "webgpu");
  assert.deepEqual(await x.toArray(), [[1.5, -2.5], [3.25, 0]]);
  assert.deepEqual(Array.from(await x.int().data()), [1, -2, 3, 0]);
  const back = await x.mul(2).cpu();
  assert.equal(back.device, "cpu");
  assert.deepEqual(Array.from(back.dataSync()), [3, -5, 6.5, 0]);
  assert.equal(await x.sum().item(), 2.25);
});
