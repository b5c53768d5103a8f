/**
 * A custom nn.Module subclass (the residual block of the ResNet papers, as PyTorch tutorials
 * write it) inside an nn.ModuleList: its fields become parameters, buffers and children with
 * the names PyTorch gives them, in PyTorch's order. The expected names were printed by
 * PyTorch 1.13 for the same model written in Python:
 *
 * ```python
 * class ResidualBlock(nn.Module):
 *     def __init__(self, in_channels, out_channels, stride=1, downsample=None):
 *         super().__init__()
 *         self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
 *         self.bn1 = nn.BatchNorm2d(out_channels)
 *         self.relu = nn.ReLU(inplace=True)
 *         self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
 *         self.bn2 = nn.BatchNorm2d(out_channels)
 *         self.downsample = downsample
 * class Net(nn.Module):
 *     def __init__(self):
 *         super().__init__()
 *         self.stem = nn.Conv2d(1, 8, 3, padding=1)
 *         self.blocks = nn.ModuleList([ResidualBlock(8, 8), ResidualBlock(8, 16, 2,
 *             nn.Sequential(nn.Conv2d(8, 16, 1, 2, bias=False), nn.BatchNorm2d(16)))])
 *         self.head_layer = nn.Linear(16, 10)
 * net = Net()
 * print([n for n, _ in net.named_parameters()]); print(list(net.state_dict().keys()))
 * print([n for n, _ in net.named_modules()])
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import { nn, randn, type Tensor } from "../mod.ts";

class ResidualBlock extends nn.Module {
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  relu = new nn.ReLU();
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  downsample: nn.Module | null;

  constructor(
    inChannels: number,
    outChannels: number,
    stride = 1,
    downsample = null as
      | nn.Module
      | null,
  ) {
    super();
    this.conv1 = new nn.Conv2d(inChannels, outChannels, 3, { stride, padding: 1, bias: false });
    this.bn1 = new nn.BatchNorm2d(outChannels);
    this.conv2 = new nn.Conv2d(outChannels, outChannels, 3, { padding: 1, bias: false });
    this.bn2 = new nn.BatchNorm2d(outChannels);
    this.downsample = downsample;
  }

  forward(x: Tensor): Tensor {
    const out = this.bn2.forward(this.conv2.forward(this.relu.forward(
      this.bn1.forward(this.conv1.forward(x)),
    )));
    const residual = this.downsample ? this.downsample.forward(x) : x;
    return this.relu.forward(out.add(residual));
  }
}

class Net extends nn.Module {
  stem = new nn.Conv2d(1, 8, 3, { padding: 1 });
  blocks = new nn.ModuleList([
    new ResidualBlock(8, 8),
    new ResidualBlock(
      8,
      16,
      2,
      new nn.Sequential(
        new nn.Conv2d(8, 16, 1, { stride: 2, bias: false }),
        new nn.BatchNorm2d(16),
      ),
    ),
  ]);
  headLayer = new nn.Linear(16, 10);

  forward(x: Tensor): Tensor {
    let features = this.stem.forward(x);
    for (const block of this.blocks) features = block.forward(features);
    return this.headLayer.forward(features.mean([2, 3]));
  }
}

const bn = (prefix: string) =>
  ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"].map((n) =>
    `${prefix}.${n}`
  );

Deno.test("a custom module's fields are parameters and children named as in PyTorch", () => {
  const net = new Net();
  assert.deepEqual(net.namedParameters().map(([name]) => name), [
    "stem.weight",
    "stem.bias",
    "blocks.0.conv1.weight",
    "blocks.0.bn1.weight",
    "blocks.0.bn1.bias",
    "blocks.0.conv2.weight",
    "blocks.0.bn2.weight",
    "blocks.0.bn2.bias",
    "blocks.1.conv1.weight",
    "blocks.1.bn1.weight",
    "blocks.1.bn1.bias",
    "blocks.1.conv2.weight",
    "blocks.1.bn2.weight",
    "blocks.1.bn2.bias",
    "blocks.1.downsample.0.weight",
    "blocks.1.downsample.1.weight",
    "blocks.1.downsample.1.bias",
    "head_layer.weight",
    "head_layer.bias",
  ]);
  assert.deepEqual(Object.keys(net.stateDict()), [
    "stem.weight",
    "stem.bias",
    "blocks.0.conv1.weight",
    ...bn("blocks.0.bn1"),
    "blocks.0.conv2.weight",
    ...bn("blocks.0.bn2"),
    "blocks.1.conv1.weight",
    ...bn("blocks.1.bn1"),
    "blocks.1.conv2.weight",
    ...bn("blocks.1.bn2"),
    "blocks.1.downsample.0.weight",
    ...bn("blocks.1.downsample.1"),
    "head_layer.weight",
    "head_layer.bias",
  ]);
  assert.deepEqual(net.namedModules().map(([name]) => name), [
    "",
    "stem",
    "blocks",
    "blocks.0",
    "blocks.0.conv1",
    "blocks.0.bn1",
    "blocks.0.relu",
    "blocks.0.conv2",
    "blocks.0.bn2",
    "blocks.1",
    "blocks.1.conv1",
    "blocks.1.bn1",
    "blocks.1.relu",
    "blocks.1.conv2",
    "blocks.1.bn2",
    "blocks.1.downsample",
    "blocks.1.downsample.0",
    "blocks.1.downsample.1",
    "head_layer",
  ]);
});

Deno.test("a residual network of custom blocks runs forward and backward to every parameter", () => {
  const net = new Net();
  const logits = net.forward(randn([2, 1, 8, 8]));
  assert.deepEqual(logits.shape, [2, 10]);
  logits.sum().backward();
  for (const [name, p] of net.namedParameters()) assert.ok(p.grad, `${name} has a gradient`);
});
