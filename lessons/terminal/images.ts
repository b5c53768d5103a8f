/**
 * Image grids drawn in the terminal with Unicode half blocks.
 *
 * A character cell is about twice as tall as it is wide, so one cell shows two pixels stacked:
 * "▀" painted with the top pixel as its foreground colour and the bottom pixel as its background
 * colour. Without colour (output to a file or a pipe) each cell shows the mean brightness of its
 * two pixels as one of " ░▒▓█".
 *
 * @module
 */

import type { ImageData2D } from "../format.ts";
import {
  checkImage,
  finiteExtent,
  type ImagesEvent,
  pixelColours,
  type Rgb,
} from "../render/images.ts";
import { type Paint, truncate } from "./style.ts";

/** Options of {@link drawImages}. */
export interface ImageOptions {
  /** Terminal width in columns. */
  width: number;
  /** Use 256-colour escape codes (a terminal); shades of one character otherwise. */
  color: boolean;
  /** Colours and styles. */
  paint: Paint;
}

const SHADES = [" ", "░", "▒", "▓", "█"];

/** The nearest colour of the xterm 256-colour palette (its grey ramp, or its 6x6x6 cube). */
export function ansi256([r, g, b]: Rgb): number {
  if (r === g && g === b) {
    if (r < 4) return 16;
    if (r > 246) return 231;
    return 232 + Math.round(((r - 8) / 238) * 23);
  }
  const level = (channel: number) => Math.round((channel / 255) * 5);
  return 16 + 36 * level(r) + 6 * level(g) + level(b);
}

/** Shrinks an image by averaging `factor x factor` blocks, or grows it by repeating pixels. */
export function resizeImage(image: ImageData2D, shrink: number, grow: number): ImageData2D {
  if (shrink <= 1 && grow <= 1) return image;
  if (grow > 1) {
    const width = image.width * grow;
    const height = image.height * grow;
    const values = new Array<number>(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        values[y * width + x] =
          image.values[Math.floor(y / grow) * image.width + Math.floor(x / grow)];
      }
    }
    return { ...image, width, height, values };
  }
  const width = Math.ceil(image.width / shrink);
  const height = Math.ceil(image.height / shrink);
  const values = new Array<number>(width * height).fill(0);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      let count = 0;
      for (let dy = 0; dy < shrink && y * shrink + dy < image.height; dy++) {
        for (let dx = 0; dx < shrink && x * shrink + dx < image.width; dx++) {
          sum += image.values[(y * shrink + dy) * image.width + x * shrink + dx];
          count++;
        }
      }
      values[y * width + x] = sum / count;
    }
  }
  return { ...image, width, height, values };
}

/** Draws one image as lines of text, `image.width` columns by `ceil(height / 2)` rows. */
function imageLines(image: ImageData2D, colormap: "grey" | "diverging", color: boolean): string[] {
  let colourOf = pixelColours(image, colormap);
  if (!color && colormap === "diverging") {
    // Shades cannot show a sign: grey from -max (black) through 0 (mid grey) to +max (white).
    const [low, high] = finiteExtent(image.values);
    const size = Math.max(Math.abs(low), Math.abs(high)) || 1;
    colourOf = pixelColours(image, "grey", [-size, size]);
  }
  const lines: string[] = [];
  for (let y = 0; y < image.height; y += 2) {
    let line = "";
    for (let x = 0; x < image.width; x++) {
      const top = colourOf(y * image.width + x);
      const bottom = y + 1 < image.height ? colourOf((y + 1) * image.width + x) : undefined;
      if (color) {
        const background = bottom ? `48;5;${ansi256(bottom)}` : "49";
        line += `\x1b[38;5;${ansi256(top)};${background}m▀`;
      } else {
        const level = bottom ? (top[0] + bottom[0]) / 2 : top[0];
        line += SHADES[Math.round((level / 255) * (SHADES.length - 1))];
      }
    }
    lines.push(color ? line + "\x1b[0m" : line);
  }
  return lines;
}

/**
 * Draws an `images` event as a grid of small pictures with their labels underneath, as many
 * across as fit the terminal. Large images are shrunk (a 28x28 image becomes 14 columns by 4
 * rows when there are many), tiny ones (3x3 filters) are grown.
 */
export function drawImages(event: ImagesEvent, options: ImageOptions): string[] {
  const { paint, color } = options;
  const lines = [paint(event.title, "bold")];
  if (event.images.length === 0) return [...lines, paint("  (no images)", "dim")];
  event.images.forEach((image, i) => checkImage(image, `images "${event.title}" image ${i}`));
  const widest = Math.max(...event.images.map((image) => image.width));
  const largest = event.images.length > 4 ? 14 : 28;
  const shrink = Math.max(1, Math.ceil(widest / largest));
  const grow = widest < 6 ? Math.floor(6 / widest) : 1;
  const images = event.images.map((image) => resizeImage(image, shrink, grow));
  // A cell is as wide as the widest image, or its label (up to 12 characters) when wider.
  const longestLabel = Math.max(0, ...images.map((image) => [...(image.label ?? "")].length));
  const cellWidth = Math.max(...images.map((image) => image.width), Math.min(longestLabel, 12));
  const gap = 2;
  const fit = Math.max(1, Math.floor((options.width - 2 + gap) / (cellWidth + gap)));
  const perRow = Math.min(fit, event.columns ?? fit, images.length);
  const labelled = images.some((image) => image.label);

  for (let first = 0; first < images.length; first += perRow) {
    const row = images.slice(first, first + perRow);
    const drawn = row.map((image) => imageLines(image, event.colormap ?? "grey", color));
    const height = Math.max(...drawn.map((image) => image.length));
    for (let y = 0; y < height; y++) {
      const parts = drawn.map((image, i) => {
        const left = Math.floor((cellWidth - row[i].width) / 2);
        const right = cellWidth - row[i].width - left;
        return " ".repeat(left) + (image[y] ?? " ".repeat(row[i].width)) + " ".repeat(right);
      });
      lines.push(("  " + parts.join(" ".repeat(gap))).trimEnd());
    }
    if (labelled) {
      const labels = row.map((image) => {
        const text = truncate(image.label ?? "", cellWidth);
        const left = Math.floor((cellWidth - [...text].length) / 2);
        return (" ".repeat(left) + text).padEnd(cellWidth);
      });
      lines.push(paint(("  " + labels.join(" ".repeat(gap))).trimEnd(), "dim"));
    }
  }
  return lines;
}
