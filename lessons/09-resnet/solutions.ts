/**
 * Lesson 9, exercises solved: the reference answers that `deno task test` checks.
 *
 * @module
 */
import { F, nn, type Tensor } from "../../mod.ts";

/**
 * Task 9.1: the residual block. conv 3x3 (no bias, `stride`) - batch norm - ReLU - conv 3x3 (no
 * bias) - batch norm, plus the input (or, when the shape changes, a 1x1 convolution with the
 * same stride and a batch norm of it), then a ReLU.
 */
export class ResidualBlock extends nn.Module {
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
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
    const hidden = this.bn1.forward(this.conv1.forward(x)).relu();
    const out = this.bn2.forward(this.conv2.forward(hidden));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return out.add(identity).relu();
  }
}

/**
 * Task 9.2: the parameters and the multiply-adds (per image, as `summary` counts them: every
 * parameter, bias included, once per output position) of `nn.Conv2d(inChannels, outChannels,
 * kernelSize, { stride, padding, groups })` with a bias, on a square `size x size` input.
 */
export function convCost(
  inChannels: number,
  outChannels: number,
  kernelSize: number,
  options: { stride: number; padding: number; groups: number; size: number },
): { params: number; multAdds: number } {
  const { stride, padding, groups, size } = options;
  const weights = outChannels * (inChannels / groups) * kernelSize * kernelSize;
  const params = weights + outChannels;
  const outSize = Math.floor((size + 2 * padding - kernelSize) / stride) + 1;
  return { params, multAdds: params * outSize * outSize };
}

/**
 * Task 9.3: the gradient norm of every convolution weight of `model` (in `namedParameters()`
 * order) after one forward and backward pass of the cross entropy on `(X, y)`.
 */
export async function convGradNorms(model: nn.Module, X: Tensor, y: Tensor): Promise<number[]> {
  model.zeroGrad();
  F.crossEntropy(model.forward(X), y).backward();
  const norms: number[] = [];
  for (const [, p] of model.namedParameters()) {
    if (p.ndim === 4) norms.push(await p.grad!.norm().item());
  }
  return norms;
}

/**
 * Task 9.4: the loss of the two-head model: its output is `[N, 12]`, the 10 clothing logits then
 * the 2 upper-body logits. The sum of the two cross entropies; the upper-body target is 1 for
 * labels 0 (T-shirt/top), 2 (pullover), 4 (coat) and 6 (shirt), else 0.
 */
export function twoHeadLoss(logits: Tensor, labels: Tensor): Tensor {
  const upperBody = labels.eq(0).add(labels.eq(2)).add(labels.eq(4)).add(labels.eq(6)).int();
  const clothing = F.crossEntropy(logits.narrow(1, 0, 10), labels);
  return clothing.add(F.crossEntropy(logits.narrow(1, 10, 2), upperBody));
}
