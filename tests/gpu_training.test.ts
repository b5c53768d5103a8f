/**
 * Training on WebGPU: the DESIGN.md CNN follows the same loss curve on both devices, and a long
 * training run does not grow the number of live GPU buffers.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type Device,
  F,
  loadFashionMnist,
  manualSeed,
  nn,
  optim,
  type Tensor,
  tensor,
} from "../mod.ts";
import { gpu, gpuTest } from "./gpu_helpers.ts";

const DATA = new URL("../lessons/data/fashion-mnist/", import.meta.url);

/** conv(1->8) + ReLU + maxpool -> conv(8->16) + ReLU + maxpool -> linear(784->10). */
function designCnn(): nn.Module {
  return new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(8, 16, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(784, 10),
  );
}

/** The loss of every step of `steps` Adam steps on batches of 64 Fashion-MNIST images. */
async function lossCurve(device: Device, images: Tensor, labels: Tensor, steps: number) {
  manualSeed(0);
  const model = designCnn().to(device);
  const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = images.to(device);
  const y = labels.to(device);
  const losses: Tensor[] = [];
  for (let step = 0; step < steps; step++) {
    const batch = x.narrow(0, step * 64, 64);
    const targets = y.narrow(0, step * 64, 64);
    optimizer.zeroGrad();
    const loss = F.crossEntropy(model.forward(batch), targets);
    loss.backward();
    optimizer.step();
    losses.push(loss.detach());
  }
  // Read the losses only at the end: the GPU runs the 50 steps without a round trip.
  return await Promise.all(losses.map((loss) => loss.item()));
}

gpuTest("the DESIGN.md CNN trains to the same loss curve on the CPU and on WebGPU", async () => {
  const steps = 50;
  const { images, labels } = await loadFashionMnist(DATA, { train: true, limit: 64 * steps });
  const cpu = await lossCurve("cpu", images, labels, steps);
  const webgpu = await lossCurve("webgpu", images, labels, steps);
  for (let step = 0; step < steps; step++) {
    const diff = Math.abs(cpu[step] - webgpu[step]);
    assert.ok(
      diff <= 2e-3 + 1e-3 * Math.abs(cpu[step]),
      `loss at step ${step}: cpu ${cpu[step]}, webgpu ${webgpu[step]} (difference ${diff}, ` +
        `tolerance atol=2e-3 rtol=1e-3)`,
    );
  }
  assert.ok(webgpu[steps - 1] < webgpu[0] * 0.6, `loss did not fall: ${webgpu[0]} -> ${webgpu[49]}`);
});

gpuTest("500 training steps do not grow the number of live GPU buffers", async () => {
  // A small CNN with the same kinds of layers, Adam, and batch norm (running statistics are
  // updated in place), so that 500 steps stay quick on a software adapter.
  manualSeed(1);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(4 * 4 * 4, 3),
  ).to("webgpu");
  const optimizer = new optim.Adam(model.parameters(), { lr: 1e-2 });
  const { images, labels } = await loadFashionMnist(DATA, { train: true, limit: 64 });
  const x = F.avgPool2d(images, 3, { stride: 3, padding: 1 }).narrow(0, 0, 16).narrow(2, 0, 8)
    .narrow(3, 0, 8).to("webgpu");
  const classes = labels.dataSync().slice(0, 16).map((label) => label % 3);
  const targets = tensor(classes, { dtype: "int32", device: "webgpu" });
  const live: number[] = [];
  let first = 0, last = 0;
  for (let step = 0; step < 500; step++) {
    optimizer.zeroGrad();
    const loss = F.crossEntropy(model.forward(x), targets);
    loss.backward();
    optimizer.step();
    // Awaiting now and then lets the garbage collector run, as a real training loop does.
    if (step % 10 === 9) {
      const value = await loss.item();
      if (step === 9) first = value;
      last = value;
      live.push(gpu().stats().live);
    }
  }
  const early = Math.max(...live.slice(2, 12));
  const late = Math.max(...live.slice(-10));
  assert.ok(
    late <= early * 1.25 + 20,
    `live GPU buffers grew from at most ${early} (steps 30-120) to ${late} (steps 410-500): ` +
      live.join(", "),
  );
  assert.ok(last < first, `the loss did not fall (${first} -> ${last})`);
});
