/**
 * Models shared by the export tests: an MLP with every activation, a CNN with batch norm,
 * pooling and dropout, a residual network with its own forward, and a module that mixes tensor
 * ops and F functions.
 */
import { F, nn, randn, type Tensor } from "../mod.ts";

/** An MLP through every activation layer, ending in a softmax; input [batch, 20]. */
export function mlp(): nn.Sequential {
  return new nn.Sequential(
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
    new nn.Linear(8, 8),
    new nn.ELU({ alpha: 0.7 }),
    new nn.Linear(8, 8),
    new nn.GELU({ approximate: "tanh" }),
    new nn.Linear(8, 5),
    new nn.Softmax(1),
  );
}

/**
 * A CNN with batch norm, both poolings, strides, groups, dilation and dropout; input
 * [batch, 1, 28, 28].
 */
export function cnn(): nn.Sequential {
  return new nn.Sequential(
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
}

/** The residual block of lesson 9: two 3x3 convolutions with batch norm, plus a shortcut. */
export class ResidualBlock extends nn.Module {
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

/**
 * A stem, two residual blocks, global average pooling and a linear head; input
 * [batch, 1, 12, 12].
 */
export class SmallResNet extends nn.Module {
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

/** Tensor methods, parameters read in forward, and F functions; input [batch, 6]. */
export class Mixed extends nn.Module {
  fc = new nn.Linear(6, 6);
  scale = nn.Parameter(randn([6]));
  other = nn.Parameter(randn([4, 6]));
  otherBias = nn.Parameter(randn([4]));
  forward(x: Tensor): Tensor {
    const h = F.relu(this.fc.forward(x)).mul(this.scale).sub(0.25).div(2).clamp(-1, 1);
    const both = F.linear(h, this.other, this.otherBias).maximum(0.1);
    const joined = both.mul(h.sum(1, true)).pow(2).add(1).sqrt().neg().exp();
    const bent = F.elu(F.gelu(joined, { approximate: "tanh" }).sub(0.5).mul(8), { alpha: 0.5 });
    const logits = F.gelu(bent).reshape([-1, 2, 2]).flatten(1).sigmoid().log().mul(30);
    return F.softmax(logits, 1);
  }
}

/** Gives the batch norm layers running statistics that are not their starting values. */
export function trainBatchNorm(model: nn.Module, itemShape: number[]): void {
  model.train();
  for (let i = 0; i < 3; i++) model.forward(randn([16, ...itemShape]).mul(2).add(0.5));
  model.eval();
}
