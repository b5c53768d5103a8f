/**
 * A served model is two files: its weights (safetensors) and a small JSON config that says how
 * to build the network, what input it takes and what its classes are called.
 *
 * ```json
 * {
 *   "name": "fashion-cnn",
 *   "weights": "fashion-cnn.safetensors",
 *   "input": [1, 28, 28],
 *   "classes": ["T-shirt/top", "Trouser", ...],
 *   "layers": [["Conv2d", 1, 16, 3, { "padding": 1 }], ["ReLU"], ["MaxPool2d", 2], ...]
 * }
 * ```
 *
 * Each entry of `layers` is a layer's class name followed by its constructor's arguments, as
 * they would be written in TypeScript (`["Conv2d", 1, 16, 3, { "padding": 1 }]` is
 * `new nn.Conv2d(1, 16, 3, { padding: 1 })`); the layers run one after the other, as an
 * `nn.Sequential`. Only the layers that `exportOnnx` knows are accepted, so a served model can
 * also be exported.
 *
 * Files are read with `fetch`, which reads `file:` URLs in Deno and `http(s):` URLs in a
 * browser, so the site can load the same model.
 *
 * @module
 */
import { load, nn, withNoGrad, zeros } from "../../mod.ts";

/** One layer: its class name, then its constructor's arguments. */
export type LayerSpec = [string, ...unknown[]];

/** The JSON config of a served model. */
export interface ModelConfig {
  /** A short name, shown by `GET /health`. */
  name: string;
  /** One line about the model (optional). */
  description?: string;
  /** The weights' file name, relative to the config file. */
  weights: string;
  /** The shape of one input, without the batch: `[1, 28, 28]` for a grey 28x28 image. */
  input: number[];
  /** The class names, in the order of the model's outputs. */
  classes: string[];
  /** The layers, run in order. */
  layers: LayerSpec[];
  /** Accuracy on the held-out test images, when the training script measured it. */
  testAccuracy?: number;
}

/** A model ready to serve: its config and the network with its weights loaded. */
export interface ServedModel {
  config: ModelConfig;
  model: nn.Sequential;
}

/** The layers a config may use (those that `exportOnnx` and `toPyTorch` know). */
const LAYERS: Record<string, new (...args: never[]) => nn.Module> = {
  Linear: nn.Linear,
  Conv2d: nn.Conv2d,
  MaxPool2d: nn.MaxPool2d,
  AvgPool2d: nn.AvgPool2d,
  AdaptiveAvgPool2d: nn.AdaptiveAvgPool2d,
  BatchNorm1d: nn.BatchNorm1d,
  BatchNorm2d: nn.BatchNorm2d,
  Dropout: nn.Dropout,
  ReLU: nn.ReLU,
  LeakyReLU: nn.LeakyReLU,
  Sigmoid: nn.Sigmoid,
  Tanh: nn.Tanh,
  GELU: nn.GELU,
  ELU: nn.ELU,
  Softmax: nn.Softmax,
  LogSoftmax: nn.LogSoftmax,
  Identity: nn.Identity,
  Flatten: nn.Flatten,
};

/** Builds the network that `layers` describes (with fresh weights). */
export function buildModel(layers: LayerSpec[]): nn.Sequential {
  return new nn.Sequential(
    ...layers.map((spec, i) => {
      const [name, ...args] = spec;
      const Layer = LAYERS[name];
      if (!Layer) {
        throw new Error(
          `model config: layer ${i} is "${name}", which is not one of ${
            Object.keys(LAYERS).join(", ")
          }`,
        );
      }
      return new Layer(...(args as never[]));
    }),
  );
}

/** Checks a parsed config and returns it typed; the error says which field is wrong. */
export function checkConfig(value: unknown, source: string): ModelConfig {
  const fail = (what: string): never => {
    throw new Error(`model config ${source}: ${what}`);
  };
  if (typeof value !== "object" || value === null) fail("expected a JSON object");
  const config = value as Record<string, unknown>;
  if (typeof config.name !== "string") fail(`"name" must be a string`);
  if (typeof config.weights !== "string") fail(`"weights" must be a file name`);
  const input = config.input;
  if (!Array.isArray(input) || !input.every((d) => Number.isInteger(d) && d > 0)) {
    fail(`"input" must be the shape of one input, e.g. [1, 28, 28]`);
  }
  const classes = config.classes;
  if (!Array.isArray(classes) || !classes.every((c) => typeof c === "string")) {
    fail(`"classes" must be a list of class names`);
  }
  const layers = config.layers;
  if (
    !Array.isArray(layers) || layers.length === 0 ||
    !layers.every((l) => Array.isArray(l) && typeof l[0] === "string")
  ) {
    fail(`"layers" must be a list of [className, ...arguments] entries`);
  }
  return config as unknown as ModelConfig;
}

/**
 * Loads a served model: the config at `configUrl`, then the weights file it names (beside it).
 * The model comes back in evaluation mode.
 */
export async function loadServedModel(configUrl: URL | string): Promise<ServedModel> {
  const url = new URL(configUrl);
  const config = checkConfig(await (await fetchOk(url)).json(), url.pathname);
  const model = buildModel(config.layers);
  const weightsUrl = new URL(config.weights, url);
  const bytes = new Uint8Array(await (await fetchOk(weightsUrl)).arrayBuffer());
  model.loadStateDict(load(bytes));
  model.eval();
  // A blank input checks that the layers fit the input shape and the number of classes.
  const outputs = withNoGrad(() => model.forward(zeros([1, ...config.input]))).shape;
  if (outputs.length !== 2 || outputs[1] !== config.classes.length) {
    throw new Error(
      `model config ${url.pathname}: the model gives outputs of shape [${outputs}] for one ` +
        `input, but ${config.classes.length} classes are named`,
    );
  }
  return { config, model };
}

async function fetchOk(url: URL): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`cannot read ${decodeURI(url.pathname)}: ${(error as Error).message}`);
  }
  if (!response.ok) {
    throw new Error(`cannot read ${decodeURI(url.pathname)}: HTTP ${response.status}`);
  }
  return response;
}
