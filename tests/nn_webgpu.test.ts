import assert from "node:assert/strict";
import { assertClose, F, manualSeed, nn, optim, randint, randn } from "../mod.ts";
import { gpuTest } from "./gpu_helpers.ts";

/** A small CNN with batch norm and every layer kind that holds state. */
function makeModel(): nn.Sequential {
  manualSeed(0);
  return new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(4 * 4 * 4, 3),
  );
}

gpuTest("a model moved with to('webgpu') trains there as on the CPU", async () => {
  const cpuModel = makeModel();
  const gpuModel = makeModel();
  const params = gpuModel.parameters();
  gpuModel.to("webgpu");
  assert.ok(gpuModel.parameters().every((p, i) => p === params[i]), "identities are kept");
  assert.ok([...gpuModel.parameters(), ...gpuModel.buffers()].every((t) => t.device === "webgpu"));

  const x = randn([6, 1, 8, 8]);
  const y = randint(0, 3, [6]);
  const settings = { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 };
  const runs = [
    { model: cpuModel, optimizer: new optim.SGD(cpuModel.parameters(), settings), x, y },
    {
      model: gpuModel,
      optimizer: new optim.SGD(gpuModel.parameters(), settings),
      x: x.to("webgpu"),
      y: y.to("webgpu"),
    },
  ];
  for (let step = 0; step < 3; step++) {
    const losses: number[] = [];
    for (const run of runs) {
      run.optimizer.zeroGrad();
      const loss = F.crossEntropy(run.model.forward(run.x), run.y, { labelSmoothing: 0.1 });
      loss.backward();
      run.optimizer.step();
      losses.push(await loss.item());
    }
    await assertClose(losses[1], losses[0], { atol: 1e-5 }, `loss at step ${step}`);
  }
  const expected = cpuModel.stateDict();
  for (const [key, value] of Object.entries(gpuModel.stateDict())) {
    assert.equal(value.device, "webgpu", key);
    await assertClose(value, expected[key], { atol: 1e-4, rtol: 1e-3 }, key);
  }
  const state = runs[1].optimizer.state.get(gpuModel.parameters()[0])!;
  assert.equal(state.buffers.momentumBuffer.device, "webgpu", "optimizer state stays on the GPU");
  cpuModel.eval();
  gpuModel.eval();
  await assertClose(gpuModel.forward(runs[1].x), cpuModel.forward(x), { atol: 1e-4 }, "eval");
});
