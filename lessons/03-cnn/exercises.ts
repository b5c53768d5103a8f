/**
 * Lesson 3, exercises. Replace each `throw new Todo(...)` with your code, then run
 * `deno task check 3` to see which tasks are done.
 *
 * Images are `[batch, channels, height, width]`, stored row-major: the value at `(n, c, i, j)`
 * of a tensor of shape `[N, C, H, W]` is at flat index `((n * C + c) * H + i) * W + j`. Read the
 * values with `await t.data()` and build the result with
 * `tensor(values, { shape: [...], dtype: input.dtype })`.
 *
 * @module
 */
import type { Tensor } from "../../mod.ts";
import { Todo } from "../todo.ts";

/** Stride and padding of a convolution (both default to the plain case: 1 and 0). */
export interface ConvOptions {
  stride?: number;
  padding?: number;
}

/**
 * Task 3.1: how many positions a window of `kernelSize` takes along an input of `inSize`, with
 * `stride` between positions and `padding` zeros on each side.
 */
export function convOutputSize(
  _inSize: number,
  _kernelSize: number,
  _stride = 1,
  _padding = 0,
): number {
  throw new Todo("3.1", "floor((inSize + 2 * padding - kernelSize) / stride) + 1");
}

/**
 * Task 3.2: a convolution by loops, as `F.conv2d(input, weight, bias, { stride, padding })`:
 * `out[n, o, i, j] = bias[o] + sum over c, u, v of
 * weight[o, c, u, v] * input[n, c, i*stride + u - padding, j*stride + v - padding]`
 * (pixels outside the image count as zero).
 *
 * @param input `[N, C, H, W]`
 * @param weight `[O, C, k, k]`
 * @param bias `[O]`, or null
 * @returns `[N, O, outH, outW]`
 */
export function conv2dByLoops(
  _input: Tensor,
  _weight: Tensor,
  _bias: Tensor | null,
  _options: ConvOptions = {},
): Promise<Tensor> {
  throw new Todo(
    "3.2",
    "loop over n, o, i, j; inside, sum weight * input over c, u, v, skipping rows and " +
      "columns outside the image",
  );
}

/**
 * Task 3.3: the gradient of a loss with respect to the weight of a convolution, by loops, given
 * the gradient `gradOutput` that reached the convolution's output.
 *
 * @param input `[N, C, H, W]`, the convolution's input
 * @param gradOutput `[N, O, outH, outW]`
 * @param kernelSize `k` of the `[O, C, k, k]` weight
 * @returns `[O, C, k, k]`
 */
export function conv2dWeightGradByLoops(
  _input: Tensor,
  _gradOutput: Tensor,
  _kernelSize: number,
  _options: ConvOptions = {},
): Promise<Tensor> {
  throw new Todo(
    "3.3",
    "weight[o, c, u, v] was used at every output (n, i, j): sum gradOutput[n, o, i, j] * " +
      "input[n, c, i*stride + u - padding, j*stride + v - padding] over them",
  );
}

/**
 * Task 3.4: max pooling by loops, as `F.maxPool2d(input, kernelSize)`: windows of
 * `kernelSize x kernelSize`, stride `kernelSize` (no overlap), no padding.
 *
 * @param input `[N, C, H, W]`
 * @returns `[N, C, floor(H / k), floor(W / k)]`
 */
export function maxPool2dByLoops(_input: Tensor, _kernelSize: number): Promise<Tensor> {
  throw new Todo("3.4", "output (i, j) is the largest input in rows i*k..i*k+k-1, columns j*k..");
}

/**
 * Task 3.5: the backward pass of max pooling, by loops: the gradient with respect to the input.
 *
 * @param input `[N, C, H, W]`, the pooling's input
 * @param gradOutput `[N, C, floor(H / k), floor(W / k)]`
 * @returns `[N, C, H, W]`
 */
export function maxPool2dBackwardByLoops(
  _input: Tensor,
  _gradOutput: Tensor,
  _kernelSize: number,
): Promise<Tensor> {
  throw new Todo(
    "3.5",
    "only the window's largest input reached the output: it gets the output's gradient, the " +
      "other inputs get 0",
  );
}
