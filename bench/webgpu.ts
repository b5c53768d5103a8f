/**
 * The DESIGN.md workloads on WebGPU: matmul GFLOP/s at 256 to 4096, and training steps per
 * second of the MLP (SGD) and of the CNN with and without batch norm (Adam), batch 64.
 *
 *   deno task bench --backend webgpu            (through bench/run.ts)
 *   deno run -A bench/webgpu.ts [--quick] [--max-size 1024]
 *
 * Each training step reads its loss back (`await loss.item()`), as a training loop that prints
 * its loss would; matmul times include one read back after the repeated products. On a software
 * adapter (llvmpipe) the figures are small: it runs the shaders on the CPU.
 *
 * @module
 */
import { F, initWebGPU, manualSeed, nn, optim, randint, randn, type Tensor } from "../mod.ts";
import { matmulRaw } from "../core/ops/matmul.ts";
import { webgpuBackend, webgpuUnavailableReason } from "../gpu/mod.ts";
import { cnn, mlp, time } from "./workloads.ts";

const quick = Deno.args.includes("--quick");
const maxSizeAt = Deno.args.indexOf("--max-size");
const maxSize = maxSizeAt >= 0 ? Number(Deno.args[maxSizeAt + 1]) : 4096;

if (!(await initWebGPU())) {
  console.log(`WebGPU is unavailable: ${webgpuUnavailableReason()}`);
  Deno.exit(1);
}
const backend = webgpuBackend()!;
console.log(`WebGPU bench on ${backend.adapterName}\n`);

/**
 * GFLOP/s of an n x n product. Products are queued back to back and read once, so the figure
 * is the GPU's throughput; as many products are queued as fit in about a second.
 */
async function matmulRate(n: number): Promise<number> {
  manualSeed(0);
  const a = randn([n, n], { device: "webgpu" });
  const b = randn([n, n], { device: "webgpu" });
  const run = async (count: number) => {
    let c: Tensor | null = null;
    for (let i = 0; i < count; i++) {
      c?.dispose();
      c = matmulRaw(a, b);
    }
    await c!.narrow(0, 0, 1).narrow(1, 0, 1).item();
    c!.dispose();
  };
  const firstStart = performance.now();
  await run(1); // compiles the kernel
  const once = (performance.now() - firstStart) / 1000;
  const count = Math.max(1, Math.min(50, Math.round(1 / Math.max(once, 1e-3))));
  const seconds = await time(() => run(count), quick ? 1 : 3, 0);
  return (2 * n ** 3 * count) / seconds / 1e9;
}

/** Training steps per second of a model on a fixed batch of 64, on WebGPU. */
async function stepsPerSecond(
  model: nn.Module,
  makeOptimizer: (params: Tensor[]) => optim.Optimizer,
  inputShape: number[],
): Promise<number> {
  model.to("webgpu");
  const optimizer = makeOptimizer(model.parameters());
  const x = randn([64, ...inputShape], { device: "webgpu" });
  const y = randint(0, 10, [64], { device: "webgpu" });
  const step = async () => {
    optimizer.zeroGrad();
    const loss = F.crossEntropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
    await loss.item();
  };
  const once = await time(step, 1, 2);
  const reps = Math.max(3, Math.min(quick ? 10 : 40, Math.round(5 / once)));
  return 1 / (await time(step, reps, 0));
}

const rows: [string, string, string][] = [];
for (const n of [256, 512, 1024, 2048, 4096]) {
  if (n > maxSize) continue;
  rows.push([`matmul ${n}x${n} @ ${n}x${n}`, "GFLOP/s", (await matmulRate(n)).toFixed(2)]);
  console.log(rows[rows.length - 1].join("  "));
}
manualSeed(0);
const workloads: [string, () => Promise<number>][] = [
  [
    "MLP 784-128-10, batch 64, SGD",
    () => stepsPerSecond(mlp(), (p) => new optim.SGD(p, { lr: 0.01 }), [784]),
  ],
  [
    "CNN, batch 64, Adam",
    () => stepsPerSecond(cnn(false), (p) => new optim.Adam(p, { lr: 1e-3 }), [1, 28, 28]),
  ],
  [
    "CNN + BatchNorm2d, batch 64, Adam",
    () => stepsPerSecond(cnn(true), (p) => new optim.Adam(p, { lr: 1e-3 }), [1, 28, 28]),
  ],
];
for (const [name, run] of workloads) {
  manualSeed(0);
  rows.push([name, "steps/s", (await run()).toFixed(2)]);
  console.log(rows[rows.length - 1].join("  "));
}

console.log(`\n| workload | unit | webgpu (${backend.adapterName}) |`);
console.log("| --- | --- | --- |");
for (const [name, unit, value] of rows) console.log(`| ${name} | ${unit} | ${value} |`);
