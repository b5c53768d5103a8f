/**
 * Images of a lesson's `images` outputs as PNG data URLs, so a page shows filters, feature maps
 * and samples without any extra file. The colours are the terminal runner's
 * (`lessons/render/images.ts`); the PNG is encoded synchronously with `fast-png`, so components
 * render in one pass, on the server and in the browser.
 *
 * @module
 */
import { encode } from "fast-png";
import type { ImageData2D } from "../../lessons/format.ts";
import { type Colormap, imagePixels } from "../../lessons/render/images.ts";
import { toBase64 } from "../../lessons/render/png.ts";

/** Encodes an image as a `data:image/png;base64,...` URL with the given colormap. */
export function imageDataUrl(image: ImageData2D, colormap: Colormap = "grey"): string {
  const pixels = imagePixels(image, colormap);
  const png = encode({ width: image.width, height: image.height, data: pixels, channels: 3 });
  return `data:image/png;base64,${toBase64(png)}`;
}
