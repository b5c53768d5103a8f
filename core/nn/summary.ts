/**
 * `summary(model, inputShape)`: a table of the layers of a model with their output shapes,
 * parameter counts and multiply-adds, like torchinfo's `summary` for PyTorch.
 *
 * It runs the model once on zeros of `inputShape` (in evaluation mode and without building a
 * graph, so batch norm's running statistics do not move) and records the output shape of every
 * module on the way. Multiply-adds are counted as torchinfo counts them: a convolution's
 * weight (and bias) entries each work once per output position, `params * batch * outH * outW`;
 * any other layer's once per example, `params * batch`.
 *
 * @module
 */
import { withNoGrad } from "../autograd.ts";
import { zeros } from "../creation.ts";
import type { Device, DType } from "../dtype.ts";
import { checkOptions } from "../options.ts";
import { fmtShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { Module } from "./module.ts";

/** One row of a {@link ModelSummary}: a module of the model. */
export interface LayerSummary {
  /** Dotted name in the model (`layer1.0.conv1`); `""` for the model itself. */
  name: string;
  /** The module's class (`Conv2d`). */
  type: string;
  /** How deep in the tree (0 for the model). */
  depth: number;
  /** The shape of its output in the summary's run, null if it did not run. */
  outputShape: number[] | null;
  /** Parameters of this module and the modules inside it. */
  params: number;
  /** Multiply-adds of this module and the modules inside it, for the whole input batch. */
  multAdds: number;
}

/** Options of {@link summary}. */
export interface SummaryOptions {
  /** The dtype of the zeros run through the model (default float32). */
  dtype?: DType;
  /** The device of the zeros (default: the device of the model's first parameter). */
  device?: Device;
  /** Rows deeper than this are left out of the printed table (default: all). */
  depth?: number;
}

/** What {@link summary} returns: the rows, the totals, and a printable table. */
export interface ModelSummary {
  inputShape: number[];
  layers: LayerSummary[];
  totalParams: number;
  trainableParams: number;
  totalMultAdds: number;
  /** The table, as torchinfo prints it. */
  toString(): string;
}

/** Parameters a module holds itself (not those of its children), with their names. */
function ownParameters(module: Module): [string, Tensor][] {
  return module.namedParameters().filter(([name]) => !name.includes("."));
}

/**
 * Runs `model` on zeros of `inputShape` and lists its layers with output shapes, parameter
 * counts and multiply-adds (see the module documentation for how they are counted).
 *
 * @param model the model
 * @param inputShape the input's shape, batch first (`[1, 1, 28, 28]`)
 * @param options `dtype`, `device`, `depth` (of the printed table)
 * @returns the rows and totals; `String(result)` is the table
 *
 * @example
 * ```ts
 * import { nn, summary } from "../../mod.ts";
 * const model = new nn.Sequential(new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.Flatten());
 * const info = summary(model, [1, 1, 28, 28]);
 * console.assert(info.totalParams === 8 * 9 + 8);
 * console.assert(info.totalMultAdds === (8 * 9 + 8) * 28 * 28);
 * console.assert(info.layers[1].outputShape!.join() === "1,8,28,28");
 * ```
 */
export function summary(
  model: Module,
  inputShape: number[],
  options: SummaryOptions = {},
): ModelSummary {
  checkOptions("summary", arguments, 2, ["dtype", "device", "depth"]);
  if (!(model instanceof Module)) {
    throw new TypeError(`summary: expected a model (an nn.Module), got ${typeof model}`);
  }
  if (!Array.isArray(inputShape) || inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(
      `summary: inputShape must be a list of positive sizes, batch first (e.g. [1, 1, 28, 28]), ` +
        `got ${JSON.stringify(inputShape)}`,
    );
  }
  const named = model.namedModules();
  const outputs = new Map<Module, number[]>();
  // Each module's forward is wrapped for the run to note the shape it returns, then restored.
  const restore: (() => void)[] = [];
  for (const [, module] of named) {
    const fields = module as unknown as Record<string, unknown>;
    const hadOwn = Object.hasOwn(fields, "forward");
    const original = module.forward;
    fields.forward = function (this: Module, ...inputs: Tensor[]) {
      const out = original.apply(this, inputs);
      if (!outputs.has(module) && out instanceof Tensor) outputs.set(module, [...out.shape]);
      return out;
    };
    restore.push(() => {
      if (hadOwn) fields.forward = original;
      else delete fields.forward;
    });
  }
  const modes = named.map(([, module]) => module.training);
  const device = options.device ?? model.parameters()[0]?.device ?? "cpu";
  try {
    model.eval();
    withNoGrad(() => model.forward(zeros(inputShape, { dtype: options.dtype, device })));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `summary: running ${model.constructor.name} on an input of shape ` +
        `${fmtShape(inputShape)} failed: ${message}`,
    );
  } finally {
    restore.forEach((undo) => undo());
    named.forEach(([, module], i) => (module.training = modes[i]));
  }

  const batch = inputShape[0];
  const ownMultAdds = (module: Module): number => {
    const shape = outputs.get(module);
    if (!shape) return 0;
    // torchinfo: a convolution's entries work at every output position, others once a sample.
    const perEntry = module.constructor.name.includes("Conv")
      ? shape.slice(2).reduce((p, d) => p * d, batch)
      : batch;
    return ownParameters(module).reduce((n, [, p]) => n + p.numel() * perEntry, 0);
  };
  const layers: LayerSummary[] = named.map(([name, module]) => {
    const inside = module.modules();
    return {
      name,
      type: module.constructor.name,
      depth: name === "" ? 0 : name.split(".").length,
      outputShape: outputs.get(module) ?? null,
      params: module.parameters().reduce((n, p) => n + p.numel(), 0),
      multAdds: inside.reduce((n, m) => n + ownMultAdds(m), 0),
    };
  });
  const parameters = model.parameters();
  const totalParams = parameters.reduce((n, p) => n + p.numel(), 0);
  const trainableParams = parameters.filter((p) => p.requiresGrad)
    .reduce((n, p) => n + p.numel(), 0);
  const totalMultAdds = layers[0].multAdds;
  const maxDepth = options.depth ?? Infinity;
  return {
    inputShape: [...inputShape],
    layers,
    totalParams,
    trainableParams,
    totalMultAdds,
    toString: () =>
      formatTable(
        layers.filter((l) => l.depth <= maxDepth),
        totalParams,
        trainableParams,
        totalMultAdds,
      ),
  };
}

const grouped = (n: number) => n.toLocaleString("en-US");

function formatTable(
  layers: LayerSummary[],
  totalParams: number,
  trainableParams: number,
  totalMultAdds: number,
): string {
  const rows = layers.map((l) => [
    `${"  ".repeat(l.depth)}${l.name ? `${l.name.split(".").at(-1)}: ` : ""}${l.type}`,
    l.outputShape ? `[${l.outputShape.join(", ")}]` : "--",
    l.params ? grouped(l.params) : "--",
    l.multAdds ? grouped(l.multAdds) : "--",
  ]);
  const header = ["Layer (type)", "Output Shape", "Param #", "Mult-Adds"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join("   ");
  const rule = "=".repeat(widths.reduce((n, w) => n + w, 0) + 3 * (widths.length - 1));
  return [
    rule,
    line(header),
    rule,
    ...rows.map(line),
    rule,
    `Total params: ${grouped(totalParams)}`,
    `Trainable params: ${grouped(trainableParams)}`,
    `Non-trainable params: ${grouped(totalParams - trainableParams)}`,
    `Total mult-adds: ${grouped(totalMultAdds)}`,
    rule,
  ].join("\n");
}
