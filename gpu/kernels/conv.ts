/**
 * im2col and col2im: the two kernels under convolution and pooling (see `core/ops/conv.ts`).
 *
 * im2col writes one output element per thread: it works out which image, channel, kernel offset
 * and window position the element stands for, and reads that pixel (or the padding value).
 * col2im is its adjoint: every pixel collects the column entries that were read from it. WGSL has
 * no atomic float add, so instead of scattering columns into pixels (which would race where
 * windows overlap) each thread owns one pixel and gathers: for each kernel offset it solves for
 * the window position that read the pixel, if any.
 *
 * Parameters of both: `n, c, h, w, kernelH, kernelW, strideH, strideW, padH, padW, dilationH,
 * dilationW, outH, outW, padValue (bits), count`.
 *
 * @module
 */
import type { Conv2dGeometry } from "../../core/backend.ts";
import { elementIndex, entryPoint, paramBlock, Params, type Scalar } from "./common.ts";

/** The parameters of a window geometry; `count` is the number of threads' elements. */
export function convParams(g: Conv2dGeometry, type: Scalar, count: number): Uint32Array {
  const params = new Params();
  params.u32s([g.n, g.c, g.h, g.w, g.kernelH, g.kernelW, g.strideH, g.strideW]);
  params.u32s([g.padH, g.padW, g.dilationH, g.dilationW, g.outH, g.outW]);
  params.scalar(g.padValue, type);
  params.u32(count);
  return params.finish();
}

const geometry = `
  let C = param(1u);
  let H = param(2u);
  let W = param(3u);
  let KH = param(4u);
  let KW = param(5u);
  let strideH = param(6u);
  let strideW = param(7u);
  let padH = param(8u);
  let padW = param(9u);
  let dilationH = param(10u);
  let dilationW = param(11u);
  let outH = param(12u);
  let outW = param(13u);`;

/** `[n, c, h, w]` to `[n, c * kh * kw, outH * outW]`, rows ordered (channel, ky, kx). */
export function im2colShader(type: Scalar): string {
  return `
@group(0) @binding(0) var<storage, read> image: array<${type}>;
@group(0) @binding(1) var<storage, read_write> cols: array<${type}>;
${paramBlock(2, 16)}
${entryPoint()}
${elementIndex("param(15u)")}
${geometry}
  let columns = outH * outW;
  let rows = C * KH * KW;
  let position = i % columns;
  let row = (i / columns) % rows;
  let b = i / (columns * rows);
  let kx = row % KW;
  let ky = (row / KW) % KH;
  let channel = row / (KW * KH);
  let ox = position % outW;
  let oy = position / outW;
  let y = i32(oy * strideH + ky * dilationH) - i32(padH);
  let x = i32(ox * strideW + kx * dilationW) - i32(padW);
  if (y >= 0 && y < i32(H) && x >= 0 && x < i32(W)) {
    cols[i] = image[((b * C + channel) * H + u32(y)) * W + u32(x)];
  } else {
    cols[i] = bitcast<${type}>(param(14u));
  }
}`;
}

/** The adjoint of im2col, gathering into each pixel of `[n, c, h, w]`. */
export function col2imShader(type: Scalar): string {
  return `
@group(0) @binding(0) var<storage, read> cols: array<${type}>;
@group(0) @binding(1) var<storage, read_write> image: array<${type}>;
${paramBlock(2, 16)}
${entryPoint()}
${elementIndex("param(15u)")}
${geometry}
  let columns = outH * outW;
  let rows = C * KH * KW;
  let x = i % W;
  let y = (i / W) % H;
  let channel = (i / (W * H)) % C;
  let b = i / (W * H * C);
  var acc = ${type}(0);
  for (var ky = 0u; ky < KH; ky++) {
    // The window row oy reads image row y at kernel row ky when oy * strideH = y + padH - ky * dh.
    let top = i32(y + padH) - i32(ky * dilationH);
    if (top < 0 || top % i32(strideH) != 0) { continue; }
    let oy = u32(top) / strideH;
    if (oy >= outH) { continue; }
    for (var kx = 0u; kx < KW; kx++) {
      let left = i32(x + padW) - i32(kx * dilationW);
      if (left < 0 || left % i32(strideW) != 0) { continue; }
      let ox = u32(left) / strideW;
      if (ox >= outW) { continue; }
      let row = (channel * KH + ky) * KW + kx;
      acc += cols[(b * rows + row) * columns + oy * outW + ox];
    }
  }
  image[i] = acc;
}`;
}
