/**
 * `deno task bench`: the performance workloads of DESIGN.md, measured as medians of repeated
 * runs, with TensorFlow.js's CPU backend run on the same workloads in the same process for
 * comparison.
 *
 *   deno task bench                      CPU (every CPU kernel set) + TensorFlow.js
 *   deno task bench --backend webgpu     the same workloads on WebGPU (see bench/webgpu.ts)
 *   deno task bench --epoch              also one epoch of the CNN over the full training set
 *   deno task bench --no-tfjs            skip the TensorFlow.js comparison
 *   deno task bench --torch              side by side with PyTorch at its best (bench/torch.ts)
 *   deno task bench --quick              fewer repetitions
 *
 * @module
 */
import { F, manualSeed, optim, randint, randn, type Tensor } from "../mod.ts";
import { matmulRaw } from "../core/ops/matmul.ts";
import { cnn, cpuKernelSets, mlp, time, trainer, type Workload } from "./workloads.ts";

const args = new Set(Deno.args);
const quick = args.has("--quick");
const backendFlag = Deno.args[Deno.args.indexOf("--backend") + 1];

if (Deno.args.includes("--backend") && backendFlag === "webgpu") {
  await import("./webgpu.ts");
  Deno.exit(0);
}

if (args.has("--torch")) {
  const { torchComparison } = await import("./torch.ts");
  await torchComparison(quick);
  Deno.exit(0);
}

/** Our workloads, each returning its figure (GFLOP/s or steps/s). */
function ourWorkloads(): Workload[] {
  const reps = quick ? 5 : 15;
  return [
    {
      name: "matmul 512x512 @ 512x512",
      unit: "GFLOP/s",
      run: async () => {
        const a = randn([512, 512]), b = randn([512, 512]);
        const seconds = await time(() => matmulRaw(a, b).dataSync(), quick ? 3 : 7);
        return (2 * 512 ** 3) / seconds / 1e9;
      },
    },
    {
      name: "MLP 784-128-10, batch 64, SGD",
      unit: "steps/s",
      run: async () => {
        manualSeed(0);
        const model = mlp();
        const optimizer = new optim.SGD(model.parameters(), { lr: 0.01 });
        const step = trainer(model, optimizer, randn([64, 784]), randint(0, 10, [64]));
        return 1 / (await time(step, reps * 4));
      },
    },
    {
      name: "CNN, batch 64, Adam",
      unit: "steps/s",
      run: async () => {
        manualSeed(0);
        const model = cnn(false);
        const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
        const step = trainer(model, optimizer, randn([64, 1, 28, 28]), randint(0, 10, [64]));
        return 1 / (await time(step, reps));
      },
    },
    {
      name: "CNN + BatchNorm2d, batch 64, Adam",
      unit: "steps/s",
      run: async () => {
        manualSeed(0);
        const model = cnn(true);
        const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
        const step = trainer(model, optimizer, randn([64, 1, 28, 28]), randint(0, 10, [64]));
        return 1 / (await time(step, reps));
      },
    },
  ];
}

/** The same workloads in TensorFlow.js (pure JS CPU backend), when it can be installed. */
async function tfjsWorkloads(): Promise<Map<string, number> | string> {
  let tf: typeof import("@tensorflow/tfjs");
  try {
    tf = await import("@tensorflow/tfjs");
    await tf.setBackend("cpu");
    await tf.ready();
  } catch (error) {
    return `TensorFlow.js could not be loaded (${(error as Error).message.split("\n")[0]})`;
  }
  const results = new Map<string, number>();
  const reps = 3;
  {
    const a = tf.randomNormal([512, 512]), b = tf.randomNormal([512, 512]);
    const seconds = await time(() => tf.matMul(a, b).dataSync(), reps, 1);
    results.set("matmul 512x512 @ 512x512", (2 * 512 ** 3) / seconds / 1e9);
  }
  const train = async (
    model: import("@tensorflow/tfjs").Sequential,
    shape: number[],
  ) => {
    const x = tf.randomNormal([64, ...shape]);
    const y = tf.oneHot(tf.randomUniform([64], 0, 10, "int32"), 10);
    model.compile({ optimizer: tf.train.adam(1e-3), loss: "categoricalCrossentropy" });
    return 1 / (await time(() => model.trainOnBatch(x, y), reps, 1));
  };
  const mlpModel = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 128, activation: "relu" }),
      tf.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  mlpModel.compile({ optimizer: tf.train.sgd(0.01), loss: "categoricalCrossentropy" });
  {
    const x = tf.randomNormal([64, 784]);
    const y = tf.oneHot(tf.randomUniform([64], 0, 10, "int32"), 10);
    results.set(
      "MLP 784-128-10, batch 64, SGD",
      1 / (await time(() => mlpModel.trainOnBatch(x, y), reps * 4, 1)),
    );
  }
  for (const batchNorm of [false, true]) {
    const layers = [];
    for (const [i, filters] of [8, 16].entries()) {
      layers.push(tf.layers.conv2d({
        ...(i === 0 ? { inputShape: [28, 28, 1] } : {}),
        filters,
        kernelSize: 3,
        padding: "same",
      }));
      if (batchNorm) layers.push(tf.layers.batchNormalization());
      layers.push(tf.layers.reLU(), tf.layers.maxPooling2d({ poolSize: 2 }));
    }
    layers.push(tf.layers.flatten(), tf.layers.dense({ units: 10, activation: "softmax" }));
    const name = batchNorm ? "CNN + BatchNorm2d, batch 64, Adam" : "CNN, batch 64, Adam";
    results.set(name, await train(tf.sequential({ layers }), [28, 28, 1]));
  }
  return results;
}

/** One epoch of the CNN over the full Fashion-MNIST training set, then test accuracy. */
async function epoch(kernels: string): Promise<string> {
  const { loadFashionMnist, data, noGrad } = await import("../mod.ts");
  const folder = new URL("file:///usr/share/datasets/fashion-mnist/");
  let train, test;
  try {
    train = await loadFashionMnist(folder, { train: true });
    test = await loadFashionMnist(folder, { train: false });
  } catch {
    return "skipped: the full Fashion-MNIST is not in /usr/share/datasets/fashion-mnist";
  }
  manualSeed(0);
  const model = cnn(false);
  const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const loader = new data.DataLoader(new data.TensorDataset(train.images, train.labels), {
    batchSize: 64,
    shuffle: true,
  });
  const start = performance.now();
  let step = 0;
  for (const [x, y] of loader as Iterable<Tensor[]>) {
    const loss = F.crossEntropy(model.forward(x), y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    // Reading the loss now and then lets the event loop run, and dead tensors give back memory.
    if (++step % 10 === 0) await loss.item();
  }
  await model.parameters()[0].data();
  const seconds = (performance.now() - start) / 1000;
  model.eval();
  using _ = noGrad();
  let correct = 0;
  for (let i = 0; i < test.images.shape[0]; i += 1000) {
    const x = test.images.narrow(0, i, Math.min(1000, test.images.shape[0] - i));
    const y = test.labels.narrow(0, i, x.shape[0]);
    correct += await model.forward(x).argmax(1).eq(y).sum().item();
  }
  const accuracy = correct / test.images.shape[0];
  return `${kernels}: ${seconds.toFixed(1)} s, test accuracy ${(accuracy * 100).toFixed(1)}%`;
}

// ---- run and print ---------------------------------------------------------------------------

const sets = cpuKernelSets();
const columns: { title: string; values: Map<string, number> }[] = [];
for (const set of sets) {
  set.activate();
  const values = new Map<string, number>();
  for (const workload of ourWorkloads()) {
    if (set.skip?.(workload.name)) continue;
    values.set(workload.name, await workload.run());
  }
  columns.push({ title: set.title, values });
}
sets[0].activate();
let tfjsNote = "";
if (!args.has("--no-tfjs")) {
  const tfjs = await tfjsWorkloads();
  if (typeof tfjs === "string") tfjsNote = tfjs;
  else columns.push({ title: "TF.js cpu", values: tfjs });
}

const names = ourWorkloads().map((w) => `${w.name} (${w.unit})`);
const rows = ourWorkloads().map((w, i) => [
  names[i],
  ...columns.map((c) => (c.values.has(w.name) ? c.values.get(w.name)!.toFixed(1) : "-")),
]);
const tf = columns.find((c) => c.title === "TF.js cpu");
const header = ["workload", ...columns.map((c) => c.title)];
if (tf) {
  header.push("best / TF.js");
  ourWorkloads().forEach((w, i) => {
    const ours = Math.max(...columns.filter((c) => c !== tf).map((c) => c.values.get(w.name) ?? 0));
    const theirs = tf.values.get(w.name);
    rows[i].push(theirs ? `${(ours / theirs).toFixed(1)}x` : "-");
  });
}
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) =>
  "| " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") +
  " |";
console.log(
  `CPU benchmark (median of repeated runs), ${navigator.hardwareConcurrency} cores, ` +
    `Deno ${Deno.version.deno}`,
);
console.log(line(header));
console.log(
  "| " + widths.map((w, i) => (i === 0 ? "-".repeat(w) : "-".repeat(w - 1) + ":")).join(" | ") +
    " |",
);
for (const row of rows) console.log(line(row));
if (tfjsNote) console.log(tfjsNote);
if (args.has("--epoch")) {
  for (const set of sets) {
    set.activate();
    console.log(`one epoch of the CNN (60,000 images, batch 64, Adam): ${await epoch(set.title)}`);
  }
}
