/**
 * Lesson 9: residual networks. A model of one's own as an `nn.Module` subclass, the residual
 * block, `nn.ModuleList`, parameter and multiply-add counts with `summary` and grouped
 * convolutions, a deep plain network against a residual one of the same depth, and a multi-task
 * model with a shared trunk and two heads.
 *
 * @module
 */
import { lesson, md } from "../format.ts";
import {
  cat,
  data,
  F,
  loadFashionMnist,
  manualSeed,
  nn,
  noGrad,
  optim,
  randn,
  summary,
  type Tensor,
} from "../../mod.ts";

const { step, show, quick, device, seed, dataUrl } = await lesson(import.meta, {
  number: 9,
  title: "Residual networks",
  description: "A residual block as a module of your own, a deep plain network against a " +
    "residual one of the same depth, counting parameters and multiply-adds, and a model with " +
    "two heads.",
});

step(
  "A model of your own: the residual block",
  md`
  So far every model was an \`nn.Sequential\`: layers applied one after the other. A network
  whose data flow is not a straight line (a shortcut that skips layers, two outputs, a loop) is
  written as a class that **extends \`nn.Module\`**, as in PyTorch:

  - the layers are **fields** of the class. A field holding a module becomes a *child*, a field
    holding a parameter becomes a parameter; \`parameters()\` finds them all, in the order the
    fields are declared, and \`stateDict()\` names them as PyTorch would (the field \`conv1\`
    of a block gives \`conv1.weight\`, a camelCase field \`headLayer\` gives \`head_layer\`), so
    the weights load into the same model written in PyTorch;
  - \`forward(x)\` says how the input flows through them, in plain code.

  The **residual block** of ResNet (He et al., 2015) is the first model of this kind here. Two
  3x3 convolutions, each followed by batch norm, compute a correction $F(x)$ that is **added to
  the input**, and a ReLU follows the sum:

  $$y = \mathrm{ReLU}\big(F(x) + x\big), \qquad
  F(x) = \mathrm{BN}(W_2 * \mathrm{ReLU}(\mathrm{BN}(W_1 * x))) .$$

  The convolutions have no bias: the batch norm right after each would subtract it again. When
  the block changes the shape (more channels, or a stride of 2 that halves the image), $x$
  cannot be added as it is: a **1x1 convolution with the same stride** (and its batch norm)
  brings it to the new shape. The tutorial this lesson follows passes that \`downsample\` in from
  outside; here the block builds it itself when the shapes differ, so it cannot be forgotten.
`,
);
class ResidualBlock extends nn.Module {
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  relu = new nn.ReLU();
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  /** The 1x1 strided convolution of the shortcut, when the shape changes (else null). */
  downsample: nn.Sequential | null = null;

  constructor(inChannels: number, outChannels: number, stride = 1) {
    super();
    this.conv1 = new nn.Conv2d(inChannels, outChannels, 3, { stride, padding: 1, bias: false });
    this.bn1 = new nn.BatchNorm2d(outChannels);
    this.conv2 = new nn.Conv2d(outChannels, outChannels, 3, { padding: 1, bias: false });
    this.bn2 = new nn.BatchNorm2d(outChannels);
    if (stride !== 1 || inChannels !== outChannels) {
      this.downsample = new nn.Sequential(
        new nn.Conv2d(inChannels, outChannels, 1, { stride, bias: false }),
        new nn.BatchNorm2d(outChannels),
      );
    }
  }

  forward(x: Tensor): Tensor {
    let out = this.relu.forward(this.bn1.forward(this.conv1.forward(x)));
    out = this.bn2.forward(this.conv2.forward(out));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return this.relu.forward(out.add(identity));
  }
}

// A block that halves the image and doubles the channels: its shortcut needs the 1x1 conv.
const block = new ResidualBlock(8, 16, 2);
const blockInput = randn([2, 8, 28, 28]);
show.value(
  "output shape for an input of shape [2, 8, 28, 28]",
  `[${block.forward(blockInput).shape.join(", ")}]`,
);
show.table(
  Object.entries(block.stateDict()).map(([name, t]) => ({
    name,
    shape: `[${t.shape.join(", ")}]`,
    kind: block.namedParameters().some(([p]) => p === name) ? "parameter" : "buffer",
  })),
  { title: "The state dict of ResidualBlock(8, 16, stride 2): PyTorch's names" },
);

step(
  "Stacking blocks: nn.ModuleList, and the same network without shortcuts",
  md`
  A deep network repeats its block many times. \`nn.ModuleList\` holds such a list: its modules
  are children named \`blocks.0\`, \`blocks.1\`, ... (a plain array would hide their parameters
  from \`parameters()\`, and the framework says so if you try). Unlike \`nn.Sequential\`, a
  ModuleList has no \`forward\` of its own: the model's \`forward\` loops over it, which leaves
  room for anything between the blocks.

  To see what the shortcut does, this step also defines a **plain block**, which has exactly the
  same layers and parameters as the residual one and differs in one line: its \`forward\` does
  not add the input. \`DeepCnn\` builds the same network from either kind of block: a stem (a
  strided 3x3 convolution and a max pool, from 28x28 down to 7x7), a stack of blocks, an average
  over the image and a linear layer to the 10 classes. Ten blocks make 20 convolutions in the
  stack: 22 convolution and linear layers in all (and 20 batch norms).
`,
);
class PlainBlock extends ResidualBlock {
  override forward(x: Tensor): Tensor {
    const out = this.relu.forward(this.bn1.forward(this.conv1.forward(x)));
    return this.relu.forward(this.bn2.forward(this.conv2.forward(out)));
  }
}

class DeepCnn extends nn.Module {
  stem: nn.Conv2d;
  pool = new nn.MaxPool2d(2);
  blocks: nn.ModuleList;
  head: nn.Linear;

  constructor(Block: typeof ResidualBlock, depth: number, channels: number) {
    super();
    this.stem = new nn.Conv2d(1, channels, 3, { stride: 2, padding: 1 });
    this.blocks = new nn.ModuleList(
      Array.from({ length: depth }, () => new Block(channels, channels)),
    );
    this.head = new nn.Linear(channels, 10);
  }

  forward(images: Tensor): Tensor {
    let features = this.pool.forward(this.stem.forward(images).relu());
    for (const block of this.blocks) features = block.forward(features);
    // The mean over the 7x7 positions of each channel: one number per channel.
    return this.head.forward(features.mean([2, 3]));
  }
}

// The same stack in a plain array: its blocks would be invisible to parameters(), so the
// framework refuses the model when asked for them.
class HiddenBlocks extends nn.Module {
  blocks = [new ResidualBlock(8, 8), new ResidualBlock(8, 8)];
  forward(x: Tensor): Tensor {
    return x;
  }
}
try {
  new HiddenBlocks().parameters();
} catch (error) {
  show.value("a plain array of blocks", (error as Error).message);
}

const depth = 10;
const channels = 8;
manualSeed(seed);
const plain = new DeepCnn(PlainBlock, depth, channels).to(device);
manualSeed(seed);
const residual = new DeepCnn(ResidualBlock, depth, channels).to(device);
const countOf = (model: nn.Module) => model.parameters().reduce((n, p) => n + p.numel(), 0);
show.table([
  { network: "plain", blocks: plain.blocks.length, parameters: countOf(plain) },
  { network: "residual", blocks: residual.blocks.length, parameters: countOf(residual) },
]);
show.value(
  "the first names of the residual network's parameters",
  residual.namedParameters()
    .slice(0, 4).map(([name]) => name).join(", "),
);

step(
  "Counting parameters and multiply-adds: summary and grouped convolutions",
  md`
  \`summary(model, inputShape)\` runs the model once on zeros of the given shape and lists each
  layer with the shape it outputs, its parameters, and its **multiply-adds**, as the torchinfo
  package does for PyTorch. A convolution uses each of its weights once per output position: a
  3x3 convolution from $C_{in}$ to $C_{out}$ channels on an $H \times W$ output costs
  $9\, C_{in} C_{out} H W$ multiply-adds per image, which is why the stem shrinks the image
  before the stack of blocks.

  **Grouped convolutions** cut both numbers. With \`groups: g\`, the channels are split into $g$
  groups and each output channel looks only at the $C_{in}/g$ input channels of its group: $g$
  times fewer weights and multiply-adds. With $g = C_{in}$ (**depthwise**) each channel is
  filtered on its own; followed by a 1x1 convolution that mixes the channels (**pointwise**),
  this "depthwise separable" pair stands in for a full 3x3 convolution at a fraction of the cost
  (MobileNet's building block).
`,
);
const residualSummary = summary(residual, [1, 1, 28, 28], { depth: 2 });
show.text("```\n" + String(residualSummary) + "\n```");

const convCost = (layer: nn.Module) => summary(layer, [1, 32, 14, 14]);
const convVariants: [string, nn.Module][] = [
  ["3x3 conv, 32 -> 32", new nn.Conv2d(32, 32, 3, { padding: 1, bias: false })],
  ["3x3 conv, groups 4", new nn.Conv2d(32, 32, 3, { padding: 1, bias: false, groups: 4 })],
  [
    "depthwise 3x3 + pointwise 1x1",
    new nn.Sequential(
      new nn.Conv2d(32, 32, 3, { padding: 1, bias: false, groups: 32 }),
      new nn.Conv2d(32, 32, 1, { bias: false }),
    ),
  ],
];
const fullCost = convCost(convVariants[0][1]);
show.table(
  convVariants.map(([layer, module]) => {
    const cost = convCost(module);
    return {
      layer,
      parameters: cost.totalParams,
      "mult-adds (14x14 input)": cost.totalMultAdds,
      "share of the full conv": `${
        (100 * cost.totalMultAdds / fullCost.totalMultAdds).toFixed(1)
      }%`,
    };
  }),
  { title: "One layer from 32 to 32 channels, three ways" },
);
const separableShare = convCost(convVariants[2][1]).totalMultAdds / fullCost.totalMultAdds;

step(
  "The data",
  md`
  Fashion-MNIST again: 28x28 grey images of clothing in 10 classes. A quick run trains on 2,560
  training images and tests on 1,000; the full run on all 12,000 shipped training images and
  the 2,000 test images.
`,
);
const folder = new URL(".", dataUrl("fashion-mnist/train-images-idx3-ubyte.gz"));
const train = await loadFashionMnist(folder, { train: true, limit: quick ? 2560 : 12000 });
const test = await loadFashionMnist(folder, { train: false, limit: quick ? 1000 : 2000 });
const trainImages = train.images.to(device);
const trainLabels = train.labels.to(device);
const testImages = test.images.to(device);
const testLabels = test.labels.to(device);
const batchSize = 64;
show.value("training images", trainImages.shape[0]);
show.value("test images", testImages.shape[0]);

step(
  "A deep plain network against a residual one",
  md`
  Both networks start from the same weights (made right after the same seed) and train on the
  same batches in the same order, with the same optimizer: SGD with momentum 0.9 and learning
  rate 0.05. The only difference is the shortcut.

  Besides the loss, the loop records the **gradient norm of the first layer** (the stem
  convolution) after each backward pass, $\lVert \partial L / \partial W_{\text{stem}} \rVert$.
  In a plain network the gradient reaches the first layer only through every layer above it,
  each multiplying it by its own Jacobian. In a residual network each block passes it on as
  $\partial L/\partial x = \partial L/\partial y \cdot (I + \partial F/\partial x)$ (before
  the last ReLU, which lets through what is positive): the identity term carries it down
  unchanged, whatever the block's own weights do.
`,
);
const epochs = 2;
const lr = 0.05;
const lossPlot = show.plot({
  title: "Training loss (mean of every 5 steps)",
  xLabel: "step",
  yLabel: "cross entropy",
});
const gradPlot = show.plot({
  title: "Gradient norm of the first layer (mean of every 5 steps)",
  xLabel: "step",
  yLabel: "norm of the stem's weight gradient",
  logY: true,
});

/** Trains one network; returns the loss and the first layer's gradient norm of every step. */
async function trainAndWatch(name: string, model: DeepCnn) {
  manualSeed(seed + 1); // the same shuffled batches for both networks
  const trainLoader = new data.DataLoader(new data.TensorDataset(trainImages, trainLabels), {
    batchSize,
    shuffle: true,
  });
  const optimizer = new optim.SGD(model.parameters(), { lr, momentum: 0.9 });
  const losses: number[] = [];
  const gradNorms: number[] = [];
  for (const epoch of show.range(epochs, `${name}: epochs`)) {
    const batches = show.progress(trainLoader, `${name}: epoch ${epoch + 1}`);
    for (const [X, y] of batches) {
      optimizer.zeroGrad();
      const loss = F.crossEntropy(model.forward(X), y);
      loss.backward();
      gradNorms.push(await model.stem.weight.grad!.norm().item());
      optimizer.step();
      losses.push(await loss.item());
      if (losses.length % 5 === 0) {
        const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;
        lossPlot.push(name, losses.length, mean(losses.slice(-5)));
        gradPlot.push(name, losses.length, mean(gradNorms.slice(-5)));
        batches.note({ loss: mean(losses.slice(-5)).toFixed(3) });
      }
    }
  }
  return { losses, gradNorms };
}
const plainRun = await trainAndWatch("plain", plain);
const residualRun = await trainAndWatch("residual", residual);

step(
  "What the shortcut changed",
  md`
  The table compares the two runs: the mean training loss of the last 10 steps, and the mean
  gradient norm of the first layer over all steps. The plain network trains, but slowly: the
  signal that tells its first layers what to change arrives weak. With the same layers, the
  same weights at the start and the same batches, the residual network gets a stronger
  gradient at its first layer and a lower training loss.

  This is the *degradation problem* that He et al. found: deeper plain networks trained worse
  than shallower ones **on the training set** (so not from overfitting), and shortcuts removed
  it. Batch norm keeps each layer's activations in range but does not make the product of 20
  Jacobians well behaved; the identity path does.

  The gap is largest early in training, where a quick run stops. A full run (376 steps on all
  12,000 images) narrows it: the plain network does learn, later (training loss 0.66 against
  0.51 in a full run, and a first-layer gradient 1.06 times smaller).
`,
);
const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;
const plainLoss = mean(plainRun.losses.slice(-10));
const residualLoss = mean(residualRun.losses.slice(-10));
const plainGrad = mean(plainRun.gradNorms);
const residualGrad = mean(residualRun.gradNorms);

async function testAccuracy(model: nn.Module): Promise<number> {
  model.eval();
  using _ = noGrad();
  const predicted = model.forward(testImages).argmax(1);
  const correct = await predicted.eq(testLabels).float().sum().item();
  model.train();
  return correct / testLabels.shape[0];
}
const plainAccuracy = await testAccuracy(plain);
const residualAccuracy = await testAccuracy(residual);
show.table([
  {
    network: "plain",
    "training loss (last 10 steps)": plainLoss.toFixed(3),
    "first-layer gradient norm (mean)": plainGrad.toFixed(4),
    "test accuracy": `${(100 * plainAccuracy).toFixed(1)}%`,
  },
  {
    network: "residual",
    "training loss (last 10 steps)": residualLoss.toFixed(3),
    "first-layer gradient norm (mean)": residualGrad.toFixed(4),
    "test accuracy": `${(100 * residualAccuracy).toFixed(1)}%`,
  },
]);
show.value("plain training loss (last 10 steps)", plainLoss);
show.value("residual training loss (last 10 steps)", residualLoss);
show.value("plain first-layer gradient norm", plainGrad);
show.value("residual first-layer gradient norm", residualGrad);

step(
  "One trunk, two heads: a multi-task model",
  md`
  A model can answer two questions at once. This one has a **shared trunk** (a stem and two
  residual blocks) and **two heads** on top of it: one names the clothing (10 classes), the
  other says whether it is worn on the upper body (T-shirt, pullover, coat, shirt: 2 classes).
  The training loss is the **sum** of the two cross entropies, so one backward pass sends both
  tasks' gradients into the trunk, which learns features that serve both.

  In PyTorch such a \`forward\` returns a tuple. Here \`forward\` returns one tensor, so the model
  puts the two heads' logits side by side, $[N, 10 + 2]$, and the loss takes each head's columns
  with \`narrow\`.
`,
);
class TwoHeadNet extends nn.Module {
  trunk = new nn.Sequential(
    new nn.Conv2d(1, 16, 3, { stride: 2, padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new ResidualBlock(16, 16),
    new ResidualBlock(16, 16),
  );
  clothing = new nn.Linear(16, 10);
  upperBody = new nn.Linear(16, 2);

  forward(images: Tensor): Tensor {
    const features = this.trunk.forward(images).mean([2, 3]);
    return cat([this.clothing.forward(features), this.upperBody.forward(features)], 1);
  }
}
/** 1 for the classes worn on the upper body (T-shirt/top, pullover, coat, shirt), else 0. */
const upperBodyOf = (labels: Tensor) =>
  labels.eq(0).add(labels.eq(2)).add(labels.eq(4)).add(labels.eq(6)).int();

manualSeed(seed);
const twoHeads = new TwoHeadNet().to(device);
const twoHeadOptimizer = new optim.Adam(twoHeads.parameters(), { lr: 3e-3 });
const twoHeadLoader = new data.DataLoader(new data.TensorDataset(trainImages, trainLabels), {
  batchSize,
  shuffle: true,
});
for (const epoch of show.range(quick ? 1 : 3, "two heads: epochs")) {
  const batches = show.progress(twoHeadLoader, `two heads: epoch ${epoch + 1}`);
  for (const [X, y] of batches) {
    twoHeadOptimizer.zeroGrad();
    const logits = twoHeads.forward(X);
    const clothingLoss = F.crossEntropy(logits.narrow(1, 0, 10), y);
    const upperBodyLoss = F.crossEntropy(logits.narrow(1, 10, 2), upperBodyOf(y));
    const loss = clothingLoss.add(upperBodyLoss);
    loss.backward();
    twoHeadOptimizer.step();
    batches.note({ loss: (await loss.item()).toFixed(3) });
  }
}
twoHeads.eval();
let clothingAccuracy = 0;
let upperBodyAccuracy = 0;
{
  using _ = noGrad();
  const logits = twoHeads.forward(testImages);
  const count = testLabels.shape[0];
  const clothingRight = logits.narrow(1, 0, 10).argmax(1).eq(testLabels);
  const upperRight = logits.narrow(1, 10, 2).argmax(1).eq(upperBodyOf(testLabels));
  clothingAccuracy = (await clothingRight.float().sum().item()) / count;
  upperBodyAccuracy = (await upperRight.float().sum().item()) / count;
}
const percent = (share: number) => `${(100 * share).toFixed(1)}%`;
show.table([
  { head: "clothing (10 classes)", "test accuracy": percent(clothingAccuracy) },
  { head: "upper body (2 classes)", "test accuracy": percent(upperBodyAccuracy) },
]);
show.value("clothing head test accuracy", percent(clothingAccuracy));
show.value("upper-body head test accuracy", percent(upperBodyAccuracy));

show.summary([
  {
    label: `training loss after ${plainRun.losses.length} steps, ${2 * depth + 2} layers`,
    value: `residual ${residualLoss.toFixed(3)} vs plain ${plainLoss.toFixed(3)} ` +
      `(lower by ${(plainLoss - residualLoss).toFixed(3)})`,
  },
  {
    label: "first-layer gradient norm (mean over training)",
    value: `residual ${residualGrad.toFixed(4)} vs plain ${plainGrad.toFixed(4)} ` +
      `(${(residualGrad / plainGrad).toFixed(2)}x)`,
  },
  {
    label: "depthwise separable conv vs full 3x3 conv",
    value: `${(100 * separableShare).toFixed(1)}% of the multiply-adds`,
  },
  {
    label: "two heads on one trunk (test accuracy)",
    value: `clothing ${(100 * clothingAccuracy).toFixed(1)}%, upper body ` +
      `${(100 * upperBodyAccuracy).toFixed(1)}%`,
  },
]);
