/**
 * summary(model, inputShape): output shapes and parameter counts against PyTorch 1.13 (forward
 * hooks and numel), multiply-adds by torchinfo's rule, a custom module with a residual path,
 * grouped convolutions, the table, and errors. The model is left as it was (mode, forward).
 *
 * The PyTorch numbers were produced once by this script (torchinfo's multiply-add rule written
 * out, since torchinfo itself is not packaged in Debian):
 *
 * ```python
 * import torch, torch.nn as nn
 * from math import prod
 * model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
 *     nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2), nn.MaxPool2d(2), nn.Flatten(),
 *     nn.Linear(16 * 7 * 7, 10))
 * shapes = {}
 * for name, m in model.named_modules():
 *     m.register_forward_hook(lambda mod, i, o, name=name: shapes.setdefault(name, list(o.shape)) and None)
 * model.eval(); model(torch.zeros(2, 1, 28, 28))
 * for name, m in model.named_modules():
 *     own = [p for n, p in m.named_parameters(recurse=False)]
 *     out = shapes[name]
 *     per = prod(out[2:]) * out[0] if "Conv" in type(m).__name__ else out[0]
 *     print(repr(name), type(m).__name__, out, sum(p.numel() for p in m.parameters()),
 *           sum(p.numel() * per for p in own))
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import { nn, summary, type Tensor } from "../mod.ts";
import { assertThrowsWith } from "./core_helpers.ts";

const model = () =>
  new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1, bias: false }),
    new nn.BatchNorm2d(8),
    new nn.ReLU(),
    new nn.Conv2d(8, 16, 3, { stride: 2, padding: 1, groups: 2 }),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(16 * 7 * 7, 10),
  );

Deno.test("summary gives PyTorch's output shapes and parameter counts, torchinfo's mult-adds", () => {
  const info = summary(model(), [2, 1, 28, 28]);
  const rows = info.layers.map((l) => [l.name, l.type, l.outputShape, l.params, l.multAdds]);
  assert.deepEqual(rows, [
    ["", "Sequential", [2, 10], 8530, 112896 + 32 + 232064 + 15700],
    ["0", "Conv2d", [2, 8, 28, 28], 72, 112896],
    ["1", "BatchNorm2d", [2, 8, 28, 28], 16, 32],
    ["2", "ReLU", [2, 8, 28, 28], 0, 0],
    ["3", "Conv2d", [2, 16, 14, 14], 592, 232064],
    ["4", "MaxPool2d", [2, 16, 7, 7], 0, 0],
    ["5", "Flatten", [2, 784], 0, 0],
    ["6", "Linear", [2, 10], 7850, 15700],
  ]);
  assert.equal(info.totalParams, 8530);
  assert.equal(info.trainableParams, 8530);
  assert.equal(info.totalMultAdds, 360692);
});

Deno.test("summary of a custom module counts its children and a frozen part apart", () => {
  class Block extends nn.Module {
    conv1 = new nn.Conv2d(4, 4, 3, { padding: 1, bias: false });
    bn1 = new nn.BatchNorm2d(4);
    forward(x: Tensor): Tensor {
      return this.bn1.forward(this.conv1.forward(x)).add(x).relu();
    }
  }
  const net = new nn.Sequential(new Block(), new nn.Flatten(), new nn.Linear(64, 3));
  (net.at(0) as Block).requiresGrad_(false);
  const info = summary(net, [1, 4, 4, 4]);
  assert.deepEqual(
    info.layers.map((l) => [l.name, l.depth, l.params]),
    [["", 0, 347], ["0", 1, 152], ["0.conv1", 2, 144], ["0.bn1", 2, 8], ["1", 1, 0], [
      "2",
      1,
      195,
    ]],
  );
  assert.equal(info.trainableParams, 195);
  const table = String(info);
  for (const part of ["Layer (type)", "conv1: Conv2d", "[1, 4, 4, 4]", "Total params: 347"]) {
    assert.ok(table.includes(part), `the table lacks ${JSON.stringify(part)}:\n${table}`);
  }
  assert.ok(!String(summary(net, [1, 4, 4, 4], { depth: 1 })).includes("conv1"));
});

Deno.test("grouped convolutions divide the parameters and mult-adds by the groups", () => {
  const dense = summary(new nn.Conv2d(16, 32, 3, { padding: 1, bias: false }), [1, 16, 8, 8]);
  const grouped = summary(
    new nn.Conv2d(16, 32, 3, { padding: 1, bias: false, groups: 4 }),
    [1, 16, 8, 8],
  );
  assert.equal(dense.totalParams, 32 * 16 * 9);
  assert.equal(grouped.totalParams, dense.totalParams / 4);
  assert.equal(grouped.totalMultAdds, dense.totalMultAdds / 4);
});

Deno.test("summary leaves the model as it was: training mode, forward, running statistics", async () => {
  const net = model();
  const info = summary(net, [2, 1, 28, 28]);
  assert.ok(info.layers.length > 0);
  assert.ok(net.modules().every((m) => m.training), "training mode restored");
  assert.ok(net.modules().every((m) => !Object.hasOwn(m, "forward")), "forward restored");
  const bn = net.at(1) as nn.BatchNorm2d;
  assert.deepEqual([...await bn.runningMean!.data()], new Array(8).fill(0));
});

Deno.test("summary with a wrong input shape says which model and shape failed", () => {
  assertThrowsWith(() => summary(model(), [2, 3, 28, 28]), [
    "summary: running Sequential on an input of shape [2, 3, 28, 28] failed",
    "Conv2d",
  ]);
  assertThrowsWith(() => summary(model(), [28, 28.5]), ["inputShape", "positive sizes"]);
  assertThrowsWith(() => summary(model(), [1, 1, 28, 28], { detph: 1 } as never), [
    "summary",
    "depth",
  ]);
});
