/**
 * Reading and writing IDX files, the format of MNIST and Fashion-MNIST.
 *
 * An IDX file is a tiny header followed by raw numbers, all big-endian:
 *
 * ```text
 * bytes 0-1   zero
 * byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
 *             0x0D float32, 0x0E float64
 * byte  3     number of dimensions
 * then        one 4-byte size per dimension
 * then        the elements, row-major
 * ```
 *
 * The readers here work on plain bytes, so they run unchanged in Deno and in a
 * browser. Files are loaded with `fetch` (a `file:` URL in Deno, `http(s):` in a
 * browser) and un-gzipped with the built-in `DecompressionStream`.
 *
 * @module
 */

import { tensor } from "../creation.ts";
import type { Tensor } from "../tensor.ts";
import { readBytes } from "./files.ts";
import { checkOptions } from "../options.ts";

/** The element types an IDX file can hold. */
export type IdxDtype = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";

/** The typed array that holds each {@link IdxDtype}. */
export type IdxData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Float32Array
  | Float64Array;

/** The contents of an IDX file: its shape, element type and elements (row-major). */
export interface IdxArray {
  shape: number[];
  dtype: IdxDtype;
  data: IdxData;
}

/** Each IDX type code with its name and size in bytes. */
const IDX_TYPES: Record<number, { dtype: IdxDtype; bytes: number }> = {
  0x08: { dtype: "uint8", bytes: 1 },
  0x09: { dtype: "int8", bytes: 1 },
  0x0b: { dtype: "int16", bytes: 2 },
  0x0c: { dtype: "int32", bytes: 4 },
  0x0d: { dtype: "float32", bytes: 4 },
  0x0e: { dtype: "float64", bytes: 8 },
};

function hex(byte: number): string {
  return "0x" + byte.toString(16).padStart(2, "0");
}

/**
 * Parses the bytes of an (un-gzipped) IDX file.
 *
 * @param bytes the whole file
 * @returns its shape, element type and elements, in a fresh typed array
 * @throws when the magic number is wrong or the file is shorter or longer than its header says
 *
 * @example
 * ```ts
 * import { readIdx } from "./idx.ts";
 * // two uint8 values in one dimension
 * const file = new Uint8Array([0, 0, 0x08, 1, 0, 0, 0, 2, 7, 9]);
 * const { shape, dtype, data } = readIdx(file);
 * // shape [2], dtype "uint8", data Uint8Array [7, 9]
 * ```
 */
export function readIdx(bytes: Uint8Array): IdxArray {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new Error(
      "readIdx: these bytes are gzip-compressed; un-gzip them first (fetchIdx and gunzip do it)",
    );
  }
  if (bytes.length < 4) {
    throw new Error(
      `readIdx: file has ${bytes.length} bytes, too short for the 4-byte magic number`,
    );
  }
  const magic = Array.from(bytes.subarray(0, 4), hex).join(" ");
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(
      `readIdx: bad magic number ${magic}: an IDX file starts with two zero bytes ` +
        "(is this really an IDX file?)",
    );
  }
  const type = IDX_TYPES[bytes[2]];
  if (type === undefined) {
    throw new Error(
      `readIdx: bad magic number ${magic}: unknown element type code ${hex(bytes[2])} ` +
        "(expected 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e)",
    );
  }
  const ndim = bytes[3];
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw new Error(
      `readIdx: file has ${bytes.length} bytes but its header alone needs ${headerBytes} ` +
        `(${ndim} dimensions; truncated file?)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < ndim; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const size = shape.reduce((a, b) => a * b, 1);
  const expected = headerBytes + size * type.bytes;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? "truncated file?" : "trailing bytes?";
    throw new Error(
      `readIdx: file has ${bytes.length} bytes but header promises ${expected} ` +
        `(shape [${shape.join(", ")}] of ${type.dtype}; ${what})`,
    );
  }
  return { shape, dtype: type.dtype, data: readElements(view, headerBytes, size, type.dtype) };
}

/** Copies `size` big-endian elements starting at `offset` into a new typed array. */
function readElements(view: DataView, offset: number, size: number, dtype: IdxDtype): IdxData {
  switch (dtype) {
    case "uint8":
      return new Uint8Array(view.buffer, view.byteOffset + offset, size).slice();
    case "int8":
      return new Int8Array(view.buffer, view.byteOffset + offset, size).slice();
    case "int16": {
      const out = new Int16Array(size);
      for (let i = 0; i < size; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case "int32": {
      const out = new Int32Array(size);
      for (let i = 0; i < size; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case "float32": {
      const out = new Float32Array(size);
      for (let i = 0; i < size; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case "float64": {
      const out = new Float64Array(size);
      for (let i = 0; i < size; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/**
 * Writes an array as the bytes of an IDX file (not gzipped; see {@link gzip}).
 *
 * @param array shape, element type and elements; `data` must match the type and hold
 *   exactly as many elements as the shape says
 * @returns the file's bytes
 */
export function writeIdx(array: IdxArray): Uint8Array {
  const { shape, dtype, data } = array;
  const entry = Object.entries(IDX_TYPES).find(([, t]) => t.dtype === dtype);
  if (entry === undefined) throw new Error(`writeIdx: cannot write unknown dtype "${dtype}"`);
  const [code, type] = [Number(entry[0]), entry[1]];
  if (shape.length > 255) {
    throw new Error(`writeIdx: cannot write ${shape.length} dimensions (at most 255)`);
  }
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0 || dim > 0xffffffff) {
      throw new Error(`writeIdx: shape [${shape.join(", ")}] has a size that is not a uint32`);
    }
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw new Error(
      `writeIdx: shape [${shape.join(", ")}] needs ${size} elements but data has ${data.length}`,
    );
  }
  const headerBytes = 4 + 4 * shape.length;
  const out = new Uint8Array(headerBytes + size * type.bytes);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = shape.length;
  shape.forEach((dim, d) => view.setUint32(4 + 4 * d, dim, false));
  for (let i = 0; i < size; i++) {
    const at = headerBytes + i * type.bytes;
    const value = data[i];
    switch (dtype) {
      case "uint8":
        view.setUint8(at, value);
        break;
      case "int8":
        view.setInt8(at, value);
        break;
      case "int16":
        view.setInt16(at, value, false);
        break;
      case "int32":
        view.setInt32(at, value, false);
        break;
      case "float32":
        view.setFloat32(at, value, false);
        break;
      case "float64":
        view.setFloat64(at, value, false);
        break;
    }
  }
  return out;
}

/** True when `bytes` start with the gzip magic number `1f 8b`. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Pipes bytes through a compression or decompression stream and collects the result. */
async function pipeBytes(
  bytes: Uint8Array,
  stream: CompressionStream | DecompressionStream,
): Promise<Uint8Array> {
  const piped = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(piped).arrayBuffer());
}

/** The most bytes un-gzipping may produce when nothing promises a size (2 GiB). */
export const MAX_GUNZIP_BYTES = 2 ** 31;

/** Raised when un-gzipped data outgrows its cap; not a gzip format error. */
class SizeCapError extends Error {}

/**
 * Un-gzips bytes with the built-in `DecompressionStream` (Deno and browsers), chunk by chunk,
 * stopping as soon as the output passes a cap: a small corrupted or malicious file (a "gzip
 * bomb" expands a few hundred KB into gigabytes) is refused before it fills the memory.
 *
 * @param bytes gzip data
 * @param capOf the most bytes the output may have, given its first bytes (undefined while it
 *   cannot tell yet: an IDX header promises its size); may throw to refuse the data
 * @param maxBytes the cap while `capOf` cannot tell (default {@link MAX_GUNZIP_BYTES})
 * @throws when the bytes are not valid gzip data (for example a truncated download), or when
 *   the output would exceed its cap
 */
export async function gunzip(
  bytes: Uint8Array,
  capOf: (head: Uint8Array) => number | undefined = () => undefined,
  maxBytes = MAX_GUNZIP_BYTES,
): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("gzip"));
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let head = new Uint8Array(0);
  let cap: number | undefined;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
      if (cap === undefined && head.length < HEAD_BYTES) {
        head = concatBytes([head, value.subarray(0, HEAD_BYTES - head.length)]);
        cap = capOf(head);
      }
      const limit = Math.min(cap ?? maxBytes, maxBytes);
      if (total > limit) {
        await reader.cancel();
        throw new SizeCapError(
          `gunzip: the ${bytes.length} compressed bytes expand to more than the ` +
            `${limit} bytes ` + (cap === undefined ? "allowed" : "their header promises") +
            ` (a corrupted file, or a "gzip bomb"); refusing to read further`,
        );
      }
    }
  } catch (error) {
    if (error instanceof SizeCapError || error instanceof IdxError) throw error;
    throw new Error(
      `gunzip: ${bytes.length} bytes are not valid gzip data (truncated or corrupted file?): ` +
        (error instanceof Error ? error.message : String(error)),
    );
  }
  return concatBytes(chunks, total);
}

/** Enough of the start of a file for an IDX header of up to 255 dimensions. */
const HEAD_BYTES = 4 + 4 * 255;

function concatBytes(parts: Uint8Array[], total = parts.reduce((n, p) => n + p.length, 0)) {
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** An error about the IDX contents found while un-gzipping. */
class IdxError extends Error {}

/**
 * The size an IDX file promises in its header, once `head` holds the header (undefined
 * before). Throws at once for data that is not IDX, or that promises more than
 * {@link MAX_GUNZIP_BYTES}.
 */
export function idxPromisedBytes(head: Uint8Array): number | undefined {
  if (head.length < 4) return undefined;
  const type = IDX_TYPES[head[2]];
  if (head[0] !== 0 || head[1] !== 0 || type === undefined) {
    try {
      readIdx(head.subarray(0, 4));
    } catch (error) {
      throw new IdxError((error as Error).message);
    }
  }
  const headerBytes = 4 + 4 * head[3];
  if (head.length < headerBytes) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const shape = Array.from({ length: head[3] }, (_, d) => view.getUint32(4 + 4 * d, false));
  const promised = headerBytes + shape.reduce((a, b) => a * b, 1) * type.bytes;
  if (promised > MAX_GUNZIP_BYTES) {
    throw new IdxError(
      `readIdx: the header promises ${promised} bytes (shape [${shape.join(", ")}] of ` +
        `${type.dtype}), more than the ${MAX_GUNZIP_BYTES} this reader accepts (corrupted file?)`,
    );
  }
  return promised;
}

/** Gzips bytes with the built-in `CompressionStream` (Deno and browsers). */
export function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  return pipeBytes(bytes, new CompressionStream("gzip"));
}

/**
 * Fetches the bytes at a URL (`file:` in Deno, `http(s):` anywhere), with an error that names
 * the URL when it cannot be read.
 */
export function fetchBytes(url: URL | string, op = "fetch"): Promise<Uint8Array> {
  // A plain path ("data/train.csv") is read from the file system where there is one.
  return readBytes(op, url);
}

/**
 * Fetches an IDX file and parses it; gzip-compressed files (magic `1f 8b`) are un-gzipped
 * first, whatever their name.
 *
 * @param url where the file is: a `file:` URL in Deno, an `http(s):` URL in a browser
 * @returns shape, element type and elements
 * @throws with the URL in the message when the file is missing, not gzip or not IDX
 */
export async function fetchIdx(url: URL | string): Promise<IdxArray> {
  let bytes = await fetchBytes(url, "fetchIdx");
  try {
    // Un-gzipped no further than the size the IDX header promises.
    if (isGzip(bytes)) bytes = await gunzip(bytes, idxPromisedBytes);
    return readIdx(bytes);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`fetchIdx: ${message.replace(/^readIdx: /, "")} (in ${url})`);
  }
}

/** The ten Fashion-MNIST classes, indexed by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
]);

/** Options of {@link loadFashionMnist}. */
export interface FashionMnistOptions {
  /** `true` for the training images, `false` for the test (`t10k`) images. */
  train: boolean;
  /** Keep only the first `limit` images (in file order). */
  limit?: number;
}

/** Fashion-MNIST as plain typed arrays: what {@link loadFashionMnistArrays} returns. */
export interface FashionMnistArrays {
  /** `count * 28 * 28` pixels in [0, 1], row-major (one image after another). */
  images: Float32Array;
  /** `count` class indices in 0..9. */
  labels: Int32Array;
  /** Number of images. */
  count: number;
  /** Rows of each image (28 for Fashion-MNIST). */
  height: number;
  /** Columns of each image (28 for Fashion-MNIST). */
  width: number;
  /** The class names, indexed by label. */
  classNames: string[];
}

/** Fashion-MNIST as tensors: what {@link loadFashionMnist} returns. */
export interface FashionMnist {
  /** float32 `[N, 1, 28, 28]`, pixels scaled to [0, 1]. */
  images: Tensor;
  /** int32 `[N]`, class indices in 0..9. */
  labels: Tensor;
  /** The class names, indexed by label. */
  classNames: string[];
}

/** The four standard file names of (Fashion-)MNIST. */
export function fashionMnistFileNames(train: boolean): { images: string; labels: string } {
  const prefix = train ? "train" : "t10k";
  return {
    images: `${prefix}-images-idx3-ubyte.gz`,
    labels: `${prefix}-labels-idx1-ubyte.gz`,
  };
}

/** A folder URL that ends with `/`, so that names resolve inside it. */
function folderUrl(baseUrl: URL | string): URL {
  const base = new URL(baseUrl);
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  return base;
}

/** Fetches `name` in a folder; falls back to the un-gzipped name when the `.gz` is missing. */
async function fetchIdxInFolder(base: URL, name: string): Promise<IdxArray> {
  try {
    return await fetchIdx(new URL(name, base));
  } catch (gzError) {
    const plain = name.replace(/\.gz$/, "");
    try {
      return await fetchIdx(new URL(plain, base));
    } catch {
      throw new Error(
        `fashion-mnist: cannot load ${name} (or ${plain}) from ${base}: ` +
          `${gzError instanceof Error ? gzError.message : String(gzError)}. ` +
          "The folder must hold the four standard files (train-images-idx3-ubyte.gz, " +
          "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz).",
      );
    }
  }
}

/**
 * Loads Fashion-MNIST (or MNIST) from a folder of the four standard IDX files, as typed arrays.
 *
 * @param baseUrl the folder, as a URL (`file:` in Deno, `http(s):` in a browser)
 * @param options `train` picks the training or the test files; `limit` keeps the first images
 * @returns pixels scaled to [0, 1], int32 labels, the count and the class names
 * @throws when a file is missing, corrupted, or the images and labels do not match
 */
export async function loadFashionMnistArrays(
  baseUrl: URL | string,
  options: FashionMnistOptions,
): Promise<FashionMnistArrays> {
  checkOptions("loadFashionMnistArrays", arguments, 1, ["train", "limit"]);
  if (typeof options?.train !== "boolean") {
    throw new TypeError(
      `loadFashionMnist: say which half to load: { train: true } (60,000 training images) ` +
        `or { train: false } (10,000 test images)`,
    );
  }
  const base = folderUrl(baseUrl);
  const names = fashionMnistFileNames(options.train);
  const [images, labels] = await Promise.all([
    fetchIdxInFolder(base, names.images),
    fetchIdxInFolder(base, names.labels),
  ]);
  const imageShape = `[${images.shape.join(", ")}] ${images.dtype}`;
  if (images.dtype !== "uint8" || images.shape.length !== 3) {
    throw new Error(
      `fashion-mnist: ${names.images} holds ${imageShape}, expected uint8 [N, height, width]`,
    );
  }
  if (labels.dtype !== "uint8" || labels.shape.length !== 1) {
    throw new Error(
      `fashion-mnist: ${names.labels} holds [${labels.shape.join(", ")}] ${labels.dtype}, ` +
        "expected uint8 [N]",
    );
  }
  if (images.shape[0] !== labels.shape[0]) {
    throw new Error(
      `fashion-mnist: ${names.images} has ${images.shape[0]} images but ` +
        `${names.labels} has ${labels.shape[0]} labels`,
    );
  }
  let count = images.shape[0];
  if (options.limit !== undefined) {
    if (!Number.isInteger(options.limit) || options.limit < 0) {
      throw new Error(`fashion-mnist: limit must be a whole number >= 0, got ${options.limit}`);
    }
    count = Math.min(count, options.limit);
  }
  const pixelsPerImage = images.shape[1] * images.shape[2];
  const pixels = new Float32Array(count * pixelsPerImage);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i] / 255;
  const classes = new Int32Array(labels.data.subarray(0, count));
  for (let i = 0; i < count; i++) {
    if (classes[i] >= FASHION_MNIST_CLASSES.length) {
      throw new Error(
        `fashion-mnist: label ${classes[i]} at index ${i} of ${names.labels} is not a class ` +
          `index (expected 0..${FASHION_MNIST_CLASSES.length - 1})`,
      );
    }
  }
  return {
    images: pixels,
    labels: classes,
    count,
    height: images.shape[1],
    width: images.shape[2],
    classNames: [...FASHION_MNIST_CLASSES],
  };
}

/**
 * Loads Fashion-MNIST from a folder of the four standard IDX files, as tensors.
 *
 * The shipped subset is in `lessons/data/fashion-mnist/`; the full set installs with Debian's
 * `dataset-fashion-mnist` under `/usr/share/datasets/fashion-mnist`.
 *
 * @param baseUrl the folder, as a URL (`file:` in Deno, `http(s):` in a browser)
 * @param options `train` picks the training or the test files; `limit` keeps the first images
 * @returns images float32 `[N, 1, 28, 28]` in [0, 1], labels int32 `[N]`, and the class names
 *
 * @example
 * ```ts ignore
 * const folder = new URL("../../lessons/data/fashion-mnist/", import.meta.url);
 * const { images, labels, classNames } = await loadFashionMnist(folder, { train: false });
 * images.shape; // [2000, 1, 28, 28]
 * ```
 */
export async function loadFashionMnist(
  baseUrl: URL | string,
  options: FashionMnistOptions,
): Promise<FashionMnist> {
  checkOptions("loadFashionMnist", arguments, 1, ["train", "limit"]);
  const { images, labels, count, height, width, classNames } = await loadFashionMnistArrays(
    baseUrl,
    options,
  );
  return {
    images: tensor(images, { shape: [count, 1, height, width], dtype: "float32" }),
    labels: tensor(labels, { shape: [count], dtype: "int32" }),
    classNames,
  };
}
