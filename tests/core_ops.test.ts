/**
 * Forward values: cross-checked against PyTorch 1.13 (float64) for conv2d, pooling, logsumexp,
 * gelu, var/std, broadcast matmul and softmax, plus small hand-computed cases for the rest.
 *
 * The PyTorch numbers below were produced once by this script (inputs are smooth functions of
 * the element index, so the same inputs are rebuilt here without random numbers):
 *
 * ```python
 * import torch, torch.nn.functional as F
 * def seq(n, f, scale): return f(scale * torch.arange(n, dtype=torch.float64))
 * def show(name, t): print(name, list(t.shape), [float('%.10g' % v) for v in t.flatten().tolist()])
 * x = seq(100, torch.sin, 0.37).reshape(1, 4, 5, 5)
 * w = seq(108, torch.cos, 0.21).reshape(6, 2, 3, 3)
 * b = torch.tensor([0.1, -0.2, 0.3, -0.4, 0.5, -0.6], dtype=torch.float64)
 * show("conv", F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2))
 * p = seq(50, torch.sin, 0.9).reshape(1, 2, 5, 5)
 * show("maxpool", F.max_pool2d(p, 3, stride=2, padding=1))
 * show("maxpool_dil", F.max_pool2d(p, 2, stride=1, dilation=2))
 * show("avgpool", F.avg_pool2d(p, 3, stride=2, padding=1))
 * q = seq(70, torch.sin, 0.9).reshape(1, 2, 5, 7)
 * show("adaptive", F.adaptive_avg_pool2d(q, (3, 2)))
 * r = seq(24, torch.sin, 1.3).reshape(2, 3, 4) * 10
 * show("lse1", torch.logsumexp(r, 1))
 * show("lse02", torch.logsumexp(r, (0, 2)))
 * g = torch.linspace(-4, 4, 9, dtype=torch.float64)
 * show("gelu", F.gelu(g))
 * v = seq(24, torch.sin, 1.3).reshape(2, 3, 4)
 * show("var1", torch.var(v, 1))
 * show("var02c0", torch.var(v, (0, 2), unbiased=False))
 * show("std_all", torch.std(v))
 * show("std2keep", torch.std(v, 2, keepdim=True))
 * a = seq(24, torch.sin, 0.5).reshape(2, 1, 3, 4)
 * m = seq(40, torch.cos, 0.3).reshape(5, 4, 2)
 * show("mm", torch.matmul(a, m))
 * s = torch.tensor([[1000, 999, 0], [-1000, -1001, -1002]], dtype=torch.float32)
 * show("softmax", torch.softmax(s, 1))
 * show("logsoftmax", torch.log_softmax(s, 1))
 * ```
 */
import assert from "node:assert/strict";
import { assertClose, cat, matmul, stack, type Tensor, tensor, where } from "../mod.ts";
import { adaptiveAvgPool2d, avgPool2d, conv2d, maxPool2d } from "../core/ops/conv.ts";

/** `f(scale * i)` for i = 0..n-1 as a float64 tensor of `shape` (the script's `seq`). */
function seq(shape: number[], f: (x: number) => number, scale: number): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return tensor(Float64Array.from({ length: n }, (_, i) => f(scale * i)), {
    shape,
    dtype: "float64",
  });
}

/** Checks shape and values against PyTorch's (10 significant digits). */
async function expectTorch(name: string, actual: Tensor, shape: number[], expected: number[]) {
  assert.deepEqual(actual.shape, shape, `${name}: shape [${actual.shape}], PyTorch has [${shape}]`);
  await assertClose(actual, expected, { atol: 1e-8, rtol: 1e-8 }, `${name} vs PyTorch`);
}

Deno.test("conv2d with stride, padding, dilation and groups matches PyTorch", async () => {
  const x = seq([1, 4, 5, 5], Math.sin, 0.37);
  const w = seq([6, 2, 3, 3], Math.cos, 0.21);
  const b = tensor([0.1, -0.2, 0.3, -0.4, 0.5, -0.6], { dtype: "float64" });
  const out = conv2d(x, w, b, { stride: [2, 1], padding: [1, 2], dilation: [2, 1], groups: 2 });
  await expectTorch("conv2d", out, [1, 6, 2, 7], [
    0.9086362491,
    1.656762752,
    2.262000257,
    2.215853372,
    1.88333566,
    1.302069944,
    0.6866504375,
    0.5424759811,
    1.020991759,
    1.478786281,
    1.950907213,
    2.172516536,
    1.610015436,
    0.8974133222,
    -1.062721013,
    -1.790940243,
    -2.30858703,
    -1.756264212,
    -0.9933083339,
    -0.6204147493,
    -0.3440061471,
    -1.011617615,
    -1.761515603,
    -2.367177721,
    -2.313763071,
    -1.974260506,
    -1.394339933,
    -0.7820149367,
    0.8769728361,
    1.298433218,
    1.524583936,
    0.6836497101,
    -0.2092097043,
    -0.2268452919,
    -0.05536335534,
    1.16105636,
    1.886945538,
    2.401899937,
    1.843990178,
    1.077108591,
    0.7082040547,
    0.4373560551,
    -0.737958712,
    -0.9532465096,
    -1.031922876,
    -0.2125655098,
    0.5814234775,
    0.4377216147,
    0.1054741842,
    -1.168683897,
    -1.809343529,
    -2.256158077,
    -1.565402065,
    -0.7169143514,
    -0.4608651621,
    -0.3457736985,
    0.2700952099,
    -0.02908490932,
    -0.3535515837,
    -0.9825105738,
    -1.410818712,
    -0.9189770942,
    -0.2642014988,
    0.8308743719,
    1.039494615,
    1.112699241,
    0.2937802843,
    -0.497227801,
    -0.3482201372,
    -0.01051099847,
    0.1072068943,
    0.8030054076,
    1.402805017,
    1.593613484,
    1.487526657,
    0.8412857633,
    0.1219035241,
    -0.3627306956,
    -0.0571343109,
    0.2721068927,
    0.8966098456,
    1.318553677,
    0.8231845108,
    0.1657011919,
  ]);
  // The same in float32 agrees to float32 precision.
  const out32 = conv2d(x.float(), w.float(), b.float(), {
    stride: [2, 1],
    padding: [1, 2],
    dilation: [2, 1],
    groups: 2,
  });
  await assertClose(out32, out, { atol: 1e-5, rtol: 1e-5 }, "conv2d float32 vs float64");
});

Deno.test("maxPool2d with padding, and with dilation, matches PyTorch", async () => {
  const p = seq([1, 2, 5, 5], Math.sin, 0.9);
  await expectTorch(
    "maxPool2d(3, stride 2, padding 1)",
    maxPool2d(p, 3, { stride: 2, padding: 1 }),
    [1, 2, 3, 3],
    [
      0.7833269096,
      0.9738476309,
      0.9698898108,
      0.9656577765,
      0.9656577765,
      0.9698898108,
      0.9656577765,
      0.9656577765,
      0.9611527245,
      0.9563759284,
      0.3656526203,
      0.8233330007,
      0.9563759284,
      0.9513287388,
      0.9460125826,
      0.3341511768,
      0.8419505261,
      0.9460125826,
    ],
  );
  await expectTorch(
    "maxPool2d(2, stride 1, dilation 2)",
    maxPool2d(p, 2, { stride: 1, dilation: 2 }),
    [1, 2, 3, 3],
    [
      0.9738476309,
      0.7833269096,
      0.9738476309,
      0.8037844266,
      0.9656577765,
      0.9698898108,
      0.8136737375,
      0.9611527245,
      0.8136737375,
      0.9513287388,
      0.8327594853,
      0.9513287388,
      0.9563759284,
      0.8419505261,
      0.9460125826,
      0.9513287388,
      0.8327594853,
      0.9513287388,
    ],
  );
});

Deno.test("avgPool2d with padding and adaptiveAvgPool2d with uneven windows match PyTorch", async () => {
  const p = seq([1, 2, 5, 5], Math.sin, 0.9);
  await expectTorch(
    "avgPool2d(3, stride 2, padding 1)",
    avgPool2d(p, 3, { stride: 2, padding: 1 }),
    [1, 2, 3, 3],
    [
      -0.1074408551,
      0.2469190775,
      0.194268568,
      -0.00291886785,
      -0.1414180075,
      -0.04680998372,
      0.1187641827,
      0.3016917237,
      -0.01267597504,
      -0.01689572465,
      -0.3094566483,
      -0.09192297531,
      0.05891629034,
      0.1371496032,
      -0.01068839928,
      -0.2116615419,
      -0.2225954929,
      0.1333870816,
    ],
  );
  const q = seq([1, 2, 5, 7], Math.sin, 0.9);
  await expectTorch("adaptiveAvgPool2d 5x7 -> 3x2", adaptiveAvgPool2d(q, [3, 2]), [1, 2, 3, 2], [
    0.5471305601,
    -0.4442215489,
    0.5498996271,
    -0.4526407543,
    0.5523836579,
    -0.460825337,
    0.5551056789,
    -0.4712456983,
    0.5567025954,
    -0.4786836792,
    0.5580109495,
    -0.4858735381,
  ]);
});

Deno.test("logsumexp over one and over several dims matches PyTorch", async () => {
  const r = seq([2, 3, 4], Math.sin, 1.3).mul(10);
  await expectTorch("logsumexp(dim 1)", r.logsumexp(1), [2, 4], [
    0.0003995124184,
    9.636143519,
    9.99643302,
    9.868978787,
    9.46187296,
    8.273365156,
    -3.141909281,
    6.055434197,
  ]);
  await expectTorch("logsumexp(dims [0, 2])", r.logsumexp([0, 2]), [3], [
    9.674278538,
    10.3904784,
    10.13981881,
  ]);
  const big = tensor([[1000, 1000], [-1000, -Infinity]]);
  await assertClose(big.logsumexp(1), [1000 + Math.LN2, -1000], {}, "logsumexp of +-1000");
  await assertClose(tensor([-Infinity, -Infinity]).logsumexp(0), [-Infinity], {}, "all -inf");
});

Deno.test("gelu matches PyTorch's exact (erf) form", async () => {
  const g = tensor([-4, -3, -2, -1, 0, 1, 2, 3, 4], { dtype: "float64" });
  // The erf approximation is accurate to about 1.5e-7.
  await assertClose(
    g.gelu(),
    [
      -0.0001266849673,
      -0.004049694095,
      -0.0455002639,
      -0.1586552539,
      0.0,
      0.8413447461,
      1.954499736,
      2.995950306,
      3.999873315,
    ],
    { atol: 1e-6, rtol: 0 },
    "gelu vs PyTorch",
  );
});

Deno.test("var and std (unbiased and biased, one dim, several dims, all) match PyTorch", async () => {
  const v = seq([2, 3, 4], Math.sin, 1.3);
  await expectTorch("var(dim 1)", v.var(1), [2, 4], [
    0.2448138811,
    0.7487309206,
    0.09615622299,
    0.7106070217,
    0.1884188785,
    0.7723920773,
    0.1120012675,
    0.6597909842,
  ]);
  await expectTorch("var(dims [0, 2], correction 0)", v.var([0, 2], { correction: 0 }), [3], [
    0.409310508,
    0.4936888249,
    0.5975643544,
  ]);
  await expectTorch("std()", v.std(), [], [0.7224798179]);
  await expectTorch("std(dim 2, keepdim)", v.std(2, { keepdim: true }), [2, 3, 1], [
    0.7096177422,
    0.7789483097,
    0.8958821422,
    0.6925824834,
    0.8038334952,
    0.8844771131,
  ]);
});

Deno.test("matmul broadcasting batch dims [2, 1, 3, 4] @ [5, 4, 2] matches PyTorch", async () => {
  const a = seq([2, 1, 3, 4], Math.sin, 0.5);
  const m = seq([5, 4, 2], Math.cos, 0.3);
  await expectTorch("matmul", matmul(a, m), [2, 5, 3, 2], [
    0.4739675578,
    -0.1460424618,
    1.534072415,
    1.427775242,
    -1.750766323,
    -1.042285839,
    -1.718256585,
    -1.294541745,
    -1.217568422,
    -1.441549549,
    2.731631079,
    2.494334314,
    2.060095657,
    2.055216356,
    0.2615821897,
    0.6982039142,
    -2.277808859,
    -2.636327056,
    -1.319946597,
    -1.736465505,
    0.8317902962,
    0.4118471923,
    0.6276527961,
    1.393687693,
    -0.1134550062,
    0.5057011455,
    -1.488296064,
    -1.305590977,
    1.352154404,
    0.5809339642,
    -0.07692068146,
    -0.5602873329,
    1.81478692,
    1.508609441,
    -1.43351499,
    -0.6953187603,
    -1.055950843,
    -0.6344691188,
    -1.852769874,
    -1.966269681,
    2.597999486,
    2.270982934,
    1.634223712,
    1.495994415,
    0.9176548029,
    1.39122037,
    -2.397981998,
    -2.653898326,
    -1.354181747,
    -1.571804641,
    0.4994241044,
    -0.08548463445,
    0.938514225,
    1.642952961,
    0.3629065085,
    0.822083314,
    -1.654199195,
    -1.265148705,
    1.013873015,
    0.2308919489,
  ]);
});

Deno.test("softmax and logSoftmax of logits near +-1000 match PyTorch in float32", async () => {
  const s = tensor([[1000, 999, 0], [-1000, -1001, -1002]]);
  await assertClose(
    s.softmax(1),
    [
      0.7310585976,
      0.2689414322,
      0.0,
      0.6652409434,
      0.2447284758,
      0.09003057331,
    ],
    { atol: 1e-7, rtol: 1e-6 },
    "softmax vs PyTorch",
  );
  await assertClose(
    s.logSoftmax(1),
    [
      -0.313261658,
      -1.313261628,
      -1000.313232,
      -0.4076059461,
      -1.407605886,
      -2.407605886,
    ],
    { atol: 1e-6, rtol: 1e-6 },
    "logSoftmax vs PyTorch",
  );
});

// ---- small hand-computed cases -----------------------------------------------------------------

Deno.test("elementwise ops on hand-picked values", async () => {
  const x = tensor([-2, -0.5, 0, 0.5, 2]);
  await assertClose(x.relu(), [0, 0, 0, 0.5, 2]);
  await assertClose(x.leakyRelu(0.1), [-0.2, -0.05, 0, 0.5, 2]);
  await assertClose(x.abs(), [2, 0.5, 0, 0.5, 2]);
  await assertClose(x.clamp(-1, 1), [-1, -0.5, 0, 0.5, 1]);
  await assertClose(x.sigmoid(), [0.11920292, 0.37754067, 0.5, 0.62245933, 0.88079708]);
  await assertClose(x.tanh(), [-0.96402758, -0.46211716, 0, 0.46211716, 0.96402758]);
  await assertClose(x.pow(3), [-8, -0.125, 0, 0.125, 8]);
  await assertClose(x.pow(2), [4, 0.25, 0, 0.25, 4]);
  await assertClose(x.maximum(0.25), [0.25, 0.25, 0.25, 0.5, 2]);
  await assertClose(x.minimum(tensor([0])), [-2, -0.5, 0, 0, 0]);
  await assertClose(x.exp().log(), x);
  await assertClose(x.abs().sqrt(), [Math.SQRT2, Math.SQRT1_2, 0, Math.SQRT1_2, Math.SQRT2]);
  await assertClose(tensor([1, 4]).div(tensor([4, -8])), [0.25, -0.5]);
});

Deno.test("broadcasting: [2, 3] + [3], [2, 1] + [1, 3], and a scalar", async () => {
  const a = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(await a.add(tensor([10, 20, 30])).toArray(), [[11, 22, 33], [14, 25, 36]]);
  const col = tensor([[1], [2]]);
  const row = tensor([[10, 20, 30]]);
  const sum = col.add(row);
  assert.deepEqual(sum.shape, [2, 3]);
  assert.deepEqual(await sum.toArray(), [[11, 21, 31], [12, 22, 32]]);
  assert.deepEqual(await a.mul(2).toArray(), [[2, 4, 6], [8, 10, 12]]);
  assert.deepEqual(await tensor(3).sub(a).toArray(), [[2, 1, 0], [-1, -2, -3]]);
});

Deno.test("comparisons give 1 and 0, and where picks by a condition", async () => {
  const x = tensor([1, 2, 3]);
  assert.deepEqual(await x.eq(2).toArray(), [0, 1, 0]);
  assert.deepEqual(await x.gt(2).toArray(), [0, 0, 1]);
  assert.deepEqual(await x.ge(2).toArray(), [0, 1, 1]);
  assert.deepEqual(await x.lt(2).toArray(), [1, 0, 0]);
  assert.deepEqual(await x.le(2).toArray(), [1, 1, 0]);
  assert.deepEqual(await where(x.gt(1), x, tensor([-1])).toArray(), [-1, 2, 3]);
});

Deno.test("int32 arithmetic stays int32; division and float operands promote", () => {
  const i = tensor([1, 2, 3], { dtype: "int32" });
  assert.equal(i.add(1).dtype, "int32");
  assert.equal(i.mul(i).dtype, "int32");
  assert.equal(i.add(0.5).dtype, "float32");
  assert.equal(i.div(2).dtype, "float32");
  assert.equal(i.add(tensor([1.5])).dtype, "float32");
  assert.equal(tensor([1], { dtype: "float64" }).add(tensor([1])).dtype, "float64");
});

Deno.test("integer division by a scalar gives float results", async () => {
  const i = tensor([1, 2, 3], { dtype: "int32" });
  await assertClose(i.div(2), [0.5, 1, 1.5]);
});

Deno.test("reductions on hand-picked values, and argmax / argmin pick the first winner", async () => {
  const x = tensor([[1, 5, 5], [7, -2, 0]]);
  assert.equal(await x.sum().item(), 16);
  assert.deepEqual(await x.sum(0).toArray(), [8, 3, 5]);
  assert.deepEqual(await x.sum(1, true).toArray(), [[11], [5]]);
  assert.deepEqual(await x.max(1).toArray(), [5, 7]);
  assert.deepEqual(await x.min(0).toArray(), [1, -2, 0]);
  assert.deepEqual(x.mean([0, 1], true).shape, [1, 1]);
  await assertClose(x.mean([0, 1], true), [16 / 6]);
  assert.deepEqual(await x.argmax(1).toArray(), [1, 0]);
  assert.deepEqual(await x.argmin(1, true).toArray(), [[0], [1]]);
  assert.equal(await x.argmax().item(), 3);
  assert.equal(x.argmax(1).dtype, "int32");
});

Deno.test("max over several dims shares the gradient between tied winners", async () => {
  const x = tensor([[3, 1], [3, 2]], { requiresGrad: true });
  x.max([0, 1]).backward();
  assert.deepEqual(await x.grad!.toArray(), [[0.5, 0], [0.5, 0]]);
});

Deno.test("max over one dim sends the gradient to the first winner", async () => {
  const x = tensor([[3, 1, 3]], { requiresGrad: true });
  x.max(1).sum().backward();
  assert.deepEqual(await x.grad!.toArray(), [[1, 0, 0]]);
});

Deno.test("shape ops on hand-picked values", async () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(await x.T.toArray(), [[1, 4], [2, 5], [3, 6]]);
  assert.deepEqual(await x.reshape([3, -1]).toArray(), [[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(await x.flatten().toArray(), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(x.unsqueeze(1).shape, [2, 1, 3]);
  assert.deepEqual(x.unsqueeze(1).squeeze().shape, [2, 3]);
  assert.deepEqual(await x.slice(1, 0, undefined, 2).toArray(), [[1, 3], [4, 6]]);
  assert.deepEqual(await x.slice(1, -2).toArray(), [[2, 3], [5, 6]]);
  assert.deepEqual(await x.narrow(0, 1, 1).toArray(), [[4, 5, 6]]);
  assert.deepEqual(await x.permute([1, 0]).toArray(), await x.T.toArray());
  assert.deepEqual(await tensor([[1], [2]]).expand([2, 3]).toArray(), [[1, 1, 1], [2, 2, 2]]);
  const idx = tensor([2, 0, 2], { dtype: "int32" });
  assert.deepEqual(await x.indexSelect(1, idx).toArray(), [[3, 1, 3], [6, 4, 6]]);
  const g = tensor([[2, 2], [0, 1]], { dtype: "int32" });
  assert.deepEqual(await x.gather(1, g).toArray(), [[3, 3], [4, 5]]);
});

Deno.test("cat and stack on hand-picked values", async () => {
  const a = tensor([[1, 2]]);
  const b = tensor([[3, 4], [5, 6]]);
  assert.deepEqual(await cat([a, b]).toArray(), [[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(await cat([b, b], 1).toArray(), [[3, 4, 3, 4], [5, 6, 5, 6]]);
  assert.deepEqual(await stack([a, a], 2).toArray(), [[[1, 1], [2, 2]]]);
});

Deno.test("matmul of small matrices and vectors", async () => {
  const a = tensor([[1, 2], [3, 4]]);
  assert.deepEqual(await a.matmul(tensor([[5], [6]])).toArray(), [[17], [39]]);
  assert.deepEqual(await a.matmul(tensor([1, 1])).toArray(), [3, 7]);
  assert.deepEqual(await tensor([1, 1]).matmul(a).toArray(), [4, 6]);
  assert.equal(await tensor([1, 2, 3]).matmul(tensor([4, 5, 6])).item(), 32);
});

Deno.test("conv2d of a known kernel: a 3x3 box filter sums each neighbourhood", async () => {
  const image = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
  const box = tensor([[[[1, 1, 1], [1, 1, 1], [1, 1, 1]]]]);
  const out = conv2d(image, box, null, { padding: 1 });
  assert.deepEqual(await out.toArray(), [[[[12, 21, 16], [27, 45, 33], [24, 39, 28]]]]);
});

Deno.test("reading values: data, item, toArray, dataSync", async () => {
  const x = tensor([[1, 2], [3, 4]], { dtype: "float64" });
  assert.ok((await x.data()) instanceof Float64Array);
  assert.deepEqual(Array.from(x.dataSync()), [1, 2, 3, 4]);
  assert.deepEqual(await x.toArray(), [[1, 2], [3, 4]]);
  assert.equal(await x.sum().item(), 10);
  assert.equal(await tensor(7).toArray(), 7);
  // data() returns a copy: changing it leaves the tensor alone.
  const copy = await x.data();
  copy[0] = 100;
  assert.equal((await x.data())[0], 1);
});

Deno.test("toString describes shape, dtype, device and requiresGrad", () => {
  assert.equal(tensor([[1, 2]]).toString(), "Tensor(shape=[1, 2], dtype=float32, device=cpu)");
  assert.equal(
    tensor([1], { requiresGrad: true }).toString(),
    "Tensor(shape=[1], dtype=float32, device=cpu, requiresGrad=true)",
  );
});
