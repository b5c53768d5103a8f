/**
 * Image transforms for data augmentation and preprocessing, like torchvision's.
 *
 * A transform is a function from one image tensor of shape `[channels, height, width]` to
 * another. The random ones draw from the seeded generator each time they are called, so with
 * `manualSeed` the augmentations repeat from run to run. They are written with tensor ops
 * (indexSelect, narrow, cat, arithmetic), so they run on whatever device holds the image.
 *
 * @module
 */
import { tensor } from "../creation.ts";
import { nextFloat } from "../random.ts";
import { fmtShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { cat, full } from "../ops/shape.ts";
import { checkOptions } from "../options.ts";

/** A function from an image `[channels, height, width]` to an image. */
export type Transform = (image: Tensor) => Tensor;

/** Checks that `image` is `[channels, height, width]` and returns the three sizes. */
function imageShape(op: string, image: Tensor): [number, number, number] {
  if (image.ndim !== 3) {
    throw new Error(
      `${op}: expected an image of shape [channels, height, width], got ${fmtShape(image.shape)}` +
        (image.ndim === 2 ? `; add a channel dimension with image.unsqueeze(0)` : ""),
    );
  }
  const [channels, height, width] = image.shape;
  return [channels, height, width];
}

/** An int32 index tensor on the image's device. */
function indices(values: Int32Array, image: Tensor): Tensor {
  return tensor(values, { dtype: "int32", device: image.device });
}

/**
 * The image's channels flattened to `[channels, height * width + 1]`, with one extra column
 * holding `fill`: {@link remap} reads it for pixels that come from outside the image.
 */
function flatWithFill(image: Tensor, fill: number): Tensor {
  const [channels, height, width] = image.shape;
  const flat = image.reshape([channels, height * width]);
  return cat([flat, full([channels, 1], fill, image.dtype, image.device)], 1);
}

/**
 * Builds an image of `height x width` whose pixel `i` is pixel `sources[i]` of the flattened
 * input (see {@link flatWithFill}), or the fill value where `sources[i]` is -1. The same for
 * every channel. Crops and rotations are both such a lookup.
 */
function remap(source: Tensor, sources: Int32Array, height: number, width: number): Tensor {
  const [channels, columns] = source.shape;
  const fillColumn = columns - 1;
  const picks = sources.map((s) => (s < 0 ? fillColumn : s));
  return source.indexSelect(1, indices(picks, source)).reshape([channels, height, width]);
}

/**
 * Applies transforms one after the other, like torchvision's `Compose`.
 *
 * @example
 * ```ts
 * import { data } from "../../mod.ts";
 * const { compose, normalize, randomHorizontalFlip } = data.transforms;
 * const augment = compose([randomHorizontalFlip(), normalize([0.2860], [0.3530])]);
 * ```
 */
export function compose(transforms: Transform[]): Transform {
  return (image) => transforms.reduce((current, transform) => transform(current), image);
}

/**
 * Applies the transforms (one after the other) with probability `p`, and otherwise leaves the
 * image as it is, like torchvision's `RandomApply`. The draw comes from the seeded generator.
 *
 * @example
 * ```ts
 * import { data } from "../../mod.ts";
 * const { randomApply, randomRotation } = data.transforms;
 * // Rotate by up to 15 degrees either way, half of the time.
 * const maybeRotate = randomApply([randomRotation(15)], 0.5);
 * ```
 */
export function randomApply(transforms: Transform | Transform[], p = 0.5): Transform {
  const list = Array.isArray(transforms) ? transforms : [transforms];
  if (list.some((t) => typeof t !== "function")) {
    throw new TypeError(
      "randomApply: expected a transform or a list of transforms, e.g. " +
        "randomApply([randomRotation(15)], 0.5)",
    );
  }
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new Error(`randomApply: p must be a probability in [0, 1], got ${p}`);
  }
  const all = compose(list);
  return (image) => (nextFloat() < p ? all(image) : image);
}

/**
 * Standardizes each channel: `(image[c] - mean[c]) / std[c]`. A single number applies to every
 * channel. Use the mean and standard deviation of the training images.
 */
export function normalize(mean: number | number[], std: number | number[]): Transform {
  const means = Array.isArray(mean) ? mean : [mean];
  const stds = Array.isArray(std) ? std : [std];
  if (means.length !== stds.length) {
    throw new Error(
      `normalize: got ${means.length} means but ${stds.length} standard deviations; give one ` +
        `of each per channel`,
    );
  }
  if (stds.some((s) => s === 0 || !Number.isFinite(s))) {
    throw new Error(`normalize: standard deviations must be finite and non-zero, got [${stds}]`);
  }
  return (image) => {
    const [channels] = imageShape("normalize", image);
    if (means.length !== 1 && means.length !== channels) {
      throw new Error(
        `normalize: the image has ${channels} channels (shape ${fmtShape(image.shape)}) but ` +
          `${means.length} means and standard deviations were given`,
      );
    }
    const dtype = image.dtype === "int32" ? "float32" : image.dtype;
    const shape = [means.length, 1, 1];
    const meanT = tensor(means, { dtype, device: image.device, shape });
    const stdT = tensor(stds, { dtype, device: image.device, shape });
    return image.sub(meanT).div(stdT);
  };
}

/** Mirrors the image left to right with probability `p` (0.5 by default). */
export function randomHorizontalFlip(p = 0.5): Transform {
  if (!(p >= 0 && p <= 1)) {
    throw new Error(`randomHorizontalFlip: p must be a probability in [0, 1], got ${p}`);
  }
  return (image) => {
    const [, , width] = imageShape("randomHorizontalFlip", image);
    // Draw even when p is 0 or 1, so that the generator advances the same way for every p.
    if (nextFloat() >= p) return image;
    const reversed = Int32Array.from({ length: width }, (_, x) => width - 1 - x);
    return image.indexSelect(2, indices(reversed, image));
  };
}

/** Options of {@link randomCrop}. */
export interface RandomCropOptions {
  /** Pixels added on every side before cropping (0 by default). */
  padding?: number;
  /** The value of the added pixels (0 by default). */
  fill?: number;
}

/**
 * Cuts a random `size` window out of the image, after padding it on every side, like
 * torchvision's `RandomCrop(size, padding)`. `randomCrop(28, { padding: 4 })` shifts a 28x28
 * image by up to 4 pixels in each direction.
 */
export function randomCrop(size: number | [number, number], options: RandomCropOptions = {}) {
  checkOptions("randomCrop", arguments, 1, ["padding", "fill"]);
  const [cropH, cropW] = typeof size === "number" ? [size, size] : size;
  const { padding = 0, fill = 0 } = options;
  if (![cropH, cropW].every((s) => Number.isInteger(s) && s > 0)) {
    throw new Error(`randomCrop: size must be positive integers, got ${JSON.stringify(size)}`);
  }
  if (!Number.isInteger(padding) || padding < 0) {
    throw new Error(`randomCrop: padding must be a non-negative integer, got ${padding}`);
  }
  const transform: Transform = (image) => {
    const [, height, width] = imageShape("randomCrop", image);
    const paddedH = height + 2 * padding;
    const paddedW = width + 2 * padding;
    if (cropH > paddedH || cropW > paddedW) {
      throw new Error(
        `randomCrop: the crop ${cropH}x${cropW} is larger than the image ${height}x${width}` +
          (padding ? ` padded by ${padding} (${paddedH}x${paddedW})` : ""),
      );
    }
    // The window's corner in the coordinates of the unpadded image (negative: in the padding).
    const top = Math.floor(nextFloat() * (paddedH - cropH + 1)) - padding;
    const left = Math.floor(nextFloat() * (paddedW - cropW + 1)) - padding;
    if (top >= 0 && left >= 0 && top + cropH <= height && left + cropW <= width) {
      return image.narrow(1, top, cropH).narrow(2, left, cropW);
    }
    // The window overlaps the padding: read each pixel from the image, or `fill` outside it.
    const sources = new Int32Array(cropH * cropW);
    for (let y = 0; y < cropH; y++) {
      for (let x = 0; x < cropW; x++) {
        const sy = top + y;
        const sx = left + x;
        const inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
        sources[y * cropW + x] = inside ? sy * width + sx : -1;
      }
    }
    return remap(flatWithFill(image, fill), sources, cropH, cropW);
  };
  return transform;
}

/** Options of {@link randomRotation}. */
export interface RandomRotationOptions {
  /** How to read between pixels: the nearest one, or a weighted mix of the four around. */
  interpolation?: "nearest" | "bilinear";
  /** The value of pixels that come from outside the image (0 by default). */
  fill?: number;
}

/**
 * Rotates the image about its center by a random angle, counter-clockwise for positive angles,
 * like torchvision's `RandomRotation`. `degrees` is a range `[min, max]`, or a number `d` for
 * `[-d, d]`. Corners that come from outside the image get `fill`.
 *
 * Each output pixel looks up where it came from: rotating back by the angle gives a position
 * in the input, which is read at the nearest pixel or mixed from the four around it.
 */
export function randomRotation(
  degrees: number | [number, number],
  options: RandomRotationOptions = {},
): Transform {
  const [low, high] = typeof degrees === "number"
    ? [-Math.abs(degrees), Math.abs(degrees)]
    : degrees;
  checkOptions("randomRotation", arguments, 1, ["interpolation", "fill"]);
  const { interpolation = "nearest", fill = 0 } = options;
  if (!Number.isFinite(low) || !Number.isFinite(high) || low > high) {
    throw new Error(
      `randomRotation: degrees must be a number or a range [min, max], got ${degrees}`,
    );
  }
  if (interpolation !== "nearest" && interpolation !== "bilinear") {
    throw new Error(
      `randomRotation: interpolation must be "nearest" or "bilinear", got "${interpolation}"`,
    );
  }
  return (image) => {
    imageShape("randomRotation", image);
    const angle = low + nextFloat() * (high - low);
    return rotate(image, angle, interpolation, fill);
  };
}

/** Rotates `image` by `angle` degrees counter-clockwise about its center (see randomRotation). */
export function rotate(
  image: Tensor,
  angle: number,
  interpolation: "nearest" | "bilinear" = "nearest",
  fill = 0,
): Tensor {
  const [, height, width] = imageShape("rotate", image);
  const radians = (angle * Math.PI) / 180;
  const cos = Math.cos(radians);
  const sin = Math.sin(radians);
  // Pixel centers sit at integer coordinates; the center of rotation is the middle of the image.
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const pixels = height * width;
  const at = (x: number, y: number) =>
    x >= 0 && x < width && y >= 0 && y < height ? y * width + x : -1;

  // Where output pixel (x, y) comes from: rotate its offset from the center back by the angle.
  // On screen y points down, so a counter-clockwise turn by a maps an offset (u, v) to
  // (u cos a + v sin a, -u sin a + v cos a); its inverse is used here.
  const sourceX = new Float64Array(pixels);
  const sourceY = new Float64Array(pixels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x - cx;
      const v = y - cy;
      sourceX[y * width + x] = cx + u * cos - v * sin;
      sourceY[y * width + x] = cy + u * sin + v * cos;
    }
  }

  if (interpolation === "nearest") {
    const picks = Int32Array.from(sourceX, (sx, i) => at(Math.round(sx), Math.round(sourceY[i])));
    return remap(flatWithFill(image, fill), picks, height, width);
  }

  // Bilinear: a mix of the four pixels around the source position, each weighted by how close
  // the position is to it (the weights sum to 1).
  const corners: [number, number][] = [[0, 0], [1, 0], [0, 1], [1, 1]];
  const dtype = image.dtype === "int32" ? "float32" : image.dtype;
  const source = flatWithFill(image, fill);
  let out: Tensor | null = null;
  for (const [dx, dy] of corners) {
    const picks = new Int32Array(pixels);
    const weights = new Float64Array(pixels);
    for (let i = 0; i < pixels; i++) {
      const x0 = Math.floor(sourceX[i]);
      const y0 = Math.floor(sourceY[i]);
      const fx = sourceX[i] - x0;
      const fy = sourceY[i] - y0;
      picks[i] = at(x0 + dx, y0 + dy);
      weights[i] = (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy);
    }
    const weight = tensor(weights, { dtype, device: image.device, shape: [1, height, width] });
    const term = remap(source, picks, height, width).mul(weight);
    out = out ? out.add(term) : term;
  }
  return out!;
}
