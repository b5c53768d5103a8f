/**
 * Export to PyTorch: the Python source of an equivalent `torch.nn.Module` and its weights as
 * safetensors, so that a model trained here carries on in PyTorch (bigger machines, distributed
 * training, the rest of its ecosystem).
 *
 * The module tree is written out layer by layer with PyTorch's constructors, under the same
 * names, so the state dict loads as it is (`features.0.weight` is `features.0.weight` in both).
 * The computation of a model with its own `forward` is read from a trace of one forward pass
 * (see `trace.ts`) and written out as the top-level module's `forward`, one line a step; a
 * `Sequential` of known layers stays one call.
 *
 * @module
 */
import { save } from "../io/safetensors.ts";
import { withNoGrad } from "../autograd.ts";
import { type Module, ModuleList, Sequential, type StateDict } from "../nn/module.ts";
import * as layers from "../nn/layers.ts";
import type { Tensor } from "../tensor.ts";
import {
  type LayerStep,
  type Operand,
  type OpStep,
  type Trace,
  TRACED_LAYERS,
  traceModel,
  type TraceStep,
} from "./trace.ts";

/** What {@link toPyTorch} returns. */
export interface PyTorchExport {
  /** The Python module's source: imports, the model's class and a safetensors reader. */
  source: string;
  /** The weights (the state dict, plus any constant the forward reads) as safetensors. */
  weights: Uint8Array;
  /** The name of the model's class in `source`. */
  className: string;
}

/** Options of {@link toPyTorch}. */
export interface ToPyTorchOptions {
  /** The Python class's name (default: the model's class name, `Model` for a `Sequential`). */
  className?: string;
}

/**
 * Writes a model as PyTorch code and weights. In Python:
 *
 * ```python
 * from model import Net, load_safetensors   # the source saved as model.py
 * net = Net()
 * net.load_state_dict(load_safetensors("model.safetensors"))
 * ```
 *
 * A `Sequential` of known layers needs no example input. A model with its own `forward` is
 * traced on `exampleInput` (as `exportOnnx` does) and its computation written out as Python.
 *
 * @param model the model to export
 * @param exampleInput an input of the shape the model takes; needed when the model has its own
 *   `forward`
 * @param options `className` for the Python class
 * @returns the Python source, the safetensors weights, and the class name
 *
 * @example
 * ```ts
 * import { nn, toPyTorch } from "../../mod.ts";
 * const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
 * const { source, weights } = await toPyTorch(model);
 * console.assert(source.includes("nn.Linear(4, 8)") && weights.length > 0);
 * ```
 */
export async function toPyTorch(
  model: Module,
  exampleInput?: Tensor,
  options: ToPyTorchOptions = {},
): Promise<PyTorchExport> {
  const className = pythonName(
    options.className ?? (model.constructor === Sequential ? "Model" : model.constructor.name),
  );
  const stateDict = foldPruningMasks(model, model.stateDict());
  let classSource: string;
  const helperClasses = new Map<string, string>();
  if (model instanceof Sequential && isPlain(model)) {
    classSource = sequentialClass(className, model, helperClasses);
  } else {
    if (!exampleInput) {
      throw new Error(
        `toPyTorch: ${model.constructor.name} has its own forward; pass an example input ` +
          `(toPyTorch(model, zeros([1, ...inputShape]))) so that its computation can be traced`,
      );
    }
    const trace = traceModel(model, exampleInput, "toPyTorch");
    trace.constants.forEach((t, i) => (stateDict[`const_${i}`] = t.detach()));
    classSource = tracedClass(className, model, trace, helperClasses);
  }
  const source = [
    header(className, model),
    ...helperClasses.values(),
    classSource,
    LOAD_SAFETENSORS,
  ].join("\n\n\n") + "\n";
  const weights = await save(stateDict, { format: "pt", producer: "gradlab toPyTorch" });
  return { source, weights, className };
}

/**
 * A pruned layer keeps `weight_orig` and `weight_mask` (see `nn.utils.prune`); PyTorch's layers
 * take a plain `weight`. The exported weights hold the product, as `prune.remove` would make it.
 */
function foldPruningMasks(model: Module, stateDict: StateDict): StateDict {
  for (const [path, module] of model.namedModules()) {
    if (!TRACED_LAYERS.has(module.constructor)) continue;
    const prefix = path ? `${path}.` : "";
    for (const key of Object.keys(stateDict)) {
      if (!key.startsWith(prefix) || !key.endsWith("_orig")) continue;
      const name = key.slice(prefix.length, -"_orig".length);
      const mask = stateDict[`${prefix}${name}_mask`];
      if (name.includes(".") || !mask) continue;
      const original = stateDict[key];
      stateDict[`${prefix}${name}`] = withNoGrad(() => original.mul(mask));
      delete stateDict[key];
      delete stateDict[`${prefix}${name}_mask`];
    }
  }
  return stateDict;
}

// ---- the module tree -----------------------------------------------------------------------

/** Whether a module is built of known layers and containers only (no forward of its own). */
function isPlain(module: Module): boolean {
  if (TRACED_LAYERS.has(module.constructor)) return true;
  // A subclass of Sequential that writes its own forward computes something else.
  const ownForward = module instanceof Sequential &&
    module.forward !== Sequential.prototype.forward;
  if ((module instanceof Sequential && !ownForward) || module instanceof ModuleList) {
    return module.children().every(isPlain);
  }
  return false;
}

const py = (value: number | boolean): string =>
  typeof value === "boolean"
    ? (value ? "True" : "False")
    : Number.isFinite(value)
    ? String(value)
    : Number.isNaN(value)
    ? 'float("nan")'
    : value > 0
    ? 'float("inf")'
    : '-float("inf")';

const tuple = (v: number | readonly number[]): string =>
  typeof v === "number" ? String(v) : v[0] === v[1] ? String(v[0]) : `(${v.join(", ")})`;

/** Keyword arguments, leaving out those equal to PyTorch's defaults. */
function kwargs(entries: [string, string, string][]): string[] {
  return entries.filter(([, value, preset]) => value !== preset).map(([k, v]) => `${k}=${v}`);
}

/** PyTorch's constructor call for a known layer. */
function layerExpression(layer: Module): string {
  const call = (name: string, args: string[]) => `nn.${name}(${args.join(", ")})`;
  if (layer instanceof layers.Linear) {
    return call("Linear", [
      String(layer.inFeatures),
      String(layer.outFeatures),
      ...kwargs([["bias", py(layer.bias !== null), "True"]]),
    ]);
  }
  if (layer instanceof layers.Conv2d) {
    return call("Conv2d", [
      String(layer.inChannels),
      String(layer.outChannels),
      tuple(layer.kernelSize),
      ...kwargs([
        ["stride", tuple(layer.stride), "1"],
        ["padding", tuple(layer.padding), "0"],
        ["dilation", tuple(layer.dilation), "1"],
        ["groups", String(layer.groups), "1"],
        ["bias", py(layer.bias !== null), "True"],
      ]),
    ]);
  }
  if (layer instanceof layers.MaxPool2d || layer instanceof layers.AvgPool2d) {
    const { stride, padding, dilation } = layer.options;
    const args = [
      tuple(layer.kernelSize),
      ...kwargs([
        ["stride", stride === undefined ? "None" : tuple(stride), "None"],
        ["padding", tuple(padding ?? 0), "0"],
      ]),
    ];
    if (layer instanceof layers.MaxPool2d) {
      args.push(...kwargs([["dilation", tuple(dilation ?? 1), "1"]]));
      return call("MaxPool2d", args);
    }
    return call("AvgPool2d", args);
  }
  if (layer instanceof layers.AdaptiveAvgPool2d) {
    return call("AdaptiveAvgPool2d", [tuple(layer.outputSize)]);
  }
  if (layer instanceof layers.BatchNorm1d || layer instanceof layers.BatchNorm2d) {
    return call(layer.constructor.name, [
      String(layer.numFeatures),
      ...kwargs([
        ["eps", py(layer.eps), "0.00001"],
        ["momentum", layer.momentum === null ? "None" : py(layer.momentum), "0.1"],
        ["affine", py(layer.affine), "True"],
        ["track_running_stats", py(layer.trackRunningStats), "True"],
      ]),
    ]);
  }
  if (layer instanceof layers.Dropout) return call("Dropout", kwargs([["p", py(layer.p), "0.5"]]));
  if (layer instanceof layers.LeakyReLU) {
    return call("LeakyReLU", kwargs([["negative_slope", py(layer.negativeSlope), "0.01"]]));
  }
  if (layer instanceof layers.GELU) {
    return call("GELU", kwargs([["approximate", JSON.stringify(layer.approximate), '"none"']]));
  }
  if (layer instanceof layers.ELU) return call("ELU", kwargs([["alpha", py(layer.alpha), "1"]]));
  if (layer instanceof layers.Softmax || layer instanceof layers.LogSoftmax) {
    return call(layer.constructor.name, [`dim=${layer.dim}`]);
  }
  if (layer instanceof layers.Flatten) {
    return call(
      "Flatten",
      kwargs([["start_dim", String(layer.startDim), "1"], ["end_dim", String(layer.endDim), "-1"]]),
    );
  }
  // ReLU, Sigmoid, Tanh, Identity: no settings.
  return call(layer.constructor.name, []);
}

/** Indents every line but the first by `spaces`. */
const indent = (text: string, spaces: number): string =>
  text.replaceAll("\n", "\n" + " ".repeat(spaces));

/** The shape of a tensor as arguments of `torch.empty`. */
const emptyOf = (t: Tensor): string =>
  t.ndim === 0 ? "torch.empty(())" : `torch.empty(${t.shape.join(", ")})`;

/**
 * The Python expression that builds `module`. A module with its own forward becomes a holder
 * class of the same name (added to `helpers`) that takes its members as keyword arguments.
 */
function moduleExpression(module: Module, helpers: Map<string, string>): string {
  if (TRACED_LAYERS.has(module.constructor)) return layerExpression(module);
  const children = module.namedChildren();
  if (module instanceof Sequential || module instanceof ModuleList) {
    const items = children.map(([, child]) =>
      `    ${indent(moduleExpression(child, helpers), 4)},`
    );
    if (module instanceof Sequential) return `nn.Sequential(\n${items.join("\n")}\n)`;
    return `nn.ModuleList([\n${items.join("\n")}\n])`;
  }
  const name = pythonName(module.constructor.name);
  if (!helpers.has(name)) helpers.set(name, holderClass(name));
  const own = ownTensors(module);
  const members = [
    ...children.map(([field, child]) => `${field}=${indent(moduleExpression(child, helpers), 4)}`),
    ...own.params.map(([field, t]) => `${field}=nn.Parameter(${emptyOf(t)})`),
    ...own.buffers.map(([field, t]) => `${field}=${emptyOf(t)}`),
  ];
  if (members.length === 0) return `${name}()`;
  return `${name}(\n${members.map((m) => `    ${m},`).join("\n")}\n)`;
}

/** A module's own parameters and buffers (not its children's), by state-dict name. */
function ownTensors(module: Module) {
  const isOwn = ([name]: [string, Tensor]) => !name.includes(".");
  return {
    params: module.namedParameters().filter(isOwn),
    buffers: module.namedBuffers().filter(isOwn),
  };
}

/** A class that holds the members of a module whose computation lives elsewhere. */
function holderClass(name: string): string {
  return `class ${name}(nn.Module):
    """The layers and weights of a ${name}; its computation is written out in the forward of
    the exported model, step by step."""

    def __init__(self, **members):
        super().__init__()
        for name, member in members.items():
            if isinstance(member, nn.Module):
                self.add_module(name, member)
            elif isinstance(member, nn.Parameter):
                self.register_parameter(name, member)
            else:
                self.register_buffer(name, member)`;
}

/** A model that is a `Sequential` of known layers: PyTorch's `nn.Sequential` runs it. */
function sequentialClass(name: string, model: Sequential, helpers: Map<string, string>): string {
  const layersSource = model.children().map((child) =>
    `            ${indent(moduleExpression(child, helpers), 12)},`
  );
  return `class ${name}(nn.Sequential):
    def __init__(self):
        super().__init__(
${layersSource.join("\n")}
        )`;
}

// ---- the traced forward --------------------------------------------------------------------

/** A model with its own forward: its members in __init__, its trace as forward. */
function tracedClass(
  name: string,
  model: Module,
  trace: Trace,
  helpers: Map<string, string>,
): string {
  const init: string[] = [];
  if (model instanceof Sequential) {
    // Its layers are numbered items, as nn.Sequential's: pass them to its constructor.
    const items = model.children().map((child) =>
      `    ${indent(moduleExpression(child, helpers), 4)},`
    );
    init.push(`super().__init__(\n${items.join("\n")}\n)`.replaceAll("\n", "\n        "));
  } else {
    init.push("super().__init__()");
    for (const [field, child] of model.namedChildren()) {
      init.push(`self.${field} = ${indent(moduleExpression(child, helpers), 8)}`);
    }
  }
  const own = ownTensors(model);
  for (const [field, t] of own.params) init.push(`self.${field} = nn.Parameter(${emptyOf(t)})`);
  for (const [field, t] of own.buffers) {
    init.push(`self.register_buffer("${field}", ${emptyOf(t)})`);
  }
  trace.constants.forEach((t, i) => init.push(`self.register_buffer("const_${i}", ${emptyOf(t)})`));
  const body = forwardLines(model, trace);
  const base = model instanceof Sequential ? "nn.Sequential" : "nn.Module";
  return `class ${name}(${base}):
    def __init__(self):
        ${init.join("\n        ")}

    def forward(self, x):
        ${body.join("\n        ")}`;
}

/** The lines of the forward method, one a step. */
function forwardLines(model: Module, trace: Trace): string[] {
  const paths = new Map<Module, string>(
    model.namedModules().map(([path, m]) => [m, path] as [Module, string]),
  );
  const modulesByPath = new Map(model.namedModules());
  const attr = (path: string) => selfPath(path, modulesByPath);
  const names = new Map<Tensor, string>([[trace.input, "x"]]);
  for (const [t, name] of trace.parameters) names.set(t, attr(name));
  trace.constants.forEach((t, i) => names.set(t, `self.const_${i}`));
  const operand = (x: Operand) => (typeof x === "number" ? py(x) : names.get(x)!);

  const { skipped, calls } = collapsibleCalls(trace);
  const lines: string[] = [];
  let count = 0;
  for (const step of trace.steps) {
    if (skipped.has(step)) continue;
    const name = `x${++count}`;
    const call = calls.get(step);
    let expression: string;
    if (call) {
      expression = `${attr(call.path)}(${operand(call.input)})`;
    } else if (step.kind === "layer") {
      expression = `${attr(paths.get(step.layer) ?? step.path)}(${operand(step.input)})`;
    } else {
      expression = opExpression(step, operand, trace);
    }
    lines.push(`${name} = ${expression}`);
    names.set(step.output, name);
  }
  lines.push(`return ${names.get(trace.output)}`);
  return lines;
}

/** `self.features[0]` for the path `features.0`: items of containers are indexed. */
function selfPath(path: string, modulesByPath: Map<string, Module>): string {
  let expression = "self";
  let prefix = "";
  for (const part of path.split(".")) {
    const parent = modulesByPath.get(prefix);
    const indexed = parent instanceof Sequential || parent instanceof ModuleList;
    expression += indexed ? `[${part}]` : `.${part}`;
    prefix = prefix ? `${prefix}.${part}` : part;
  }
  return expression;
}

/**
 * The `Sequential` calls whose layers are all known and whose inner values nothing else uses:
 * written as one call (`self.features(x)`) instead of a line per layer.
 */
function collapsibleCalls(trace: Trace) {
  const uses = new Map<Tensor, number>();
  const producer = new Map<Tensor, TraceStep>();
  for (const step of trace.steps) {
    producer.set(step.output, step);
    const inputs = step.kind === "layer" ? [step.input] : step.inputs;
    for (const x of inputs) if (typeof x !== "number") uses.set(x, (uses.get(x) ?? 0) + 1);
  }
  const skipped = new Set<TraceStep>();
  const calls = new Map<TraceStep, { path: string; input: Tensor }>();
  for (const call of trace.sequentialCalls) {
    // The model itself is written out step by step (its forward is the one being written).
    if (call.path === "") continue;
    const children = call.module.children();
    if (children.length === 0 || !children.every((c) => TRACED_LAYERS.has(c.constructor))) continue;
    const chain: LayerStep[] = [];
    let value = call.output;
    for (let k = children.length - 1; k >= 0; k--) {
      const step = producer.get(value);
      if (step?.kind !== "layer" || step.layer !== children[k]) break;
      if (k < children.length - 1 && (uses.get(value) !== 1 || value === trace.output)) break;
      chain.unshift(step);
      value = step.input;
    }
    if (chain.length !== children.length || value !== call.input) continue;
    chain.slice(0, -1).forEach((step) => skipped.add(step));
    calls.set(chain[chain.length - 1], { path: call.path, input: call.input });
  }
  return { skipped, calls };
}

const BINARY: Record<string, string> = { add: "+", sub: "-", mul: "*", div: "/", pow: "**" };
const FUNCTIONS: Record<string, string> = {
  exp: "torch.exp",
  log: "torch.log",
  sqrt: "torch.sqrt",
  abs: "torch.abs",
  relu: "F.relu",
  sigmoid: "torch.sigmoid",
  tanh: "torch.tanh",
};

/** The Python expression of one tensor op. */
function opExpression(step: OpStep, operand: (x: Operand) => string, trace: Trace): string {
  const { op, inputs, attrs } = step;
  const [a, b] = inputs.map(operand);
  if (op in BINARY) {
    // A number on the left (2 - x) needs the tensor on the right; ops keep tensors first.
    return `${a} ${BINARY[op]} ${b}`;
  }
  if (op in FUNCTIONS) return `${FUNCTIONS[op]}(${a})`;
  const dims = (d: number[]) => (d.length === 1 ? String(d[0]) : `(${d.join(", ")})`);
  switch (op) {
    case "neg":
      return `-${a}`;
    case "maximum":
    case "minimum":
      return typeof inputs[1] === "number"
        ? `torch.clamp(${a}, ${op === "maximum" ? "min" : "max"}=${b})`
        : `torch.${op}(${a}, ${b})`;
    case "leakyRelu":
      return `F.leaky_relu(${a}, ${py(attrs.slope as number)})`;
    case "elu":
      return `F.elu(${a}, ${py(attrs.alpha as number)})`;
    case "gelu":
      return `F.gelu(${a}, approximate=${JSON.stringify(attrs.approximate)})`;
    case "clamp": {
      const bounds = [
        typeof attrs.min === "number" ? `min=${py(attrs.min)}` : "",
        typeof attrs.max === "number" ? `max=${py(attrs.max)}` : "",
      ].filter(Boolean);
      return `torch.clamp(${a}, ${bounds.join(", ")})`;
    }
    case "reshape": {
      const source = inputs[0] as Tensor;
      const shape = (attrs.shape as number[]).map(String);
      // Keep the batch free: a first dimension equal to the input's is read from it.
      if (shape.length > 0 && source.ndim > 0 && Number(shape[0]) === source.shape[0]) {
        shape[0] = `${a}.shape[0]`;
      }
      return `${a}.reshape(${shape.length ? shape.join(", ") : "()"})`;
    }
    case "sum":
    case "mean":
      return `${a}.${op}(dim=${dims(attrs.dims as number[])}, keepdim=${
        py(Boolean(attrs.keepdim))
      })`;
    case "softmax":
      return `F.softmax(${a}, dim=${attrs.dim})`;
    case "logSoftmax":
      return `F.log_softmax(${a}, dim=${attrs.dim})`;
    case "matmul":
      return `${a} @ ${b}`;
    case "linear":
      return inputs.length > 2
        ? `F.linear(${a}, ${b}, ${operand(inputs[2])})`
        : `F.linear(${a}, ${b})`;
    case "cat":
      return `torch.cat([${inputs.map(operand).join(", ")}], dim=${attrs.dim})`;
  }
  throw new Error(`toPyTorch: no PyTorch code for the op "${op}" (in ${trace.steps.length} steps)`);
}

// ---- the file around it --------------------------------------------------------------------

/** A Python identifier from a class name. */
function pythonName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `Model${cleaned}`;
}

function header(className: string, model: Module): string {
  return `"""${className}: ${model.constructor.name} exported from Gradlab by toPyTorch.

Build the model and load its weights (PyTorch is the only package needed):

    model = ${className}()
    model.load_state_dict(load_safetensors("weights.safetensors"))
    model.eval()

The parameter names are the same as in Gradlab, so the state dict loads as it is.
"""
import json

import torch
import torch.nn.functional as F
from torch import nn`;
}

const LOAD_SAFETENSORS = `def load_safetensors(path):
    """Reads a safetensors file into a state dict (as safetensors.torch.load_file does)."""
    with open(path, "rb") as file:
        data = file.read()
    header_size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + header_size])
    start_of_data = 8 + header_size
    dtypes = {
        "F32": torch.float32,
        "F64": torch.float64,
        "I32": torch.int32,
        "I64": torch.int64,
    }
    state_dict = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = dtypes[entry["dtype"]]
        if end == begin:
            values = torch.zeros(entry["shape"], dtype=dtype)
        else:
            raw = bytearray(data[start_of_data + begin : start_of_data + end])
            values = torch.frombuffer(raw, dtype=dtype).reshape(entry["shape"])
        state_dict[name] = values
    return state_dict`;
