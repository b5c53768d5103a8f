/**
 * A minimal PNG encoder: 8-bit grey or RGB pixels, no filtering, one compressed data chunk.
 *
 * A PNG file is an 8-byte signature followed by chunks. Each chunk is a 4-byte big-endian length,
 * a 4-byte type ("IHDR", "IDAT", "IEND"), the data, and a CRC-32 of type and data. The pixel data
 * is a zlib stream of the image's rows, each row preceded by a filter-type byte (0: none).
 * `CompressionStream("deflate")` produces exactly that zlib format (header, deflate data,
 * Adler-32), and it exists in Deno and in browsers alike, so this file runs in both.
 *
 * @module
 */

/** The eight bytes every PNG file starts with. */
export const PNG_SIGNATURE: Uint8Array = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);

/** CRC-32 lookup table for the polynomial 0xEDB88320 (the one PNG and zip use). */
const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The CRC-32 checksum of `bytes`, as PNG chunks store it. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Compresses `bytes` into the zlib format with the platform's `CompressionStream`. */
export async function zlibCompress(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** One chunk: length, type, data, CRC of type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(12 + data.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) bytes[4 + i] = type.charCodeAt(i);
  bytes.set(data, 8);
  view.setUint32(8 + data.length, crc32(bytes.subarray(4, 8 + data.length)));
  return bytes;
}

/**
 * Encodes pixels as a PNG file.
 *
 * @param width Image width in pixels.
 * @param height Image height in pixels.
 * @param pixels `width * height * channels` bytes, row-major, 0 black to 255 white.
 * @param channels 1 for grey, 3 for RGB.
 * @returns The bytes of the PNG file.
 *
 * @example
 * ```ts
 * import { encodePng } from "./png.ts";
 * const checkerboard = new Uint8Array([0, 255, 255, 0]);
 * const png = await encodePng(2, 2, checkerboard, 1);
 * ```
 */
export async function encodePng(
  width: number,
  height: number,
  pixels: Uint8Array,
  channels: 1 | 3 = 3,
): Promise<Uint8Array> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`encodePng: size ${width}x${height} is not a positive whole number of pixels`);
  }
  if (pixels.length !== width * height * channels) {
    throw new Error(
      `encodePng: expected ${width}x${height}x${channels} = ${width * height * channels} bytes, ` +
        `received ${pixels.length}`,
    );
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bits per channel
  header[9] = channels === 1 ? 0 : 2; // colour type: 0 grey, 2 RGB
  // Bytes 10-12 stay 0: deflate compression, adaptive filtering, no interlacing.

  const rowLength = width * channels;
  const raw = new Uint8Array(height * (rowLength + 1));
  for (let row = 0; row < height; row++) {
    // raw[row * (rowLength + 1)] stays 0: filter type "none" for this row.
    raw.set(pixels.subarray(row * rowLength, (row + 1) * rowLength), row * (rowLength + 1) + 1);
  }
  const parts = [
    PNG_SIGNATURE,
    chunk("IHDR", header),
    chunk("IDAT", await zlibCompress(raw)),
    chunk("IEND", new Uint8Array(0)),
  ];
  const file = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    file.set(part, offset);
    offset += part.length;
  }
  return file;
}

/** Encodes bytes as base64 (for `data:` URLs), in Deno and in browsers. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(binary);
}
