/**
 * Tracing a model: one forward pass on an example input, recorded as a graph of steps that an
 * exporter (ONNX, PyTorch source) writes out one by one.
 *
 * The forward pass runs as usual, with the example input marked as requiring a gradient, so
 * autograd records every op that the input flows through, whatever code the model's `forward`
 * runs (a `Sequential`, a residual block written by hand, `x.add(shortcut).relu()`). Three
 * things are added for the length of the trace, and removed afterwards:
 *
 * - the layers the exporters know (`Linear`, `Conv2d`, pooling, batch norm, activations, ...)
 *   run as one step each: their `forward` is wrapped so that the step is recorded with the
 *   layer itself, whose settings and weights the exporter reads, instead of the dozen smaller
 *   ops a convolution is made of;
 * - the tensor methods that take numbers (`x.mul(2)`, `x.softmax(1)`, `x.mean([2, 3])`) note
 *   their arguments, which the autograd graph does not keep;
 * - the model is put in evaluation mode (dropout off, batch norm on its running statistics),
 *   as PyTorch's exporter does.
 *
 * The graph is then walked back from the output to the input (without recursion), and its
 * steps come out in an order where every value is made before it is used.
 *
 * @module
 */
import { isGradEnabled, record, withNoGrad } from "../autograd.ts";
import { erf } from "../ops/table.ts";
import { fmtShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import * as layers from "../nn/layers.ts";
import { type Module, Sequential } from "../nn/module.ts";

/** The layers that run as one step in a trace (exactly these classes, not subclasses). */
export const TRACED_LAYERS: ReadonlySet<unknown> = new Set<unknown>([
  layers.Linear,
  layers.Conv2d,
  layers.MaxPool2d,
  layers.AvgPool2d,
  layers.AdaptiveAvgPool2d,
  layers.BatchNorm1d,
  layers.BatchNorm2d,
  layers.Dropout,
  layers.ReLU,
  layers.LeakyReLU,
  layers.Sigmoid,
  layers.Tanh,
  layers.GELU,
  layers.ELU,
  layers.Softmax,
  layers.LogSoftmax,
  layers.Identity,
  layers.Flatten,
]);

/** One operand of an op step: a value of the graph, or a plain number (`x.mul(2)`). */
export type Operand = Tensor | number;

/** A known layer applied to one input. */
export interface LayerStep {
  kind: "layer";
  /** The layer, whose settings and weights the exporter reads. */
  layer: Module;
  /** Its dotted name in the model (`features.0`), as in the state dict. */
  path: string;
  input: Tensor;
  output: Tensor;
}

/** A tensor op outside the known layers (a residual addition, a reshape, a mean). */
export interface OpStep {
  kind: "op";
  /** One of the names listed in {@link OP_NAMES}. */
  op: string;
  inputs: Operand[];
  output: Tensor;
  /** Settings of the op: `dims` and `keepdim` of a reduction, `dim` of a softmax, ... */
  attrs: Record<string, unknown>;
}

/** A step of a trace. */
export type TraceStep = LayerStep | OpStep;

/** A call of a `Sequential` during the trace (an exporter may write it as one call). */
export interface SequentialCall {
  module: Sequential;
  path: string;
  input: Tensor;
  output: Tensor;
}

/** What {@link traceModel} returns. */
export interface Trace {
  /** The traced input (a copy of the example input). */
  input: Tensor;
  /** The model's output on it. */
  output: Tensor;
  /** The steps, each after the steps that made its inputs. */
  steps: TraceStep[];
  /** Parameters and buffers read directly by `forward` code (not by a known layer), by name. */
  parameters: Map<Tensor, string>;
  /** Other tensors that the forward pass read: constants of the graph. */
  constants: Tensor[];
  /** The `Sequential` calls, for exporters that keep them as one call. */
  sequentialCalls: SequentialCall[];
}

/** The ops an {@link OpStep} can hold. */
export const OP_NAMES = [
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "maximum",
  "minimum",
  "neg",
  "exp",
  "log",
  "sqrt",
  "abs",
  "relu",
  "sigmoid",
  "tanh",
  "gelu",
  "leakyRelu",
  "elu",
  "clamp",
  "reshape",
  "sum",
  "mean",
  "softmax",
  "logSoftmax",
  "matmul",
  "linear",
  "cat",
] as const;

/** Tensor methods whose numbers a trace notes, with the names of their arguments. */
const NOTED_METHODS: Record<string, string[]> = {
  add: ["other"],
  sub: ["other"],
  mul: ["other"],
  div: ["other"],
  pow: ["other"],
  maximum: ["other"],
  minimum: ["other"],
  clamp: ["min", "max"],
  leakyRelu: ["slope"],
  sum: ["dim", "keepdim"],
  mean: ["dim", "keepdim"],
  softmax: ["dim"],
  logSoftmax: ["dim"],
  matmul: ["other"],
};

/** A noted method call: the tensor it was called on and its arguments. */
interface MethodCall {
  method: string;
  self: Tensor;
  args: unknown[];
}

/** Autograd ops that need no settings: they map one to one onto an op step. */
const PLAIN_OPS = new Set([
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "maximum",
  "minimum",
  "neg",
  "exp",
  "log",
  "sqrt",
  "abs",
  "relu",
  "sigmoid",
  "tanh",
]);

/** Where a user of F.* in a forward should turn instead. */
const LAYER_ADVICE: Record<string, string> = {
  unfold: "F.conv2d and the pooling functions: use nn.Conv2d, nn.MaxPool2d or nn.AvgPool2d",
  conv2d: "F.conv2d: use an nn.Conv2d layer",
  maxPool2d: "F.maxPool2d: use an nn.MaxPool2d layer",
  batchNorm: "F.batchNorm: use an nn.BatchNorm1d or nn.BatchNorm2d layer",
};

/**
 * Runs `model.forward(exampleInput)` once and records it as a graph of steps. The model is in
 * evaluation mode during the trace and gets its own modes back afterwards.
 *
 * @param model the model to trace
 * @param exampleInput an input of the shape the model takes (its values matter only where the
 *   trace has to read a setting from them)
 * @param op the name used in error messages (`exportOnnx`, `toPyTorch`)
 */
export function traceModel(model: Module, exampleInput: Tensor, op = "trace"): Trace {
  if (!(exampleInput instanceof Tensor)) {
    throw new TypeError(`${op}: exampleInput must be a Tensor, got ${typeof exampleInput}`);
  }
  if (!isGradEnabled()) {
    throw new Error(
      `${op}: a trace follows the autograd graph of one forward pass, so it cannot run inside ` +
        `noGrad(); call it outside`,
    );
  }
  const modes = model.modules().map((m) => [m, m.training] as const);
  const layerCalls = new Map<Tensor, LayerStep>();
  const methodCalls = new Map<Tensor, MethodCall>();
  const sequentialCalls: SequentialCall[] = [];
  const undo: (() => void)[] = [];
  try {
    model.eval();
    for (const [path, module] of model.namedModules()) {
      if (TRACED_LAYERS.has(module.constructor)) {
        wrapForward(module, undo, (original) => (input: Tensor) => {
          let output = withNoGrad(() => original(input));
          // Dropout in evaluation and Identity return their input: the step needs its own value.
          if (output === input) output = withNoGrad(() => input.clone());
          record(`layer:${path}`, output, [input], () => [null]);
          layerCalls.set(output, { kind: "layer", layer: module, path, input, output });
          return output;
        });
      } else if (module instanceof Sequential) {
        wrapForward(module, undo, (original) => (input: Tensor) => {
          const output = original(input);
          sequentialCalls.push({ module, path, input, output });
          return output;
        });
      }
    }
    const proto = Tensor.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const method of Object.keys(NOTED_METHODS)) {
      const original = proto[method];
      proto[method] = function (this: Tensor, ...args: unknown[]) {
        const out = original.apply(this, args);
        if (out instanceof Tensor && out !== this) {
          methodCalls.set(out, { method, self: this, args });
        }
        return out;
      };
      undo.push(() => (proto[method] = original));
    }

    const input = exampleInput.detach().clone().requiresGrad_(true);
    const output = model.forward(input);
    if (!(output instanceof Tensor)) {
      throw new Error(`${op}: the model's forward must return one Tensor, got ${typeof output}`);
    }
    const parameterNames = new Map<Tensor, string>();
    for (const [name, t] of [...model.namedParameters(), ...model.namedBuffers()]) {
      parameterNames.set(t, name);
    }
    return walk(op, input, output, layerCalls, methodCalls, parameterNames, sequentialCalls);
  } finally {
    for (const restore of undo.reverse()) restore();
    for (const [module, training] of modes) module.training = training;
  }
}

/** Puts a wrapper around one module's `forward` and notes how to take it off again. */
function wrapForward(
  module: Module,
  undo: (() => void)[],
  wrap: (original: (input: Tensor) => Tensor) => (input: Tensor) => Tensor,
): void {
  const own = Object.getOwnPropertyDescriptor(module, "forward");
  const original = module.forward.bind(module) as (input: Tensor) => Tensor;
  Object.defineProperty(module, "forward", {
    value: wrap(original),
    configurable: true,
    writable: true,
    enumerable: false,
  });
  undo.push(() => {
    if (own) Object.defineProperty(module, "forward", own);
    else delete (module as { forward?: unknown }).forward;
  });
}

/** Walks the graph from the output back to the input and lists the steps inputs-first. */
function walk(
  op: string,
  input: Tensor,
  output: Tensor,
  layerCalls: Map<Tensor, LayerStep>,
  methodCalls: Map<Tensor, MethodCall>,
  parameterNames: Map<Tensor, string>,
  sequentialCalls: SequentialCall[],
): Trace {
  const steps: TraceStep[] = [];
  const parameters = new Map<Tensor, string>();
  const constants: Tensor[] = [];
  const stepOf = new Map<Tensor, TraceStep | null>();
  // An iterative depth-first search: a value is placed after all the values it is made from.
  const stack: { tensor: Tensor; step: TraceStep | null; next: number }[] = [];
  const visit = (tensor: Tensor) => {
    if (stepOf.has(tensor)) return;
    let step: TraceStep | null = null;
    if (tensor === input) {
      // the graph's input
    } else if (tensor.node === null) {
      const name = parameterNames.get(tensor);
      if (name !== undefined) parameters.set(tensor, name);
      else constants.push(tensor);
    } else {
      step = stepFor(op, tensor, layerCalls, methodCalls);
    }
    stepOf.set(tensor, step);
    stack.push({ tensor, step, next: 0 });
  };
  visit(output);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const operands = top.step === null
      ? []
      : top.step.kind === "layer"
      ? [top.step.input]
      : top.step.inputs.filter((x): x is Tensor => x instanceof Tensor);
    if (top.next < operands.length) {
      visit(operands[top.next++]);
    } else {
      stack.pop();
      if (top.step) steps.push(top.step);
    }
  }
  if (!stepOf.has(input)) {
    throw new Error(`${op}: the model's output does not depend on its input`);
  }
  return { input, output, steps, parameters, constants, sequentialCalls };
}

/** The step that made `tensor` (which has an autograd node). */
function stepFor(
  op: string,
  tensor: Tensor,
  layerCalls: Map<Tensor, LayerStep>,
  methodCalls: Map<Tensor, MethodCall>,
): TraceStep {
  const layer = layerCalls.get(tensor);
  if (layer) return layer;
  const call = methodCalls.get(tensor);
  if (call) return methodStep(call, tensor);
  const node = tensor.node!;
  const inputs = node.inputs;
  const opStep = (name: string, attrs: Record<string, unknown> = {}, operands = inputs) => ({
    kind: "op" as const,
    op: name,
    inputs: [...operands],
    output: tensor,
    attrs,
  });
  if (PLAIN_OPS.has(node.op)) return opStep(node.op);
  switch (node.op) {
    case "reshape":
      return opStep("reshape", { shape: [...tensor.shape] });
    case "cat":
      return opStep("cat", { dim: catDim(inputs, tensor) });
    case "matmul":
      return opStep(isTransposedProduct(inputs, tensor) ? "linear" : "matmul");
    case "linear":
      // F.linear with a bias, one fused kernel: input, weight, bias.
      return opStep("linear");
    case "softmax":
    case "logSoftmax":
      return opStep(node.op, { dim: softmaxDim(op, node.op, inputs[0], tensor) });
    case "leakyRelu":
      return opStep("leakyRelu", { slope: leakySlope(op, inputs[0], tensor) });
    case "gelu":
      return opStep("gelu", { approximate: geluForm(inputs[0], tensor) });
    case "elu":
      return opStep("elu", { alpha: eluAlpha(op, inputs[0], tensor) });
  }
  const advice = LAYER_ADVICE[node.op] ??
    "write it with tensor methods (x.add, x.mul, x.mean, x.softmax, ...) or known layers";
  throw new Error(
    `${op}: cannot export the op "${node.op}" (output of shape ${fmtShape(tensor.shape)}) ` +
      `called in a forward: ${advice}`,
  );
}

/** The step of a noted tensor method call. */
function methodStep(call: MethodCall, output: Tensor): OpStep {
  const { method, self, args } = call;
  const step = (op: string, inputs: Operand[], attrs: Record<string, unknown> = {}): OpStep => ({
    kind: "op",
    op,
    inputs,
    output,
    attrs,
  });
  switch (method) {
    case "clamp":
      return step("clamp", [self], { min: args[0], max: args[1] });
    case "leakyRelu":
      return step("leakyRelu", [self], { slope: args[0] ?? 0.01 });
    case "sum":
    case "mean":
      return step(method, [self], {
        dims: normDims(args[0] as number | number[] | undefined, self.ndim),
        keepdim: Boolean(args[1]),
      });
    case "softmax":
    case "logSoftmax":
      return step(method, [self], { dim: normDim(args[0] as number, self.ndim) });
    default:
      return step(method, [self, args[0] as Operand]);
  }
}

function normDim(dim: number, ndim: number): number {
  return dim < 0 ? dim + ndim : dim;
}

function normDims(dim: number | number[] | undefined, ndim: number): number[] {
  if (dim === undefined) return Array.from({ length: ndim }, (_, i) => i);
  return (Array.isArray(dim) ? dim : [dim]).map((d) => normDim(d, ndim));
}

/** The dimension along which `cat` joined its inputs: the one where the output differs. */
function catDim(inputs: Tensor[], output: Tensor): number {
  const first = inputs[0].shape;
  const dim = output.shape.findIndex((size, i) => size !== first[i]);
  return dim === -1 ? 0 : dim;
}

/**
 * Autograd names both `a @ b` and a linear layer's `a @ b^T` "matmul". Their shapes tell them
 * apart, except for a square `b`, where one output value does.
 */
function isTransposedProduct(inputs: Tensor[], output: Tensor): boolean {
  const [a, b] = inputs;
  if (b.ndim !== 2 || a.ndim < 1) return false;
  const [rows, cols] = b.shape;
  const k = a.shape[a.ndim - 1];
  const last = output.shape[output.ndim - 1];
  const plain = k === rows && last === cols;
  const transposed = k === cols && last === rows;
  if (plain !== transposed) return transposed;
  // Square: compare the first output value with row 0 of a times column 0 of b.
  const av = a.dataSync();
  const bv = b.dataSync();
  let plainValue = 0;
  let transposedValue = 0;
  for (let i = 0; i < k; i++) {
    plainValue += av[i] * bv[i * cols];
    transposedValue += av[i] * bv[i];
  }
  const got = output.dataSync()[0];
  return Math.abs(got - transposedValue) < Math.abs(got - plainValue);
}

/**
 * The dimension of an `F.softmax` (or log-softmax): the one along which the softmax of the
 * input gives the output.
 */
function softmaxDim(op: string, kind: string, input: Tensor, output: Tensor): number {
  const x = input.dataSync();
  const y = output.dataSync();
  const fits: number[] = [];
  for (let dim = 0; dim < output.ndim; dim++) {
    const inner = output.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    const size = output.shape[dim];
    let worst = 0;
    for (let start = 0; start < x.length; start++) {
      if (Math.floor(start / inner) % size !== 0) continue;
      // One softmax along `dim`, starting at `start`, stepping by `inner`.
      let largest = -Infinity;
      for (let j = 0; j < size; j++) largest = Math.max(largest, x[start + j * inner]);
      let total = 0;
      for (let j = 0; j < size; j++) total += Math.exp(x[start + j * inner] - largest);
      for (let j = 0; j < size; j++) {
        const shifted = x[start + j * inner] - largest;
        const want = kind === "softmax" ? Math.exp(shifted) / total : shifted - Math.log(total);
        worst = Math.max(worst, Math.abs(want - y[start + j * inner]) / (1 + Math.abs(want)));
      }
    }
    // float32 rounding leaves about 1e-7; another dimension's softmax is off by far more.
    if (worst < 2e-6) fits.push(dim);
  }
  if (fits.length !== 1) {
    throw new Error(
      `${op}: cannot tell the dimension of F.${kind} on shape ${fmtShape(output.shape)}; ` +
        `call it as a method (x.${kind}(dim)) or use the nn.${
          kind === "softmax" ? "Softmax" : "LogSoftmax"
        } layer`,
    );
  }
  return fits[0];
}

/** The slope of an `F.leakyRelu`, read from a negative input and its output. */
function leakySlope(op: string, input: Tensor, output: Tensor): number {
  const x = input.dataSync();
  const y = output.dataSync();
  let best = -1;
  for (let i = 0; i < x.length; i++) if (x[i] < 0 && (best < 0 || x[i] < x[best])) best = i;
  if (best < 0) {
    throw new Error(
      `${op}: cannot read the slope of F.leakyRelu (the example input gives it no negative ` +
        `value); call x.leakyRelu(slope) or use nn.LeakyReLU`,
    );
  }
  return Math.fround(y[best] / x[best]);
}

/** Which GELU made `output` (autograd calls both "gelu"): the exact one or the tanh form. */
function geluForm(input: Tensor, output: Tensor): "none" | "tanh" {
  const x = input.dataSync();
  const y = output.dataSync();
  let exactError = 0;
  let tanhError = 0;
  for (let i = 0; i < Math.min(x.length, 1000); i++) {
    const exact = 0.5 * x[i] * (1 + erf(x[i] / Math.SQRT2));
    const u = Math.sqrt(2 / Math.PI) * (x[i] + 0.044715 * x[i] ** 3);
    const approximate = 0.5 * x[i] * (1 + Math.tanh(u));
    exactError += Math.abs(y[i] - exact);
    tanhError += Math.abs(y[i] - approximate);
  }
  return tanhError < exactError ? "tanh" : "none";
}

/** The alpha of an `F.elu`, read from a negative input and its output. */
function eluAlpha(op: string, input: Tensor, output: Tensor): number {
  const x = input.dataSync();
  const y = output.dataSync();
  let best = -1;
  for (let i = 0; i < x.length; i++) if (x[i] < 0 && (best < 0 || x[i] < x[best])) best = i;
  if (best < 0) {
    throw new Error(
      `${op}: cannot read the alpha of F.elu (the example input gives it no negative value); ` +
        `use the nn.ELU layer`,
    );
  }
  return Math.fround(y[best] / Math.expm1(x[best]));
}
