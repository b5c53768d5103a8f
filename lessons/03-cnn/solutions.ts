/**
 * Lesson 3, reference solutions. Same exports as `exercises.ts`; `deno task test` checks them.
 *
 * Images are `[batch, channels, height, width]`, stored row-major: the value at `(n, c, i, j)`
 * of a tensor of shape `[N, C, H, W]` is at flat index `((n * C + c) * H + i) * W + j`.
 *
 * @module
 */
import { type Tensor, tensor } from "../../mod.ts";

/** Stride and padding of a convolution (both default to the plain case: 1 and 0). */
export interface ConvOptions {
  stride?: number;
  padding?: number;
}

/**
 * Task 3.1: how many positions a window of `kernelSize` takes along an input of `inSize`, with
 * `stride` between positions and `padding` zeros on each side: `floor((in + 2p - k) / s) + 1`.
 */
export function convOutputSize(
  inSize: number,
  kernelSize: number,
  stride = 1,
  padding = 0,
): number {
  return Math.floor((inSize + 2 * padding - kernelSize) / stride) + 1;
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
export async function conv2dByLoops(
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  options: ConvOptions = {},
): Promise<Tensor> {
  const { stride = 1, padding = 0 } = options;
  const [N, C, H, W] = input.shape;
  const [O, , k] = weight.shape;
  const outH = convOutputSize(H, k, stride, padding);
  const outW = convOutputSize(W, k, stride, padding);
  const x = await input.data();
  const w = await weight.data();
  const b = bias ? await bias.data() : null;
  const out = new Float64Array(N * O * outH * outW);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) {
          let sum = b ? b[o] : 0;
          for (let c = 0; c < C; c++) {
            for (let u = 0; u < k; u++) {
              const row = i * stride + u - padding;
              if (row < 0 || row >= H) continue; // padding: zeros
              for (let v = 0; v < k; v++) {
                const col = j * stride + v - padding;
                if (col < 0 || col >= W) continue;
                sum += w[((o * C + c) * k + u) * k + v] * x[((n * C + c) * H + row) * W + col];
              }
            }
          }
          out[((n * O + o) * outH + i) * outW + j] = sum;
        }
      }
    }
  }
  return tensor(out, { shape: [N, O, outH, outW], dtype: input.dtype });
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
 * Task 3.3: the backward pass of a convolution, by loops, given the gradient `gradOutput` that
 * reached its output. The forward pass used `weight[o, c, u, v] * input[n, c, row, col]` (with
 * `row = i*stride + u - padding`, `col = j*stride + v - padding`) in output `[n, o, i, j]`; the
 * chain rule sends `gradOutput[n, o, i, j]` back along each of those products:
 *
 * - to the bias `o`, once an output position;
 * - to the weight, times the input value it met;
 * - to the input value, times the weight it met (so every input collects from every output
 *   window it was part of).
 *
 * @param input `[N, C, H, W]`, the convolution's input
 * @param weight `[O, C, k, k]`
 * @param gradOutput `[N, O, outH, outW]`
 */
export async function conv2dBackwardByLoops(
  input: Tensor,
  weight: Tensor,
  gradOutput: Tensor,
  options: ConvOptions = {},
): Promise<ConvGrads> {
  const { stride = 1, padding = 0 } = options;
  const [N, C, H, W] = input.shape;
  const [O, , k] = weight.shape;
  const [, , outH, outW] = gradOutput.shape;
  const x = await input.data();
  const w = await weight.data();
  const g = await gradOutput.data();
  const gradInput = new Float64Array(N * C * H * W);
  const gradWeight = new Float64Array(O * C * k * k);
  const gradBias = new Float64Array(O);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) {
          const grad = g[((n * O + o) * outH + i) * outW + j];
          gradBias[o] += grad;
          for (let c = 0; c < C; c++) {
            for (let u = 0; u < k; u++) {
              const row = i * stride + u - padding;
              if (row < 0 || row >= H) continue; // a padding zero: no input to send to
              for (let v = 0; v < k; v++) {
                const col = j * stride + v - padding;
                if (col < 0 || col >= W) continue;
                const wIndex = ((o * C + c) * k + u) * k + v;
                const xIndex = ((n * C + c) * H + row) * W + col;
                gradWeight[wIndex] += grad * x[xIndex];
                gradInput[xIndex] += grad * w[wIndex];
              }
            }
          }
        }
      }
    }
  }
  const dtype = input.dtype;
  return {
    gradInput: tensor(gradInput, { shape: [N, C, H, W], dtype }),
    gradWeight: tensor(gradWeight, { shape: [O, C, k, k], dtype }),
    gradBias: tensor(gradBias, { shape: [O], dtype }),
  };
}

/**
 * Task 3.4: max pooling by loops, as `F.maxPool2d(input, kernelSize)`: windows of
 * `kernelSize x kernelSize`, stride `kernelSize` (no overlap), no padding; each output is the
 * largest value of its window.
 *
 * @param input `[N, C, H, W]`
 * @returns `[N, C, floor(H / k), floor(W / k)]`
 */
export async function maxPool2dByLoops(input: Tensor, kernelSize: number): Promise<Tensor> {
  const [N, C, H, W] = input.shape;
  const k = kernelSize;
  const [outH, outW] = [Math.floor(H / k), Math.floor(W / k)];
  const x = await input.data();
  const out = new Float64Array(N * C * outH * outW);
  for (let plane = 0; plane < N * C; plane++) {
    for (let i = 0; i < outH; i++) {
      for (let j = 0; j < outW; j++) {
        let best = -Infinity;
        for (let u = 0; u < k; u++) {
          for (let v = 0; v < k; v++) {
            best = Math.max(best, x[(plane * H + i * k + u) * W + j * k + v]);
          }
        }
        out[(plane * outH + i) * outW + j] = best;
      }
    }
  }
  return tensor(out, { shape: [N, C, outH, outW], dtype: input.dtype });
}

/**
 * Task 3.5: the backward pass of max pooling, by loops. Only the largest value of a window
 * reached the output, so each output's gradient flows back to that one input position (the
 * first one, if several tie); every other input gets zero.
 *
 * @param input `[N, C, H, W]`, the pooling's input
 * @param gradOutput `[N, C, floor(H / k), floor(W / k)]`
 * @returns the gradient with respect to `input`, `[N, C, H, W]`
 */
export async function maxPool2dBackwardByLoops(
  input: Tensor,
  gradOutput: Tensor,
  kernelSize: number,
): Promise<Tensor> {
  const [N, C, H, W] = input.shape;
  const k = kernelSize;
  const [outH, outW] = [Math.floor(H / k), Math.floor(W / k)];
  const x = await input.data();
  const g = await gradOutput.data();
  const grad = new Float64Array(N * C * H * W);
  for (let plane = 0; plane < N * C; plane++) {
    for (let i = 0; i < outH; i++) {
      for (let j = 0; j < outW; j++) {
        // Find where the maximum of the window sits.
        let best = -Infinity;
        let bestIndex = -1;
        for (let u = 0; u < k; u++) {
          for (let v = 0; v < k; v++) {
            const index = (plane * H + i * k + u) * W + j * k + v;
            if (x[index] > best) [best, bestIndex] = [x[index], index];
          }
        }
        grad[bestIndex] += g[(plane * outH + i) * outW + j];
      }
    }
  }
  return tensor(grad, { shape: [N, C, H, W], dtype: input.dtype });
}
