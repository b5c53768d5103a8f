// Direct convolution for stride 1 and dilation 1, float32: no im2col, no col2im.
//
// For small kernels and few channels (the convolutions of the lessons' CNNs) unfolding every
// window into a column costs more than the product that follows it. Here every output row is
// computed straight from the input rows above and below it:
//
//   out[b, o, y, x] = bias[o] + sum over (ci, ky, kx) of weight[o, ci, ky, kx] * xpad[b, ci, y + ky, x + kx]
//
// where `xpad` is the image with its padding written out as zeros. Each image is first copied
// into such a padded copy (scratch memory), wide enough that every four-lane load of a row stays
// inside that row. The output is computed four channels and eight columns at a time: eight
// accumulators, each four lanes wide, and for every (ci, ky, kx) two loads of the input row, four
// broadcast weights and eight fused multiply-adds (the 4 x 8 register tile of matmul.ts's
// micro-kernel, with input rows in place of a packed panel).
//
// The gradient of the input is the same computation run backwards: a convolution of the output's
// gradient (padded by kh - 1 - ph, kw - 1 - pw) with the kernels flipped and their two channel
// dimensions swapped. The gradient of the weight sums gradient x input over every position.
//
// All pointers are byte offsets; `scratch` must hold the bytes that the kernel's `...Scratch`
// function gives for the same geometry.

import { madd } from "./simd";

/** `n` rounded up to a multiple of 4. */
// @ts-ignore: decorator
@inline
function up4(n: i32): i32 {
  return (n + 3) & ~3;
}

/**
 * The row length of the padded copy of an image: room for the padding, and for the last block
 * of eight output columns plus the kernel's reach (so that no load leaves the scratch memory,
 * and the weight gradient's four-tap loads stay inside their row).
 */
// @ts-ignore: decorator
@inline
function paddedWidth(w: i32, pw: i32, kw: i32, ow: i32): i32 {
  return max(w + 2 * pw, ((ow + 7) & ~7) + up4(kw));
}

/** Bytes of scratch memory {@link conv2dDirectF32} needs. */
export function conv2dDirectScratch(_n: i32, c: i32, h: i32, w: i32, o: i32, kh: i32, kw: i32, ph: i32, pw: i32): i32 {
  const ow = w + 2 * pw - kw + 1;
  return (up4(o) * c * kh * kw + c * (h + 2 * ph) * paddedWidth(w, pw, kw, ow) + 4) * 4;
}

/** Bytes of scratch memory {@link conv2dDirectBackwardInputF32} needs. */
export function conv2dDirectBackwardInputScratch(_n: i32, c: i32, h: i32, w: i32, o: i32, kh: i32, kw: i32, ph: i32, pw: i32): i32 {
  const ow = w + 2 * pw - kw + 1;
  const qw = kw - 1 - pw;
  return (up4(c) * o * kh * kw + o * (h + kh - 1) * paddedWidth(ow, qw, kw, w) + 4) * 4;
}

/** Bytes of scratch memory {@link conv2dDirectBackwardWeightF32} needs. */
export function conv2dDirectBackwardWeightScratch(_n: i32, c: i32, h: i32, w: i32, o: i32, kh: i32, kw: i32, ph: i32, pw: i32): i32 {
  const oh = h + 2 * ph - kh + 1;
  const ow = w + 2 * pw - kw + 1;
  const sums = (o + 1) * c * kh * up4(kw);
  const grads = (o + 1) * oh * up4(ow);
  return (sums + grads + c * (h + 2 * ph) * paddedWidth(w, pw, kw, ow) + 4) * 4;
}

/**
 * Copies `count` floats. A loop of its own: rows here are short (tens of values), where V8's
 * `memory.copy` costs more in its call than in its copying.
 */
// @ts-ignore: decorator
@inline
function copyFloats(dst: usize, src: usize, count: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  }
  for (; i < count; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

/** Sets `count` floats (a multiple of 4) to zero. */
// @ts-ignore: decorator
@inline
function zeroFloats(dst: usize, count: i32): void {
  const zero = f32x4.splat(0);
  for (let i = 0; i < count; i += 4) v128.store(dst + (<usize>i << 2), zero);
}

/** Copies `c` planes of `h x w` into zeroed planes of `hp x wp`, offset by (ph, pw). */
function padPlanes(dst: usize, src: usize, c: i32, h: i32, w: i32, ph: i32, pw: i32, hp: i32, wp: i32): void {
  zeroFloats(dst, up4(c * hp * wp));
  for (let ci = 0; ci < c; ci++) {
    const from = src + (<usize>(ci * h * w) << 2);
    const to = dst + (<usize>((ci * hp + ph) * wp + pw) << 2);
    for (let y = 0; y < h; y++) {
      copyFloats(to + (<usize>(y * wp) << 2), from + (<usize>(y * w) << 2), w);
    }
  }
}

/** Stores the first `count` lanes of `v` (1 to 4). */
// @ts-ignore: decorator
@inline
function storeLanes(ptr: usize, v: v128, count: i32): void {
  if (count >= 4) {
    v128.store(ptr, v);
    return;
  }
  f32.store(ptr, f32x4.extract_lane(v, 0));
  if (count > 1) f32.store(ptr, f32x4.extract_lane(v, 1), 4);
  if (count > 2) f32.store(ptr, f32x4.extract_lane(v, 2), 8);
}

/**
 * The shared loop: `out[b, o, y, x] = bias[o] + sum w * xpad` for images already padded into
 * `planes` (`c` planes of `hp x wp`), with the kernels packed by {@link packForward} or
 * {@link packBackward}: `[o / 4][c][kh][kw][4]`, four output channels side by side.
 */
function convolve(
  out: usize,
  planes: usize,
  packed: usize,
  bias: usize,
  c: i32,
  o: i32,
  hp: i32,
  wp: i32,
  kh: i32,
  kw: i32,
  oh: i32,
  ow: i32,
): void {
  const rowBytes = <usize>wp << 2;
  const planeBytes = <usize>(hp * wp) << 2;
  const outPlane = <usize>(oh * ow) << 2;
  const blockBytes = <usize>(c * kh * kw * 4) << 2;
  for (let o0 = 0; o0 < o; o0 += 4) {
    const channels = min(4, o - o0);
    const weights = packed + <usize>(o0 >> 2) * blockBytes;
    let b0 = f32x4.splat(0);
    let b1 = f32x4.splat(0);
    let b2 = f32x4.splat(0);
    let b3 = f32x4.splat(0);
    if (bias) {
      b0 = f32x4.splat(load<f32>(bias + (<usize>o0 << 2)));
      if (channels > 1) b1 = f32x4.splat(load<f32>(bias + (<usize>(o0 + 1) << 2)));
      if (channels > 2) b2 = f32x4.splat(load<f32>(bias + (<usize>(o0 + 2) << 2)));
      if (channels > 3) b3 = f32x4.splat(load<f32>(bias + (<usize>(o0 + 3) << 2)));
    }
    const out0 = out + <usize>o0 * outPlane;
    for (let y = 0; y < oh; y++) {
      for (let x0 = 0; x0 < ow; x0 += 8) {
        let a00 = b0, a01 = b0, a10 = b1, a11 = b1;
        let a20 = b2, a21 = b2, a30 = b3, a31 = b3;
        let wk = weights;
        for (let ci = 0; ci < c; ci++) {
          let row = planes + <usize>ci * planeBytes + <usize>y * rowBytes + (<usize>x0 << 2);
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const at = row + (<usize>kx << 2);
              const v0 = v128.load(at);
              const v1 = v128.load(at, 16);
              const w0 = v128.load32_splat(wk);
              a00 = madd(w0, v0, a00);
              a01 = madd(w0, v1, a01);
              const w1 = v128.load32_splat(wk, 4);
              a10 = madd(w1, v0, a10);
              a11 = madd(w1, v1, a11);
              const w2 = v128.load32_splat(wk, 8);
              a20 = madd(w2, v0, a20);
              a21 = madd(w2, v1, a21);
              const w3 = v128.load32_splat(wk, 12);
              a30 = madd(w3, v0, a30);
              a31 = madd(w3, v1, a31);
              wk += 16;
            }
            row += rowBytes;
          }
        }
        // Columns x0 .. x0 + 7 of row y, for the block's channels that exist.
        const first = min(4, ow - x0);
        const second = min(4, ow - x0 - 4);
        let dst = out0 + (<usize>(y * ow + x0) << 2);
        for (let j = 0; j < channels; j++) {
          const lo = j == 0 ? a00 : j == 1 ? a10 : j == 2 ? a20 : a30;
          const hi = j == 0 ? a01 : j == 1 ? a11 : j == 2 ? a21 : a31;
          storeLanes(dst, lo, first);
          if (second > 0) storeLanes(dst + 16, hi, second);
          dst += outPlane;
        }
      }
    }
  }
}

/**
 * Images `[imageStart, imageEnd)` of `src` (`cin` planes of `h x w` each) padded by (ph, pw) into
 * `planes`, and convolved with the packed kernels into `dst` (`cout` planes each): the loop the
 * forward pass and the input's gradient share.
 */
function convolveImages(
  dst: usize,
  src: usize,
  packed: usize,
  bias: usize,
  cin: i32,
  h: i32,
  w: i32,
  ph: i32,
  pw: i32,
  cout: i32,
  kh: i32,
  kw: i32,
  planes: usize,
  imageStart: i32,
  imageEnd: i32,
): void {
  const oh = h + 2 * ph - kh + 1;
  const ow = w + 2 * pw - kw + 1;
  const hp = h + 2 * ph;
  const wp = paddedWidth(w, pw, kw, ow);
  for (let b = imageStart; b < imageEnd; b++) {
    padPlanes(planes, src + (<usize>(b * cin * h * w) << 2), cin, h, w, ph, pw, hp, wp);
    const out = dst + (<usize>(b * cout * oh * ow) << 2);
    convolve(out, planes, packed, bias, cin, cout, hp, wp, kh, kw, oh, ow);
  }
}

/** Packs `weight[o, c, kh, kw]` as `[o / 4][c][kh][kw][4]` (zeros for missing channels). */
function packForward(packed: usize, weight: usize, c: i32, o: i32, kh: i32, kw: i32): void {
  const taps = kh * kw;
  memory.fill(packed, 0, <usize>(up4(o) * c * taps) << 2);
  for (let oc = 0; oc < o; oc++) {
    const block = packed + (<usize>((oc >> 2) * c * taps * 4) << 2);
    for (let ci = 0; ci < c; ci++) {
      for (let t = 0; t < taps; t++) {
        const value = load<f32>(weight + (<usize>((oc * c + ci) * taps + t) << 2));
        store<f32>(block + (<usize>(((ci * taps + t) << 2) + (oc & 3)) << 2), value);
      }
    }
  }
}

/**
 * Packs the kernels for the gradient of the input: channel roles swapped (the output's gradient
 * is the input, `o` channels; the result has `c`) and each kernel flipped, as
 * `[c / 4][o][kh][kw][4]` with `packed[ci][oc][ky][kx] = weight[oc, ci, kh - 1 - ky, kw - 1 - kx]`.
 */
function packBackward(packed: usize, weight: usize, c: i32, o: i32, kh: i32, kw: i32): void {
  const taps = kh * kw;
  memory.fill(packed, 0, <usize>(up4(c) * o * taps) << 2);
  for (let ci = 0; ci < c; ci++) {
    const block = packed + (<usize>((ci >> 2) * o * taps * 4) << 2);
    for (let oc = 0; oc < o; oc++) {
      for (let t = 0; t < taps; t++) {
        const value = load<f32>(weight + (<usize>((oc * c + ci) * taps + taps - 1 - t) << 2));
        store<f32>(block + (<usize>(((oc * taps + t) << 2) + (ci & 3)) << 2), value);
      }
    }
  }
}

/**
 * Convolution, stride 1, dilation 1: `out[n, o, oh, ow]` from `x[n, c, h, w]`,
 * `weight[o, c, kh, kw]` and `bias[o]` (0 for none), padding (ph, pw) of zeros; only the images
 * `[imageStart, imageEnd)`, so that two threads can share a batch.
 */
export function conv2dDirectF32(
  out: usize,
  x: usize,
  weight: usize,
  bias: usize,
  n: i32,
  c: i32,
  h: i32,
  w: i32,
  o: i32,
  kh: i32,
  kw: i32,
  ph: i32,
  pw: i32,
  scratch: usize,
  imageStart: i32,
  imageEnd: i32,
): void {
  packForward(scratch, weight, c, o, kh, kw);
  const planes = scratch + (<usize>(up4(o) * c * kh * kw) << 2);
  convolveImages(out, x, scratch, bias, c, h, w, ph, pw, o, kh, kw, planes, imageStart, imageEnd);
}

/**
 * The gradient of {@link conv2dDirectF32} with respect to its input: `dx[n, c, h, w]` from the
 * output's gradient `dy[n, o, oh, ow]` (requires ph < kh and pw < kw).
 */
export function conv2dDirectBackwardInputF32(
  dx: usize,
  dy: usize,
  weight: usize,
  n: i32,
  c: i32,
  h: i32,
  w: i32,
  o: i32,
  kh: i32,
  kw: i32,
  ph: i32,
  pw: i32,
  scratch: usize,
  imageStart: i32,
  imageEnd: i32,
): void {
  const oh = h + 2 * ph - kh + 1;
  const ow = w + 2 * pw - kw + 1;
  // dy padded by (kh - 1 - ph, kw - 1 - pw) and convolved with the flipped kernels gives h x w.
  packBackward(scratch, weight, c, o, kh, kw);
  const planes = scratch + (<usize>(up4(c) * o * kh * kw) << 2);
  const qh = kh - 1 - ph;
  const qw = kw - 1 - pw;
  convolveImages(dx, dy, scratch, 0, o, oh, ow, qh, qw, c, kh, kw, planes, imageStart, imageEnd);
}

/** The sum of the four lanes. */
// @ts-ignore: decorator
@inline
function lanes(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/**
 * The gradient of {@link conv2dDirectF32} with respect to its weight over the images
 * `[imageStart, imageEnd)`: `dw[o, c, kh, kw] = sum over (b, y, x) of dy[b, o, y, x] *
 * xpad[b, ci, y + ky, x + kx]`, written (not added) to slot `imageStart / imagesPerSlot` of
 * `slots` (`[slots][o][c][kh][kw]`). The caller adds the slots in their order, so that the sum
 * does not depend on which thread computed which slot.
 *
 * Per image, the input is padded as in the forward pass and the gradient copied into rows of
 * whole vectors (zeros past the last column, so that the extra lanes add nothing). Two output
 * channels and four taps of a kernel row are summed at once: eight accumulators, and for each
 * vector of positions two gradient loads, four input loads and eight fused multiply-adds.
 */
export function conv2dDirectBackwardWeightF32(
  slots: usize,
  dy: usize,
  x: usize,
  n: i32,
  c: i32,
  h: i32,
  w: i32,
  o: i32,
  kh: i32,
  kw: i32,
  ph: i32,
  pw: i32,
  imagesPerSlot: i32,
  scratch: usize,
  imageStart: i32,
  imageEnd: i32,
): void {
  // The sums of images [imageStart, imageEnd) go to slot imageStart / imagesPerSlot.
  const dw = slots + (<usize>((imageStart / imagesPerSlot) * o * c * kh * kw) << 2);
  const oh = h + 2 * ph - kh + 1;
  const ow = w + 2 * pw - kw + 1;
  const hp = h + 2 * ph;
  const wp = paddedWidth(w, pw, kw, ow);
  const owv = up4(ow);
  const kwv = up4(kw);
  const taps = kh * kw;
  // Scratch: the sums [o + 1][c][kh][kwv], the gradient rows [o + 1][oh][owv], the planes.
  const sums = scratch;
  const grads = sums + (<usize>((o + 1) * c * kh * kwv) << 2);
  const planes = grads + (<usize>((o + 1) * oh * owv) << 2);
  memory.fill(sums, 0, <usize>((o + 1) * c * kh * kwv) << 2);
  // Channel o (past the last) stays zero: an odd count pairs its last channel with it.
  memory.fill(grads, 0, <usize>((o + 1) * oh * owv) << 2);
  const rowBytes = <usize>wp << 2;
  const planeBytes = <usize>(hp * wp) << 2;
  const gradPlane = <usize>(oh * owv) << 2;
  for (let b = imageStart; b < imageEnd; b++) {
    padPlanes(planes, x + (<usize>(b * c * h * w) << 2), c, h, w, ph, pw, hp, wp);
    for (let oc = 0; oc < o; oc++) {
      const from = dy + (<usize>((b * o + oc) * oh * ow) << 2);
      const to = grads + <usize>oc * gradPlane;
      for (let y = 0; y < oh; y++) {
        copyFloats(to + (<usize>(y * owv) << 2), from + (<usize>(y * ow) << 2), ow);
      }
    }
    for (let oc = 0; oc < o; oc += 2) {
      const g0 = grads + <usize>oc * gradPlane;
      const g1 = g0 + gradPlane;
      for (let ci = 0; ci < c; ci++) {
        const plane = planes + <usize>ci * planeBytes;
        for (let ky = 0; ky < kh; ky++) {
          for (let kx0 = 0; kx0 < kw; kx0 += 4) {
            let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
            let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
            for (let y = 0; y < oh; y++) {
              const gr0 = g0 + <usize>(y * owv << 2);
              const gr1 = g1 + <usize>(y * owv << 2);
              const xr = plane + <usize>(y + ky) * rowBytes + (<usize>kx0 << 2);
              for (let xv = 0; xv < owv; xv += 4) {
                const q0 = v128.load(gr0 + (<usize>xv << 2));
                const q1 = v128.load(gr1 + (<usize>xv << 2));
                const at = xr + (<usize>xv << 2);
                const i0 = v128.load(at);
                s00 = madd(q0, i0, s00);
                s10 = madd(q1, i0, s10);
                const i1 = v128.load(at, 4);
                s01 = madd(q0, i1, s01);
                s11 = madd(q1, i1, s11);
                const i2 = v128.load(at, 8);
                s02 = madd(q0, i2, s02);
                s12 = madd(q1, i2, s12);
                const i3 = v128.load(at, 12);
                s03 = madd(q0, i3, s03);
                s13 = madd(q1, i3, s13);
              }
            }
            const at0 = sums + (<usize>(((oc * c + ci) * kh + ky) * kwv + kx0) << 2);
            const at1 = at0 + (<usize>(c * kh * kwv) << 2);
            store<f32>(at0, load<f32>(at0) + lanes(s00));
            store<f32>(at0, load<f32>(at0, 4) + lanes(s01), 4);
            store<f32>(at0, load<f32>(at0, 8) + lanes(s02), 8);
            store<f32>(at0, load<f32>(at0, 12) + lanes(s03), 12);
            store<f32>(at1, load<f32>(at1) + lanes(s10));
            store<f32>(at1, load<f32>(at1, 4) + lanes(s11), 4);
            store<f32>(at1, load<f32>(at1, 8) + lanes(s12), 8);
            store<f32>(at1, load<f32>(at1, 12) + lanes(s13), 12);
          }
        }
      }
    }
  }
  for (let oc = 0; oc < o; oc++) {
    for (let ci = 0; ci < c; ci++) {
      for (let t = 0; t < taps; t++) {
        const ky = t / kw;
        const kx = t - ky * kw;
        const value = load<f32>(sums + (<usize>(((oc * c + ci) * kh + ky) * kwv + kx) << 2));
        store<f32>(dw + (<usize>((oc * c + ci) * taps + t) << 2), value);
      }
    }
  }
}
