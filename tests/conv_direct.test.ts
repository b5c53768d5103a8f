/**
 * The direct convolution (no im2col): the WebAssembly kernels against the reference loops of
 * `core/cpu/fused.ts`, both against an independent oracle (unfold + matmul in float64), on one
 * and on two threads; the op's choice between direct and unfolded; and its gradients.
 * @module
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { type Conv2dGeometry, findKernel } from "../core/backend.ts";
import { conv2d as referenceConv2d, conv2dBackward } from "../core/cpu/fused.ts";
import { cpuData, CpuStorage } from "../core/cpu/backend.ts";
import { WasmKernels } from "../core/wasm/kernels.ts";
import { F, manualSeed, noGrad, randn, tensor } from "../mod.ts";
import { wasmKernelInfo } from "../core/wasm/backend.ts";
import { unfold, windowGeometry } from "../core/ops/conv.ts";
import { assertAllClose, download, randomF32, seeded, upload } from "./wasm_helpers.ts";

/** Geometries: odd channel counts, 1x1 to 5x5 kernels, non-square, padding 0 to kernel - 1. */
const CASES: [
  n: number,
  c: number,
  h: number,
  w: number,
  o: number,
  kh: number,
  kw: number,
  ph: number,
  pw: number,
][] = [
  [2, 1, 28, 28, 8, 3, 3, 1, 1],
  [3, 8, 14, 14, 16, 3, 3, 1, 1],
  [2, 3, 5, 7, 5, 3, 2, 0, 1],
  [1, 2, 9, 9, 3, 5, 5, 2, 2],
  [2, 5, 6, 11, 7, 1, 1, 0, 0],
  [1, 4, 4, 4, 6, 4, 4, 3, 3],
  [2, 3, 13, 3, 9, 3, 3, 2, 1],
  [1, 1, 1, 1, 1, 1, 1, 0, 0],
  [2, 6, 3, 17, 2, 2, 5, 1, 4],
];

function geometry([n, c, h, w, o, kh, kw, ph, pw]: typeof CASES[number]) {
  const g: Conv2dGeometry = {
    n,
    c,
    h,
    w,
    kernelH: kh,
    kernelW: kw,
    strideH: 1,
    strideW: 1,
    padH: ph,
    padW: pw,
    dilationH: 1,
    dilationW: 1,
    outH: h + 2 * ph - kh + 1,
    outW: w + 2 * pw - kw + 1,
    padValue: 0,
  };
  return { g, o };
}

/**
 * The oracle, written differently from both kernels: every window unfolded into a column
 * (im2col), then a matrix product, in float64; the gradients as the transposed products.
 */
function oracle(
  x: Float32Array,
  weight: Float32Array,
  bias: Float32Array,
  dy: Float32Array,
  g: Conv2dGeometry,
  o: number,
) {
  const patch = g.c * g.kernelH * g.kernelW;
  const pixels = g.outH * g.outW;
  const out = new Float64Array(g.n * o * pixels);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(weight.length);
  for (let b = 0; b < g.n; b++) {
    const column = new Float64Array(patch * pixels);
    const source = new Int32Array(patch * pixels).fill(-1);
    for (let row = 0; row < patch; row++) {
      const ci = Math.floor(row / (g.kernelH * g.kernelW));
      const ky = Math.floor(row / g.kernelW) % g.kernelH;
      const kx = row % g.kernelW;
      for (let p = 0; p < pixels; p++) {
        const iy = Math.floor(p / g.outW) + ky - g.padH;
        const ix = (p % g.outW) + kx - g.padW;
        if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
        source[row * pixels + p] = ((b * g.c + ci) * g.h + iy) * g.w + ix;
        column[row * pixels + p] = x[source[row * pixels + p]];
      }
    }
    for (let oc = 0; oc < o; oc++) {
      for (let p = 0; p < pixels; p++) {
        const at = (b * o + oc) * pixels + p;
        let sum = bias[oc];
        for (let row = 0; row < patch; row++) {
          sum += weight[oc * patch + row] * column[row * pixels + p];
          dw[oc * patch + row] += dy[at] * column[row * pixels + p];
          const pixel = source[row * pixels + p];
          if (pixel >= 0) dx[pixel] += dy[at] * weight[oc * patch + row];
        }
        out[at] = sum;
      }
    }
  }
  return { out, dx, dw };
}

Deno.test("direct convolution: wasm and reference kernels match unfold + matmul", () => {
  const kernels = WasmKernels.create();
  kernels.setThreads(1);
  const random = seeded(41);
  for (const shape of CASES) {
    const { g, o } = geometry(shape);
    const what = `conv ${shape.join(",")}`;
    const x = randomF32(random, g.n * g.c * g.h * g.w);
    const weight = randomF32(random, o * g.c * g.kernelH * g.kernelW);
    const bias = randomF32(random, o);
    const dy = randomF32(random, g.n * o * g.outH * g.outW);
    const expected = oracle(x, weight, bias, dy, g, o);

    // The reference loops, in float64.
    const f64 = (values: Float32Array) => new CpuStorage(Float64Array.from(values));
    const ref = referenceConv2d(f64(x), f64(weight), f64(bias), "float64", g, o);
    assertAllClose(`reference ${what}`, cpuData(ref), expected.out, 1e-12, 1e-12);
    const refBack = conv2dBackward(f64(dy), f64(x), f64(weight), "float64", g, o, {
      input: true,
      weight: true,
    });
    assertAllClose(`reference dx ${what}`, cpuData(refBack.dx!), expected.dx, 1e-12, 1e-12);
    assertAllClose(`reference dw ${what}`, cpuData(refBack.dWeight!), expected.dw, 1e-12, 1e-12);

    // The wasm kernels, float32.
    const geom = { ...g, outChannels: o };
    const [px, pw, pb, pdy] = [x, weight, bias, dy].map((v) => upload(kernels, v));
    const out = kernels.alloc(expected.out.length * 4);
    const dx = kernels.alloc(x.length * 4);
    const dw = kernels.alloc(weight.length * 4);
    kernels.conv2dDirect(out, px, pw, pb, geom);
    assertAllClose(
      `wasm ${what}`,
      download(kernels, out, expected.out.length),
      expected.out,
      1e-5,
      1e-5,
    );
    kernels.conv2dDirect(out, px, pw, 0, geom);
    const noBias = expected.out.map((v, i) => v - bias[Math.floor(i / (g.outH * g.outW)) % o]);
    assertAllClose(
      `wasm without bias ${what}`,
      download(kernels, out, noBias.length),
      noBias,
      1e-5,
      1e-5,
    );
    kernels.conv2dDirectBackwardInput(dx, pdy, pw, geom);
    assertAllClose(`wasm dx ${what}`, download(kernels, dx, x.length), expected.dx, 1e-5, 1e-5);
    kernels.conv2dDirectBackwardWeight(dw, pdy, px, geom);
    assertAllClose(
      `wasm dw ${what}`,
      download(kernels, dw, weight.length),
      expected.dw,
      1e-5,
      1e-4,
    );
    [px, pw, pb, pdy, out, dx, dw].forEach((p) => kernels.free(p));
  }
});

Deno.test("direct convolution: two threads give exactly the one-thread values, gradients included", async () => {
  const kernels = WasmKernels.create();
  ok(kernels.shared, "Deno should give the kernels a shared memory");
  const random = seeded(42);
  const { g, o } = geometry([7, 3, 12, 10, 5, 3, 3, 1, 1]);
  const geom = { ...g, outChannels: o };
  const outLength = g.n * o * g.outH * g.outW;
  const x = upload(kernels, randomF32(random, g.n * g.c * g.h * g.w));
  const weight = upload(kernels, randomF32(random, o * g.c * 9));
  const bias = upload(kernels, randomF32(random, o));
  const dy = upload(kernels, randomF32(random, outLength));
  const run = () => {
    const out = kernels.alloc(outLength * 4);
    const dx = kernels.alloc(g.n * g.c * g.h * g.w * 4);
    const dw = kernels.alloc(o * g.c * 9 * 4);
    kernels.conv2dDirect(out, x, weight, bias, geom);
    kernels.conv2dDirectBackwardInput(dx, dy, weight, geom);
    kernels.conv2dDirectBackwardWeight(dw, dy, x, geom);
    const values = [
      download(kernels, out, outLength),
      download(kernels, dx, g.n * g.c * g.h * g.w),
      download(kernels, dw, o * g.c * 9),
    ];
    [out, dx, dw].forEach((p) => kernels.free(p));
    return values;
  };
  kernels.setThreads(1);
  const one = run();
  kernels.setThreads(2);
  kernels.threadThreshold = 1;
  const before = kernels.sharedProducts;
  let two = run();
  for (let attempt = 0; attempt < 200 && kernels.sharedProducts < before + 3; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    two = run();
  }
  ok(kernels.sharedProducts >= before + 3, "the second thread never took part");
  deepStrictEqual(two[0], one[0], "forward: two threads differ from one");
  deepStrictEqual(two[1], one[1], "input gradient: two threads differ from one");
  // The weight gradient is the sum of two halves' sums on one thread too: the same bits.
  deepStrictEqual(two[2], one[2], "weight gradient: two threads differ from one");
  kernels.stopThreads();
});

Deno.test("conv2d takes the direct kernel for small stride-1 layers and unfolds the rest", () => {
  manualSeed(3);
  const direct = findKernel("conv2d", "cpu", "float32");
  ok(direct, "the CPU registers a direct convolution");
  // The op's graph says which road it took: one conv2d node, or a matmul over unfolded columns.
  const opOf = (
    x: Parameters<typeof F.conv2d>[0],
    w: Parameters<typeof F.conv2d>[1],
    options = {},
  ) => F.conv2d(x, w.requiresGrad_(), null, options).node?.op;
  strictEqual(opOf(randn([2, 3, 8, 8]), randn([4, 3, 3, 3]), { padding: 1 }), "conv2d");
  // Stride 2, dilation 2, groups, padding as large as the kernel, many channels: unfolded.
  strictEqual(opOf(randn([2, 3, 8, 8]), randn([4, 3, 3, 3]), { stride: 2 }) === "conv2d", false);
  strictEqual(opOf(randn([2, 3, 8, 8]), randn([4, 3, 3, 3]), { dilation: 2 }) === "conv2d", false);
  strictEqual(opOf(randn([2, 4, 8, 8]), randn([4, 2, 3, 3]), { groups: 2 }) === "conv2d", false);
  strictEqual(opOf(randn([2, 3, 8, 8]), randn([4, 3, 3, 3]), { padding: 3 }) === "conv2d", false);
  strictEqual(
    opOf(randn([1, 64, 4, 4]), randn([64, 64, 3, 3]), { padding: 1 }) === "conv2d",
    false,
  );
});

Deno.test("conv2d: the direct and the unfolded road give the same values and gradients", async () => {
  manualSeed(4);
  const x = randn([3, 2, 9, 8], { dtype: "float64" }).requiresGrad_();
  const w = randn([4, 2, 3, 2], { dtype: "float64" }).requiresGrad_();
  const b = randn([4], { dtype: "float64" }).requiresGrad_();
  const y = F.conv2d(x, w, b, { padding: [1, 1] });
  strictEqual(y.node?.op, "conv2d", "a small stride-1 layer takes the direct kernel");
  // The same layer the unfolded way, written out: im2col (with its col2im backward), then a
  // matrix product with the kernels as rows, then the bias.
  const [x2, w2, b2] = [x, w, b].map((t) => t.detach().requiresGrad_());
  const geom = windowGeometry("conv2d", x2.shape, [3, 2], { padding: [1, 1] });
  const columns = unfold(x2, geom); // [n, c * kh * kw, outH * outW]
  const composed = w2.reshape([4, 12]).matmul(columns)
    .reshape([3, 4, geom.outH, geom.outW])
    .add(b2.reshape([4, 1, 1]));
  assertAllClose("values", await y.data(), await composed.data(), 1e-12, 1e-12);
  const g = randn(y.shape, { dtype: "float64" });
  y.backward(g);
  composed.backward(g);
  assertAllClose("dx", await x.grad!.data(), await x2.grad!.data(), 1e-12, 1e-12);
  assertAllClose("dw", await w.grad!.data(), await w2.grad!.data(), 1e-12, 1e-12);
  assertAllClose("db", await b.grad!.data(), await b2.grad!.data(), 1e-12, 1e-12);
});

Deno.test("a convolution under noGrad gives its columns back at once, not at garbage collection", () => {
  // 64 x 64 channels: the unfolded road, whose columns (here 4 x 576 x 36 floats) are a
  // temporary of the op. Under noGrad no graph keeps them, so nothing may stay allocated but the
  // output: before, each call left them to the garbage collector.
  const x = randn([4, 64, 6, 6]);
  const w = randn([64, 64, 3, 3]);
  using _ = noGrad();
  F.conv2d(x, w, null, { padding: 1 }).dispose();
  const before = wasmKernelInfo().inUseBytes;
  for (let i = 0; i < 5; i++) F.conv2d(x, w, null, { padding: 1 }).dispose();
  strictEqual(wasmKernelInfo().inUseBytes, before);
});

Deno.test("direct convolution: values and gradients match PyTorch, in float64 and float32", async () => {
  // PyTorch 1.13, float64:
  //   x = sin(0..23).reshape(1, 2, 3, 4); w = 0.5 * cos(0..23).reshape(2, 2, 3, 2); b = [0.1, -0.2]
  //   out = F.conv2d(x, w, b, padding=(1, 0)); (out * cos(0.3 * arange(18))).sum().backward()
  const torch = {
    out: [
      -0.2389101483,
      -0.3315935153,
      -0.0274717947,
      0.6731102252,
      1.5285363466,
      1.070572739,
      -1.8954978936,
      -1.0728815552,
      0.828076676,
      0.1502086787,
      0.5049372955,
      0.2115498138,
      -0.4803874031,
      0.7076772405,
      1.0612276151,
      -1.656476285,
      -1.0120838247,
      0.3789347589,
    ],
    dx: [
      -0.3374451588,
      -0.7821176147,
      -0.7390551002,
      -0.2367828759,
      -0.2871173004,
      -0.0365932032,
      0.2170342554,
      0.3764149082,
      0.2591018051,
      0.7442736334,
      0.7588363869,
      0.2989181981,
      -0.2548644008,
      -0.7541796394,
      -0.7758026072,
      -0.3212554467,
      -0.3743873932,
      -0.2781553659,
      -0.0343889772,
      0.2758397309,
      0.1610919943,
      0.6670324837,
      0.7464419947,
      0.3631862377,
    ],
    dw: [
      1.2313302212,
      0.737013801,
      0.6850058652,
      2.0941747473,
      -1.1776626611,
      -0.6953154758,
      0.9933277933,
      1.1531798151,
      -0.5213231428,
      1.4824739255,
      -0.9561395324,
      -1.0981371316,
      -1.0866308257,
      -1.0578552264,
      -0.5973136733,
      -1.5720840784,
      0.9897758222,
      1.0104027927,
      -0.6167814786,
      -1.2211146758,
      0.2926184291,
      -1.1658634311,
      0.5319391425,
      1.135659893,
    ],
    db: [2.3659351136, -4.7398150237],
  };
  const values = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
  for (const dtype of ["float64", "float32"] as const) {
    const x = tensor(values(24, Math.sin), { dtype }).reshape([1, 2, 3, 4]).requiresGrad_();
    const w = tensor(values(24, (i) => 0.5 * Math.cos(i)), { dtype }).reshape([2, 2, 3, 2])
      .requiresGrad_();
    const b = tensor([0.1, -0.2], { dtype }).requiresGrad_();
    const out = F.conv2d(x, w, b, { padding: [1, 0] });
    strictEqual(out.node?.op, "conv2d", "this layer takes the direct kernel");
    deepStrictEqual(out.shape, [1, 2, 3, 3]);
    out.mul(tensor(values(18, (i) => Math.cos(0.3 * i)), { dtype }).reshape(out.shape)).sum()
      .backward();
    const tolerance = dtype === "float64" ? 1e-9 : 1e-5;
    assertAllClose(`out, ${dtype}`, await out.data(), torch.out, tolerance, tolerance);
    assertAllClose(`dx, ${dtype}`, await x.grad!.data(), torch.dx, tolerance, tolerance);
    assertAllClose(`dw, ${dtype}`, await w.grad!.data(), torch.dw, tolerance, tolerance);
    assertAllClose(`db, ${dtype}`, await b.grad!.data(), torch.db, tolerance, tolerance);
  }
});

Deno.test("direct convolution: backward reads the input and weight, so only they are version-checked", () => {
  const make = () => ({
    x: randn([2, 1, 5, 5]),
    w: randn([2, 1, 3, 3]).requiresGrad_(),
    b: randn([2]).requiresGrad_(),
  });
  // The bias is not read by backward: changing it in place before backward is fine (as PyTorch).
  const first = make();
  const y = F.conv2d(first.x, first.w, first.b, { padding: 1 });
  strictEqual(y.node?.op, "conv2d");
  {
    using _ = noGrad();
    first.b.assign(first.b.add(1));
  }
  y.sum().backward();
  ok(first.w.grad && first.b.grad);
  // The weight is read: changing it in place first would make the input's gradient wrong.
  const second = make();
  second.x.requiresGrad_();
  const z = F.conv2d(second.x, second.w, second.b, { padding: 1 });
  {
    using _ = noGrad();
    second.w.assign(second.w.mul(2));
  }
  let message = "";
  try {
    z.sum().backward();
  } catch (error) {
    message = (error as Error).message;
  }
  ok(
    /modified in place since "conv2d"/.test(message),
    `expected a version error, got "${message}"`,
  );
});
