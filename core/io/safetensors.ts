/**
 * Saving and loading tensors in the safetensors format, which PyTorch and the rest of the
 * ecosystem read. Loading it never runs code, unlike Python's pickle.
 *
 * ```text
 * 8 bytes   N, the header's length, an unsigned little-endian 64-bit integer
 * N bytes   the header: JSON, padded with spaces so that the data starts at a multiple of 8
 *           {"features.0.weight": {"dtype": "F32", "shape": [8, 1, 3, 3],
 *                                  "data_offsets": [0, 288]},
 *            "__metadata__": {"format": "pt"}}
 * the rest  the tensors' bytes, little-endian, row-major; data_offsets count from here
 * ```
 *
 * {@link encodeSafetensors} and {@link decodeSafetensors} work on plain records
 * (`{dtype, shape, data}`); {@link save} and {@link load} turn a state dict of tensors into
 * bytes and back. Decoding checks the whole header before building anything, so corrupted or
 * truncated input is an error that says what is wrong, never a partial load.
 *
 * @module
 */

import { tensor } from "../creation.ts";
import type { Device } from "../dtype.ts";
import { Tensor } from "../tensor.ts";
import { fetchBytes } from "./idx.ts";
import { readBytes, writeBytes } from "./files.ts";
import { checkOptions } from "../options.ts";

/** The dtypes a record (and a tensor) can have. */
export type SafetensorsDtype = "float32" | "float64" | "int32";

/** The typed array that holds each {@link SafetensorsDtype}. */
export type SafetensorsData = Float32Array | Float64Array | Int32Array;

/** One tensor's values without a tensor: dtype, shape and row-major elements. */
export interface RawTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorsData;
}

/** What {@link decodeSafetensors} returns: the tensors by name and the file's metadata. */
export interface SafetensorsContents {
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

/** The format's names of the dtypes that this project writes. */
const FORMAT_NAME: Record<SafetensorsDtype, string> = {
  float32: "F32",
  float64: "F64",
  int32: "I32",
};

/**
 * The dtypes this project reads: each with its size in the file and the dtype it loads as.
 * I64 (PyTorch's default integer type, e.g. batch norm's `num_batches_tracked`) loads as int32,
 * and F16 / BF16 (half precision) load as float32, so PyTorch checkpoints load as they are.
 */
const READABLE: Record<string, { bytes: number; dtype: SafetensorsDtype }> = {
  F32: { bytes: 4, dtype: "float32" },
  F64: { bytes: 8, dtype: "float64" },
  I32: { bytes: 4, dtype: "int32" },
  I64: { bytes: 8, dtype: "int32" },
  F16: { bytes: 2, dtype: "float32" },
  BF16: { bytes: 2, dtype: "float32" },
};

/** The largest header we accept (the reference implementation's limit, 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/** The key under which the header keeps free-form string metadata. */
const METADATA_KEY = "__metadata__";

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function assertLittleEndianHost(): void {
  // Typed arrays use the host's byte order; every platform Deno and browsers run on is
  // little-endian, like the format. Say so clearly rather than return scrambled numbers.
  if (!LITTLE_ENDIAN_HOST) throw new Error("safetensors: big-endian hosts are not supported");
}

function shapeText(shape: number[]): string {
  return `[${shape.join(", ")}]`;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function typedArrayDtype(data: unknown): SafetensorsDtype | undefined {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Int32Array) return "int32";
  return undefined;
}

/**
 * Encodes named records as the bytes of a safetensors file.
 *
 * @param tensors records by name, written in the object's key order
 * @param metadata optional free-form strings stored under `__metadata__`
 * @returns the file's bytes
 * @throws when a record's data does not match its dtype or shape, or a name is invalid
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors({
 *   "fc.weight": { dtype: "float32", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
 * });
 * const { tensors } = decodeSafetensors(bytes);
 * // tensors["fc.weight"].shape is [2, 2]
 * ```
 */
export function encodeSafetensors(
  tensors: Record<string, RawTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  assertLittleEndianHost();
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== "string") {
        throw new Error(
          `safetensors: metadata "${key}" is ${typeof value}; metadata values must be strings`,
        );
      }
    }
    setEntry(header, METADATA_KEY, { ...metadata });
  }
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, record] of Object.entries(tensors)) {
    if (name === "" || name === METADATA_KEY) {
      throw new Error(`safetensors: "${name}" cannot be a tensor name (empty or reserved)`);
    }
    const { dtype, shape, data } = record;
    if (!(dtype in FORMAT_NAME)) {
      throw new Error(
        `safetensors: tensor "${name}" has dtype "${dtype}"; ` +
          "only float32, float64 and int32 can be saved",
      );
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw new Error(`safetensors: tensor "${name}" has an invalid shape ${String(shape)}`);
    }
    const actual = typedArrayDtype(data);
    if (actual !== dtype) {
      throw new Error(
        `safetensors: tensor "${name}" says dtype ${dtype} but its data is a ` +
          `${data?.constructor?.name ?? typeof data}`,
      );
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new Error(
        `safetensors: tensor "${name}" has shape ${shapeText(shape)} (${size} elements) ` +
          `but ${data.length} values`,
      );
    }
    parts.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    setEntry(header, name, {
      dtype: FORMAT_NAME[dtype],
      shape: [...shape],
      data_offsets: [offset, offset + data.byteLength],
    });
    offset += data.byteLength;
  }

  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so that the tensor data starts on an 8-byte boundary.
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  if (padded !== json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * The first key that appears twice at the top level of a JSON object's text, if any. A small
 * scanner: it tracks the nesting depth and skips over strings, so only the names of the
 * header's entries are compared.
 */
function firstDuplicateKey(json: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let end = i + 1;
      while (end < json.length && json[end] !== '"') end += json[end] === "\\" ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(json.slice(i, end + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === "{" || c === "[") {
      depth++;
      expectKey = c === "{" && depth === 1;
    } else if (c === "}" || c === "]") {
      depth--;
    } else if (c === "," && depth === 1) {
      expectKey = true;
    }
  }
  return undefined;
}

/**
 * Sets `record[key]` as an own property, also for the key "__proto__", which a plain
 * assignment would take as the object's prototype (losing the tensor of that name).
 */
function setEntry<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** A header entry after validation, before its bytes are read. */
interface Entry {
  name: string;
  formatDtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** Parses and checks the JSON header: every entry well-formed, sizes consistent. */
function parseHeader(
  bytes: Uint8Array,
): { entries: Entry[]; metadata: Record<string, string>; dataStart: number } {
  if (bytes.length < 8) {
    throw new Error(
      `safetensors: file has ${bytes.length} bytes, too short for the 8-byte header length ` +
        "(empty or truncated file?)",
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    throw new Error(
      `safetensors: header length ${headerLength} is larger than the ${bytes.length - 8} bytes ` +
        "after it (truncated file, or not a safetensors file?)",
    );
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new Error(`safetensors: header length ${headerLength} exceeds ${MAX_HEADER_BYTES} bytes`);
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart));
    header = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `safetensors: the ${headerLength}-byte header is not valid JSON: ` +
        (error instanceof Error ? error.message : String(error)),
    );
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new Error("safetensors: the header is JSON but not an object of tensors");
  }
  // JSON.parse keeps the last of two equal names without a word: find them in the text.
  const duplicate = firstDuplicateKey(new TextDecoder().decode(bytes.subarray(8, dataStart)));
  if (duplicate !== undefined) {
    throw new Error(
      `safetensors: the header names the tensor "${duplicate}" twice; a file must name each ` +
        `tensor once (corrupted or hand-edited file?)`,
    );
  }

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new Error("safetensors: __metadata__ must be an object of strings");
      }
      for (const [key, text] of Object.entries(value)) {
        if (typeof text !== "string") {
          throw new Error(`safetensors: __metadata__ "${key}" is not a string`);
        }
        setEntry(metadata, key, text);
      }
      continue;
    }
    entries.push(parseEntry(name, value));
  }
  return { entries, metadata, dataStart };
}

function parseEntry(name: string, value: unknown): Entry {
  if (typeof value !== "object" || value === null) {
    throw new Error(`safetensors: header entry "${name}" is not an object`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== "string" || !(dtype in READABLE)) {
    throw new Error(
      `safetensors: tensor "${name}" has unknown dtype ${JSON.stringify(dtype)} ` +
        `(supported: ${Object.keys(READABLE).join(", ")})`,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new Error(
      `safetensors: tensor "${name}" has invalid shape ${JSON.stringify(shape)} ` +
        "(expected an array of whole numbers >= 0)",
    );
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw new Error(
      `safetensors: tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)} ` +
        "(expected [begin, end])",
    );
  }
  const [begin, end] = offsets as number[];
  if (end < begin) {
    throw new Error(
      `safetensors: tensor "${name}" has data_offsets [${begin}, ${end}] that end before ` +
        "they begin",
    );
  }
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  const expected = size * READABLE[dtype].bytes;
  if (end - begin !== expected) {
    throw new Error(
      `safetensors: tensor "${name}" has shape ${shapeText(shape as number[])} of ${dtype} ` +
        `(${expected} bytes) but data_offsets [${begin}, ${end}] hold ${end - begin} bytes`,
    );
  }
  return { name, formatDtype: dtype, shape: shape as number[], begin, end };
}

/** Checks that the entries lie inside the data, do not overlap and leave no gap. */
function checkLayout(entries: Entry[], dataBytes: number): void {
  for (const entry of entries) {
    if (entry.end > dataBytes) {
      throw new Error(
        `safetensors: tensor "${entry.name}" has data_offsets [${entry.begin}, ${entry.end}] ` +
          `out of range: the data section has only ${dataBytes} bytes (truncated file?)`,
      );
    }
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let previous: Entry | undefined;
  let covered = 0;
  for (const entry of sorted) {
    if (entry.begin < covered) {
      throw new Error(
        `safetensors: tensors "${previous?.name}" and "${entry.name}" overlap ` +
          `(data_offsets [${previous?.begin}, ${previous?.end}] and ` +
          `[${entry.begin}, ${entry.end}])`,
      );
    }
    if (entry.begin > covered) {
      throw new Error(
        `safetensors: bytes ${covered}..${entry.begin} of the data belong to no tensor ` +
          `(a gap before "${entry.name}"; corrupted header?)`,
      );
    }
    covered = entry.end;
    previous = entry;
  }
  if (covered !== dataBytes) {
    throw new Error(
      `safetensors: the data section has ${dataBytes} bytes but the tensors account for ` +
        `${covered} (extra bytes at the end; corrupted file?)`,
    );
  }
}

/** Half precision (IEEE binary16) bits to a number. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024); // subnormal or zero
  if (exponent === 31) return fraction === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Reads one entry's bytes into a fresh typed array of the dtype it loads as. */
function readEntry(entry: Entry, data: Uint8Array): RawTensor {
  // slice() copies into a new, aligned buffer, so the result never aliases the file's bytes
  const bytes = data.slice(entry.begin, entry.end);
  const shape = [...entry.shape];
  switch (entry.formatDtype) {
    case "F32":
      return { dtype: "float32", shape, data: new Float32Array(bytes.buffer) };
    case "F64":
      return { dtype: "float64", shape, data: new Float64Array(bytes.buffer) };
    case "I32":
      return { dtype: "int32", shape, data: new Int32Array(bytes.buffer) };
    case "I64": {
      const wide = new BigInt64Array(bytes.buffer);
      const out = new Int32Array(wide.length);
      for (let i = 0; i < wide.length; i++) {
        if (wide[i] > 2147483647n || wide[i] < -2147483648n) {
          throw new Error(
            `safetensors: tensor "${entry.name}" (I64) holds ${wide[i]} at index ${i}, ` +
              "which does not fit in int32",
          );
        }
        out[i] = Number(wide[i]);
      }
      return { dtype: "int32", shape, data: out };
    }
    case "F16": {
      const half = new Uint16Array(bytes.buffer);
      const out = new Float32Array(half.length);
      for (let i = 0; i < half.length; i++) out[i] = halfToNumber(half[i]);
      return { dtype: "float32", shape, data: out };
    }
    case "BF16": {
      // bfloat16 is the upper half of a float32: shift it back into place
      const half = new Uint16Array(bytes.buffer);
      const wide = new Uint32Array(half.length);
      for (let i = 0; i < half.length; i++) wide[i] = half[i] << 16;
      return { dtype: "float32", shape, data: new Float32Array(wide.buffer) };
    }
  }
  throw new Error(`safetensors: tensor "${entry.name}" has unknown dtype ${entry.formatDtype}`);
}

/**
 * Decodes the bytes of a safetensors file into records.
 *
 * F32, F64 and I32 load as float32, float64 and int32; PyTorch's I64 loads as int32 (an error
 * when a value does not fit), F16 and BF16 load as float32.
 *
 * @param bytes the whole file
 * @returns the tensors by name (in the header's order) and the `__metadata__` strings
 * @throws when the input is truncated or corrupted: header length larger than the file, header
 *   not JSON, unknown dtype, shape and byte count that disagree, offsets out of range,
 *   overlapping or leaving gaps. Nothing is returned unless everything checks out.
 */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContents {
  checkBytes("decodeSafetensors", bytes);
  assertLittleEndianHost();
  const { entries, metadata, dataStart } = parseHeader(bytes);
  const data = bytes.subarray(dataStart);
  checkLayout(entries, data.length);
  const tensors: Record<string, RawTensor> = {};
  for (const entry of entries) setEntry(tensors, entry.name, readEntry(entry, data));
  return { tensors, metadata };
}

/** Throws the error for something that should be a file's bytes, pointing to the path form. */
function checkBytes(op: string, bytes: unknown): void {
  if (bytes instanceof Uint8Array) return;
  if (typeof bytes === "string" || bytes instanceof URL) {
    throw new TypeError(
      `${op}: expected the file's bytes (a Uint8Array), got ${
        typeof bytes === "string" ? `the string "${bytes}"` : `the URL ${bytes.href}`
      }; to read a file, give its path or URL to load: ` +
        `const stateDict = await load(${JSON.stringify(String(bytes))})`,
    );
  }
  throw new TypeError(
    `${op}: expected the file's bytes as a Uint8Array, got ${
      bytes instanceof Promise
        ? "a Promise (did you forget await?)"
        : ((bytes as object)?.constructor?.name ?? typeof bytes)
    } (wrap an ArrayBuffer with new Uint8Array(buffer))`,
  );
}

/**
 * Saves a state dict (names to tensors, e.g. `model.stateDict()`) in the safetensors format,
 * which PyTorch loads with the same names, shapes and values: to a file in one call, as
 * `torch.save` (`await save(model.stateDict(), "model.safetensors")`), or, without a path, as
 * the file's bytes (to send, or to keep in memory).
 *
 * Tensors on any device are read back (`await t.data()`); the file records their dtype
 * (float32 as F32, float64 as F64, int32 as I32). A plain path is written through the file
 * system (Deno or Node; Deno needs `--allow-write`); a `file:` URL works too.
 *
 * @param stateDict tensors by name, written in the object's key order
 * @param path where to write the file (optional; then the bytes are returned instead)
 * @param metadata free-form strings for the header's `__metadata__` (default `{format: "pt"}`,
 *   what PyTorch's own safetensors writer records); without a path it may come second
 * @returns the file's bytes (also when written to a path)
 *
 * @example
 * ```ts
 * import { tensor } from "../../mod.ts";
 * import { load, save } from "./safetensors.ts";
 * const bytes = await save({ "fc.weight": tensor([[1, 2], [3, 4]]) });
 * const loaded = load(bytes);
 * console.assert(loaded["fc.weight"].shape.join() === "2,2");
 * ```
 */
export async function save(
  stateDict: Record<string, Tensor>,
  path?: string | URL | Record<string, string>,
  metadata?: Record<string, string>,
): Promise<Uint8Array> {
  const target = typeof path === "string" || path instanceof URL ? path : undefined;
  for (const [what, value] of [["metadata", metadata], ["path or metadata", path]] as const) {
    if (value !== undefined && !(typeof value === "string" || value instanceof URL)) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new TypeError(
          `save: the ${what} must be ${
            what === "metadata" ? "an object of strings" : "a path (string or URL) or an object"
          }, got ${Array.isArray(value) ? "an array" : typeof value}; write ` +
            `save(stateDict, "model.safetensors", { note: "..." })`,
        );
      }
    }
  }
  if (target !== undefined && typeof metadata === "string") {
    throw new TypeError(`save: the metadata must be an object of strings, got a string`);
  }
  if (target === undefined && path !== undefined) {
    if (metadata !== undefined) {
      throw new TypeError(
        `save: the second argument is the file's path (a string or URL), got ${typeof path}; ` +
          `write save(stateDict, "model.safetensors", metadata)`,
      );
    }
    metadata = path as Record<string, string>;
  }
  metadata ??= { format: "pt" };
  if (typeof stateDict !== "object" || stateDict === null || stateDict instanceof Tensor) {
    throw new TypeError(
      `save: the first argument is a state dict (names to tensors, e.g. model.stateDict()), ` +
        `got ${
          stateDict instanceof Tensor ? "a tensor (name it: { weight: t })" : typeof stateDict
        }`,
    );
  }
  const records: Record<string, RawTensor> = {};
  for (const [name, value] of Object.entries(stateDict)) {
    if (!(value instanceof Tensor)) {
      throw new Error(
        `save: state dict entry "${name}" is ${
          value === null ? "null" : typeof value
        }, not a tensor (save takes names mapped to tensors, e.g. model.stateDict())`,
      );
    }
    setEntry(records, name, {
      dtype: value.dtype,
      shape: [...value.shape],
      data: await value.data(),
    });
  }
  const bytes = encodeSafetensors(records, metadata);
  if (target !== undefined) await writeBytes("save", target, bytes);
  return bytes;
}

/** Options of {@link load} and {@link fetchSafetensors}. */
export interface LoadOptions {
  /** Where to put the tensors (default `"cpu"`). */
  device?: Device;
}

/**
 * Loads a safetensors file as a state dict of tensors (for example to pass to
 * `model.loadStateDict`): from a file in one call, as `torch.load`
 * (`await load("model.safetensors")`, a path or a URL, which returns a Promise), or from the
 * file's bytes (synchronously). Files written by PyTorch load as they are: F32, F64 and I32
 * keep their dtype, I64 becomes int32 and F16 / BF16 become float32.
 *
 * @param source a path or URL of the file, or its bytes (a Uint8Array)
 * @param options `device` for the tensors (default `"cpu"`)
 * @returns tensors by name, in the file's order (a Promise of them for a path or URL)
 * @throws when the file is missing, truncated or corrupted (see {@link decodeSafetensors});
 *   nothing is loaded unless the whole file checks out
 */
export function load(source: Uint8Array, options?: LoadOptions): Record<string, Tensor>;
export function load(source: string | URL, options?: LoadOptions): Promise<Record<string, Tensor>>;
export function load(
  source: Uint8Array | string | URL,
  options: LoadOptions = {},
): Record<string, Tensor> | Promise<Record<string, Tensor>> {
  checkOptions("load", arguments, 1, ["device"]);
  if (typeof source === "string" || source instanceof URL) {
    return readBytes("load", source).then((bytes) => {
      try {
        return load(bytes, options);
      } catch (error) {
        throw new Error(`${(error as Error).message} (in ${source})`);
      }
    });
  }
  checkBytes("load", source);
  const { tensors } = decodeSafetensors(source);
  const stateDict: Record<string, Tensor> = {};
  for (const [name, { dtype, shape, data }] of Object.entries(tensors)) {
    setEntry(stateDict, name, tensor(data, { shape, dtype, device: options.device }));
  }
  return stateDict;
}

/**
 * Fetches a safetensors file (a `file:` URL in Deno, `http(s):` in a browser) and loads it as
 * a state dict of tensors, like {@link load}.
 *
 * @throws with the URL in the message when the file is missing or corrupted
 */
export async function fetchSafetensors(
  url: URL | string,
  options: LoadOptions = {},
): Promise<Record<string, Tensor>> {
  checkOptions("fetchSafetensors", arguments, 1, ["device"]);
  const bytes = await fetchBytes(url, "fetchSafetensors");
  try {
    return load(bytes, options);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)} (in ${url})`);
  }
}
