/**
 * Training on WebGPU: the DESIGN.md CNN follows the same loss curve on both devices, and a long
 * training run does not grow the number of live GPU buffers.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Device, F, loadFashionMnist, manualSeed, nn, optim, type Tensor } from "../mod.ts";
import { gpuTest } from "./gpu_helpers.ts";

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
  assert.ok(
    webgpu[steps - 1] < webgpu[0] * 0.6,
    `loss did not fall: ${webgpu[0]} -> ${webgpu[49]}`,
  );
});

gpuTest("500 training steps do not grow the number of live GPU buffers", async () => {
  // The run happens in a child process started with the garbage collector exposed, so that the
  // count is taken after a full collection: a buffer still live then is a leak, not garbage the
  // collector has not reached yet.
  const script = new URL("./fixtures/gpu_memory_run.ts", import.meta.url);
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--v8-flags=--expose-gc", script.pathname, "500"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(result.stdout);
  const stderr = new TextDecoder().decode(result.stderr);
  assert.ok(result.success, `the training run failed:\n${stderr}`);
  const { live, losses } = JSON.parse(stdout.trim().split("\n").pop()!) as {
    live: number[];
    losses: number[];
  };
  assert.equal(live.length, 50);
  const early = live[4]; // after 50 steps: the optimizer state and the pools are set up
  const late = Math.max(...live.slice(5));
  assert.ok(
    late <= early,
    `live GPU buffers grew from ${early} after 50 steps to ${late}; counts every 10 steps: ` +
      live.join(", "),
  );
  assert.ok(losses[49] < losses[0], `the loss did not fall (${losses[0]} -> ${losses[49]})`);
});
