/**
 * `nn.Module`: the base class of every layer and model.
 *
 * A module holds parameters (tensors that training changes), buffers (tensors that are saved
 * with the model but not trained, like batch norm's running mean) and sub-modules, and says in
 * `forward` how it turns inputs into outputs.
 *
 * There is no registration step for most things. The module finds its members by looking at its
 * own fields, in the order they are declared:
 *
 * - a field holding another `Module` is a sub-module (a child);
 * - a field holding a tensor made with {@link Parameter} (or any leaf tensor that requires a
 *   gradient) is a parameter;
 * - a field named in {@link Module.registerBuffer} is a buffer;
 * - anything else (numbers, options, private `#fields`) is ignored.
 *
 * **Names.** Fields are camelCase, as usual in TypeScript, but the names in `namedParameters()`
 * and `stateDict()` are the snake_case names a Python model would use: the field `runningMean`
 * is saved as `running_mean`, the field `convBlock` as `conv_block`. With the names PyTorch
 * gives to sub-modules (`features.0.weight`), weights move between the two frameworks as they
 * are.
 *
 * @example
 * ```ts
 * import { nn, type Tensor } from "../../mod.ts";
 *
 * class TinyNet extends nn.Module {
 *   hidden = new nn.Linear(4, 8);
 *   output = new nn.Linear(8, 2);
 *   forward(x: Tensor) {
 *     return this.output.forward(this.hidden.forward(x).relu());
 *   }
 * }
 * const model = new TinyNet();
 * console.assert(
 *   model.namedParameters().map(([name]) => name).join() ===
 *     "hidden.weight,hidden.bias,output.weight,output.bias",
 * );
 * ```
 * @module
 */
import { isGradEnabled, markInternal, withNoGrad } from "../autograd.ts";
import { checkDType, type Device, type DType, isFloat } from "../dtype.ts";
import { checkOptions } from "../options.ts";
import { fmtShape } from "../shape.ts";
import { sayWhereNamesWent, Tensor } from "../tensor.ts";

/** Tensors marked as parameters by {@link Parameter}. */
const parameterTensors = new WeakSet<Tensor>();

/**
 * Marks a tensor as a trainable parameter (and turns on its gradient), like PyTorch's
 * `nn.Parameter`. Assign the result to a field of a module and the module will list it in
 * `parameters()` and save it in `stateDict()`.
 *
 * A tensor that came out of an op is cut from its graph first, so that the parameter is a leaf.
 *
 * @param data the initial values
 * @param requiresGrad `false` makes a frozen parameter (still saved, not trained)
 * @returns the parameter (the same tensor when `data` is already a leaf)
 *
 * @example
 * ```ts
 * import { nn, randn, type Tensor } from "../../mod.ts";
 * class Scale extends nn.Module {
 *   factor = nn.Parameter(randn([3]));
 *   forward(x: Tensor) {
 *     return x.mul(this.factor);
 *   }
 * }
 * console.assert(new Scale().parameters().length === 1);
 * ```
 */
export function Parameter(data: Tensor, requiresGrad = true): Tensor {
  if (data.dtype === "int32") {
    throw new TypeError(
      `Parameter: only float tensors can be parameters, got int32 of shape ` +
        `${fmtShape(data.shape)} (use .float(), or registerBuffer for integer state)`,
    );
  }
  const leaf = data.isLeaf ? data : data.detach();
  leaf.requiresGrad_(requiresGrad);
  parameterTensors.add(leaf);
  return leaf;
}

/** Whether a tensor was made a parameter with {@link Parameter}. */
export function isParameter(value: unknown): value is Tensor {
  return value instanceof Tensor && parameterTensors.has(value);
}

/**
 * The name a field gets in a state dict: camelCase becomes snake_case (`runningMean` ->
 * `running_mean`), as the same attribute would be called in a Python model.
 */
export function stateDictName(field: string): string {
  return field.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/** A state dict: tensors by their dotted names, as `stateDict()` returns and `save()` takes. */
export type StateDict = Record<string, Tensor>;

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /**
   * When true (the default), every key of the model must be in the state dict and every key of
   * the state dict must be in the model. Shapes must always match.
   */
  strict?: boolean;
}

/** What {@link Module.loadStateDict} did not load (empty lists unless `strict` is false). */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** A module's own members, sorted into their kinds. */
interface Members {
  params: [string, Tensor][];
  buffers: [string, Tensor][];
  children: [string, Module][];
}

/**
 * The base class of layers and models. Subclasses declare their parameters and sub-modules as
 * fields and implement {@link Module.forward}; call a module as `model.forward(x)`.
 * See the module documentation above for how members are found and named.
 */
export abstract class Module {
  /**
   * Training mode (the default) or evaluation mode. Dropout and batch norm behave differently
   * in the two; switch with {@link Module.train} and {@link Module.eval}.
   */
  training = true;
  /** Field names registered as buffers. */
  #bufferFields = new Set<string>();

  /** Computes the module's output. Every subclass defines it. */
  abstract forward(...inputs: Tensor[]): Tensor;

  // ---- members -------------------------------------------------------------------------------

  /**
   * The fields to look at for members, as `[fieldName, value]` pairs in order. Containers such
   * as {@link Sequential} override this to name their children `"0"`, `"1"`, ...
   */
  protected ownFields(): [string, unknown][] {
    return Object.entries(this);
  }

  #members(): Members {
    const members: Members = { params: [], buffers: [], children: [] };
    for (const [field, value] of this.ownFields()) {
      const name = stateDictName(field);
      if (value instanceof Module) {
        members.children.push([name, value]);
      } else if (value instanceof Tensor) {
        if (this.#bufferFields.has(field)) members.buffers.push([name, value]);
        else if (parameterTensors.has(value) || (value.isLeaf && value.requiresGrad)) {
          members.params.push([name, value]);
        }
      } else if (Array.isArray(value) && value.some((v) => v instanceof Module)) {
        throw new Error(
          `${this.constructor.name}: the field "${field}" holds an array of modules, whose ` +
            `parameters a plain array hides; wrap it: this.${field} = new nn.ModuleList([...]) ` +
            `(or use nn.Sequential)`,
        );
      }
    }
    return members;
  }

  /**
   * Marks the field `name` as a buffer and sets it to `value`: a tensor saved in the state dict
   * and moved by `to(device)`, but not returned by `parameters()` (batch norm's running
   * statistics). `null` declares a buffer that is absent (left out of the state dict).
   */
  registerBuffer(name: keyof this & string, value: Tensor | null): void {
    if (value !== null && !(value instanceof Tensor)) {
      throw new TypeError(`registerBuffer: "${name}" must be a tensor or null`);
    }
    this.#bufferFields.add(name);
    (this as Record<string, unknown>)[name] = value;
  }

  /** The direct sub-modules with their names, in field order. */
  namedChildren(): [string, Module][] {
    return this.#members().children;
  }

  /** The direct sub-modules, in field order. */
  children(): Module[] {
    return this.namedChildren().map(([, child]) => child);
  }

  /**
   * This module and every module inside it, depth first (this one first, named `""`). A module
   * used twice is listed once.
   */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (module: Module, name: string) => {
      if (seen.has(module)) return;
      seen.add(module);
      out.push([name, module]);
      for (const [childName, child] of module.namedChildren()) {
        visit(child, name ? `${name}.${childName}` : childName);
      }
    };
    visit(this, prefix);
    return out;
  }

  /** This module and every module inside it, depth first. */
  modules(): Module[] {
    return this.namedModules().map(([, module]) => module);
  }

  /**
   * The parameters with their dotted names (`features.0.weight`): each module's own first, then
   * its children's, in field order, as PyTorch orders them. A shared parameter is listed once.
   */
  namedParameters(): [string, Tensor][] {
    return this.#namedTensors("params");
  }

  /** All trainable parameters: what an optimizer is given. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** The buffers with their dotted names (`bn.running_mean`). */
  namedBuffers(): [string, Tensor][] {
    return this.#namedTensors("buffers");
  }

  /** All buffers. */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  #namedTensors(kind: "params" | "buffers"): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, module] of this.namedModules()) {
      for (const [name, t] of module.#members()[kind]) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([prefix ? `${prefix}.${name}` : name, t]);
      }
    }
    return out;
  }

  // ---- modes and gradients ------------------------------------------------------------------

  /** Sets training mode (or evaluation mode with `false`) on this module and all inside it. */
  train(mode = true): this {
    for (const module of this.modules()) module.training = mode;
    return this;
  }

  /** Evaluation mode: dropout is off and batch norm uses its running statistics. */
  eval(): this {
    return this.train(false);
  }

  /** Clears the gradient of every parameter (call before each backward pass). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /**
   * Turns gradients of every parameter on or off: `model.features.requiresGrad_(false)`
   * freezes a pretrained backbone for fine-tuning.
   */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    return this;
  }

  /** Calls `fn` on every module inside this one and on this one (children first), e.g. to init. */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  // ---- devices -------------------------------------------------------------------------------

  /**
   * Moves every parameter and buffer to `device` in place: the tensors keep their identity, so
   * an optimizer made before the move still holds the right ones. (Moving from WebGPU back to
   * the CPU needs an asynchronous read; save the state dict with `save()` instead.)
   */
  to(target: Device | DType | { device?: Device; dtype?: DType }): this {
    const { device, dtype } = typeof target === "string"
      ? (target === "cpu" || target === "webgpu" ? { device: target } : { dtype: target })
      : checkOptions<{ device?: Device; dtype?: DType }>("Module.to", [target], 0, [
        "dtype",
        "device",
      ]);
    if (dtype !== undefined) {
      checkDType(dtype, "Module.to");
      if (!isFloat(dtype)) {
        throw new TypeError(
          `Module.to: a model's parameters can only become a float dtype (float32, float64), ` +
            `got ${dtype}`,
        );
      }
    }
    withNoGrad(() => {
      for (const t of [...this.parameters(), ...this.buffers()]) {
        // As in PyTorch, only floating-point tensors change dtype (a step counter stays int).
        if (dtype !== undefined && isFloat(t.dtype)) t.castTo(dtype);
        if (device !== undefined) t.moveTo(device);
      }
    });
    return this;
  }

  /** Converts every float parameter and buffer to float64 in place (`model.to("float64")`). */
  double(): this {
    return this.to({ dtype: "float64" });
  }

  /** Converts every float parameter and buffer to float32 in place (`model.to("float32")`). */
  float(): this {
    return this.to({ dtype: "float32" });
  }

  // ---- state dicts ---------------------------------------------------------------------------

  /**
   * The parameters and buffers by dotted name, in PyTorch's order and with PyTorch's names,
   * ready for `save()`. The tensors share memory with the model, as in PyTorch: training goes
   * on changing them, so `clone()` them to keep a snapshot.
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [key, t] of this.#stateEntries()) out[key] = t.detach();
    return out;
  }

  /** The parameters and buffers themselves (not detached) by state-dict key. */
  #stateEntries(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [prefix, module] of this.namedModules()) {
      const members = module.#members();
      for (const [name, t] of [...members.params, ...members.buffers]) {
        const key = prefix ? `${prefix}.${name}` : name;
        if (!out.has(key)) out.set(key, t);
      }
    }
    return out;
  }

  /**
   * Copies values from a state dict into this module's parameters and buffers (in place, so
   * optimizers keep working). Shapes must match. Nothing is copied unless everything checks
   * out; the error lists every missing key, unexpected key and shape mismatch.
   *
   * @param stateDict tensors by name, e.g. from `load(bytes)` or another model's `stateDict()`
   * @param options `strict: false` loads the keys both sides have and reports the rest
   * @returns the keys that were not loaded
   *
   * @example
   * ```ts
   * import { nn } from "../../mod.ts";
   * const a = new nn.Linear(3, 2);
   * const b = new nn.Linear(3, 2);
   * b.loadStateDict(a.stateDict());
   * ```
   */
  loadStateDict(stateDict: StateDict, options: LoadStateDictOptions = {}): LoadStateDictResult {
    checkOptions("loadStateDict", arguments, 1, ["strict"]);
    if (typeof stateDict === "string" || stateDict instanceof URL) {
      throw new TypeError(
        `loadStateDict: expected a state dict (names to tensors), got the path ` +
          `"${stateDict}"; read the file first: model.loadStateDict(await load("${stateDict}"))`,
      );
    }
    if (stateDict instanceof Promise) {
      throw new TypeError(
        "loadStateDict: got a Promise; did you forget await? " +
          'model.loadStateDict(await load("model.safetensors"))',
      );
    }
    if (typeof stateDict !== "object" || stateDict === null) {
      throw new TypeError(
        `loadStateDict: expected a state dict (names to tensors), got ${stateDict}`,
      );
    }
    const strict = options.strict ?? true;
    const own = this.#stateEntries();
    const missingKeys = [...own.keys()].filter((key) => !(key in stateDict));
    const unexpectedKeys = Object.keys(stateDict).filter((key) => !own.has(key));
    const problems: string[] = [];
    if (strict && missingKeys.length > 0) {
      problems.push(`missing keys: ${missingKeys.map((k) => `"${k}"`).join(", ")}`);
    }
    if (strict && unexpectedKeys.length > 0) {
      problems.push(`unexpected keys: ${unexpectedKeys.map((k) => `"${k}"`).join(", ")}`);
    }
    for (const [key, target] of own) {
      const source = stateDict[key];
      if (source === undefined) continue;
      if (!(source instanceof Tensor)) {
        problems.push(`"${key}" is ${typeof source}, not a tensor`);
      } else if (
        source.ndim !== target.ndim || source.shape.some((d, i) => d !== target.shape[i])
      ) {
        problems.push(
          `size mismatch for "${key}": the state dict has shape ${fmtShape(source.shape)}, ` +
            `the model has ${fmtShape(target.shape)}`,
        );
      }
    }
    if (problems.length > 0) {
      throw new Error(
        `loadStateDict: error(s) in loading the state dict for ${this.constructor.name}:\n  ` +
          problems.join("\n  ") +
          (strict && problems.every((p) => !p.startsWith("size"))
            ? `\n(pass { strict: false } to load only the keys that match)`
            : ""),
      );
    }
    withNoGrad(() => {
      for (const [key, target] of own) {
        const source = stateDict[key];
        // A copy, so that later in-place updates of the model leave the caller's tensors alone.
        if (source !== undefined) target.assign(source.detach().clone());
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  // ---- printing ------------------------------------------------------------------------------

  /** The layer's settings for {@link Module.toString} (`"784, 10"` for a Linear). */
  extraRepr(): string {
    return "";
  }

  /**
   * The module tree, one line per layer, as PyTorch prints it:
   * `Sequential(\n  (0): Linear(inFeatures=784, outFeatures=10, bias=true)\n)`.
   */
  toString(): string {
    const children = this.namedChildren();
    const name = this.constructor.name;
    if (children.length === 0) return `${name}(${this.extraRepr()})`;
    const lines = children.map(([childName, child]) =>
      `  (${childName}): ${child.toString().replaceAll("\n", "\n  ")}`
    );
    const extra = this.extraRepr();
    return `${name}(${extra ? `\n  ${extra}` : ""}\n${lines.join("\n")}\n)`;
  }
}

/**
 * A list of sub-modules, named `"0"`, `"1"`, ... in the state dict, like PyTorch's
 * `nn.ModuleList`. Use it for a variable number of blocks; a plain array would hide their
 * parameters. It has no `forward`: loop over it in your own.
 *
 * @example
 * ```ts
 * import { nn } from "../../mod.ts";
 * const blocks = new nn.ModuleList([new nn.Linear(4, 4), new nn.Linear(4, 4)]);
 * console.assert(blocks.namedParameters()[2][0] === "1.weight");
 * ```
 */
export class ModuleList extends Module {
  /** The modules, in order. */
  readonly items: Module[];

  constructor(modules: Module[] = []) {
    super();
    modules.forEach((m, i) => checkModule("ModuleList", m, i));
    this.items = [...modules];
  }

  protected override ownFields(): [string, unknown][] {
    return this.items.map((m, i) => [String(i), m]);
  }

  /** The number of modules. */
  get length(): number {
    return this.items.length;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): Module {
    const module = this.items.at(index);
    if (!module) {
      throw new RangeError(`ModuleList: index ${index} is out of range for ${this.length} modules`);
    }
    return module;
  }

  /** Adds a module at the end. */
  push(module: Module): this {
    checkModule("ModuleList", module, this.items.length);
    this.items.push(module);
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.items[Symbol.iterator]();
  }

  forward(): Tensor {
    throw new Error(
      "ModuleList: a ModuleList has no forward; loop over it in your module's forward " +
        "(or use nn.Sequential to chain layers)",
    );
  }
}

function checkModule(container: string, value: unknown, index: number): void {
  if (!(value instanceof Module)) {
    throw new TypeError(
      `${container}: entry ${index} is not a module (got ${
        value instanceof Tensor ? "a tensor" : typeof value
      }); pass layers such as new nn.Linear(4, 2) or new nn.ReLU()`,
    );
  }
}

/**
 * Layers applied one after the other, named `"0"`, `"1"`, ... as in PyTorch's `nn.Sequential`
 * (so its parameters are `0.weight`, `0.bias`, `2.weight`, ...).
 *
 * @example
 * ```ts
 * import { nn, randn } from "../../mod.ts";
 * const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
 * const logits = model.forward(randn([64, 784]));
 * console.assert(logits.shape.join() === "64,10");
 * console.assert(model.at(-1) instanceof nn.Linear);
 * ```
 */
export class Sequential extends Module {
  /** The layers, in the order they run. */
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    layers.forEach((m, i) => checkModule("Sequential", m, i));
    this.layers = layers;
  }

  protected override ownFields(): [string, unknown][] {
    return this.layers.map((m, i) => [String(i), m]);
  }

  /** The number of layers. */
  get length(): number {
    return this.layers.length;
  }

  /** The layer at `index` (negative counts from the end), like `model[index]` in PyTorch. */
  at(index: number): Module {
    const layer = this.layers.at(index);
    if (!layer) {
      throw new RangeError(`Sequential: index ${index} is out of range for ${this.length} layers`);
    }
    return layer;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.layers[Symbol.iterator]();
  }

  /** Runs the layers in order, each on the output of the one before. */
  forward(input: Tensor): Tensor {
    let x = input;
    for (const layer of this.layers) {
      const next = layer.forward(x);
      // What passes between two layers is seen by no one else: without a graph its memory goes
      // back at once; with one, backward() gives it back (see markInternal).
      if (x !== input && next !== x) isGradEnabled() ? markInternal(x) : x.dispose();
      x = next;
    }
    return x;
  }
}

sayWhereNamesWent(Module.prototype, "Module", {
  zero_grad: "model.zeroGrad()",
  state_dict: "model.stateDict()",
  load_state_dict: "model.loadStateDict(stateDict)",
  named_parameters: "model.namedParameters()",
  cuda: 'model.to("webgpu") (after await initWebGPU() or await pickDevice())',
});
