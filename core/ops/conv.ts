/**
 * Convolution and pooling, built on one op: `unfold` (im2col).
 *
 * `unfold` copies every window of an image into a column, so that a convolution becomes a single
 * matrix product of the flattened kernels with the columns, and pooling becomes a max or a mean
 * over each column. Its backward is the adjoint `fold` (col2im), which adds each column entry
 * back to the pixel it was read from; where windows overlap, the contributions add up.
 *
 * Composed this way, the backward of a convolution needs no code of its own: the weight gradient
 * comes out of matmul's backward as `dOut @ columns^T` (a correlation of the input with the
 * output gradient) and the input gradient as `fold(W^T @ dOut)`, which is the "full convolution
 * with the flipped kernel" of textbooks.
 *
 * @module
 */
import { ownedByGraph, record } from "../autograd.ts";
import { type Conv2dGeometry, findKernel, getBackend } from "../backend.ts";
import { fmtShape } from "../shape.ts";
import { expectTensor, Tensor } from "../tensor.ts";
import { add } from "./elementwise.ts";
import { matmul } from "./matmul.ts";
import { max, mean } from "./reduce.ts";
import { cat, reshape } from "./shape.ts";
import { checkArgCount, checkNotOptionsFirst, checkOptions } from "../options.ts";

/** A size given as one number for both directions or as `[height, width]`. */
export type Pair = number | [number, number];

function pair(op: string, name: string, value: Pair, min: number): [number, number] {
  const [h, w] = typeof value === "number" ? [value, value] : value;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < min || w < min) {
    throw new Error(`${op}: ${name} must be integers >= ${min}, got ${JSON.stringify(value)}`);
  }
  return [h, w];
}

/** Window options shared by convolution and pooling. */
export interface WindowOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
}

/**
 * Works out the output size of a sliding window: `out = floor((in + 2*pad - dilation*(k-1) - 1)
 * / stride) + 1` in each direction.
 */
export function windowGeometry(
  op: string,
  input: readonly number[],
  kernel: Pair,
  options: WindowOptions,
  padValue = 0,
): Conv2dGeometry {
  if (input.length !== 4) {
    throw new Error(
      `${op}: expected a 4-D input [batch, channels, height, width], got shape ${fmtShape(input)}`,
    );
  }
  const [n, c, h, w] = input;
  const [kernelH, kernelW] = pair(op, "kernel size", kernel, 1);
  const [strideH, strideW] = pair(op, "stride", options.stride ?? 1, 1);
  const [padH, padW] = pair(op, "padding", options.padding ?? 0, 0);
  const [dilationH, dilationW] = pair(op, "dilation", options.dilation ?? 1, 1);
  const outH = Math.floor((h + 2 * padH - dilationH * (kernelH - 1) - 1) / strideH) + 1;
  const outW = Math.floor((w + 2 * padW - dilationW * (kernelW - 1) - 1) / strideW) + 1;
  if (outH < 1 || outW < 1) {
    throw new Error(
      `${op}: the input of size ${h}x${w} (padded by ${padH}x${padW}) is smaller than the ` +
        `kernel of size ${kernelH}x${kernelW} with dilation ${dilationH}x${dilationW}; the ` +
        `output would be ${outH}x${outW}`,
    );
  }
  return {
    n,
    c,
    h,
    w,
    kernelH,
    kernelW,
    strideH,
    strideW,
    padH,
    padW,
    dilationH,
    dilationW,
    outH,
    outW,
    padValue,
  };
}

/**
 * Unfolds image patches (im2col): `[n, c, h, w]` becomes `[n, c * kh * kw, outH * outW]`, one
 * column per window position, rows ordered (channel, ky, kx).
 */
export function unfold(x: Tensor, geom: Conv2dGeometry): Tensor {
  const backend = getBackend(x.device);
  const rows = geom.c * geom.kernelH * geom.kernelW;
  const out = new Tensor(
    backend.im2col(x.storage, x.dtype, geom),
    [geom.n, rows, geom.outH * geom.outW],
    x.dtype,
  );
  // Each column entry was read from one pixel (or from the padding): fold adds it back there.
  return record("unfold", out, [x], (grad) => [
    new Tensor(backend.col2im(grad.storage, grad.dtype, geom), x.shape, grad.dtype),
  ]);
}

/**
 * Checks that a bias argument is a tensor or null: an options object there means the bias was
 * left out (`conv2d(x, w, { stride: 2 })` for `conv2d(x, w, null, { stride: 2 })`).
 */
export function checkBias(op: string, bias: unknown): void {
  if (bias === undefined || bias === null || bias instanceof Tensor) return;
  const isObject = typeof bias === "object" && !Array.isArray(bias);
  throw new TypeError(
    `${op}: the third argument is the bias (a tensor, or null for none), got ` +
      (isObject
        ? `an options object; pass the bias first: ${op}(input, weight, null, { ... })`
        : `${Array.isArray(bias) ? "an array" : typeof bias}; make it a tensor with tensor(...)`),
  );
}

/** Options of {@link conv2d}. */
export interface Conv2dOptions extends WindowOptions {
  /** Split channels into groups that are convolved separately (depthwise when = channels). */
  groups?: number;
}

/**
 * 2-D convolution (strictly, cross-correlation, as in every deep learning library).
 * `input` is `[n, inChannels, h, w]`, `weight` is `[outChannels, inChannels / groups, kh, kw]`,
 * `bias` is `[outChannels]`.
 */
export function conv2d(
  input: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  options: Conv2dOptions = {},
): Tensor {
  checkOptions("conv2d", arguments, 3, ["stride", "padding", "dilation", "groups"]);
  expectTensor("conv2d", "input", input);
  expectTensor("conv2d", "weight", weight);
  checkBias("conv2d", bias);
  const groups = options.groups ?? 1;
  if (weight.ndim !== 4) {
    throw new Error(
      `conv2d: expected a 4-D weight [outChannels, inChannels/groups, kh, kw], got shape ` +
        `${fmtShape(weight.shape)}`,
    );
  }
  const [outChannels, groupChannels, kernelH, kernelW] = weight.shape;
  const geom = windowGeometry("conv2d", input.shape, [kernelH, kernelW], options);
  if (!Number.isInteger(groups) || groups < 1 || geom.c % groups || outChannels % groups) {
    throw new Error(
      `conv2d: groups (${groups}) must divide both the input channels (${geom.c}) and the ` +
        `output channels (${outChannels})`,
    );
  }
  if (geom.c / groups !== groupChannels) {
    throw new Error(
      `conv2d: the input has ${geom.c} channels but the weight of shape ` +
        `${fmtShape(weight.shape)} expects ${groupChannels * groups} ` +
        `(${groupChannels} per group x ${groups} groups)`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outChannels)) {
    throw new Error(
      `conv2d: bias must have shape [${outChannels}], got ${fmtShape(bias.shape)}`,
    );
  }
  const direct = convDirect(input, weight, bias ?? null, geom, groups, outChannels);
  if (direct) return direct;
  const { n, outH, outW } = geom;
  const patch = groupChannels * kernelH * kernelW;
  // [n, groups, patch, L] columns against [groups, outPerGroup, patch] kernels.
  const unfolded = unfold(input, geom);
  const columns = reshape(unfolded, [n, groups, patch, outH * outW]);
  const kernels = reshape(weight, [groups, outChannels / groups, patch]);
  // The columns are read by the product's backward; when the input needs no gradient they are
  // no part of the graph, so the product's node releases them.
  const product = ownedByGraph(matmul(kernels, columns), unfolded, columns);
  // The handles in between are released by backward(), or at once where no graph is recorded.
  let out = ownedByGraph(reshape(product, [n, outChannels, outH, outW]), product);
  if (bias) out = ownedByGraph(add(out, reshape(bias, [outChannels, 1, 1])), out);
  return out;
}

/**
 * A convolution by the registry's direct kernel (`conv2d`: no im2col, no col2im), where one is
 * registered and the layer suits it: stride 1, dilation 1, one group, padding smaller than the
 * kernel, and few enough channels that unfolding would cost more than it saves (with many
 * channels the matrix product after im2col is the faster road). Undefined elsewhere: the caller
 * then unfolds and multiplies.
 */
function convDirect(
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  geom: Conv2dGeometry,
  groups: number,
  outChannels: number,
): Tensor | undefined {
  const { n, c, kernelH, kernelW, outH, outW } = geom;
  const suits = groups === 1 && geom.strideH === 1 && geom.strideW === 1 &&
    geom.dilationH === 1 && geom.dilationW === 1 && geom.padH < kernelH &&
    geom.padW < kernelW && c * outChannels <= DIRECT_MAX_CHANNEL_PAIRS;
  const dtype = input.dtype;
  const alike = [weight, bias].every((t) => !t || (t.dtype === dtype && t.device === input.device));
  if (!suits || !alike) return undefined;
  const kernel = findKernel("conv2d", input.device, dtype);
  const backward = findKernel("conv2dBackward", input.device, dtype);
  if (!kernel || !backward) return undefined;
  const storage = kernel(
    input.storage,
    weight.storage,
    bias?.storage ?? null,
    dtype,
    geom,
    outChannels,
  );
  const out = new Tensor(storage, [n, outChannels, outH, outW], dtype);
  const inputs = bias ? [input, weight, bias] : [input, weight];
  return record("conv2d", out, inputs, (grad) => {
    const wanted = { input: input.requiresGrad, weight: weight.requiresGrad };
    const { dx, dWeight } = backward(
      grad.storage,
      input.storage,
      weight.storage,
      dtype,
      geom,
      outChannels,
      wanted,
    );
    return [
      dx ? new Tensor(dx, input.shape, dtype) : null,
      dWeight ? new Tensor(dWeight, weight.shape, dtype) : null,
      bias?.requiresGrad ? grad.sum([0, 2, 3]) : null,
    ];
  }, [input, weight]); // what backward reads: not the bias
}

/**
 * The direct convolution's limit on input x output channels (see {@link convDirect}). Measured
 * on a 2-core machine, forward and backward of a 3x3 layer: 32 x 64 channels on 16 x 16 images,
 * 15.8 ms direct against 17.2 unfolded; 64 x 64, 34 against 30; 128 x 128 on 8 x 8, 23 against 10.
 */
const DIRECT_MAX_CHANNEL_PAIRS = 2048;

/** Options of the pooling functions. */
export interface PoolOptions extends WindowOptions {
  /** Defaults to the kernel size (non-overlapping windows). */
  stride?: Pair;
}

/** The geometry of a pooling window, checked (padding at most half the kernel, as PyTorch). */
function poolGeometry(op: string, x: Tensor, kernel: Pair, options: PoolOptions, padValue: number) {
  const geom = windowGeometry(
    op,
    x.shape,
    kernel,
    { ...options, stride: options.stride ?? kernel },
    padValue,
  );
  const [padH, padW] = [geom.padH, geom.padW];
  if (padH * 2 > geom.kernelH || padW * 2 > geom.kernelW) {
    throw new Error(
      `${op}: padding (${padH}x${padW}) should be at most half the kernel size ` +
        `(${geom.kernelH}x${geom.kernelW})`,
    );
  }
  return geom;
}

/** The windows of a pooling op as `[n, c, kh * kw, outH, outW]`. */
function poolWindows(op: string, x: Tensor, kernel: Pair, options: PoolOptions, padValue: number) {
  const geom = poolGeometry(op, x, kernel, options, padValue);
  // Each channel is its own image, so unfold sees [n * c, 1, h, w].
  const planes = reshape(x, [geom.n * geom.c, 1, geom.h, geom.w]);
  const windows = unfold(planes, { ...geom, n: geom.n * geom.c, c: 1 });
  return {
    geom,
    windows: reshape(windows, [geom.n, geom.c, geom.kernelH * geom.kernelW, geom.outH, geom.outW]),
  };
}

/**
 * Max pooling: the largest value of each window. Padding reads as -Infinity, so it never wins.
 * The gradient flows to the first maximum of each window.
 *
 * On the CPU it is one kernel from the registry (the reference loops of `core/cpu/fused.ts`, the
 * WebAssembly kernels for float32), which remembers where each maximum was and sends the
 * gradient straight there. Where no kernel is registered (WebGPU), the same computation is
 * composed: `unfold` followed by a max over each window, its backward coming from theirs.
 */
export function maxPool2d(x: Tensor, kernelSize: Pair, options: PoolOptions = {}): Tensor {
  checkNotOptionsFirst(
    "maxPool2d",
    kernelSize,
    "the kernel size is the second argument (a number or [h, w])",
    "F.maxPool2d(x, ",
    [["kernelSize", "2"]],
    ["stride", "padding"],
  );
  checkOptions("maxPool2d", arguments, 2, ["stride", "padding", "dilation"]);
  expectTensor("maxPool2d", "input", x);
  const pool = findKernel("maxPool2d", x.device, x.dtype);
  const poolBackward = findKernel("maxPool2dBackward", x.device, x.dtype);
  if (pool && poolBackward) {
    const geom = poolGeometry("maxPool2d", x, kernelSize, options, -Infinity);
    const { values, indices } = pool(x.storage, x.dtype, geom);
    const shape = [geom.n, geom.c, geom.outH, geom.outW];
    const out = new Tensor(values, shape, x.dtype);
    // Where each window's maximum was (a flat index within its channel), kept for backward.
    const winners = new Tensor(indices, shape, "int32");
    record("maxPool2d", out, [x], (grad) => [
      new Tensor(
        poolBackward(grad.storage, winners.storage, grad.dtype, geom),
        x.shape,
        grad.dtype,
      ),
    ]);
    return ownedByGraph(out, winners);
  }
  const { windows } = poolWindows("maxPool2d", x, kernelSize, options, -Infinity);
  return max(windows, 2);
}

/** Average pooling: the mean of each window (padding counts as zeros, as in PyTorch). */
export function avgPool2d(x: Tensor, kernelSize: Pair, options: PoolOptions = {}): Tensor {
  checkNotOptionsFirst(
    "avgPool2d",
    kernelSize,
    "the kernel size is the second argument (a number or [h, w])",
    "F.avgPool2d(x, ",
    [["kernelSize", "2"]],
    ["stride", "padding"],
  );
  checkOptions("avgPool2d", arguments, 2, ["stride", "padding", "dilation"]);
  expectTensor("avgPool2d", "input", x);
  const { windows } = poolWindows("avgPool2d", x, kernelSize, options, 0);
  return mean(windows, 2);
}

/**
 * Average pooling to a fixed output size, whatever the input size. When the input divides
 * evenly this is plain average pooling; otherwise each output cell averages the rows
 * `floor(i*H/out) .. ceil((i+1)*H/out)` as PyTorch does.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  checkArgCount("adaptiveAvgPool2d", arguments, 2);
  const [outH, outW] = pair("adaptiveAvgPool2d", "output size", outputSize, 1);
  if (x.ndim !== 4) {
    throw new Error(
      `adaptiveAvgPool2d: expected a 4-D input [batch, channels, height, width], got ` +
        `${fmtShape(x.shape)}`,
    );
  }
  const [, , h, w] = x.shape;
  if (h % outH === 0 && w % outW === 0) {
    return avgPool2d(x, [h / outH, w / outW]);
  }
  // Uneven windows: average each output cell's own window and stitch the cells together.
  const rows: Tensor[] = [];
  for (let i = 0; i < outH; i++) {
    const top = Math.floor((i * h) / outH);
    const bottom = Math.ceil(((i + 1) * h) / outH);
    const cells: Tensor[] = [];
    for (let j = 0; j < outW; j++) {
      const left = Math.floor((j * w) / outW);
      const right = Math.ceil(((j + 1) * w) / outW);
      const cell = x.narrow(2, top, bottom - top).narrow(3, left, right - left);
      cells.push(mean(cell, [2, 3], true));
    }
    rows.push(catLast(cells, 3));
  }
  return catLast(rows, 2);
}

function catLast(parts: Tensor[], dim: number): Tensor {
  return parts.length === 1 ? parts[0] : cat(parts, dim);
}
