/**
 * The CPU kernel sets agree: every op, forward and backward, gives the same float32 values
 * (within rounding) on the reference TypeScript kernels, the wasm kernels on one thread and the
 * wasm kernels on two threads; a CNN trained on each gives the same loss curve; and a long
 * training run does not grow the wasm memory.
 * @module
 */
import { ok } from "node:assert/strict";
import {
  F,
  getCpuKernels,
  manualSeed,
  nn,
  optim,
  randint,
  randn,
  setCpuKernels,
  setCpuThreads,
  type Tensor,
  tensor,
} from "../mod.ts";
import { wasmCpuBackend, wasmKernelInfo } from "../core/wasm/backend.ts";
import { findKernel } from "../core/backend.ts";
import { assertAllClose, randomF32, seeded } from "./wasm_helpers.ts";

/** A kernel set to compare, and how to switch to it. */
const kernelSets: { name: string; use: () => void }[] = [
  { name: "reference", use: () => setCpuKernels("reference") },
  {
    name: "wasm, one thread",
    use: () => {
      setCpuKernels("wasm");
      setCpuThreads(1);
    },
  },
  {
    name: "wasm, two threads",
    use: () => {
      setCpuKernels("wasm");
      setCpuThreads(2);
    },
  },
];

/** A case: input shapes (with a seed for their values) and the op applied to them. */
interface OpCase {
  name: string;
  shapes: number[][];
  fn: (...inputs: Tensor[]) => Tensor;
  /** Input values range (default [-1, 1)). */
  range?: [number, number];
}

const cases: OpCase[] = [
  { name: "add with broadcasting", shapes: [[4, 5], [5]], fn: (a, b) => a.add(b) },
  { name: "sub with broadcasting", shapes: [[3, 1, 4], [2, 1]], fn: (a, b) => a.sub(b) },
  { name: "mul", shapes: [[6, 7], [6, 7]], fn: (a, b) => a.mul(b) },
  { name: "div", shapes: [[6, 7], [7]], fn: (a, b) => a.div(b.abs().add(0.5)) },
  { name: "pow", shapes: [[5, 3]], fn: (a) => a.abs().add(0.1).pow(2.5) },
  {
    name: "maximum and minimum",
    shapes: [[5, 4], [4]],
    fn: (a, b) => a.maximum(b).add(a.minimum(b).mul(2)),
  },
  {
    name: "exp, log and sqrt",
    shapes: [[13]],
    fn: (a) => a.exp().add(a.abs().add(0.5).log()).add(a.abs().sqrt()),
  },
  { name: "relu", shapes: [[3, 11]], fn: (a) => a.relu() },
  { name: "leakyRelu", shapes: [[3, 11]], fn: (a) => a.leakyRelu(0.2) },
  { name: "sigmoid and tanh", shapes: [[17]], fn: (a) => a.sigmoid().mul(a.tanh()) },
  { name: "gelu", shapes: [[17]], fn: (a) => a.gelu() },
  { name: "clamp", shapes: [[17]], fn: (a) => a.clamp(-0.3, 0.4) },
  { name: "comparisons", shapes: [[4, 6], [6]], fn: (a, b) => a.mul(a.gt(b)).add(a.le(b)) },
  { name: "matmul", shapes: [[33, 20], [20, 17]], fn: (a, b) => a.matmul(b) },
  {
    name: "matmul with a transposed operand",
    shapes: [[20, 33], [17, 20]],
    fn: (a, b) => a.transpose(0, 1).matmul(b.transpose(0, 1)),
  },
  {
    name: "batched matmul with broadcasting",
    shapes: [[3, 5, 8], [8, 6]],
    fn: (a, b) => a.matmul(b),
  },
  {
    name: "large matmul (two threads)",
    shapes: [[130, 140], [140, 150]],
    fn: (a, b) => a.matmul(b),
  },
  {
    name: "sum over each axis",
    shapes: [[3, 4, 5]],
    fn: (a) => a.sum(0).sum(1).add(a.sum(2).sum(0)),
  },
  { name: "mean, keepdim", shapes: [[3, 4, 5]], fn: (a) => a.sub(a.mean(1, true)) },
  { name: "max and min", shapes: [[6, 9]], fn: (a) => a.max(1).add(a.min(0).sum()) },
  { name: "var and std", shapes: [[5, 8]], fn: (a) => a.var(1).add(a.std(0).sum()) },
  { name: "softmax", shapes: [[7, 10]], fn: (a) => a.mul(3).softmax(1) },
  { name: "logSoftmax", shapes: [[7, 10]], fn: (a) => a.mul(3).logSoftmax(1) },
  { name: "logsumexp", shapes: [[7, 10]], fn: (a) => a.logsumexp(1) },
  {
    name: "permute, reshape and slice",
    shapes: [[2, 3, 4, 5]],
    fn: (a) => a.permute([3, 1, 0, 2]).reshape([5, 24]).slice(1, 2, 20, 3),
  },
  { name: "expand and narrow", shapes: [[3, 1]], fn: (a) => a.expand([3, 6]).narrow(0, 1, 2) },
  { name: "linear", shapes: [[8, 12], [5, 12], [5]], fn: (x, w, b) => F.linear(x, w, b) },
  {
    name: "conv2d, padding 1",
    shapes: [[2, 3, 7, 7], [4, 3, 3, 3], [4]],
    fn: (x, w, b) => F.conv2d(x, w, b, { padding: 1 }),
  },
  {
    name: "conv2d, stride 2, dilation 2",
    shapes: [[2, 2, 9, 8], [3, 2, 3, 3]],
    fn: (x, w) => F.conv2d(x, w, null, { stride: 2, dilation: 2 }),
  },
  { name: "maxPool2d", shapes: [[2, 3, 8, 8]], fn: (x) => F.maxPool2d(x, 2) },
  {
    name: "maxPool2d, kernel 3, stride 2, padding 1",
    shapes: [[1, 2, 9, 9]],
    fn: (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1 }),
  },
  { name: "avgPool2d", shapes: [[2, 3, 8, 8]], fn: (x) => F.avgPool2d(x, 2) },
];

/** Runs a case on the current kernel set: its output and the gradients of its inputs. */
async function runCase(c: OpCase, seed: number): Promise<Float32Array[]> {
  const random = seeded(seed);
  const [low, high] = c.range ?? [-1, 1];
  const inputs = c.shapes.map((shape) => {
    const size = shape.reduce((p, d) => p * d, 1);
    return tensor(Array.from(randomF32(random, size, low, high)), { shape, requiresGrad: true });
  });
  const out = c.fn(...inputs);
  // A fixed, uneven upstream gradient, so that every output element matters differently.
  const probe = tensor(Array.from(randomF32(random, out.numel())), { shape: [...out.shape] });
  out.mul(probe).sum().backward();
  const results = [await out.data() as Float32Array];
  for (const input of inputs) {
    // An input the output does not depend on differentiably (a comparison) gets no gradient.
    results.push(input.grad ? await input.grad.data() as Float32Array : new Float32Array());
  }
  return results;
}

Deno.test("every op, forward and backward, agrees across the CPU kernel sets", async () => {
  try {
    for (const [index, c] of cases.entries()) {
      kernelSets[0].use();
      const expected = await runCase(c, 100 + index);
      for (const set of kernelSets.slice(1)) {
        set.use();
        const actual = await runCase(c, 100 + index);
        actual.forEach((values, i) => {
          const what = `${c.name} (${i === 0 ? "output" : `gradient of input ${i - 1}`}) ` +
            `on ${set.name}, shapes ${JSON.stringify(c.shapes)}`;
          assertAllClose(what, values, expected[i], 1e-4, 1e-5);
        });
      }
    }
  } finally {
    setCpuKernels("wasm");
    setCpuThreads(1);
  }
});

Deno.test("float64 tensors keep running on the reference kernels", async () => {
  setCpuKernels("wasm");
  const a = tensor([1, 2, 3], { dtype: "float64" }).div(3);
  const values = await a.data();
  ok(values instanceof Float64Array, "a float64 result must be a Float64Array");
  assertAllClose("float64 division", values, [1 / 3, 2 / 3, 1], 0, 0);
});

Deno.test("tensors made on one kernel set work on the other", async () => {
  setCpuKernels("reference");
  const a = tensor([[1, 2], [3, 4]]);
  setCpuKernels("wasm");
  const b = tensor([[1, 0], [0, 1]]);
  assertAllClose("reference @ wasm", await a.matmul(b).data(), [1, 2, 3, 4]);
  setCpuKernels("reference");
  assertAllClose("wasm @ reference", await b.matmul(a).add(1).data(), [2, 3, 4, 5]);
  setCpuKernels("wasm");
  ok(getCpuKernels() === "wasm");
});

Deno.test("fused max pooling agrees with pooling through unfold, on both kernel sets", async () => {
  const random = seeded(41);
  const shape = [2, 3, 10, 13];
  const values = Array.from(randomF32(random, 2 * 3 * 10 * 13));
  for (const options of [{}, { stride: 1 }, { stride: 2, padding: 1 }]) {
    const kernel = "padding" in options ? 3 : 2;
    for (const set of kernelSets.slice(0, 2)) {
      set.use();
      const x = tensor(values, { shape, requiresGrad: true });
      const pooled = F.maxPool2d(x, kernel, options);
      // Upstream gradient = the pooled values themselves, so that x.grad shows where they went.
      pooled.mul(pooled.detach()).sum().backward();
      const [n, c, h, w] = shape;
      const [outH, outW] = pooled.shape.slice(2);
      const stride = options.stride ?? kernel;
      const pad = options.padding ?? 0;
      const geom = {
        n,
        c,
        h,
        w,
        kernelH: kernel,
        kernelW: kernel,
        strideH: stride,
        strideW: stride,
        padH: pad,
        padW: pad,
        dilationH: 1,
        dilationW: 1,
        outH,
        outW,
        padValue: -Infinity,
      };
      const fused = findKernel("maxPool2d", "cpu", "float32")!(x.storage, "float32", geom);
      const what = `maxPool2d ${JSON.stringify(options)} on ${set.name}`;
      const fusedValues = await wasmCpuBackend.read(fused.values, "float32");
      assertAllClose(what, fusedValues, await pooled.data(), 0, 0);
      const poolBackward = findKernel("maxPool2dBackward", "cpu", "float32")!;
      const dx = poolBackward(fused.values, fused.indices, "float32", geom);
      const routed = await wasmCpuBackend.read(dx, "float32");
      assertAllClose(`${what} backward`, routed, await x.grad!.data(), 1e-6, 0);
    }
  }
  setCpuKernels("wasm");
});

/** The DESIGN.md CNN: conv(1->8) ReLU pool, conv(8->16) ReLU pool, linear(784->10). */
function cnn(batchNorm: boolean): nn.Module {
  const block = (inC: number, outC: number) => [
    new nn.Conv2d(inC, outC, 3, { padding: 1 }),
    ...(batchNorm ? [new nn.BatchNorm2d(outC)] : []),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
  ];
  return new nn.Sequential(
    ...block(1, 8),
    ...block(8, 16),
    new nn.Flatten(),
    new nn.Linear(784, 10),
  );
}

/** Losses of `steps` Adam steps on fixed random batches. */
async function lossCurve(batchNorm: boolean, steps: number): Promise<number[]> {
  manualSeed(0);
  const model = cnn(batchNorm);
  const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const images = randn([16, 1, 28, 28]);
  const labels = randint(0, 10, [16]);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const loss = F.crossEntropy(model.forward(images), labels);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    losses.push(await loss.item());
  }
  return losses;
}

Deno.test("the CNN trains to the same loss curve on every CPU kernel set", async () => {
  try {
    for (const batchNorm of [false, true]) {
      kernelSets[0].use();
      const expected = await lossCurve(batchNorm, 8);
      ok(expected[7] < expected[0], `the reference CNN did not learn: ${expected}`);
      for (const set of kernelSets.slice(1)) {
        set.use();
        const actual = await lossCurve(batchNorm, 8);
        assertAllClose(
          `CNN loss curve (batch norm: ${batchNorm}) on ${set.name}`,
          actual,
          expected,
          1e-3,
          1e-4,
        );
      }
    }
  } finally {
    setCpuKernels("wasm");
    setCpuThreads(1);
  }
});

for (const awaitEvery of [1, 100]) {
  Deno.test(`training steps give their memory back without the garbage collector (awaiting every ${awaitEvery})`, async () => {
    // Released deterministically: backward() gives back the graph's intermediate results and
    // the temporaries of its backward rules, zeroGrad() the old gradients. No GC flag is needed:
    // the memory in use after a step is what the model and its optimizer hold, step after step.
    setCpuKernels("wasm");
    setCpuThreads(1);
    manualSeed(1);
    const model = new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 1 }),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Flatten(),
      new nn.Linear(4 * 14 * 14, 10),
    );
    const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
    const images = randn([16, 1, 28, 28]);
    const labels = randint(0, 10, [16]);
    const trainSteps = async (count: number) => {
      for (let step = 1; step <= count; step++) {
        const loss = F.crossEntropy(model.forward(images), labels);
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
        if (step % awaitEvery === 0) await loss.item();
      }
    };
    await trainSteps(20);
    const inUseAfterWarmup = wasmKernelInfo().inUseBytes;
    await trainSteps(200);
    const { inUseBytes } = wasmKernelInfo();
    // What is left to the collector is a few small tensors a step (the loss, its scalars).
    ok(
      inUseBytes <= inUseAfterWarmup + 200 * 4096,
      `memory in use grew from ${inUseAfterWarmup} bytes after 20 steps to ${inUseBytes} ` +
        `after 220 (more than 4 KB a step)`,
    );
  });
}
