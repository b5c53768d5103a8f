/**
 * exportOnnx: each exported file is run by onnxruntime (onnxruntime-web, on the CPU under
 * Deno) and must give the framework's outputs within 1e-5, for several batch sizes (the batch
 * dimension is left free).
 */
import assert from "node:assert/strict";
import * as ort from "onnxruntime-web";
import { exportOnnx, F, manualSeed, nn, randn, type Tensor } from "../mod.ts";
import { cnn, Mixed, mlp, SmallResNet, trainBatchNorm } from "./export_models.ts";

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

Deno.test("exportOnnx: an MLP gives onnxruntime the framework's outputs for any batch", async () => {
  manualSeed(1);
  const model = mlp();
  const worst = await checkAgainstOnnx("MLP", model, [20]);
  console.log(`MLP: max |onnxruntime - framework| = ${worst.toExponential(2)}`);
});

Deno.test("exportOnnx: a CNN with batch norm, pooling and dropout matches in eval", async () => {
  manualSeed(2);
  const model = cnn();
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
  const worst = await checkAgainstOnnx("Mixed", new Mixed(), [6]);
  console.log(`tensor ops: max |onnxruntime - framework| = ${worst.toExponential(2)}`);
});

Deno.test("exportOnnx: a pruned model exports its masked weights", async () => {
  manualSeed(5);
  const model = cnn();
  trainBatchNorm(model, [1, 28, 28]);
  nn.utils.prune.l1Unstructured(model.at(0), "weight", { amount: 0.5 });
  nn.utils.prune.l1Unstructured(model.at(-2), "weight", { amount: 0.9 });
  const worst = await checkAgainstOnnx("pruned CNN", model, [1, 28, 28]);
  console.log(`pruned CNN: max |onnxruntime - framework| = ${worst.toExponential(2)}`);
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
  // A small stride-1 convolution records one "conv2d" node (the direct kernel), a strided
  // one the "unfold" of im2col: both name the layer to use.
  await assert.rejects(
    () => exportOnnx(new UsesConvFunction(), randn([1, 1, 5, 5])),
    /cannot export the op "conv2d".*use an nn\.Conv2d/,
  );
  class UsesStridedConvFunction extends UsesConvFunction {
    override forward(x: Tensor): Tensor {
      return F.conv2d(x, this.weight, null, { stride: 2 });
    }
  }
  await assert.rejects(
    () => exportOnnx(new UsesStridedConvFunction(), randn([1, 1, 5, 5])),
    /cannot export the op "unfold".*use nn\.Conv2d/,
  );
});
