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
// \`tensor\` builds your results (the linter notes it unused until you do).
// deno-lint-ignore no-unused-vars
import { type Tensor, tensor } from "../../mod.ts";
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
  throw new Todo("3.1", "count the places a window fits in the padded input, a stride apart");
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
  throw new Todo("3.2", "one output value per window position: a weighted sum, plus the bias");
}

/** The gradients of a loss with respect to a convolution's input, weight and bias. */
export interface ConvGrads {
  /** `[N, C, H, W]`, like the input. */
  gradInput: Tensor;
  /** `[O, C, k, k]`, like the weight. */
  gradWeight: Tensor;
  /** `[O]`. */
  gradBias: Tensor;
}

/**
 * Task 3.3: the backward pass of a convolution, by loops: the gradients of a loss with respect to
 * the input, the weight and the bias, given the gradient `gradOutput` that reached the
 * convolution's output (as autograd computes them for `F.conv2d`).
 *
 * @param input `[N, C, H, W]`, the convolution's input
 * @param weight `[O, C, k, k]`
 * @param gradOutput `[N, O, outH, outW]`
 * @returns `gradInput` `[N, C, H, W]`, `gradWeight` `[O, C, k, k]`, `gradBias` `[O]`
 */
export function conv2dBackwardByLoops(
  _input: Tensor,
  _weight: Tensor,
  _gradOutput: Tensor,
  _options: ConvOptions = {},
): Promise<ConvGrads> {
  throw new Todo(
    "3.3",
    "every product weight * input of the forward pass sends gradOutput back to both factors",
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
  throw new Todo("3.4", "the largest value of each window; windows sit side by side");
}

/**
 * Task 3.5: the backward pass of max pooling, by loops: the gradient with respect to the input.
 * When several inputs of a window tie for the maximum, the output came from one of them: the
 * first in reading order (row by row), as in `F.maxPool2d`.
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
  throw new Todo("3.5", "only the input that was the maximum reached the output");
}
