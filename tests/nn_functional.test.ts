import assert from "node:assert/strict";
import {
  assertClose,
  F,
  gradcheck,
  manualSeed,
  ones,
  rand,
  randn,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";

const f64 = { dtype: "float64" as const };
/** A float64 tensor that requires a gradient, for gradient checks. */
const param = (values: Tensor) => values.double().requiresGrad_(true);
const randnParam = (shape: number[]) => param(randn(shape, f64));
const int32 = (values: number[] | number[][]) => tensor(values, { dtype: "int32" });

// ---- gradient checks of every F function ------------------------------------------------------

Deno.test("linear gradient for 2-D and 3-D inputs, with and without bias", async () => {
  manualSeed(1);
  const weight = randnParam([3, 4]);
  const bias = randnParam([3]);
  await gradcheck((x, w, b) => F.linear(x, w, b), [randnParam([5, 4]), weight, bias], {
    name: "linear",
  });
  await gradcheck((x, w) => F.linear(x, w), [randnParam([2, 5, 4]), weight], {
    name: "linear without bias, 3-D input",
  });
});

Deno.test("conv2d gradient with stride 2 and padding 1", async () => {
  manualSeed(2);
  const inputs = [randnParam([2, 3, 7, 6]), randnParam([4, 3, 3, 3]), randnParam([4])];
  await gradcheck((x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1 }), inputs, {
    name: "conv2d stride 2 padding 1",
  });
});

Deno.test("conv2d gradient with dilation 2 and uneven stride and padding", async () => {
  manualSeed(3);
  const inputs = [randnParam([1, 2, 8, 7]), randnParam([3, 2, 3, 2])];
  await gradcheck(
    (x, w) => F.conv2d(x, w, null, { dilation: 2, stride: [1, 2], padding: [2, 1] }),
    inputs,
    { name: "conv2d dilation 2" },
  );
});

Deno.test("conv2d gradient with groups 2 and depthwise groups", async () => {
  manualSeed(4);
  await gradcheck(
    (x, w, b) => F.conv2d(x, w, b, { groups: 2, padding: 1 }),
    [randnParam([2, 4, 5, 5]), randnParam([6, 2, 3, 3]), randnParam([6])],
    { name: "conv2d groups 2" },
  );
  await gradcheck(
    (x, w) => F.conv2d(x, w, null, { groups: 3 }),
    [randnParam([1, 3, 4, 4]), randnParam([3, 1, 2, 2])],
    { name: "conv2d depthwise" },
  );
});

Deno.test("maxPool2d gradient with overlapping windows and padding", async () => {
  manualSeed(5);
  await gradcheck((x) => F.maxPool2d(x, 3, { stride: 2, padding: 1 }), [randnParam([2, 2, 7, 6])], {
    name: "maxPool2d 3x3 stride 2",
  });
});

Deno.test("maxPool2d sends the gradient of a tie to the first maximum, as PyTorch", async () => {
  const x = param(tensor([[[
    [1, 3, 3, 2, 0],
    [3, 1, 3, 3, 1],
    [0, 2, 2, 2, 5],
    [1, 3, 2, 5, 5],
  ]]]));
  const y = F.maxPool2d(x, 3, { stride: 2, padding: 1 });
  await assertClose(y, [3, 3, 3, 3, 5, 5], {}, "maxPool2d values");
  y.backward(tensor([[[[1, 2, 3], [4, 5, 6]]]], f64));
  // y = torch.nn.functional.max_pool2d(x, 3, stride=2, padding=1)
  // y.backward(torch.arange(1., 7.).reshape(y.shape)); x.grad
  await assertClose(
    x.grad!,
    [
      [0, 3, 0, 0, 0],
      [4, 0, 0, 3, 0],
      [0, 0, 0, 0, 6],
      [0, 0, 0, 5, 0],
    ].flat(),
    {},
    "maxPool2d gradient with ties",
  );
});

Deno.test("avgPool2d gradient with overlapping windows and padding", async () => {
  manualSeed(6);
  await gradcheck((x) => F.avgPool2d(x, [3, 2], { stride: 1, padding: [1, 1] }), [
    randnParam([2, 3, 5, 4]),
  ], { name: "avgPool2d" });
});

Deno.test("adaptiveAvgPool2d gradient with even and uneven windows", async () => {
  manualSeed(7);
  await gradcheck((x) => F.adaptiveAvgPool2d(x, [3, 2]), [randnParam([2, 2, 5, 7])], {
    name: "adaptiveAvgPool2d uneven",
  });
  await gradcheck((x) => F.adaptiveAvgPool2d(x, 1), [randnParam([2, 3, 4, 4])], {
    name: "adaptiveAvgPool2d global",
  });
});

Deno.test("batchNorm gradient in training mode for [N, C] and [N, C, H, W]", async () => {
  manualSeed(8);
  const options = (weight: Tensor, bias: Tensor) => ({ weight, bias, training: true });
  await gradcheck(
    (x, w, b) => F.batchNorm(x, null, null, options(w, b)),
    [randnParam([6, 3]), randnParam([3]), randnParam([3])],
    { name: "batchNorm 2-D" },
  );
  await gradcheck(
    (x, w, b) => F.batchNorm(x, null, null, options(w, b)),
    [randnParam([3, 2, 3, 2]), randnParam([2]), randnParam([2])],
    { name: "batchNorm 4-D" },
  );
});

Deno.test("batchNorm gradient in evaluation mode", async () => {
  manualSeed(9);
  const runningMean = randn([2], f64);
  const runningVar = rand([2], f64).add(0.5);
  await gradcheck(
    (x, w) => F.batchNorm(x, runningMean, runningVar, { weight: w }),
    [randnParam([3, 2, 2, 2]), randnParam([2])],
    { name: "batchNorm eval" },
  );
});

Deno.test("dropout gradient with a fixed seed", async () => {
  const x = randnParam([4, 5]);
  const n = await gradcheck(
    (x) => {
      manualSeed(10); // the same mask on every call
      return F.dropout(x, 0.3);
    },
    [x],
    { name: "dropout" },
  );
  assert.equal(n, 20);
});

Deno.test("activation functions of F have correct gradients", async () => {
  manualSeed(11);
  const x = randnParam([3, 4]);
  const cases: [string, (x: Tensor) => Tensor][] = [
    ["relu", F.relu],
    ["leakyRelu", (x) => F.leakyRelu(x, 0.2)],
    ["sigmoid", F.sigmoid],
    ["tanh", F.tanh],
    ["gelu", F.gelu],
    ["softmax", (x) => F.softmax(x, 1)],
    ["logSoftmax", (x) => F.logSoftmax(x, 0)],
  ];
  for (const [name, fn] of cases) await gradcheck(fn, [x], { name });
});

Deno.test("crossEntropy gradient with labelSmoothing and class weights", async () => {
  manualSeed(12);
  const targets = int32([0, 2, 1, 2, 3]);
  const weight = tensor([1, 2, 0.5, 3], f64);
  for (const reduction of ["mean", "sum", "none"] as const) {
    await gradcheck(
      (logits) => F.crossEntropy(logits, targets, { labelSmoothing: 0.15, weight, reduction }),
      [randnParam([5, 4])],
      { name: `crossEntropy ${reduction}` },
    );
  }
  await gradcheck(
    (logits) => F.crossEntropy(logits, int32([[1, 0], [2, 2]]), { labelSmoothing: 0.1 }),
    [randnParam([2, 3, 2])],
    { name: "crossEntropy [N, C, L]" },
  );
});

Deno.test("nllLoss gradient with and without class weights", async () => {
  manualSeed(13);
  const targets = int32([1, 0, 2]);
  await gradcheck((logProbs) => F.nllLoss(logProbs, targets), [randnParam([3, 3])], {
    name: "nllLoss",
  });
  await gradcheck(
    (logProbs) => F.nllLoss(logProbs, targets, { weight: tensor([0.2, 1, 3], f64) }),
    [randnParam([3, 3])],
    { name: "nllLoss weighted" },
  );
});

Deno.test("binaryCrossEntropyWithLogits gradient for logits, targets and posWeight", async () => {
  manualSeed(14);
  await gradcheck(
    (x, y) => F.binaryCrossEntropyWithLogits(x, y),
    [randnParam([3, 4]), param(rand([3, 4], f64))],
    { name: "binaryCrossEntropyWithLogits" },
  );
  await gradcheck(
    (x, y, p) => F.binaryCrossEntropyWithLogits(x, y, { posWeight: p, reduction: "sum" }),
    [randnParam([3, 4]), param(rand([3, 4], f64)), param(rand([4], f64).add(0.5))],
    { name: "binaryCrossEntropyWithLogits with posWeight" },
  );
});

Deno.test("binaryCrossEntropyWithLogits has the right gradient at a logit of 0", async () => {
  const x = param(zeros([2]));
  F.binaryCrossEntropyWithLogits(x, tensor([1, 0], f64), { reduction: "sum" }).backward();
  // d/dx = sigmoid(0) - y
  await assertClose(x.grad!, [-0.5, 0.5]);
});

Deno.test("mseLoss and l1Loss gradients", async () => {
  manualSeed(15);
  const target = randn([4, 3], f64);
  await gradcheck((x) => F.mseLoss(x, target), [randnParam([4, 3])], { name: "mseLoss" });
  await gradcheck((x, t) => F.l1Loss(x, t, { reduction: "sum" }), [
    randnParam([4, 3]),
    randnParam([4, 3]),
  ], { name: "l1Loss" });
});

// ---- values against PyTorch ------------------------------------------------------------------

const LOGITS = [[2.0, 0.5, -1.0, 0.0], [0.1, 3.0, 0.2, -2.0], [1.0, 1.0, 1.0, 1.0]];
const TARGETS = [0, 1, 3];
const CLASS_WEIGHT = [1.0, 2.0, 0.5, 3.0];

Deno.test("crossEntropy matches PyTorch for each reduction, smoothing and weight", async () => {
  // Python (torch 1.13), float64:
  //   logits = tensor([[2., .5, -1., 0.], [.1, 3., .2, -2.], [1., 1., 1., 1.]])
  //   t = tensor([0, 1, 3]); w = tensor([1., 2., .5, 3.])
  //   F.cross_entropy(logits, t), (..., reduction="none"),
  //   (..., reduction="sum", label_smoothing=0.1), (..., weight=w),
  //   (..., weight=w, label_smoothing=0.2), (..., weight=w, label_smoothing=0.2, reduction="none")
  const logits = tensor(LOGITS, f64);
  const targets = int32(TARGETS);
  const weight = tensor(CLASS_WEIGHT, f64);
  const tol = { atol: 1e-12, rtol: 1e-10 };
  await assertClose(F.crossEntropy(logits, targets), 0.6147552461388103, tol, "mean");
  await assertClose(
    F.crossEntropy(logits, targets, { reduction: "none" }),
    [0.342349582389822, 0.11562179490671823, 1.3862943611198906],
    tol,
    "none",
  );
  await assertClose(
    F.crossEntropy(logits, targets, { reduction: "sum", labelSmoothing: 0.1 }),
    2.274265738416431,
    tol,
    "sum with smoothing",
  );
  await assertClose(F.crossEntropy(logits, targets, { weight }), 0.7887460425938216, tol, "w");
  await assertClose(
    F.crossEntropy(logits, targets, { weight, labelSmoothing: 0.2 }),
    0.9792278949059474,
    tol,
    "weight and smoothing",
  );
  await assertClose(
    F.crossEntropy(logits, targets, { weight, labelSmoothing: 0.2, reduction: "none" }),
    [0.9101432801885498, 1.1875719551954327, 3.777652134051702],
    tol,
    "weight and smoothing, none",
  );
  await assertClose(
    F.nllLoss(F.logSoftmax(logits, 1), targets, { weight }),
    0.7887460425938216,
    tol,
    "nllLoss weighted",
  );
});

Deno.test("crossEntropy over [N, C, H, W] scores matches PyTorch", async () => {
  // logits = torch.arange(24.).reshape(2, 3, 2, 2).sin()
  // F.cross_entropy(logits, tensor([[[0, 1], [2, 0]], [[1, 1], [2, 2]]]), label_smoothing=0.1)
  const values = Array.from({ length: 24 }, (_, i) => Math.sin(i));
  const logits = tensor(values, { ...f64, shape: [2, 3, 2, 2] });
  const targets = int32([[0, 1], [2, 0], [1, 1], [2, 2]]).reshape([2, 2, 2]);
  await assertClose(
    F.crossEntropy(logits, targets, { labelSmoothing: 0.1 }),
    1.748453450902396,
    { atol: 1e-12, rtol: 1e-10 },
  );
});

Deno.test("crossEntropy is finite for huge logits", async () => {
  const loss = F.crossEntropy(tensor([[1000, -1000, 0]]), int32([1]));
  await assertClose(loss, 2000, { rtol: 1e-6 });
});

Deno.test("binaryCrossEntropyWithLogits, mseLoss and l1Loss match PyTorch", async () => {
  // x = tensor([[-3., 0., 2.5], [10., -20., .3]]); y = tensor([[0., 1., 1.], [.2, 0., .7]])
  // F.binary_cross_entropy_with_logits(x, y); (..., pos_weight=tensor([2., .5, 1.5]),
  // reduction="none"); F.mse_loss(x, y); F.l1_loss(x, y)
  const x = tensor([[-3, 0, 2.5], [10, -20, 0.3]], f64);
  const y = tensor([[0, 1, 1], [0.2, 0, 0.7]], f64);
  const tol = { atol: 1e-12, rtol: 1e-10 };
  await assertClose(F.binaryCrossEntropyWithLogits(x, y), 1.577504151975856, tol, "bce");
  await assertClose(
    F.binaryCrossEntropyWithLogits(x, y, {
      posWeight: tensor([2, 0.5, 1.5], f64),
      reduction: "none",
    }),
    [
      0.048587351573742055,
      0.34657359027997264,
      0.11833460143882435,
      8.00005447867906,
      2.061153026033935e-09,
      0.8383795800325115,
    ],
    tol,
    "bce with posWeight",
  );
  await assertClose(F.mseLoss(x, y), 84.74166666666667, tol, "mse");
  await assertClose(F.l1Loss(x, y), 5.95, tol, "l1");
});

Deno.test("batchNorm running statistics after two batches match PyTorch", async () => {
  // bn = torch.nn.BatchNorm2d(2).double()
  // b1 = torch.arange(16.).reshape(2, 2, 2, 2) * 0.5 - 3
  // b2 = tensor([[[[1, 2], [3, 4]], [[0, 0], [1, -1]]], [[[-1, 5], [2, 2]], [[3, -3], [.5, .25]]]])
  // y1 = bn(b1); y2 = bn(b2); bn.running_mean, bn.running_var, y2; bn.eval(); bn(b2)
  const b1 = tensor(Array.from({ length: 16 }, (_, i) => i * 0.5 - 3), {
    ...f64,
    shape: [2, 2, 2, 2],
  });
  const b2 = tensor([
    [[[1, 2], [3, 4]], [[0, 0], [1, -1]]],
    [[[-1, 5], [2, 2]], [[3, -3], [0.5, 0.25]]],
  ], f64);
  const runningMean = zeros([2], f64);
  const runningVar = ones([2], f64);
  const train = { training: true, momentum: 0.1, eps: 1e-5 };
  F.batchNorm(b1, runningMean, runningVar, train);
  const y2 = F.batchNorm(b2, runningMean, runningVar, train);
  const tol = { atol: 1e-12, rtol: 1e-10 };
  await assertClose(runningMean, [0.2025, 0.16687500000000002], tol, "running mean");
  await assertClose(runningVar, [1.5892857142857144, 1.5427455357142859], tol, "running var");
  await assertClose(
    y2,
    [
      -0.7293237160884593,
      -0.14586474321769183,
      0.4375942296530756,
      1.021053202523843,
      -0.05893681873997651,
      -0.05893681873997651,
      0.5697225811531064,
      -0.6875962186330593,
      -1.8962416618299942,
      1.6045121753946106,
      -0.14586474321769183,
      -0.14586474321769183,
      1.827041380939272,
      -1.944915018419225,
      0.2553928812065649,
      0.0982280312332942,
    ],
    { atol: 1e-9, rtol: 1e-9 },
    "training output",
  );
  await assertClose(
    F.batchNorm(b2, runningMean, runningVar),
    [
      0.6325987589864248,
      1.4258260429819418,
      2.219053326977459,
      3.012280610972976,
      -0.13435156261790138,
      -0.13435156261790138,
      0.6707514343433053,
      -0.9394545595791081,
      -0.9538558090046092,
      3.8055078949684926,
      1.4258260429819418,
      1.4258260429819418,
      2.280957428265719,
      -2.5496605535015213,
      0.26819993586270197,
      0.0669241866224003,
    ],
    { atol: 1e-9, rtol: 1e-9 },
    "evaluation output",
  );
});

Deno.test("dropout keeps about 1 - p of the values, scaled by 1 / (1 - p), seeded", async () => {
  manualSeed(16);
  const y = await F.dropout(ones([10000]), 0.2).data();
  const kept = Array.from(y).filter((v) => v !== 0);
  assert.ok(Math.abs(kept.length - 8000) < 200, `kept ${kept.length} of 10000, expected ~8000`);
  assert.ok(kept.every((v) => Math.abs(v - 1.25) < 1e-6), "survivors must be scaled to 1.25");
  manualSeed(16);
  assert.deepEqual(await F.dropout(ones([10000]), 0.2).data(), y);
  const x = randn([3]);
  assert.equal(F.dropout(x, 0.5, false), x, "no dropout outside training");
  assert.ok(Array.from(await F.dropout(x, 1).data()).every((v) => v === 0), "p = 1 drops all");
});

// ---- bad input -------------------------------------------------------------------------------

Deno.test("crossEntropy rejects float targets, out-of-range classes and batch mismatches", () => {
  const logits = randn([4, 10]);
  assert.throws(
    () => F.crossEntropy(logits, tensor([1, 2, 3, 4])),
    /crossEntropy: expected class indices of dtype int32, got float32/,
  );
  assert.throws(
    () => F.crossEntropy(logits, int32([1, 12, 3, 4])),
    /crossEntropy: target 12 is out of range for 10 classes/,
  );
  assert.throws(
    () => F.crossEntropy(logits, int32([0, -1, 0, 0])),
    /crossEntropy: target -1 is out of range for 10 classes/,
  );
  assert.throws(
    () => F.crossEntropy(logits, int32([1, 2])),
    (error: Error) =>
      error.message.startsWith("crossEntropy: the scores of shape [4, 10] and the targets of ") &&
      error.message.includes("shape [2] have different batch sizes (4 vs 2)"),
  );
  assert.throws(() => F.crossEntropy(randn([10]), int32([1])), /expected scores of shape \[batch/);
  assert.throws(
    () => F.crossEntropy(logits, int32([0, 1, 2, 3]), { weight: ones([3]) }),
    /class weight should have shape \[10\]/,
  );
  assert.throws(
    () => F.crossEntropy(logits, int32([0, 1, 2, 3]), { labelSmoothing: 1.5 }),
    /labelSmoothing must be in \[0, 1\]/,
  );
  assert.throws(
    () => F.nllLoss(logits, int32([0, 1, 2, 30])),
    /nllLoss: target 30 is out of range/,
  );
});

Deno.test("linear, losses and batchNorm name the op and the shapes on bad input", () => {
  assert.throws(
    () => F.linear(randn([64, 784]), randn([10, 100])),
    /linear: the input of shape \[64, 784\] has 784 features .* \[10, 100\] expects 100/,
  );
  assert.throws(() => F.linear(randn([2, 3]), randn([3])), /linear: the weight must be 2-D/);
  assert.throws(
    () => F.linear(randn([2, 3]), randn([4, 3]), randn([3])),
    /linear: the bias must have shape \[4\], got \[3\]/,
  );
  assert.throws(
    () => F.mseLoss(randn([64, 1]), randn([64])),
    /mseLoss: the input of shape \[64, 1\] and the target of shape \[64\] differ/,
  );
  assert.throws(
    () => F.l1Loss(randn([2]), randn([2]), { reduction: "avg" as "mean" }),
    /reduction/,
  );
  assert.throws(
    () => F.batchNorm(randn([1, 3]), null, null, { training: true }),
    /batchNorm: expected more than 1 value per channel when training/,
  );
  assert.throws(
    () => F.batchNorm(randn([4, 3]), zeros([2]), ones([2])),
    /batchNorm: runningMean has shape \[2\] but the input of shape \[4, 3\] has 3 channels/,
  );
  assert.throws(() => F.batchNorm(randn([4, 3]), null, null), /evaluation mode needs runningMean/);
  assert.throws(() => F.dropout(randn([2]), 1.5), /dropout: probability has to be between 0 and 1/);
});
