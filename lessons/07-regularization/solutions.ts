/**
 * Lesson 7, solutions: the same exports as `exercises.ts`, solved.
 *
 * @module
 */
import { cat, rand, type Tensor, tensor, zeros } from "../../mod.ts";

/**
 * Task 7.1: the L2 penalty `(lambda / 2) * (sum of the squares of every weight)`, as a tensor
 * that autograd can differentiate: its gradient is `lambda * w`, what SGD's `weightDecay` adds.
 */
export function l2Penalty(parameters: Tensor[], lambda: number): Tensor {
  let sumOfSquares = tensor(0);
  for (const w of parameters) sumOfSquares = sumOfSquares.add(w.square().sum());
  return sumOfSquares.mul(lambda / 2);
}

/**
 * Task 7.2: inverted dropout. In training, zero each element with probability `p` and divide
 * the kept ones by `1 - p`; in evaluation, return the input unchanged.
 */
export function dropout(input: Tensor, p: number, training: boolean): Tensor {
  if (!training || p === 0) return input;
  const keep = rand(input.shape).ge(p); // 1 with probability 1 - p
  return input.mul(keep).div(1 - p);
}

/** Task 7.3: the share of all the weights (every tensor together) with `|w| < threshold`. */
export async function shareNearZero(parameters: Tensor[], threshold: number): Promise<number> {
  let near = 0;
  let total = 0;
  for (const w of parameters) {
    near += await w.abs().lt(threshold).sum().item();
    total += w.numel();
  }
  return near / total;
}

/**
 * Task 7.4: a crop after padding. Pad the image `[C, H, W]` with `padding` zeros on every side,
 * then cut the `H x W` window whose top-left corner is at row `top`, column `left` of the padded
 * image.
 */
export function cropWithPadding(image: Tensor, padding: number, top: number, left: number): Tensor {
  const [channels, height, width] = image.shape;
  const sides = zeros([channels, height, padding]);
  const wide = cat([sides, image, sides], 2);
  const band = zeros([channels, padding, width + 2 * padding]);
  const padded = cat([band, wide, band], 1);
  return padded.narrow(1, top, height).narrow(2, left, width);
}
