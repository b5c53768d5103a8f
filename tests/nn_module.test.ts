import assert from "node:assert/strict";
import {
  assertClose,
  F,
  load,
  manualSeed,
  nn,
  ones,
  optim,
  randn,
  save,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";

/** The CNN of the design's benchmark workloads, as a Sequential. */
function makeCnn(): nn.Sequential {
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

/** A custom module shaped like a torchvision model: `features` then `classifier`. */
class Net extends nn.Module {
  features = new nn.Sequential(
    new nn.Conv2d(1, 4, 3),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.AdaptiveAvgPool2d(1),
    new nn.Flatten(),
  );
  classifier = new nn.Linear(4, 2);

  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features.forward(x));
  }
}

const names = (pairs: [string, unknown][]) => pairs.map(([name]) => name);

// ---- names -----------------------------------------------------------------------------------

Deno.test("a Sequential CNN names its parameters 0.weight, 0.bias, 3.weight ... as PyTorch", () => {
  const model = makeCnn();
  assert.deepEqual(names(model.namedParameters()), [
    "0.weight",
    "0.bias",
    "3.weight",
    "3.bias",
    "7.weight",
    "7.bias",
  ]);
  assert.deepEqual(
    model.parameters().map((p) => p.shape.join("x")),
    ["8x1x3x3", "8", "16x8x3x3", "16", "10x784", "10"],
  );
  assert.equal(model.children().length, 8);
  assert.ok(model.at(-1) instanceof nn.Linear);
  assert.equal(model.forward(randn([2, 1, 28, 28])).shape.join(), "2,10");
});

Deno.test("a custom module with a features Sequential has PyTorch's state dict keys", () => {
  // Python: the same Net in torch 1.13 gives list(Net().state_dict().keys()) ==
  // ['features.0.weight', 'features.0.bias', 'features.1.weight', 'features.1.bias',
  //  'features.1.running_mean', 'features.1.running_var', 'features.1.num_batches_tracked',
  //  'classifier.weight', 'classifier.bias']
  const model = new Net();
  assert.deepEqual(Object.keys(model.stateDict()), [
    "features.0.weight",
    "features.0.bias",
    "features.1.weight",
    "features.1.bias",
    "features.1.running_mean",
    "features.1.running_var",
    "features.1.num_batches_tracked",
    "classifier.weight",
    "classifier.bias",
  ]);
  assert.deepEqual(names(model.namedParameters()), [
    "features.0.weight",
    "features.0.bias",
    "features.1.weight",
    "features.1.bias",
    "classifier.weight",
    "classifier.bias",
  ]);
  assert.deepEqual(names(model.namedChildren()), ["features", "classifier"]);
  assert.deepEqual(names(model.namedModules()).slice(0, 3), ["", "features", "features.0"]);
  assert.equal(model.modules().length, 8);
  assert.equal(model.stateDict()["features.1.num_batches_tracked"].dtype, "int32");
});

Deno.test("camelCase fields get snake_case names; own parameters come before children's", () => {
  class Block extends nn.Module {
    convLayer = new nn.Linear(2, 2);
    gateScale = nn.Parameter(ones([2]));
    plainTensor = zeros([2]); // not a parameter: no gradient, not registered
    autoParam = randn([2], { requiresGrad: true }); // a leaf that requires grad counts
    forward(x: Tensor) {
      return this.convLayer.forward(x).mul(this.gateScale);
    }
  }
  assert.deepEqual(names(new Block().namedParameters()), [
    "gate_scale",
    "auto_param",
    "conv_layer.weight",
    "conv_layer.bias",
  ]);
});

Deno.test("a shared layer is listed once and an array of modules asks for ModuleList", () => {
  const shared = new nn.Linear(3, 3);
  const model = new nn.Sequential(shared, new nn.ReLU(), shared);
  assert.deepEqual(names(model.namedParameters()), ["0.weight", "0.bias"]);

  class Bad extends nn.Module {
    blocks = [new nn.Linear(2, 2)];
    forward(x: Tensor) {
      return x;
    }
  }
  assert.throws(
    () => new Bad().parameters(),
    /field "blocks" holds an array of modules.*ModuleList/,
  );

  class Good extends nn.Module {
    blocks = new nn.ModuleList([new nn.Linear(2, 2), new nn.Linear(2, 2)]);
    forward(x: Tensor) {
      for (const block of this.blocks) x = block.forward(x);
      return x;
    }
  }
  assert.deepEqual(names(new Good().namedParameters()), [
    "blocks.0.weight",
    "blocks.0.bias",
    "blocks.1.weight",
    "blocks.1.bias",
  ]);
  assert.throws(
    () => new nn.Sequential(zeros([2]) as unknown as nn.Module),
    /entry 0 is not a module/,
  );
});

Deno.test("toString prints the module tree", () => {
  const text = new Net().toString();
  assert.ok(
    text.startsWith("Net(\n  (features): Sequential(\n    (0): Conv2d(1, 4, kernelSize=[3,3]"),
    text,
  );
  assert.match(text, /\(classifier\): Linear\(inFeatures=4, outFeatures=2, bias=true\)\n\)$/);
});

// ---- modes, gradients, devices -------------------------------------------------------------

Deno.test("train() and eval() reach every sub-module; zeroGrad clears every gradient", () => {
  const model = new Net();
  model.eval();
  assert.ok(model.modules().every((m) => !m.training));
  model.train();
  assert.ok(model.modules().every((m) => m.training));

  const x = randn([2, 1, 5, 5]);
  model.forward(x).sum().backward();
  assert.ok(model.parameters().every((p) => p.grad !== null));
  model.zeroGrad();
  assert.ok(model.parameters().every((p) => p.grad === null));

  model.features.requiresGrad_(false);
  assert.ok(model.features.parameters().every((p) => !p.requiresGrad));
  assert.equal(model.parameters().length, 6, "frozen parameters are still parameters");
});

Deno.test("to(device) keeps the identity of parameters and buffers", () => {
  const model = new Net();
  const before = [...model.parameters(), ...model.buffers()];
  model.to("cpu");
  const after = [...model.parameters(), ...model.buffers()];
  assert.ok(before.every((t, i) => t === after[i]));
});

// ---- state dicts ---------------------------------------------------------------------------

Deno.test("stateDict and loadStateDict round trip, also through safetensors", async () => {
  manualSeed(1);
  const source = new Net();
  source.forward(randn([4, 1, 6, 6])); // moves the running statistics away from 0 and 1
  const target = new Net();
  const params = target.parameters();
  const result = target.loadStateDict(load(await save(source.stateDict())));
  assert.deepEqual(result, { missingKeys: [], unexpectedKeys: [] });
  assert.ok(target.parameters().every((p, i) => p === params[i]), "parameters keep identity");
  for (const [key, value] of Object.entries(source.stateDict())) {
    await assertClose(target.stateDict()[key], value, { atol: 0, rtol: 0 }, key);
  }
  const x = randn([3, 1, 6, 6]);
  source.eval();
  target.eval();
  await assertClose(target.forward(x), source.forward(x), { atol: 1e-6 });
});

Deno.test("loadStateDict copies values, so training the model leaves the dict alone", async () => {
  const dict = { weight: ones([2, 2]), bias: zeros([2]) };
  const layer = new nn.Linear(2, 2);
  layer.loadStateDict(dict);
  // The optimizer updates the parameter's memory in place.
  layer.weight.grad = ones([2, 2]);
  new optim.SGD(layer.parameters(), { lr: 1 }).step();
  assert.deepEqual(Array.from(await layer.weight.data()), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(await dict.weight.data()), [1, 1, 1, 1]);
});

Deno.test("loadStateDict lists missing keys, unexpected keys and shape mismatches", () => {
  const model = new Net();
  const dict = model.stateDict();
  delete dict["classifier.bias"];
  dict["classifier.extra"] = zeros([2]);
  assert.throws(
    () => model.loadStateDict(dict),
    (error: Error) => {
      assert.match(error.message, /loadStateDict: error\(s\) in loading the state dict for Net/);
      assert.match(error.message, /missing keys: "classifier.bias"/);
      assert.match(error.message, /unexpected keys: "classifier.extra"/);
      assert.match(error.message, /strict: false/);
      return true;
    },
  );
  const wrongShape = { ...model.stateDict(), "classifier.weight": zeros([3, 4]) };
  assert.throws(
    () => model.loadStateDict(wrongShape),
    /size mismatch for "classifier.weight": the state dict has shape \[3, 4\], the model has \[2/,
  );
  // Non-strict loading reports the keys but loads the rest; shapes are still checked.
  const before = model.classifier.weight;
  const result = model.loadStateDict(dict, { strict: false });
  assert.deepEqual(result, {
    missingKeys: ["classifier.bias"],
    unexpectedKeys: ["classifier.extra"],
  });
  assert.equal(model.classifier.weight, before);
  assert.throws(() => model.loadStateDict(wrongShape, { strict: false }), /size mismatch/);
});

Deno.test("a failed loadStateDict changes nothing", async () => {
  const model = new nn.Linear(2, 2);
  const weight = await model.weight.data();
  assert.throws(() => model.loadStateDict({ weight: ones([2, 2]), bias: ones([5]) }));
  assert.deepEqual(await model.weight.data(), weight);
});

// ---- layers --------------------------------------------------------------------------------

Deno.test("Linear and Conv2d initialize within PyTorch's bounds 1/sqrt(fanIn)", async () => {
  manualSeed(2);
  const cases: [string, nn.Linear | nn.Conv2d, number][] = [
    ["Linear(784, 128)", new nn.Linear(784, 128), 784],
    ["Conv2d(8, 16, 3)", new nn.Conv2d(8, 16, 3), 8 * 9],
    ["Conv2d(4, 6, 5, groups 2)", new nn.Conv2d(4, 6, 5, { groups: 2 }), 2 * 25],
  ];
  for (const [name, layer, fanIn] of cases) {
    const bound = 1 / Math.sqrt(fanIn);
    for (const [what, t] of [["weight", layer.weight], ["bias", layer.bias!]] as const) {
      const values = Array.from(await t.data());
      const max = Math.max(...values.map(Math.abs));
      assert.ok(max <= bound, `${name} ${what}: |value| up to ${max}, bound ${bound}`);
      assert.ok(max > 0.9 * bound, `${name} ${what}: values should fill the range, max ${max}`);
    }
  }
  const conv = new nn.Conv2d(3, 6, [3, 5], { stride: 2, bias: false, groups: 3 });
  assert.deepEqual(conv.weight.shape, [6, 1, 3, 5]);
  assert.equal(conv.bias, null);
  assert.deepEqual(names(conv.namedParameters()), ["weight"]);
});

Deno.test("Linear and Conv2d forward equal F.linear and F.conv2d", async () => {
  const fc = new nn.Linear(5, 3);
  const x = randn([4, 5]);
  await assertClose(fc.forward(x), x.matmul(fc.weight.T).add(fc.bias!));
  const conv = new nn.Conv2d(2, 4, 3, { stride: 2, padding: 1, dilation: 1 });
  const image = randn([1, 2, 6, 6]);
  await assertClose(
    conv.forward(image),
    F.conv2d(image, conv.weight, conv.bias, { stride: 2, padding: 1 }),
  );
});

Deno.test("BatchNorm2d tracks running stats in training and uses them in eval", async () => {
  const bn = new nn.BatchNorm2d(2);
  const batch = tensor([
    [[[1, 2], [3, 4]], [[0, 0], [1, -1]]],
    [[[-1, 5], [2, 2]], [[3, -3], [0.5, 0.25]]],
  ]);
  bn.forward(batch);
  bn.forward(batch);
  // mean of channel 0 is 2.25, unbiased variance 3.3571...; after two updates from (0, 1):
  // mean 0.19 * 2.25 = 0.4275, var 0.81 + 0.19 * 3.357142857 = 1.447857...
  await assertClose(bn.runningMean!, [0.4275, 0.19 * 0.09375], {}, "running mean");
  await assertClose((await bn.runningVar!.data())[0], 1.4478571428571428, {}, "running var");
  await assertClose(bn.numBatchesTracked!, 2);
  bn.eval();
  const y = bn.forward(batch);
  const expected = batch.sub(bn.runningMean!.reshape([1, 2, 1, 1]))
    .div(bn.runningVar!.add(1e-5).sqrt().reshape([1, 2, 1, 1]));
  await assertClose(y, expected);
  await assertClose(bn.numBatchesTracked!, 2, {}, "eval does not count batches");
});

Deno.test("BatchNorm1d running stats after two batches match PyTorch", async () => {
  // bn = torch.nn.BatchNorm1d(3).double(); x = tensor([[1,2,3],[4,0,-1],[2,2,2],[0,1,5]])
  // bn(x); bn(x * 2 + 1); bn.running_mean, bn.running_var
  const bn = new nn.BatchNorm1d(3);
  const x = tensor([[1, 2, 3], [4, 0, -1], [2, 2, 2], [0, 1, 5]]);
  bn.forward(x);
  bn.forward(x.mul(2).add(1));
  await assertClose(bn.runningMean!, [0.6075, 0.4625, 0.7525], {}, "running mean");
  await assertClose(bn.runningVar!, [2.2391666666666667, 1.2591666666666668, 3.8725], {}, "var");
});

Deno.test("BatchNorm without affine or running stats, and with cumulative momentum", async () => {
  const plain = new nn.BatchNorm2d(3, { affine: false, trackRunningStats: false });
  assert.deepEqual(Object.keys(plain.stateDict()), []);
  plain.eval();
  const y = plain.forward(randn([4, 3, 2, 2]));
  await assertClose(y.mean([0, 2, 3]), [0, 0, 0], { atol: 1e-5 }, "normalized by the batch");

  const cumulative = new nn.BatchNorm1d(1, { momentum: null });
  cumulative.forward(tensor([[1], [3]]));
  cumulative.forward(tensor([[5], [7]]));
  await assertClose(cumulative.runningMean!, [4], {}, "plain average of batch means 2 and 6");
});

Deno.test("layers report bad input shapes with the layer name", () => {
  assert.throws(
    () => new nn.BatchNorm2d(8).forward(randn([4, 8])),
    /BatchNorm2d: expected a 4-D input \[batch, channels, height, width\], got \[4, 8\]/,
  );
  assert.throws(
    () => new nn.BatchNorm2d(8).forward(randn([4, 16, 2, 2])),
    /BatchNorm2d: expected 8 channels \(numFeatures\), got an input of shape \[4, 16, 2, 2\]/,
  );
  assert.throws(
    () => new nn.Conv2d(3, 8, 3).forward(randn([3, 28, 28])),
    /Conv2d: expected an input of shape \[batch, 3, height, width\], got \[3, 28, 28\].*unsqueeze/,
  );
  assert.throws(() => new nn.Conv2d(3, 8, 3, { groups: 2 }), /groups \(2\) must divide/);
  assert.throws(() => new nn.Linear(0, 3), /Linear: inFeatures must be a positive integer/);
  assert.throws(() => new nn.Dropout(2), /Dropout: probability has to be between 0 and 1/);
});

Deno.test("Dropout is active in training and the identity in eval", async () => {
  manualSeed(3);
  const dropout = new nn.Dropout(0.5);
  const x = ones([1000]);
  const trained = Array.from(await dropout.forward(x).data());
  assert.ok(trained.some((v) => v === 0) && trained.some((v) => v === 2));
  dropout.eval();
  assert.equal(dropout.forward(x), x);
});

Deno.test("activation, pooling, flatten and loss modules match their F functions", async () => {
  const x = randn([2, 3, 4, 4]);
  const pairs: [nn.Module, Tensor][] = [
    [new nn.ReLU(), F.relu(x)],
    [new nn.LeakyReLU(0.1), F.leakyRelu(x, 0.1)],
    [new nn.Sigmoid(), F.sigmoid(x)],
    [new nn.Tanh(), F.tanh(x)],
    [new nn.GELU(), F.gelu(x)],
    [new nn.Softmax(1), F.softmax(x, 1)],
    [new nn.LogSoftmax(1), F.logSoftmax(x, 1)],
    [new nn.MaxPool2d(2), F.maxPool2d(x, 2)],
    [new nn.AvgPool2d(3, { stride: 1, padding: 1 }), F.avgPool2d(x, 3, { stride: 1, padding: 1 })],
    [new nn.AdaptiveAvgPool2d(1), F.adaptiveAvgPool2d(x, 1)],
    [new nn.Flatten(), x.reshape([2, 48])],
    [new nn.Identity(), x],
  ];
  for (const [module, expected] of pairs) {
    await assertClose(module.forward(x), expected, {}, module.toString());
  }
  const logits = randn([4, 3]);
  const targets = tensor([0, 2, 1, 1], { dtype: "int32" });
  await assertClose(
    new nn.CrossEntropyLoss().forward(logits, targets),
    F.crossEntropy(logits, targets),
  );
  await assertClose(
    new nn.NLLLoss().forward(logits.logSoftmax(1), targets),
    F.crossEntropy(logits, targets),
  );
  const target = randn([4, 3]);
  await assertClose(new nn.MSELoss().forward(logits, target), F.mseLoss(logits, target));
  await assertClose(new nn.L1Loss().forward(logits, target), F.l1Loss(logits, target));
  await assertClose(
    new nn.BCEWithLogitsLoss().forward(logits, target.sigmoid()),
    F.binaryCrossEntropyWithLogits(logits, target.sigmoid()),
  );
});
