/**
 * One test (or a few) per class of "silently wrong" results that issue 10 closed: PyTorch
 * habits caught by run-time option checks, PyTorch's positional structure, file paths for
 * save/load, version counters, the new ops (checked against PyTorch 1.13 values and gradcheck
 * in float64, and CPU/WebGPU parity), device-side index errors, resource limits and data files.
 *
 * The PyTorch values were computed with (float64 throughout):
 *
 * ```python
 * x = torch.tensor([-3., -1., -0.25, 0., 0.5, 2., 4.], dtype=torch.float64, requires_grad=True)
 * F.gelu(x, approximate="tanh"), F.elu(x, alpha=0.7), F.gelu(x) and their gradients of sum()
 * [math.erf(v) for v in [-2.5, -0.7, -1e-9, 0.1, 0.84375, 1.1, 1.9, 3.3, 5.5]]
 * m = [[1, 2, 3], [4, 5, 6]]; (m.cumsum(d) * [[1, -2, 3], [0.5, 1, 2]]).sum().backward()
 * Adam([p], lr=0.1, amsgrad=True, weight_decay=0.01) and AdamW(..., weight_decay=0.1), five
 *   steps of ((p * [1, 2, 3]) ** 2).sum() * (2 if k % 2 == 0 else 0.5) from p = [1, -2, 3]
 * torch.maximum / torch.minimum of [1, 2, 3] and [1, 1, 3], and of [nan, 1] and [1, nan]:
 *   gradients of sum()
 * x = [[2, 2, 2], [1, 2, 4]]: x.std(1).sum().backward(), and with unbiased=False
 * ```
 */
import assert from "node:assert/strict";
import {
  assertClose,
  data,
  F,
  fetchCsv,
  gradcheck,
  linspace,
  load,
  nn,
  noGrad,
  optim,
  save,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import { checkOptions, suggestKey } from "../core/options.ts";
import { erf } from "../core/ops/table.ts";
import { decodeSafetensors, encodeSafetensors } from "../core/io/safetensors.ts";
import { fetchIdx, gzip } from "../core/io/idx.ts";
import { assertThrowsWith } from "./core_helpers.ts";
import { checkParity, gpuTest, input } from "./gpu_helpers.ts";

const f64 = (values: number[] | number[][], requiresGrad = false) =>
  tensor(values, { dtype: "float64", requiresGrad });

const X = [-3, -1, -0.25, 0, 0.5, 2, 4];

// ---- PyTorch habits: options objects ---------------------------------------------------------

Deno.test("options: the keys students type from PyTorch get the key they meant", () => {
  assert.equal(suggestKey("weight_decay", ["lr", "weightDecay"]), "weightDecay");
  assert.equal(suggestKey("batch_size", ["batchSize", "shuffle"]), "batchSize");
  assert.equal(suggestKey("learningRate", ["lr", "momentum"]), "lr");
  assert.equal(suggestKey("nestrov", ["lr", "nesterov"]), "nesterov");
  assert.equal(suggestKey("reduce", ["weight", "reduction"]), "reduction");
  assert.equal(suggestKey("bais", ["bias"]), "bias");
  assert.equal(suggestKey("zzz", ["lr", "momentum"]), undefined);
});

Deno.test("options: a number where the options belong shows PyTorch's positional form", () => {
  const args = [1, 3, 2, 1];
  assertThrowsWith(() => checkOptions("maxPool2d", args, 2, ["stride", "padding"]), [
    "maxPool2d: the third argument is an options object",
    "for PyTorch's positional stride, padding write { stride: 2, padding: 1 }",
  ]);
  assertThrowsWith(() => checkOptions("op", [1, {}, 5], 1, ["a"]), ["takes at most 2"]);
  assert.deepEqual(checkOptions("op", [1], 1, ["a"]), {});
});

Deno.test("options: Adam with a positional lr or snake_case keys fails instead of training wrong", async () => {
  const w = tensor([1, 2], { requiresGrad: true });
  assertThrowsWith(() => new (optim.Adam as never as new (...a: unknown[]) => unknown)([w], 0.5), [
    "Adam",
    "{ lr: 0.5 }",
  ]);
  assertThrowsWith(() => new optim.Adam([w], { weight_decay: 0.5 } as never), ["weightDecay"]);
  // The right spelling takes effect: one step with weight decay moves the weights.
  const optimizer = new optim.Adam([w], { lr: 0.5, weightDecay: 0.5 });
  w.grad = tensor([0, 0]);
  optimizer.step();
  await assertClose(w, [0.5, 1.5], { atol: 1e-6 }, "Adam step driven by weight decay alone");
});

Deno.test("options: nn.Conv2d(3, 4, 3, 2) no longer ignores the stride", () => {
  assertThrowsWith(() => new nn.Conv2d(3, 4, 3, 2 as never), ["Conv2d", "{ stride: 2 }"]);
  assert.deepEqual(new nn.Conv2d(3, 4, 3, { stride: 2 }).stride, [2, 2]);
});

// ---- PyTorch's positional structure and names ----------------------------------------------

Deno.test("positional structure: DataLoader(dataset, { batchSize }) and the old form's error", () => {
  const dataset = new data.TensorDataset(
    tensor([[1], [2], [3]]),
    tensor([0, 1, 0], { dtype: "int32" }),
  );
  const loader = new data.DataLoader(dataset, { batchSize: 2 });
  assert.deepEqual([...loader].map(([x]) => x.shape[0]), [2, 1]);
  assertThrowsWith(() => new data.DataLoader({ dataset, batchSize: 2 } as never), [
    "DataLoader: the dataset comes first",
  ]);
});

Deno.test("positional structure: t.var(dim, { unbiased }) matches PyTorch", async () => {
  const v = f64([1, 2, 4, 7]);
  await assertClose(v.var(0, { unbiased: false }), 5.25, { atol: 1e-12 }, "var biased");
  await assertClose(v.std({ unbiased: false }), 2.29128784747792, { atol: 1e-12 }, "std biased");
  await assertClose(v.var(0), 7, { atol: 1e-12 }, "var unbiased");
  assertThrowsWith(() => v.var(0, false as never), ["var", "{ unbiased: false }"]);
});

Deno.test("names: x.size() is the shape, x.size(d) one size, numel() the count", () => {
  const x = zeros([2, 3, 4]);
  assert.deepEqual(x.size(), [2, 3, 4]);
  assert.equal(x.size(-1), 4);
  assert.equal(x.numel(), 24);
  assertThrowsWith(() => 1 + (x.size as unknown as number), ["x.numel()"]);
});

// ---- files: save / load in one call -------------------------------------------------------------

Deno.test("files: save and load a state dict through a path, __proto__ included", async () => {
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    const stateDict: Record<string, Tensor> = { "fc.weight": tensor([[1, 2]]) };
    Object.defineProperty(stateDict, "__proto__", {
      value: tensor([7, 8]),
      enumerable: true,
    });
    const written = await save(stateDict, path);
    assert.ok(written.length > 8);
    const loaded = await load(path);
    assert.deepEqual(Object.keys(loaded), ["fc.weight", "__proto__"]);
    await assertClose(loaded["__proto__"], [7, 8]);
    assert.equal(Object.getPrototypeOf(loaded), Object.prototype);
    assertThrowsWith(() => decodeSafetensors(path as never), [`await load("${path}")`]);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("files: safetensors with a repeated name is an error", () => {
  const record = { dtype: "float32" as const, shape: [1], data: new Float32Array([1]) };
  const text = new TextDecoder().decode(encodeSafetensors({ a: record, b: record }));
  const bytes = new TextEncoder().encode(text.replace('"b"', '"a"'));
  assertThrowsWith(() => decodeSafetensors(bytes), ['names the tensor "a" twice']);
});

Deno.test("files: fetchCsv reads a plain path, and refuses text that is not UTF-8", async () => {
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    await Deno.writeTextFile(path, "a,b\n1,2\n");
    assert.deepEqual((await fetchCsv(path)).rows, [[1, 2]]);
    await Deno.writeFile(path, new Uint8Array([0x61, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x0a]));
    await assert.rejects(fetchCsv(path), /fetchCsv: .* is not valid UTF-8 text/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("files: an IDX gzip bomb stops at the size its header promises", async () => {
  const path = await Deno.makeTempFile({ suffix: ".gz" });
  try {
    const payload = new Uint8Array(8 + 20_000_000);
    payload.set([0, 0, 8, 1, 0, 0, 0, 4]); // uint8 [4]: 12 bytes promised
    await Deno.writeFile(path, await gzip(payload));
    await assert.rejects(fetchIdx(path), /more than the 12 bytes their header promises/);
  } finally {
    await Deno.remove(path);
  }
});

// ---- autograd: version counters and in-place changes -----------------------------------------

Deno.test("version counters: a weight changed after the forward pass makes backward throw", () => {
  const w = tensor([1, 2], { requiresGrad: true });
  const x = tensor([3, 4], { requiresGrad: true });
  const loss = x.mul(w).sum();
  {
    using _ = noGrad();
    w.assign(tensor([5, 5]));
  }
  assertThrowsWith(() => loss.backward(), ['"mul"', "modified in place", "shape [2]"]);
});

Deno.test("version counters: an optimizer step counts as an in-place change", () => {
  const w = tensor([1, 2], { requiresGrad: true });
  const loss = w.exp().sum();
  const optimizer = new optim.SGD([w], { lr: 0.1 });
  w.grad = tensor([1, 1]);
  optimizer.step();
  assertThrowsWith(() => loss.backward(), ['"exp"', "version 1, expected 0"]);
});

Deno.test("version counters: an op that saves nothing (add) allows the change, as PyTorch", async () => {
  const w = tensor([1, 2], { requiresGrad: true });
  const loss = w.add(1).sum();
  {
    using _ = noGrad();
    w.assign(tensor([5, 5]));
  }
  loss.backward();
  await assertClose(w.grad!, [1, 1]);
});

Deno.test("in place: assign on a leaf that requires grad outside noGrad throws", () => {
  const w = tensor([1, 2], { requiresGrad: true });
  assertThrowsWith(() => w.assign(tensor([0, 0])), [
    "assign: a leaf tensor that requires grad",
    "noGrad()",
  ]);
});

// ---- the new and corrected ops, against PyTorch --------------------------------------------------

Deno.test("maximum and minimum split the gradient at ties, as PyTorch", async () => {
  const a = f64([1, 2, 3], true);
  const b = f64([1, 1, 3], true);
  a.maximum(b).sum().backward();
  await assertClose(a.grad!, [0.5, 1, 0.5], { atol: 0 }, "maximum d/da");
  await assertClose(b.grad!, [0.5, 0, 0.5], { atol: 0 }, "maximum d/db");
  const c = f64([1, 2, 3], true);
  const d = f64([1, 1, 3], true);
  c.minimum(d).sum().backward();
  await assertClose(c.grad!, [0.5, 0, 0.5], { atol: 0 }, "minimum d/da");
  await assertClose(d.grad!, [0.5, 1, 0.5], { atol: 0 }, "minimum d/db");
  // Where a NaN makes every comparison false, both sides get the gradient (PyTorch 1.13).
  const e = f64([NaN, 1], true);
  const g = f64([1, NaN], true);
  e.maximum(g).sum().backward();
  await assertClose(e.grad!, [1, 1], { atol: 0 }, "maximum d/da with NaN");
  await assertClose(g.grad!, [1, 1], { atol: 0 }, "maximum d/db with NaN");
});

Deno.test("erf is accurate to float64 precision, and so is gelu", async () => {
  const points = [-2.5, -0.7, -1e-9, 0.1, 0.84375, 1.1, 1.9, 3.3, 5.5];
  const expected = [
    -0.999593047982555,
    -0.6778011938374184,
    -1.1283791670955127e-09,
    0.1124629160182849,
    0.7672256612323416,
    0.8802050695740817,
    0.9927904292352575,
    0.9999969422902035,
    0.9999999999999927,
  ];
  points.forEach((x, i) => {
    const error = Math.abs(erf(x) - expected[i]);
    assert.ok(
      error <= 2e-16 * Math.abs(expected[i]),
      `erf(${x}) = ${erf(x)}, torch ${expected[i]}`,
    );
  });
  const x = f64(X, true);
  const y = F.gelu(x);
  await assertClose(
    y,
    [
      -0.00404969409489031,
      -0.15865525393145702,
      -0.10032341857926907,
      0,
      0.34573123063700656,
      1.9544997361036416,
      3.9998733150326675,
    ],
    { atol: 1e-15, rtol: 1e-14 },
    "gelu",
  );
});

Deno.test("gelu with approximate: 'tanh' matches PyTorch, value and gradient", async () => {
  const x = f64(X, true);
  const y = F.gelu(x, { approximate: "tanh" });
  await assertClose(
    y,
    [
      -0.0036373920817729943,
      -0.15880800939172324,
      -0.100324649298315,
      0,
      0.34571400982514394,
      1.954597694087775,
      3.9999297540518075,
    ],
    { atol: 1e-15, rtol: 1e-13 },
    "gelu tanh",
  );
  y.sum().backward();
  await assertClose(
    x.grad!,
    [
      -0.011584166630969648,
      -0.08296408384578252,
      0.30464590484893955,
      0.5,
      0.8673699035346424,
      1.0860992566236183,
      1.000335123197122,
    ],
    { atol: 1e-14, rtol: 1e-12 },
    "gelu tanh gradient",
  );
  await gradcheck((t) => F.gelu(t, { approximate: "tanh" }), [f64(X, true)], { name: "geluTanh" });
  await assertClose(new nn.GELU({ approximate: "tanh" }).forward(f64([1])), 0.8411919906082768);
});

Deno.test("elu matches PyTorch, value and gradient", async () => {
  const x = f64(X, true);
  const y = F.elu(x, { alpha: 0.7 });
  await assertClose(
    y,
    [
      -0.6651490521424952,
      -0.44248439117999033,
      -0.15483945185001657,
      0,
      0.5,
      2,
      4,
    ],
    { atol: 1e-15, rtol: 1e-13 },
    "elu",
  );
  y.sum().backward();
  await assertClose(
    x.grad!,
    [
      0.03485094785750476,
      0.2575156088200096,
      0.5451605481499834,
      0.7,
      1,
      1,
      1,
    ],
    { atol: 1e-15, rtol: 1e-13 },
    "elu gradient",
  );
  await gradcheck((t) => F.elu(t, { alpha: 1.3 }), [f64([-2, -0.5, 0.3, 1.5], true)], {
    name: "elu",
  });
  // A large input does not overflow exp() into a NaN gradient.
  const big = f64([1000], true);
  F.elu(big).sum().backward();
  await assertClose(big.grad!, [1]);
});

Deno.test("cumsum matches PyTorch along either dimension, value and gradient", async () => {
  const weights = f64([[1, -2, 3], [0.5, 1, 2]]);
  const m1 = f64([[1, 2, 3], [4, 5, 6]], true);
  const c1 = m1.cumsum(1);
  await assertClose(c1, [1, 3, 6, 4, 9, 15], { atol: 0 }, "cumsum dim 1");
  c1.mul(weights).sum().backward();
  await assertClose(m1.grad!, [2, 1, 3, 3.5, 3, 2], { atol: 1e-14 }, "cumsum dim 1 gradient");
  const m0 = f64([[1, 2, 3], [4, 5, 6]], true);
  const c0 = m0.cumsum(0);
  await assertClose(c0, [1, 2, 3, 5, 7, 9], { atol: 0 }, "cumsum dim 0");
  c0.mul(weights).sum().backward();
  await assertClose(m0.grad!, [1.5, -1, 5, 0.5, 1, 2], { atol: 1e-14 }, "cumsum dim 0 gradient");
  await gradcheck((t) => t.cumsum(-1), [f64([[0.1, -0.4, 2, 1, 0.5, -3, 2]], true)], {
    name: "cumsum",
  });
  assertThrowsWith(() => f64([1, 2]).cumsum(1), ["cumsum", "out of range"]);
});

Deno.test("std at zero variance has a zero gradient, as PyTorch", async () => {
  const x = f64([[2, 2, 2], [1, 2, 4]], true);
  x.std(1).sum().backward();
  await assertClose(x.grad!, [
    0,
    0,
    0,
    -0.43643578047198484,
    -0.10910894511799625,
    0.5455447255899809,
  ], {
    atol: 1e-14,
  }, "std gradient");
  const y = f64([[2, 2, 2], [1, 2, 4]], true);
  y.std(1, { unbiased: false }).sum().backward();
  await assertClose(y.grad!, [
    0,
    0,
    0,
    -0.35634832254989923,
    -0.08908708063747484,
    0.44543540318737396,
  ], {
    atol: 1e-14,
  }, "biased std gradient");
  await gradcheck((t) => t.std(1), [f64([[1, 2, 4], [0, 3, -1]], true)], { name: "std" });
});

Deno.test("Adam's amsgrad follows PyTorch step for step (Adam and AdamW)", async () => {
  const scales = f64([1, 2, 3]);
  for (
    const [make, expected] of [
      [
        (p: Tensor) => new optim.Adam([p], { lr: 0.1, amsgrad: true, weightDecay: 0.01 }),
        [0.5633351077434369, -1.558237627477908, 2.55687783357251],
      ],
      [
        (p: Tensor) => new optim.AdamW([p], { lr: 0.1, amsgrad: true, weightDecay: 0.1 }),
        [0.5248409920014432, -1.4702324442526802, 2.4197390275884523],
      ],
    ] as const
  ) {
    const p = f64([1, -2, 3], true);
    const optimizer = make(p);
    for (let k = 0; k < 5; k++) {
      optimizer.zeroGrad();
      p.mul(scales).pow(2).sum().mul(k % 2 ? 0.5 : 2).backward();
      optimizer.step();
    }
    await assertClose(p, expected, { atol: 1e-12 }, `${optimizer.constructor.name} amsgrad`);
  }
});

Deno.test("model.double() and model.to({ dtype }) convert float parameters in place", () => {
  const model = new nn.Sequential(new nn.Linear(2, 3), new nn.BatchNorm1d(3));
  const first = model.parameters()[0];
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
  model.double();
  assert.equal(model.parameters()[0], first, "the same tensor, so the optimizer still holds it");
  assert.ok(model.parameters().every((p) => p.dtype === "float64"));
  const tracked = model.buffers().find((b) => b.dtype === "int32");
  assert.ok(tracked, "the step counter stays int32");
  const out = model.forward(f64([[1, 2], [3, 4]]));
  assert.equal(out.dtype, "float64");
  out.sum().backward();
  optimizer.step();
  model.to({ dtype: "float32" });
  assert.equal(first.dtype, "float32");
  assertThrowsWith(() => model.to({ dtype: "int32" }), ["Module.to", "float dtype"]);
});

Deno.test("a cast to int32 of NaN or of an out-of-range value is an error", async () => {
  assertThrowsWith(() => tensor([1, NaN]).int(), ["to(int32)", "NaN", "element 1"]);
  assertThrowsWith(() => tensor([2 ** 31]).to("int32"), ["outside int32's range"]);
  await assertClose(tensor([2.7, -2.7]).int(), [2, -2]);
});

// ---- resource limits ------------------------------------------------------------------------

Deno.test("resource limits: a huge allocation is refused at once, naming the op and shape", () => {
  const start = performance.now();
  assertThrowsWith(() => linspace(0, 1, 1e9), ["linspace", "1.00e+9 elements", "larger than"]);
  assertThrowsWith(() => zeros([1e6, 1e6]), ["zeros", "[1000000, 1000000]"]);
  assertThrowsWith(() => zeros([1e5, 1]).mul(zeros([1, 1e5])), ["mul", "[100000, 100000]"]);
  assert.ok(performance.now() - start < 2000, "the checks must come before any work");
});

// ---- --data without the data ------------------------------------------------------------------

Deno.test("lesson --data DIR without the Fashion-MNIST files is an error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        `--allow-read=.,${dir}`,
        "--allow-write=out",
        "lessons/run.ts",
        "1",
        "--quick",
        "--data",
        dir,
      ],
      cwd: new URL("..", import.meta.url),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout);
    assert.equal(code, 2, text);
    assert.match(text, /does not hold the Fashion-MNIST files \(missing: train-images/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- WebGPU: the same errors and values -------------------------------------------------------

gpuTest(
  "WebGPU: out-of-range class indices and indices raise the CPU's error at read back",
  async () => {
    const logits = tensor([[1, 2, 3], [1, 2, 3]], { device: "webgpu" });
    const targets = tensor([0, 3], { dtype: "int32", device: "webgpu" });
    await assert.rejects(
      F.crossEntropy(logits, targets).item(),
      /crossEntropy: target 3 is out of range for 3 classes/,
    );
    await assert.rejects(
      F.nllLoss(logits, tensor([-1, 0], { dtype: "int32", device: "webgpu" })).item(),
      /nllLoss: target -1 is out of range for 3 classes/,
    );
    const x = tensor([1, 2, 3], { device: "webgpu" });
    await assert.rejects(
      x.indexSelect(0, tensor([0, 3], { dtype: "int32", device: "webgpu" })).data(),
      /indexSelect: index 3 is out of bounds for dimension 0 with size 3/,
    );
    await assert.rejects(
      x.gather(0, tensor([5], { dtype: "int32", device: "webgpu" })).data(),
      /gather: index 5 is out of bounds/,
    );
    // The error is reported once; good indices read back as usual afterwards.
    await assertClose(x.indexSelect(0, tensor([2, 0], { dtype: "int32", device: "webgpu" })), [
      3,
      1,
    ]);
  },
);

gpuTest("WebGPU parity of elu, gelu tanh, cumsum and maximum at ties", async () => {
  await checkParity(
    "elu",
    [input([4, 5], 1, { low: -3, high: 3 }).requiresGrad_()],
    (x) => F.elu(x, { alpha: 0.7 }),
  );
  await checkParity(
    "gelu tanh",
    [input([4, 5], 2, { low: -3, high: 3 }).requiresGrad_()],
    (x) => F.gelu(x, { approximate: "tanh" }),
  );
  await checkParity("cumsum", [input([3, 9], 3).requiresGrad_()], (x) => x.cumsum(1));
  const a = tensor([1, 2, 3, 4]).requiresGrad_();
  const b = tensor([1, 0, 3, 5]).requiresGrad_();
  await checkParity("maximum ties", [a, b], (x, y) => x.maximum(y));
});

gpuTest("WebGPU parity of Adam with amsgrad", async () => {
  const run = async (device: "cpu" | "webgpu") => {
    const p = tensor([1, -2, 3], { device, requiresGrad: true });
    const scales = tensor([1, 2, 3], { device });
    const optimizer = new optim.Adam([p], { lr: 0.1, amsgrad: true, weightDecay: 0.01 });
    for (let k = 0; k < 5; k++) {
      optimizer.zeroGrad();
      p.mul(scales).pow(2).sum().mul(k % 2 ? 0.5 : 2).backward();
      optimizer.step();
    }
    assert.equal(p.device, device);
    return await p.data();
  };
  await assertClose(await run("webgpu"), await run("cpu"), { atol: 1e-5 }, "amsgrad on WebGPU");
});
