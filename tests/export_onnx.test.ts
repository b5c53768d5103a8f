/**
 * exportOnnx: each exported file is run by onnxruntime (onnxruntime-web, on the CPU under
 * Deno) and must give the framework's outputs within 1e-5, for several batch sizes (the batch
 * dimension is left free).
 */
import assert from "node:assert/strict";
import * as ort from "onnxruntime-web";
import { exportOnnx, F, manualSeed, nn, randn, type Tensor } from "../mod.ts";

ort.env.wasm.numThreads = 1;
ort.env.logLevel = "error";

const TOLERANCE = 1e-5;

/** Runs the ONNX file on `input` and returns the output and its shape. */
async function runOnnx(bytes: Uint8Array, input: Tensor) {
  const session = await ort.InferenceSession.create(bytes);
  const feed = new ort.Tensor("float32", Float32Array.from(await input.data()), input.shape);
  const results = await session.run({ input: feed });
  const output = results.output;
  await session.release();
  return { dims: [...output.dims], values: output.data as Float32Array };
}

/** Exports `model` and checks onnxruntime against `model.forward` on each batch size. */
async function checkAgainstOnnx(name: string, model: nn.Module, itemShape: number[]) {
  const bytes = await exportOnnx(model, randn([2, ...itemShape]));
  model.eval();
  let worst = 0;
  for (const batch of [1, 3, 8]) {
    const input = randn([batch, ...itemShape]);
    const expected = await model.forward(input).data();
    const { dims, values } = await runOnnx(bytes, input);
    const shape = model.forward(input).shape;
    assert.deepEqual(dims, shape, `${name}: onnxruntime's output shape for batch ${batch}`);
    for (let i = 0; i < expected.length; i++) {
      const diff = Math.abs(values[i] - expected[i]);
      worst = Math.max(worst, diff);
      assert.ok(
        diff <= TOLERANCE,
        `${name}, batch ${batch}: output ${i} is ${values[i]} in onnxruntime, ${expected[i]} ` +
          `in the framework (|diff| ${diff} > ${TOLERANCE})`,
      );
    }
  }
  return worst;
}

/** Gives batch norm layers running statistics that are not the defaults. */
function trainBatchNorm(model: nn.Module, itemShape: number[]) {
  model.train();
  for (let i = 0; i < 3; i++) model.forward(randn([16, ...itemShape]).mul(2).add(0.5));
  model.eval();
}

class ResidualBlock extends nn.Module {
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  shortcut: nn.Module;

  constructor(inChannels: number, outChannels: number, stride: number) {
    super();
    this.conv1 = new nn.Conv2d(inChannels, outChannels, 3, { stride, padding: 1, bias: false });
    this.bn1 = new nn.BatchNorm2d(outChannels);
    this.conv2 = new nn.Conv2d(outChannels, outChannels, 3, { padding: 1, bias: false });
    this.bn2 = new nn.BatchNorm2d(outChannels);
    this.shortcut = stride !== 1 || inChannels !== outChannels
      ? new nn.Sequential(
        new nn.Conv2d(inChannels, outChannels, 1, { stride, bias: false }),
        new nn.BatchNorm2d(outChannels),
      )
      : new nn.Identity();
  }

  forward(x: Tensor): Tensor {
    const out = this.bn1.forward(this.conv1.forward(x)).relu();
    return this.bn2.forward(this.conv2.forward(out)).add(this.shortcut.forward(x)).relu();
  }
}

class SmallResNet extends nn.Module {
  stem = new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1, bias: false }),
    new nn.BatchNorm2d(8),
    new nn.ReLU(),
  );
  blocks = new nn.ModuleList([new ResidualBlock(8, 8, 1), new ResidualBlock(8, 16, 2)]);
  head = new nn.Linear(16, 10);

  forward(x: Tensor): Tensor {
    let out = this.stem.forward(x);
    for (const block of this.blocks) out = block.forward(out);
    return this.head.forward(out.mean([2, 3]));
  }
}

Deno.test("exportOnnx: an MLP gives onnxruntime the framework's outputs for any batch", async () => {
  manualSeed(1);
  const model = new nn.Sequential(
    new nn.Linear(20, 32),
    new nn.ReLU(),
    new nn.Linear(32, 16),
    new nn.Tanh(),
    new nn.Linear(16, 16),
    new nn.Sigmoid(),
    new nn.Linear(16, 8),
    new nn.GELU(),
    new nn.Linear(8, 8),
    new nn.LeakyReLU(0.2),
    new nn.Linear(8, 5),
    new nn.Softmax(1),
  );
  const worst = await checkAgainstOnnx("MLP", model, [20]);
  console.log(`MLP: max |onnxruntime - framework| = ${worst.toExponential(2)}`);
});

Deno.test("exportOnnx: a CNN with batch norm, pooling and dropout matches in eval", async () => {
  manualSeed(2);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1 }),
    new nn.BatchNorm2d(8),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(8, 16, 3, { padding: 1, stride: 2, groups: 2 }),
    new nn.BatchNorm2d(16),
    new nn.ReLU(),
    new nn.AvgPool2d(2, { padding: 1 }),
    new nn.Conv2d(16, 16, 3, { padding: 2, dilation: 2, bias: false }),
    new nn.AdaptiveAvgPool2d(2),
    new nn.Flatten(),
    new nn.Dropout(0.5),
    new nn.Linear(64, 32),
    new nn.BatchNorm1d(32),
    new nn.ReLU(),
    new nn.Linear(32, 10),
    new nn.LogSoftmax(1),
  );
  trainBatchNorm(model, [1, 28, 28]);
  const worst = await checkAgainstOnnx("CNN", model, [1, 28, 28]);
  console.log(`CNN: max |onnxruntime - framework| = ${worst.toExponential(2)}`);
});

Deno.test("exportOnnx: a residual network written as modules with forward code matches", async () => {
  manualSeed(3);
  const model = new SmallResNet();
  trainBatchNorm(model, [1, 12, 12]);
  const worst = await checkAgainstOnnx("ResNet", model, [1, 12, 12]);
  console.log(`ResNet: max |onnxruntime - framework| = ${worst.toExponential(2)}`);
});

Deno.test("exportOnnx: tensor ops and F functions in a forward export too", async () => {
  manualSeed(4);
  class Mixed extends nn.Module {
    fc = new nn.Linear(6, 6);
    scale = nn.Parameter(randn([6]));
    other = nn.Parameter(randn([4, 6]));
    forward(x: Tensor): Tensor {
      const h = F.relu(this.fc.forward(x)).mul(this.scale).sub(0.25).div(2).clamp(-1, 1);
      const both = F.linear(h, this.other).maximum(0.1);
      const joined = both.mul(h.sum(1, true)).pow(2).add(1).sqrt().neg().exp();
      return F.softmax(joined.reshape([-1, 2, 2]).flatten(1).sigmoid().log(), 1);
    }
  }
  const worst = await checkAgainstOnnx("Mixed", new Mixed(), [6]);
  console.log(`tensor ops: max |onnxruntime - framework| = ${worst.toExponential(2)}`);
});

Deno.test("exportOnnx: restores the model's modes and its layers' forward", async () => {
  const model = new nn.Sequential(new nn.Linear(3, 3), new nn.Dropout(0.5));
  model.train();
  await exportOnnx(model, randn([1, 3]));
  assert.equal(model.training, true, "the model went back to training mode");
  assert.equal(Object.hasOwn(model.at(0), "forward"), false, "the layer's wrapper is gone");
});

Deno.test("exportOnnx: an op it cannot write out names itself and the fix", async () => {
  class UsesConvFunction extends nn.Module {
    weight = nn.Parameter(randn([2, 1, 3, 3]));
    forward(x: Tensor): Tensor {
      return F.conv2d(x, this.weight);
    }
  }
  await assert.rejects(
    () => exportOnnx(new UsesConvFunction(), randn([1, 1, 5, 5])),
    /cannot export the op "unfold".*use nn\.Conv2d/,
  );
});
