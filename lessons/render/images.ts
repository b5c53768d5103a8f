/**
 * Image grids (filters, feature maps, samples) as pixels, PNG and SVG. Pure functions: they take
 * an `images` event and return bytes or text, in Deno and in browsers alike.
 *
 * @module
 */

import type { ImageData2D, OutputEvent } from "../format.ts";
import { encodePng, toBase64 } from "./png.ts";

/** The `images` event of a lesson's output. */
export type ImagesEvent = Extract<OutputEvent, { kind: "images" }>;

/** How numbers become colours: see {@link imagePixels}. */
export type Colormap = "grey" | "diverging";

/** An RGB colour, each channel 0 to 255. */
export type Rgb = [number, number, number];

/** The colour of a value that is not a number, so that a NaN in a feature map stands out. */
export const NAN_COLOUR: Rgb = [255, 0, 255];

const NEGATIVE: Rgb = [33, 102, 172];
const POSITIVE: Rgb = [178, 24, 43];

/** Checks that an image's values fill its width and height; throws a clear error otherwise. */
export function checkImage(image: ImageData2D, where: string): void {
  const { width, height, values } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`${where}: image size ${width}x${height} must be positive whole numbers`);
  }
  if (values.length !== width * height) {
    const label = image.label ? ` "${image.label}"` : "";
    throw new Error(
      `${where}: image${label} is ${width}x${height} = ${width * height} pixels, ` +
        `but has ${values.length} values`,
    );
  }
}

/** The smallest and largest finite values (0 and 0 when there are none). */
export function finiteExtent(values: ArrayLike<number>): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!Number.isFinite(value)) continue;
    if (value < low) low = value;
    if (value > high) high = value;
  }
  return low <= high ? [low, high] : [0, 0];
}

/**
 * The colour of every pixel of an image, as a function from pixel index to RGB.
 *
 * "grey" scales the image's own minimum to black and its maximum to white (a constant image is
 * mid grey). "diverging" maps 0 to white, negative values to blue and positive ones to red, scaled
 * by the largest absolute value, so that the sign of a filter's weights is visible. `range`
 * replaces the image's own smallest and largest values.
 */
export function pixelColours(
  image: ImageData2D,
  colormap: Colormap = "grey",
  range: [number, number] = finiteExtent(image.values),
): (i: number) => Rgb {
  const [low, high] = range;
  if (colormap === "diverging") {
    const scale = Math.max(Math.abs(low), Math.abs(high)) || 1;
    return (i) => {
      const value = image.values[i];
      if (!Number.isFinite(value)) return NAN_COLOUR;
      const t = Math.max(-1, Math.min(1, value / scale));
      const end = t < 0 ? NEGATIVE : POSITIVE;
      const amount = Math.abs(t);
      return end.map((channel) => Math.round(255 + (channel - 255) * amount)) as Rgb;
    };
  }
  const spread = high - low;
  return (i) => {
    const value = image.values[i];
    if (!Number.isFinite(value)) return NAN_COLOUR;
    const t = spread > 0 ? Math.max(0, Math.min(1, (value - low) / spread)) : 0.5;
    const level = Math.round(t * 255);
    return [level, level, level];
  };
}

/** The image as `width * height * 3` RGB bytes. */
export function imagePixels(image: ImageData2D, colormap: Colormap = "grey"): Uint8Array {
  checkImage(image, "imagePixels");
  const colourOf = pixelColours(image, colormap);
  const pixels = new Uint8Array(image.width * image.height * 3);
  for (let i = 0; i < image.width * image.height; i++) pixels.set(colourOf(i), i * 3);
  return pixels;
}

/** Where each image of a grid goes: the same cell size for all, scaled up so small ones show. */
export interface GridLayout {
  /** Images across. */
  columns: number;
  /** Rows of images. */
  rows: number;
  /** Each image pixel becomes `scale x scale` output pixels. */
  scale: number;
  /** Cell width in output pixels (the widest image, scaled). */
  cellWidth: number;
  /** Cell height in output pixels (the tallest image, scaled). */
  cellHeight: number;
  /** Space between and around cells, in output pixels. */
  gap: number;
}

/** Lays out an `images` event as a grid (at most 8 columns unless the event says otherwise). */
export function gridLayout(event: ImagesEvent, minCellSize = 48): GridLayout {
  const count = Math.max(1, event.images.length);
  const columns = Math.max(1, Math.min(event.columns ?? 8, count));
  const widest = Math.max(1, ...event.images.map((image) => image.width));
  const tallest = Math.max(1, ...event.images.map((image) => image.height));
  const scale = Math.max(1, Math.round(minCellSize / Math.max(widest, tallest)));
  return {
    columns,
    rows: Math.ceil(count / columns),
    scale,
    cellWidth: widest * scale,
    cellHeight: tallest * scale,
    gap: Math.max(2, scale),
  };
}

/** Copies `image`, each pixel scaled to a `scale x scale` square, into an RGB canvas. */
function paint(
  canvas: Uint8Array,
  canvasWidth: number,
  image: ImageData2D,
  colormap: Colormap,
  left: number,
  top: number,
  scale: number,
): void {
  const colourOf = pixelColours(image, colormap);
  for (let y = 0; y < image.height * scale; y++) {
    for (let x = 0; x < image.width * scale; x++) {
      const source = Math.floor(y / scale) * image.width + Math.floor(x / scale);
      canvas.set(colourOf(source), ((top + y) * canvasWidth + left + x) * 3);
    }
  }
}

/**
 * The whole grid as one PNG file (images only; their labels are in the SVG and the terminal).
 *
 * @example
 * ```ts
 * import { imageGridPng } from "./images.ts";
 * const png = await imageGridPng({
 *   kind: "images",
 *   title: "two pixels",
 *   images: [{ width: 2, height: 1, values: [0, 1] }],
 * });
 * ```
 */
export async function imageGridPng(event: ImagesEvent): Promise<Uint8Array> {
  event.images.forEach((image, i) => checkImage(image, `imageGridPng "${event.title}" image ${i}`));
  const layout = gridLayout(event);
  const { columns, rows, cellWidth, cellHeight, gap, scale } = layout;
  const width = columns * cellWidth + (columns + 1) * gap;
  const height = rows * cellHeight + (rows + 1) * gap;
  const canvas = new Uint8Array(width * height * 3).fill(235);
  event.images.forEach((image, i) => {
    const left = gap + (i % columns) * (cellWidth + gap);
    const top = gap + Math.floor(i / columns) * (cellHeight + gap);
    paint(canvas, width, image, event.colormap ?? "grey", left, top, scale);
  });
  return await encodePng(width, height, canvas, 3);
}

/** Escapes text for use inside SVG or HTML. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The grid as a standalone SVG: a title, each image (an embedded PNG, scaled up without
 * smoothing) and its label underneath.
 */
export async function imageGridSvg(event: ImagesEvent): Promise<string> {
  event.images.forEach((image, i) => checkImage(image, `imageGridSvg "${event.title}" image ${i}`));
  const { columns, rows, cellWidth, cellHeight, scale } = gridLayout(event);
  const hasLabels = event.images.some((image) => image.label);
  const gap = 8;
  const labelHeight = hasLabels ? 16 : 0;
  const titleHeight = 28;
  const width = Math.max(columns * (cellWidth + gap) + gap, 200);
  const height = titleHeight + rows * (cellHeight + labelHeight + gap) + gap;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${gap}" y="19" font-size="15" font-weight="bold">${escapeXml(event.title)}</text>`,
  ];
  for (const [i, image] of event.images.entries()) {
    const left = gap + (i % columns) * (cellWidth + gap);
    const top = titleHeight + Math.floor(i / columns) * (cellHeight + labelHeight + gap);
    // Scale up in the PNG itself: viewers differ in how they smooth a small image.
    const w = image.width * scale;
    const h = image.height * scale;
    const pixels = new Uint8Array(w * h * 3);
    paint(pixels, w, image, event.colormap ?? "grey", 0, 0, scale);
    const png = toBase64(await encodePng(w, h, pixels, 3));
    parts.push(
      `<image x="${left}" y="${top}" width="${w}" height="${h}" ` +
        `href="data:image/png;base64,${png}"/>`,
    );
    if (image.label) {
      parts.push(
        `<text x="${left + cellWidth / 2}" y="${top + cellHeight + 12}" font-size="11" ` +
          `text-anchor="middle">${escapeXml(image.label)}</text>`,
      );
    }
  }
  parts.push("</svg>");
  return parts.join("\n");
}
