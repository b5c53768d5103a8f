// Convolution and pooling windows over [n, c, h, w] images, float32.
//
// A convolution becomes a matrix product after im2col unfolds every window into a column:
// `cols[b, (ci * kh + ky) * kw + kx, oy * ow + ox] = x[b, ci, oy * sh - ph + ky * dh,
// ox * sw - pw + kx * dw]`, with `padValue` where that position falls outside the image. col2im
// is its adjoint: it sums every column entry back onto the pixel it came from (the backward pass
// of im2col, where overlapping windows add up).

import { addInto, copy32, fill32 } from "./layout";

/** The first output column whose input column `ox * sw + offset` is inside `[0, w)`. */
// @ts-ignore: decorator
@inline
function firstInside(offset: i32, stride: i32, outSize: i32): i32 {
  if (offset >= 0) return 0;
  return min((-offset + stride - 1) / stride, outSize);
}

/** One past the last output column whose input column `ox * sw + offset` is below `w`. */
// @ts-ignore: decorator
@inline
function endInside(offset: i32, stride: i32, size: i32, outSize: i32): i32 {
  const lastInput = size - 1 - offset;
  if (lastInput < 0) return 0;
  return min(lastInput / stride + 1, outSize);
}

/** Unfolds image patches: `[n, c, h, w]` to `[n, c * kh * kw, oh * ow]`. */
export function im2colF32(
  cols: usize,
  x: usize,
  n: i32,
  c: i32,
  h: i32,
  w: i32,
  kh: i32,
  kw: i32,
  sh: i32,
  sw: i32,
  ph: i32,
  pw: i32,
  dh: i32,
  dw: i32,
  oh: i32,
  ow: i32,
  padValue: f32,
): void {
  const padBits = reinterpret<i32>(padValue);
  const outPixels = oh * ow;
  let row = cols;
  for (let plane = 0; plane < n * c; plane++) {
    const image = x + (<usize>(plane * h * w) << 2);
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const xOffset = kx * dw - pw;
        const ox0 = firstInside(xOffset, sw, ow);
        const ox1 = max(endInside(xOffset, sw, w, ow), ox0);
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - ph + ky * dh;
          const dst = row + (<usize>(oy * ow) << 2);
          if (iy < 0 || iy >= h) {
            fill32(dst, ow, padBits);
            continue;
          }
          if (ox0 > 0) fill32(dst, ox0, padBits);
          if (ox1 < ow) fill32(dst + (<usize>ox1 << 2), ow - ox1, padBits);
          const src = image + (<usize>(iy * w + ox0 * sw + xOffset) << 2);
          const inside = ox1 - ox0;
          const target = dst + (<usize>ox0 << 2);
          if (sw == 1) {
            copy32(target, src, inside);
          } else {
            let i = 0;
            if (sw == 2) {
              // Every other value (pooling windows): two loads and one shuffle give four.
              for (; i + 4 <= inside && (i + 4) * 2 <= w - (ox0 * sw + xOffset); i += 4) {
                const at = src + (<usize>(i * 2) << 2);
                const even = v128.shuffle<u32>(v128.load(at), v128.load(at, 16), 0, 2, 4, 6);
                v128.store(target + (<usize>i << 2), even);
              }
            }
            for (; i < inside; i++) {
              store<f32>(target + (<usize>i << 2), load<f32>(src + (<usize>(i * sw) << 2)));
            }
          }
        }
        row += <usize>outPixels << 2;
      }
    }
  }
}

/** The adjoint of im2col: sums `[n, c * kh * kw, oh * ow]` columns into `[n, c, h, w]`. */
export function col2imF32(
  x: usize,
  cols: usize,
  n: i32,
  c: i32,
  h: i32,
  w: i32,
  kh: i32,
  kw: i32,
  sh: i32,
  sw: i32,
  ph: i32,
  pw: i32,
  dh: i32,
  dw: i32,
  oh: i32,
  ow: i32,
): void {
  memory.fill(x, 0, <usize>(n * c * h * w) << 2);
  const outPixels = oh * ow;
  let row = cols;
  for (let plane = 0; plane < n * c; plane++) {
    const image = x + (<usize>(plane * h * w) << 2);
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const xOffset = kx * dw - pw;
        const ox0 = firstInside(xOffset, sw, ow);
        const ox1 = max(endInside(xOffset, sw, w, ow), ox0);
        const inside = ox1 - ox0;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - ph + ky * dh;
          if (iy < 0 || iy >= h) continue;
          const src = row + (<usize>(oy * ow + ox0) << 2);
          const dst = image + (<usize>(iy * w + ox0 * sw + xOffset) << 2);
          if (sw == 1) {
            addInto(dst, src, inside);
          } else {
            for (let i = 0; i < inside; i++) {
              const to = dst + (<usize>(i * sw) << 2);
              store<f32>(to, load<f32>(to) + load<f32>(src + (<usize>i << 2)));
            }
          }
        }
        row += <usize>outPixels << 2;
      }
    }
  }
}

/**
 * The lanes where `v` replaces `best` in a max pooling window: larger, or the first NaN (a NaN,
 * once found, stays), so that a window holding a NaN gives NaN, as in PyTorch.
 */
// @ts-ignore: decorator
@inline
function poolWins(v: v128, best: v128): v128 {
  return v128.and(v128.or(f32x4.gt(v, best), f32x4.ne(v, v)), f32x4.eq(best, best));
}

/**
 * Max pooling over `planes` images of `h x w` (a plane is one channel of one sample). Writes the
 * maxima and, in `indices` (int32), where each came from (`iy * w + ix` within its plane, as
 * PyTorch's `return_indices`). Padding never wins.
 */
export function maxPool2dF32(
  out: usize,
  indices: usize,
  x: usize,
  planes: i32,
  h: i32,
  w: i32,
  kh: i32,
  kw: i32,
  sh: i32,
  sw: i32,
  ph: i32,
  pw: i32,
  dh: i32,
  dw: i32,
  oh: i32,
  ow: i32,
): void {
  if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && dh == 1 && dw == 1) {
    maxPool2x2(out, indices, x, planes, h, w, oh, ow);
    return;
  }
  let k = 0;
  for (let plane = 0; plane < planes; plane++) {
    const image = x + (<usize>(plane * h * w) << 2);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, k++) {
        let best = -Infinity as f32;
        let bestIndex = -1;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - ph + ky * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pw + kx * dw;
            if (ix < 0 || ix >= w) continue;
            const at = iy * w + ix;
            const value = load<f32>(image + (<usize>at << 2));
            // The first NaN of a window wins and stays (as max and argmax): NaN propagates.
            const wins = (value > best || value != value) && best == best;
            if (wins || bestIndex < 0) {
              best = value;
              bestIndex = at;
            }
          }
        }
        store<f32>(out + (<usize>k << 2), best);
        store<i32>(indices + (<usize>k << 2), bestIndex);
      }
    }
  }
}

/**
 * Max pooling with 2 x 2 windows and stride 2 (the common case), four outputs at a time: the
 * even and odd columns of two input rows are the four candidates of four windows. Candidates are
 * taken in the order of the general loop, and a later one wins only when strictly larger.
 */
function maxPool2x2(
  out: usize,
  indices: usize,
  x: usize,
  planes: i32,
  h: i32,
  w: i32,
  oh: i32,
  ow: i32,
): void {
  let k = 0;
  const one = i32x4.splat(1);
  const width = i32x4.splat(w);
  for (let plane = 0; plane < planes; plane++) {
    const image = x + (<usize>(plane * h * w) << 2);
    for (let oy = 0; oy < oh; oy++) {
      const row0 = image + (<usize>(2 * oy * w) << 2);
      const row1 = row0 + (<usize>w << 2);
      // Reading a little past the row's end stays inside the image everywhere but in the last
      // output row of the last plane: there the last windows go one at a time.
      const overread = plane < planes - 1 || oy < oh - 1;
      let ox = 0;
      for (; ox < ow; ox += 4) {
        const count = min(ow - ox, 4);
        if ((count < 4 || 2 * ox + 8 > w) && !overread) break;
        const at = <usize>(2 * ox) << 2;
        const a0 = v128.load(row0 + at);
        const a1 = v128.load(row0 + at, 16);
        const b0 = v128.load(row1 + at);
        const b1 = v128.load(row1 + at, 16);
        // In-plane index of each window's top-left pixel: (2 oy) * w + 2 ox + 2 lane.
        const first = 2 * oy * w + 2 * ox;
        let index = i32x4(first, first + 2, first + 4, first + 6);
        let best = v128.shuffle<u32>(a0, a1, 0, 2, 4, 6);
        const topRight = v128.shuffle<u32>(a0, a1, 1, 3, 5, 7);
        const bottomLeft = v128.shuffle<u32>(b0, b1, 0, 2, 4, 6);
        const bottomRight = v128.shuffle<u32>(b0, b1, 1, 3, 5, 7);
        let wins = poolWins(topRight, best);
        best = v128.bitselect(topRight, best, wins);
        const indexTopRight = i32x4.add(index, one);
        let bestIndex = v128.bitselect(indexTopRight, index, wins);
        const indexBottomLeft = i32x4.add(index, width);
        wins = poolWins(bottomLeft, best);
        best = v128.bitselect(bottomLeft, best, wins);
        bestIndex = v128.bitselect(indexBottomLeft, bestIndex, wins);
        wins = poolWins(bottomRight, best);
        best = v128.bitselect(bottomRight, best, wins);
        bestIndex = v128.bitselect(i32x4.add(indexBottomLeft, one), bestIndex, wins);
        const dst = out + (<usize>k << 2);
        const dstIndex = indices + (<usize>k << 2);
        if (count == 4) {
          v128.store(dst, best);
          v128.store(dstIndex, bestIndex);
        } else {
          // The last windows of a row: only the lanes that exist.
          store<f32>(dst, f32x4.extract_lane(best, 0));
          store<i32>(dstIndex, i32x4.extract_lane(bestIndex, 0));
          if (count > 1) {
            store<f32>(dst, f32x4.extract_lane(best, 1), 4);
            store<i32>(dstIndex, i32x4.extract_lane(bestIndex, 1), 4);
          }
          if (count > 2) {
            store<f32>(dst, f32x4.extract_lane(best, 2), 8);
            store<i32>(dstIndex, i32x4.extract_lane(bestIndex, 2), 8);
          }
        }
        k += count;
      }
      for (; ox < ow; ox++, k++) {
        const topLeft = 2 * oy * w + 2 * ox;
        let bestIndex = topLeft;
        let best = load<f32>(image + (<usize>topLeft << 2));
        // Branch-free (select): which candidate wins is data, which a branch predictor would
        // guess wrong half of the time.
        for (let c = 1; c < 4; c++) {
          const at = topLeft + (c >> 1) * w + (c & 1);
          const value = load<f32>(image + (<usize>at << 2));
          const wins = (i32(value > best) | i32(value != value)) & i32(best == best);
          best = select<f32>(value, best, wins);
          bestIndex = select<i32>(at, bestIndex, wins);
        }
        store<f32>(out + (<usize>k << 2), best);
        store<i32>(indices + (<usize>k << 2), bestIndex);
      }
    }
  }
}

/** The backward pass of max pooling: each output's gradient goes to the input it came from. */
export function maxPool2dBackwardF32(
  dx: usize,
  dy: usize,
  indices: usize,
  planes: i32,
  inPixels: i32,
  outPixels: i32,
): void {
  memory.fill(dx, 0, <usize>(planes * inPixels) << 2);
  let k = 0;
  for (let plane = 0; plane < planes; plane++) {
    const image = dx + (<usize>(plane * inPixels) << 2);
    for (let p = 0; p < outPixels; p++, k++) {
      const at = image + (<usize>load<i32>(indices + (<usize>k << 2)) << 2);
      store<f32>(at, load<f32>(at) + load<f32>(dy + (<usize>k << 2)));
    }
  }
}
