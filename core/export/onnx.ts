/**
 * Export to ONNX, the exchange format that onnxruntime (and most inference engines) run on a
 * server, a phone or in a browser.
 *
 * The model is traced once on an example input (see `trace.ts`): each known layer becomes the
 * ONNX operator that computes the same thing (`Linear` -> `Gemm`, `Conv2d` -> `Conv`, batch norm
 * in evaluation -> `BatchNormalization`, ...), and the tensor ops of a hand-written forward
 * (a residual `add`, a `reshape`, a `mean`) become theirs. The weights are stored in the file
 * under their state-dict names. The batch size is left free, so the file takes any batch.
 *
 * @module
 */
import type { Module } from "../nn/module.ts";
import * as layers from "../nn/layers.ts";
import { fmtShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import type { AttributeJson, NodeJson, TensorJson } from "./onnx_proto.ts";
import { type LayerStep, type Operand, type OpStep, traceModel } from "./trace.ts";

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /** Leave the first dimension of the input and output free (default true). */
  dynamicBatch?: boolean;
  /** The graph input's name (default `"input"`). */
  inputName?: string;
  /** The graph output's name (default `"output"`). */
  outputName?: string;
}

/** The ONNX operator set the files use (opset 17: supported by every current runtime). */
export const ONNX_OPSET = 17;

const FLOAT = 1;
const INT64 = 7;
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 } as const;
/** Attributes that ONNX types as floats even when their value is a whole number. */
const FLOAT_ATTRIBUTES = new Set(["alpha", "epsilon"]);

/**
 * Exports a model to ONNX: the bytes of an `.onnx` file, which onnxruntime (`onnxruntime-web`
 * in a browser or Deno, `onnxruntime` in Python) runs with the same outputs.
 *
 * The model is run once on `exampleInput`, in evaluation mode, and what it computed is written
 * out. Models built from `Linear`, `Conv2d` (any stride, padding, dilation, groups), `MaxPool2d`,
 * `AvgPool2d`, `AdaptiveAvgPool2d`, `BatchNorm1d`/`2d`, `Dropout`, the activation layers (ReLU, LeakyReLU, ELU, GELU, Sigmoid, Tanh, Softmax, ...),
 * `Flatten` and `Sequential` export, and so does a module's own `forward` that combines them
 * with tensor methods (a residual `out.add(shortcut).relu()`, `x.mean([2, 3])`, `x.flatten(1)`).
 * Code that branches on the input's values is recorded for the branch the example took, as in
 * PyTorch's `torch.onnx.export`.
 *
 * @param model the model to export
 * @param exampleInput an input of the shape the model takes, e.g. `zeros([1, 1, 28, 28])`
 * @param options `dynamicBatch` (default true), `inputName`, `outputName`
 * @returns the ONNX file's bytes
 *
 * @example
 * ```ts
 * import { exportOnnx, nn, zeros } from "../../mod.ts";
 * const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
 * const bytes = await exportOnnx(model, zeros([1, 4]));
 * console.assert(bytes.length > 100);
 * // Deno.writeFile("model.onnx", bytes), then run it with onnxruntime
 * ```
 */
export async function exportOnnx(
  model: Module,
  exampleInput: Tensor,
  options: ExportOnnxOptions = {},
): Promise<Uint8Array> {
  const { dynamicBatch = true, inputName = "input", outputName = "output" } = options;
  const trace = traceModel(model, exampleInput, "exportOnnx");
  const graph = new GraphBuilder();
  graph.names.set(trace.input, inputName);
  for (const [tensor, name] of trace.parameters) graph.weight(name, tensor);
  for (const step of trace.steps) {
    const out = step.output === trace.output ? outputName : undefined;
    if (step.kind === "layer") layerNodes(graph, step, out);
    else opNodes(graph, step, out);
  }
  // A model whose output is its input unchanged still needs a node that makes the output.
  if (graph.nameOf(trace.output) !== outputName) {
    graph.node("Identity", [graph.nameOf(trace.output)], {}, "output", outputName);
  }

  const batch = trace.input.shape[0];
  const freeBatch = (shape: readonly number[]) =>
    shape.map((d, i) => (i === 0 && dynamicBatch && d === batch ? "batch" : d));
  const { encodeModel } = await import("./onnx_proto.ts");
  return encodeModel({
    irVersion: 8,
    opsetVersion: ONNX_OPSET,
    producerName: "gradlab",
    producerVersion: "0.1",
    docString: `${model.constructor.name}, exported by exportOnnx`,
    graphName: model.constructor.name,
    nodes: graph.nodes,
    initializers: await graph.initializers(),
    inputs: [{ name: inputName, elemType: FLOAT, shape: freeBatch(trace.input.shape) }],
    outputs: [{ name: outputName, elemType: FLOAT, shape: freeBatch(trace.output.shape) }],
  });
}

/** Collects nodes and weights, and names every value of the graph. */
class GraphBuilder {
  nodes: NodeJson[] = [];
  names = new Map<Tensor, string>();
  #weights = new Map<string, { dims: number[]; values: () => Promise<ArrayLike<number>> }>();
  #int64 = new Map<string, number[]>();
  #counts = new Map<string, number>();

  /** A unique name built from `base`. */
  unique(base: string): string {
    const n = (this.#counts.get(base) ?? 0) + 1;
    this.#counts.set(base, n);
    return n === 1 ? base : `${base}_${n}`;
  }

  /** The name of a value the graph already has. */
  nameOf(t: Tensor): string {
    const name = this.names.get(t);
    if (name === undefined) throw new Error("exportOnnx: a value was used before it was made");
    return name;
  }

  /** A float weight from a tensor (read when the file is written), named `name`. */
  weight(name: string, t: Tensor): string {
    if (!this.#weights.has(name)) {
      this.#weights.set(name, { dims: [...t.shape], values: () => t.data() });
    }
    this.names.set(t, name);
    return name;
  }

  /** A float weight from plain numbers. */
  floats(name: string, dims: number[], values: ArrayLike<number>): string {
    if (!this.#weights.has(name)) {
      this.#weights.set(name, { dims, values: () => Promise.resolve(values) });
    }
    return name;
  }

  /** An int64 vector (a shape or a list of axes), as ONNX wants for those inputs. */
  int64s(base: string, values: number[]): string {
    const name = this.unique(base);
    this.#int64.set(name, values);
    return name;
  }

  /** A scalar float constant. */
  scalar(value: number): string {
    return this.floats(`const_${value}`, [], [value]);
  }

  /** The graph name of an operand: a value, or a number made a constant. */
  operand(x: Operand): string {
    if (typeof x === "number") return this.scalar(x);
    const name = this.names.get(x);
    if (name !== undefined) return name;
    // A constant tensor that forward read (not the input, not a parameter).
    return this.weight(this.unique("constant"), x);
  }

  /** Adds a node; returns the name of its output. */
  node(
    opType: string,
    inputs: string[],
    attrs: Record<string, number | number[]>,
    base: string,
    outputName?: string,
  ): string {
    const output = outputName ?? this.unique(base);
    const attribute: AttributeJson[] = Object.entries(attrs).map(([name, value]) =>
      Array.isArray(value)
        ? { name, type: ATTR.INTS, ints: value }
        : Number.isInteger(value) && !FLOAT_ATTRIBUTES.has(name)
        ? { name, type: ATTR.INT, i: value }
        : { name, type: ATTR.FLOAT, f: value }
    );
    this.nodes.push({
      name: this.unique(`${opType}`),
      opType,
      input: inputs,
      output: [output],
      attribute,
    });
    return output;
  }

  /** The weights as ONNX tensors, float32 little-endian. */
  async initializers(): Promise<TensorJson[]> {
    const out: TensorJson[] = [];
    for (const [name, { dims, values }] of this.#weights) {
      const data = Float32Array.from(await values());
      out.push({ name, dims, dataType: FLOAT, rawData: littleEndianBytes(data) });
    }
    for (const [name, values] of this.#int64) {
      const data = new BigInt64Array(values.map((v) => BigInt(v)));
      out.push({ name, dims: [values.length], dataType: INT64, rawData: littleEndianBytes(data) });
    }
    return out;
  }
}

/** The bytes of a typed array, little-endian (ONNX's raw_data order) on any machine. */
function littleEndianBytes(data: Float32Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(data.byteLength);
  const view = new DataView(bytes.buffer);
  data.forEach((v: number | bigint, i: number) => {
    if (typeof v === "bigint") view.setBigInt64(i * 8, v, true);
    else view.setFloat32(i * 4, v, true);
  });
  return bytes;
}

const pair = (v: number | [number, number]): [number, number] =>
  typeof v === "number" ? [v, v] : [v[0], v[1]];

/** The ONNX nodes of one known layer. */
function layerNodes(graph: GraphBuilder, step: LayerStep, outputName?: string): void {
  const { layer, path, input, output } = step;
  const x = graph.nameOf(input);
  const base = path || "layer";
  let out: string;
  if (layer instanceof layers.Linear) {
    const weight = graph.weight(`${path}.weight`, layer.weight);
    const bias = layer.bias ? [graph.weight(`${path}.bias`, layer.bias)] : [];
    if (input.ndim === 2) {
      out = graph.node("Gemm", [x, weight, ...bias], { transB: 1 }, base, outputName);
    } else {
      // Gemm takes 2-D inputs only: x @ W^T (+ b) for inputs [..., inFeatures].
      const transposed = graph.node("Transpose", [weight], { perm: [1, 0] }, `${base}.weight_t`);
      const product = graph.node(
        "MatMul",
        [x, transposed],
        {},
        base,
        bias.length ? undefined : outputName,
      );
      out = bias.length ? graph.node("Add", [product, bias[0]], {}, base, outputName) : product;
    }
  } else if (layer instanceof layers.Conv2d) {
    const weight = graph.weight(`${path}.weight`, layer.weight);
    const bias = layer.bias ? [graph.weight(`${path}.bias`, layer.bias)] : [];
    const [padH, padW] = layer.padding;
    out = graph.node(
      "Conv",
      [x, weight, ...bias],
      {
        kernel_shape: [...layer.kernelSize],
        strides: [...layer.stride],
        pads: [padH, padW, padH, padW],
        dilations: [...layer.dilation],
        group: layer.groups,
      },
      base,
      outputName,
    );
  } else if (layer instanceof layers.MaxPool2d || layer instanceof layers.AvgPool2d) {
    const kernel = pair(layer.kernelSize);
    const stride = pair(layer.options.stride ?? layer.kernelSize);
    const [padH, padW] = pair(layer.options.padding ?? 0);
    const dilation = pair(layer.options.dilation ?? 1);
    const attrs: Record<string, number | number[]> = {
      kernel_shape: kernel,
      strides: stride,
      pads: [padH, padW, padH, padW],
    };
    if (layer instanceof layers.MaxPool2d) {
      attrs.dilations = dilation;
      out = graph.node("MaxPool", [x], attrs, base, outputName);
    } else {
      if (dilation[0] !== 1 || dilation[1] !== 1) unsupported(step, "a dilated average pooling");
      // Padding counts as zeros in the average, as in PyTorch's default.
      attrs.count_include_pad = 1;
      out = graph.node("AveragePool", [x], attrs, base, outputName);
    }
  } else if (layer instanceof layers.AdaptiveAvgPool2d) {
    const [outH, outW] = pair(layer.outputSize);
    const [h, w] = input.shape.slice(2);
    if (outH === 1 && outW === 1) {
      out = graph.node("GlobalAveragePool", [x], {}, base, outputName);
    } else if (h % outH === 0 && w % outW === 0) {
      const kernel = [h / outH, w / outW];
      out = graph.node(
        "AveragePool",
        [x],
        { kernel_shape: kernel, strides: kernel },
        base,
        outputName,
      );
    } else {
      unsupported(step, `adaptive pooling from ${h}x${w} to ${outH}x${outW} (uneven windows)`);
    }
  } else if (layer instanceof layers.BatchNorm1d || layer instanceof layers.BatchNorm2d) {
    if (!layer.runningMean || !layer.runningVar) {
      unsupported(step, "batch norm without running statistics (trackRunningStats: false)");
    }
    const channels = layer.numFeatures;
    const scale = layer.weight
      ? graph.weight(`${path}.weight`, layer.weight)
      : graph.floats(`${path}.weight`, [channels], new Float32Array(channels).fill(1));
    const shift = layer.bias
      ? graph.weight(`${path}.bias`, layer.bias)
      : graph.floats(`${path}.bias`, [channels], new Float32Array(channels));
    const mean = graph.weight(`${path}.running_mean`, layer.runningMean);
    const variance = graph.weight(`${path}.running_var`, layer.runningVar);
    out = graph.node(
      "BatchNormalization",
      [x, scale, shift, mean, variance],
      { epsilon: layer.eps },
      base,
      outputName,
    );
  } else if (layer instanceof layers.Dropout || layer instanceof layers.Identity) {
    out = graph.node("Identity", [x], {}, base, outputName);
  } else if (layer instanceof layers.ReLU) {
    out = graph.node("Relu", [x], {}, base, outputName);
  } else if (layer instanceof layers.LeakyReLU) {
    out = graph.node("LeakyRelu", [x], { alpha: layer.negativeSlope }, base, outputName);
  } else if (layer instanceof layers.Sigmoid) {
    out = graph.node("Sigmoid", [x], {}, base, outputName);
  } else if (layer instanceof layers.Tanh) {
    out = graph.node("Tanh", [x], {}, base, outputName);
  } else if (layer instanceof layers.GELU) {
    out = geluNodes(graph, x, layer.approximate, base, outputName);
  } else if (layer instanceof layers.ELU) {
    out = graph.node("Elu", [x], { alpha: layer.alpha }, base, outputName);
  } else if (layer instanceof layers.Softmax || layer instanceof layers.LogSoftmax) {
    const axis = layer.dim < 0 ? layer.dim + input.ndim : layer.dim;
    const opType = layer instanceof layers.Softmax ? "Softmax" : "LogSoftmax";
    out = graph.node(opType, [x], { axis }, base, outputName);
  } else if (layer instanceof layers.Flatten) {
    out = flattenNodes(graph, step, x, outputName);
  } else {
    unsupported(step, `the layer ${layer.constructor.name}`);
  }
  graph.names.set(output, out);
}

/** `nn.Flatten(startDim, endDim)`: ONNX's Flatten when it matches, a Reshape otherwise. */
function flattenNodes(graph: GraphBuilder, step: LayerStep, x: string, outputName?: string) {
  const layer = step.layer as layers.Flatten;
  const rank = step.input.ndim;
  const start = layer.startDim < 0 ? layer.startDim + rank : layer.startDim;
  const end = layer.endDim < 0 ? layer.endDim + rank : layer.endDim;
  const base = step.path || "flatten";
  if (start === 1 && end === rank - 1) {
    return graph.node("Flatten", [x], { axis: 1 }, base, outputName);
  }
  // Dimensions before `start` are copied (0), the merged ones become -1, the rest stay.
  const shape = [
    ...step.input.shape.slice(0, start).map(() => 0),
    -1,
    ...step.input.shape.slice(end + 1),
  ];
  return graph.node("Reshape", [x, graph.int64s(`${base}.shape`, shape)], {}, base, outputName);
}

/**
 * GELU in operators of opset 17: exact, `x * (1 + erf(x / sqrt 2)) / 2`, or the tanh form,
 * `x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) / 2`.
 */
function geluNodes(
  graph: GraphBuilder,
  x: string,
  approximate: string,
  base: string,
  outputName?: string,
): string {
  const name = `${base}.gelu`;
  let inner: string;
  if (approximate === "tanh") {
    const cube = graph.node("Mul", [x, graph.node("Mul", [x, x], {}, name)], {}, name);
    const sum = graph.node(
      "Add",
      [x, graph.node("Mul", [cube, graph.scalar(0.044715)], {}, name)],
      {},
      name,
    );
    const u = graph.node("Mul", [sum, graph.scalar(Math.sqrt(2 / Math.PI))], {}, name);
    inner = graph.node("Tanh", [u], {}, name);
  } else {
    inner = graph.node(
      "Erf",
      [graph.node("Div", [x, graph.scalar(Math.SQRT2)], {}, name)],
      {},
      name,
    );
  }
  const onePlus = graph.node("Add", [inner, graph.scalar(1)], {}, name);
  const times = graph.node("Mul", [x, onePlus], {}, name);
  return graph.node("Mul", [times, graph.scalar(0.5)], {}, base, outputName);
}

const ONNX_BINARY: Record<string, string> = {
  add: "Add",
  sub: "Sub",
  mul: "Mul",
  div: "Div",
  pow: "Pow",
  maximum: "Max",
  minimum: "Min",
  matmul: "MatMul",
};

const ONNX_UNARY: Record<string, string> = {
  neg: "Neg",
  exp: "Exp",
  log: "Log",
  sqrt: "Sqrt",
  abs: "Abs",
  relu: "Relu",
  sigmoid: "Sigmoid",
  tanh: "Tanh",
};

/** The ONNX nodes of one tensor op of a forward. */
function opNodes(graph: GraphBuilder, step: OpStep, outputName?: string): void {
  const { op, inputs, output, attrs } = step;
  const names = inputs.map((x) => graph.operand(x));
  let out: string;
  if (op in ONNX_BINARY) {
    out = graph.node(ONNX_BINARY[op], names, {}, op, outputName);
  } else if (op in ONNX_UNARY) {
    out = graph.node(ONNX_UNARY[op], names, {}, op, outputName);
  } else if (op === "gelu") {
    out = geluNodes(graph, names[0], attrs.approximate as string, op, outputName);
  } else if (op === "elu") {
    out = graph.node("Elu", names, { alpha: attrs.alpha as number }, op, outputName);
  } else if (op === "leakyRelu") {
    out = graph.node("LeakyRelu", names, { alpha: attrs.slope as number }, op, outputName);
  } else if (op === "clamp") {
    const bound = (v: unknown) => (typeof v === "number" ? graph.scalar(v) : "");
    out = graph.node("Clip", [names[0], bound(attrs.min), bound(attrs.max)], {}, op, outputName);
  } else if (op === "linear") {
    // a @ b^T (+ bias), as F.linear computes it.
    const transposed = graph.node("Transpose", [names[1]], { perm: [1, 0] }, "transpose");
    if (names.length > 2) {
      const product = graph.node("MatMul", [names[0], transposed], {}, "matmul");
      out = graph.node("Add", [product, names[2]], {}, op, outputName);
    } else out = graph.node("MatMul", [names[0], transposed], {}, op, outputName);
  } else if (op === "reshape") {
    const source = inputs[0] as Tensor;
    const shape = [...(attrs.shape as number[])];
    // Keep the batch free: a first dimension equal to the input's is copied from it (0).
    if (source.ndim > 0 && shape.length > 0 && shape[0] === source.shape[0]) shape[0] = 0;
    out = graph.node("Reshape", [names[0], graph.int64s("shape", shape)], {}, op, outputName);
  } else if (op === "sum") {
    const axes = graph.int64s("axes", attrs.dims as number[]);
    out = graph.node(
      "ReduceSum",
      [names[0], axes],
      { keepdims: attrs.keepdim ? 1 : 0 },
      op,
      outputName,
    );
  } else if (op === "mean") {
    out = graph.node(
      "ReduceMean",
      names,
      {
        axes: attrs.dims as number[],
        keepdims: attrs.keepdim ? 1 : 0,
      },
      op,
      outputName,
    );
  } else if (op === "softmax" || op === "logSoftmax") {
    const opType = op === "softmax" ? "Softmax" : "LogSoftmax";
    out = graph.node(opType, names, { axis: attrs.dim as number }, op, outputName);
  } else if (op === "cat") {
    out = graph.node("Concat", names, { axis: attrs.dim as number }, op, outputName);
  } else {
    throw new Error(
      `exportOnnx: no ONNX operator for the op "${op}" (output of shape ` +
        `${fmtShape(output.shape)})`,
    );
  }
  graph.names.set(output, out);
}

function unsupported(step: LayerStep, what: string): never {
  throw new Error(
    `exportOnnx: cannot export ${what} (layer "${step.path}", input of shape ` +
      `${fmtShape(step.input.shape)})`,
  );
}
