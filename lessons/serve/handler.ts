/**
 * The inference server's request handling, apart from the network code (`main.ts` starts the
 * server), so that tests and other servers can use it as a plain `Request -> Response` function.
 *
 * - `POST /predict` with one image, as JSON (`application/json`: 28 rows of 28 numbers in
 *   [0, 1], or 784 numbers, optionally as `{"image": ...}`) or as a PNG (`image/png`: 28x28,
 *   grey or colour, 8 or 16 bits): answers the class probabilities.
 * - `GET /health`: answers that the server is up, and which model it serves.
 *
 * Every request is checked before the model sees it. A bad one gets a 4xx status and a JSON
 * body `{"error": "..."}` that says what was wrong: 400 for a body that is not an image of the
 * right size, 404 for an unknown path, 405 for a wrong method, 413 for a body over the limit
 * (1 MB by default, 100 kB for a PNG), 415 for a content type other than JSON or PNG.
 *
 * @module
 */
import { decode as decodePng } from "fast-png";
import { type nn, tensor, withNoGrad } from "../../mod.ts";
import type { ModelConfig } from "./model.ts";

/** Options of {@link createHandler}. */
export interface HandlerOptions {
  /** The largest request body accepted, in bytes (default 1 MB). */
  maxBodyBytes?: number;
  /** The most images run through the model as one batch (default 64; 1 turns batching off). */
  maxBatch?: number;
}

/**
 * What the handler serves: a model (in evaluation mode) and what the server says about it. A
 * model loaded by `loadServedModel` fits, and so does a model just trained, with
 * `{ model, config: { name, input: [1, 28, 28], classes } }`.
 */
export interface ServableModel {
  model: nn.Module;
  config: Pick<ModelConfig, "name" | "input" | "classes">;
}

/** What `POST /predict` answers. */
export interface Prediction {
  /** The most likely class's name. */
  prediction: string;
  /** Its index. */
  index: number;
  /** The probability of each class, in the order of `classes`. */
  probabilities: number[];
  /** The class names. */
  classes: string[];
}

/** The largest PNG accepted, in bytes. */
const MAX_PNG_BYTES = 100_000;

/** The eight bytes every PNG file starts with. */
const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** A request the server refuses, with its status and the message for the client. */
class BadRequest extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });

/** The request handler for `served`: `(request) => response`, for `Deno.serve`. */
export function createHandler(
  served: ServableModel,
  options: HandlerOptions = {},
): (request: Request) => Promise<Response> {
  const maxBodyBytes = options.maxBodyBytes ?? 1_000_000;
  const { config, model } = served;
  const [channels, height, width] = config.input;
  if (config.input.length !== 3 || channels !== 1) {
    throw new Error(
      `serve: the server takes grey images; the model's input is [${config.input}], not ` +
        `[1, height, width]`,
    );
  }

  const batcher = new Batcher(model, [channels, height, width], options.maxBatch ?? 64);

  async function predict(request: Request): Promise<Response> {
    const type = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "application/json" && type !== "image/png") {
      throw new BadRequest(
        415,
        `the body must be JSON (Content-Type: application/json) or a PNG image ` +
          `(Content-Type: image/png), got ${type ? `"${type}"` : "no Content-Type"}`,
      );
    }
    // A PNG is compressed: a small file can inflate a thousandfold, so its limit is lower (a
    // 28x28 PNG takes a few hundred bytes).
    const limit = type === "image/png" ? Math.min(maxBodyBytes, MAX_PNG_BYTES) : maxBodyBytes;
    const body = await readBody(request, limit);
    const pixels = type === "image/png"
      ? pngPixels(body, height, width)
      : jsonPixels(body, height, width);
    const probabilities = await batcher.predict(pixels);
    let index = 0;
    probabilities.forEach((p, i) => (index = p > probabilities[index] ? i : index));
    const answer: Prediction = {
      prediction: config.classes[index],
      index,
      probabilities,
      classes: config.classes,
    };
    return json(answer);
  }

  return async (request: Request): Promise<Response> => {
    const path = new URL(request.url).pathname;
    try {
      if (path === "/predict") {
        if (request.method !== "POST") {
          throw new BadRequest(405, `use POST for /predict, not ${request.method}`);
        }
        return await predict(request);
      }
      if (path === "/health") {
        if (request.method !== "GET" && request.method !== "HEAD") {
          throw new BadRequest(405, `use GET for /health, not ${request.method}`);
        }
        return json({
          status: "ok",
          model: config.name,
          input: config.input,
          classes: config.classes,
        });
      }
      throw new BadRequest(404, `no such endpoint ${path}: use POST /predict or GET /health`);
    } catch (error) {
      if (error instanceof BadRequest) {
        const allow: Record<string, string> = error.status === 405
          ? { allow: path === "/predict" ? "POST" : "GET, HEAD" }
          : {};
        return json({ error: error.message }, error.status, allow);
      }
      // Not the client's fault: say so without the details (they go to the server's log).
      console.error(error);
      return json({ error: "internal error while predicting" }, 500);
    }
  };
}

/**
 * Dynamic batching, as inference servers do it: an image goes through the model at once when the
 * model is idle; the images of the requests that arrive while it is busy wait, then go through it
 * together as one batch. One forward pass of 32 images costs much less than 32 passes of one, and each
 * image's probabilities are the same either way.
 */
class Batcher {
  #waiting: {
    pixels: Float32Array;
    resolve: (p: number[]) => void;
    reject: (e: unknown) => void;
  }[] = [];
  /** Whether a batch is running; requests that arrive meanwhile wait for the next one. */
  #busy = false;

  constructor(
    readonly model: nn.Module,
    readonly itemShape: number[],
    readonly maxBatch: number,
  ) {}

  /** The class probabilities of one image. */
  predict(pixels: Float32Array): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ pixels, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#busy || this.#waiting.length === 0) return;
    this.#busy = true;
    // After the current task: the requests of this turn of the event loop join the batch.
    queueMicrotask(() => this.#run());
  }

  async #run(): Promise<void> {
    const batch = this.#waiting.splice(0, this.maxBatch);
    try {
      const size = this.itemShape.reduce((a, b) => a * b, 1);
      const pixels = new Float32Array(batch.length * size);
      batch.forEach((item, i) => pixels.set(item.pixels, i * size));
      // On the model's device (a model on WebGPU gets its batch uploaded there).
      const device = this.model.parameters()[0]?.device ?? "cpu";
      const input = tensor(pixels, { shape: [batch.length, ...this.itemShape] }).to(device);
      const output = withNoGrad(() => this.model.forward(input).softmax(1));
      const values = await output.data();
      const classes = output.shape[1];
      batch.forEach((item, i) =>
        item.resolve(Array.from(values.subarray(i * classes, (i + 1) * classes)))
      );
    } catch (error) {
      for (const item of batch) item.reject(error);
    } finally {
      this.#busy = false;
      this.#schedule();
    }
  }
}

/** Reads the body, refusing (413) one over `limit` bytes without reading it all. */
async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new BadRequest(413, `the body is over the limit of ${limit.toLocaleString("en")} bytes`);
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge();
  if (!request.body) throw new BadRequest(400, "the body is empty: send an image");
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) {
        await reader.cancel();
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof BadRequest) throw error;
    throw new BadRequest(400, `the body could not be read: ${(error as Error).message}`);
  }
  if (size === 0) throw new BadRequest(400, "the body is empty: send an image");
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

/** The pixels of a JSON image: rows of numbers, or one flat list, in [0, 1]. */
function jsonPixels(body: Uint8Array, height: number, width: number): Float32Array {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch (error) {
    throw new BadRequest(400, `the body is not valid JSON: ${(error as Error).message}`);
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    if (!("image" in value)) {
      throw new BadRequest(
        400,
        `expected a JSON array of pixels, or an object {"image": [...]}; this object has ` +
          `no "image" field`,
      );
    }
    value = (value as { image: unknown }).image;
  }
  const size = `${height}x${width}`;
  if (!Array.isArray(value)) {
    throw new BadRequest(400, `expected a ${size} image as a JSON array, got ${typeName(value)}`);
  }
  const pixels = new Float32Array(height * width);
  const put = (v: unknown, i: number, where: string) => {
    if (typeof v !== "number") {
      throw new BadRequest(400, `pixel ${where} is not a number (got ${typeName(v)})`);
    }
    if (!(v >= 0 && v <= 1)) {
      throw new BadRequest(
        400,
        `pixel ${where} is ${v}, outside [0, 1] (divide 0-255 values by 255)`,
      );
    }
    pixels[i] = v;
  };
  if (value.length === height * width && !value.some(Array.isArray)) {
    value.forEach((v, i) => put(v, i, `[${i}]`));
    return pixels;
  }
  if (value.length !== height) {
    throw new BadRequest(
      400,
      `expected a ${size} image (${height} rows of ${width} numbers, or ${height * width} ` +
        `numbers), got ${value.length} ${Array.isArray(value[0]) ? "rows" : "numbers"}`,
    );
  }
  value.forEach((row, r) => {
    if (!Array.isArray(row)) {
      throw new BadRequest(400, `row ${r} is not an array of numbers (got ${typeName(row)})`);
    }
    if (row.length !== width) {
      throw new BadRequest(
        400,
        `expected a ${size} image: row ${r} has ${row.length} numbers, not ${width}`,
      );
    }
    row.forEach((v, c) => put(v, r * width + c, `[${r}][${c}]`));
  });
  return pixels;
}

/** The pixels of a PNG, as grey values in [0, 1] (colour is averaged, alpha ignored). */
function pngPixels(body: Uint8Array, height: number, width: number): Float32Array {
  // The size is in the header (IHDR, the first chunk): check it before decoding, so that a small
  // file that claims to be 100,000 pixels wide is refused instead of filling the memory.
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const isPng = body.length >= 24 && PNG_SIGNATURE.every((byte, i) => body[i] === byte) &&
    String.fromCharCode(...body.subarray(12, 16)) === "IHDR";
  if (!isPng) {
    throw new BadRequest(400, "the body is not a valid PNG image (no PNG signature and header)");
  }
  const [pngWidth, pngHeight] = [view.getUint32(16), view.getUint32(20)];
  if (pngWidth !== width || pngHeight !== height) {
    throw new BadRequest(
      400,
      `expected a ${height}x${width} image, got a PNG of ${pngHeight}x${pngWidth} ` +
        `(height x width)`,
    );
  }
  let image: ReturnType<typeof decodePng>;
  try {
    image = decodePng(body);
  } catch (error) {
    throw new BadRequest(400, `the body is not a valid PNG image: ${(error as Error).message}`);
  }
  if (image.palette) {
    throw new BadRequest(400, "palette PNGs are not supported: save the image as grey or RGB");
  }
  const max = 2 ** image.depth - 1;
  const colours = image.channels >= 3 ? 3 : 1;
  const pixels = new Float32Array(height * width);
  for (let i = 0; i < pixels.length; i++) {
    let total = 0;
    for (let k = 0; k < colours; k++) total += image.data[i * image.channels + k];
    pixels[i] = total / colours / max;
  }
  return pixels;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") {
    return `the string ${JSON.stringify(value.length > 20 ? value.slice(0, 20) + "..." : value)}`;
  }
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}
