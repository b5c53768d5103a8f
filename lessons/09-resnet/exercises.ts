/**
 * Lesson 9, exercises. Replace each `throw new Todo(...)` with your code, then run
 * `deno task check 9` to see which tasks are done (`deno task check 9 --hint 2` for more help).
 *
 * @module
 */
// F is for tasks 9.3 and 9.4 (the linter notes it unused until then).
// deno-lint-ignore no-unused-vars
import { F, nn, type Tensor } from "../../mod.ts";
import { Todo } from "../todo.ts";

/**
 * Task 9.1: the residual block, as a module of your own. Fields (in this order): `conv1` (3x3,
 * `stride`, padding 1, no bias), `bn1`, `conv2` (3x3, padding 1, no bias), `bn2`, and
 * `downsample`: null when the shape does not change, else an `nn.Sequential` of a 1x1
 * convolution with the same stride (no bias) and a batch norm. `forward(x)`: conv1, bn1, ReLU,
 * conv2, bn2, plus the input (through `downsample` when there is one), then ReLU.
 */
export class ResidualBlock extends nn.Module {
  conv1!: nn.Conv2d;
  bn1!: nn.BatchNorm2d;
  conv2!: nn.Conv2d;
  bn2!: nn.BatchNorm2d;
  downsample: nn.Sequential | null = null;

  constructor(_inChannels: number, _outChannels: number, _stride = 1) {
    super();
    throw new Todo("9.1", "two convolutions with batch norm compute a correction added to x");
  }

  forward(_x: Tensor): Tensor {
    throw new Todo("9.1", "two convolutions with batch norm compute a correction added to x");
  }
}

/**
 * Task 9.2: the parameters and the multiply-adds per image of `nn.Conv2d(inChannels,
 * outChannels, kernelSize, { stride, padding, groups })` with its bias, on a `size x size`
 * input. Count multiply-adds as `summary` does: every parameter (bias included) once per output
 * position.
 */
export function convCost(
  _inChannels: number,
  _outChannels: number,
  _kernelSize: number,
  _options: { stride: number; padding: number; groups: number; size: number },
): { params: number; multAdds: number } {
  throw new Todo("9.2", "count the weights of one filter, then how many output positions");
}

/**
 * Task 9.3: one forward and backward pass of `F.crossEntropy(model.forward(X), y)`, then the
 * gradient norm of every convolution weight (the 4-D parameters, in `namedParameters()` order),
 * as numbers. The function may be called several times on the same model.
 */
export function convGradNorms(_model: nn.Module, _X: Tensor, _y: Tensor): Promise<number[]> {
  throw new Todo("9.3", "backward once, then the length of each 4-D parameter's gradient");
}

/**
 * Task 9.4: the loss of the two-head model. `logits` is `[N, 12]`: the 10 clothing logits, then
 * the 2 upper-body logits. Return the sum of the two cross entropies; the upper-body target is 1
 * for labels 0 (T-shirt/top), 2 (pullover), 4 (coat) and 6 (shirt), else 0.
 */
export function twoHeadLoss(_logits: Tensor, _labels: Tensor): Tensor {
  throw new Todo("9.4", "each head gets its own columns and its own target; add the losses");
}
