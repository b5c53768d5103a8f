/**
 * `nn.utils.prune`: magnitude pruning with masks, as PyTorch's `torch.nn.utils.prune`.
 *
 * Pruning a parameter (`weight`) of a module replaces it by two tensors and a rule:
 *
 * - `weightOrig` (saved as `weight_orig`): the original parameter, still trained;
 * - `weightMask` (saved as `weight_mask`): a buffer of 0s and 1s;
 * - `module.weight` becomes `weightOrig * weightMask`, computed each time it is read.
 *
 * So the pruned weights stay exactly 0 through fine-tuning: their gradient reaches `weightOrig`
 * multiplied by 0. `remove` makes the pruning permanent: `weight` is a plain parameter again,
 * holding the masked values, and the two extra tensors are gone.
 *
 * Magnitude pruning zeroes the weights of SMALLEST absolute value (the L1 criterion): they
 * change the output least. Pruning the same parameter again prunes `amount` of the weights that
 * are still left (the masks combine), as in PyTorch.
 *
 * @example
 * ```ts
 * import { nn } from "../../mod.ts";
 * const layer = new nn.Linear(4, 3);
 * nn.utils.prune.l1Unstructured(layer, "weight", { amount: 0.5 });
 * console.assert(Object.keys(layer.stateDict()).join() === "bias,weight_orig,weight_mask");
 * console.assert(layer.weight.dataSync().filter((w) => w === 0).length === 6);
 * nn.utils.prune.remove(layer, "weight");
 * console.assert(Object.keys(layer.stateDict()).join() === "bias,weight");
 * ```
 * @module
 */
import { withNoGrad } from "../autograd.ts";
import { ones } from "../creation.ts";
import { where } from "../ops/elementwise.ts";
import { cat, reshape, scatterAddAlong } from "../ops/shape.ts";
import { topk } from "../ops/sort.ts";
import { checkOptions } from "../options.ts";
import { fmtShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { Module } from "./module.ts";

/** How much to prune: a fraction in [0, 1), or a whole number of weights. */
export interface PruneOptions {
  /**
   * A number in `[0, 1)` prunes that fraction of the weights still unpruned (rounded half to
   * even, as Python's `round`); a whole number `>= 1` prunes that many (PyTorch's int amount).
   * To prune every weight, pass their count.
   */
  amount: number;
}

/** The names of the parameters currently pruned, per module. */
const pruned = new WeakMap<Module, Set<string>>();

type Fields = Record<string, unknown>;

const origName = (name: string) => `${name}Orig`;
const maskName = (name: string) => `${name}Mask`;

/** Python's `round`: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** How many of `remaining` weights `amount` asks to prune, checked. */
function countToPrune(op: string, amount: unknown, remaining: number): number {
  if (typeof amount !== "number" || !Number.isFinite(amount) || amount < 0) {
    throw new RangeError(
      `${op}: amount must be a fraction in [0, 1) or a whole number of weights >= 1, got ` +
        `${JSON.stringify(amount)}`,
    );
  }
  if (amount < 1) return roundHalfEven(amount * remaining);
  if (!Number.isInteger(amount)) {
    throw new RangeError(
      `${op}: amount ${amount} is neither a fraction below 1 nor a whole number of weights ` +
        `(to prune ${Math.round(amount)}% pass ${amount / 100})`,
    );
  }
  if (amount > remaining) {
    throw new RangeError(
      `${op}: amount ${amount} is more than the ${remaining} weights left to prune`,
    );
  }
  return amount;
}

/** The parameter (or, if pruned, its original) `name` of `module`, checked. */
function parameterOf(op: string, module: Module, name: string): Tensor {
  if (!(module instanceof Module)) {
    throw new TypeError(`${op}: expected a module (such as an nn.Linear), got ${typeof module}`);
  }
  const fields = module as unknown as Fields;
  const value = isPrunedParameter(module, name) ? fields[origName(name)] : fields[name];
  if (!(value instanceof Tensor)) {
    const names = module.namedParameters().filter(([n]) => !n.includes(".")).map(([n]) => n);
    throw new Error(
      `${op}: ${module.constructor.name} has no parameter "${name}"` +
        (names.length ? ` (its parameters: ${names.join(", ")})` : ""),
    );
  }
  return value;
}

function isPrunedParameter(module: Module, name: string): boolean {
  return pruned.get(module)?.has(name) ?? false;
}

/** The mask in force for `name` (ones when not pruned yet). */
function currentMask(module: Module, name: string, like: Tensor): Tensor {
  const fields = module as unknown as Fields;
  return isPrunedParameter(module, name)
    ? fields[maskName(name)] as Tensor
    : ones(like.shape, { dtype: like.dtype, device: like.device });
}

/**
 * A mask that keeps `defaultMask`'s zeros and also zeroes the `count` entries of smallest
 * `scores` among those it still keeps.
 */
function smallestMask(scores: Tensor, defaultMask: Tensor, count: number): Tensor {
  return withNoGrad(() => {
    const flatScores = reshape(scores, [scores.numel()]);
    const flatMask = reshape(defaultMask, [scores.numel()]);
    // Weights already pruned score +Infinity, so they are never chosen again.
    const candidates = where(flatMask.gt(0), flatScores.abs(), Infinity);
    const { indices } = topk(candidates, count, { largest: false });
    const chosen = scatterAddAlong(
      [scores.numel()],
      0,
      indices,
      ones([count], { dtype: scores.dtype, device: scores.device }),
    );
    return reshape(flatMask.mul(chosen.neg().add(1)), scores.shape);
  });
}

/** How many entries of a 0/1 mask are 1 (a read of the mask's values, on the CPU). */
function onesIn(op: string, mask: Tensor): number {
  if (mask.device !== "cpu") {
    throw new Error(
      `${op}: pruning a parameter that is pruned already counts the weights it has left, which ` +
        `reads its mask; on "${mask.device}" that read is asynchronous: prune on the CPU, ` +
        `before moving the model with .to("${mask.device}")`,
    );
  }
  let count = 0;
  for (const v of mask.dataSync()) if (v !== 0) count++;
  return count;
}

/**
 * Prunes `module[name]` with a mask of 0s and 1s given by the caller (PyTorch's
 * `custom_from_mask`). If the parameter is pruned already, the masks combine (both zeros stay).
 *
 * @param module the module holding the parameter
 * @param name the parameter's field name (`"weight"`)
 * @param mask zeros where the weights are removed, ones elsewhere; the parameter's shape
 * @returns the module
 */
export function customFromMask(module: Module, name: string, mask: Tensor): Module {
  const param = parameterOf("customFromMask", module, name);
  if (!(mask instanceof Tensor) || mask.shape.join() !== param.shape.join()) {
    throw new Error(
      `customFromMask: the mask must have the shape of ${name}, ` +
        `${fmtShape(param.shape)}, got ${mask instanceof Tensor ? fmtShape(mask.shape) : mask}`,
    );
  }
  const combined = withNoGrad(() =>
    currentMask(module, name, param).mul(mask.to(param.dtype).to(param.device))
  );
  applyMask(module, name, combined);
  return module;
}

/**
 * Installs (or replaces) the mask of `module[name]`: the parameter moves to `nameOrig` (the same
 * tensor, so an optimizer made earlier still trains it), the mask is the buffer `nameMask`, and
 * `module[name]` becomes a getter of `nameOrig * nameMask`.
 */
function applyMask(module: Module, name: string, mask: Tensor): void {
  const fields = module as unknown as Fields;
  if (isPrunedParameter(module, name)) {
    fields[maskName(name)] = mask;
    return;
  }
  const param = fields[name] as Tensor;
  delete fields[name];
  // New fields go last, so the state dict lists `weight_orig` after the other parameters and
  // `weight_mask` after the other buffers, as PyTorch's does.
  fields[origName(name)] = param;
  (module.registerBuffer as (field: string, value: Tensor) => void).call(
    module,
    maskName(name),
    mask,
  );
  Object.defineProperty(module, name, {
    configurable: true,
    enumerable: false,
    get: () => (fields[origName(name)] as Tensor).mul(fields[maskName(name)] as Tensor),
    set: () => {
      throw new Error(
        `${module.constructor.name}.${name} is pruned: it is computed as ${origName(name)} * ` +
          `${maskName(name)}; change ${origName(name)}, or call prune.remove(module, ` +
          `"${name}") first`,
      );
    },
  });
  if (!pruned.has(module)) pruned.set(module, new Set());
  pruned.get(module)!.add(name);
}

/**
 * Prunes the `amount` weights of smallest absolute value of `module[name]` (PyTorch's
 * `prune.l1_unstructured`). Pruning again prunes `amount` of what is left.
 *
 * @param module the module holding the parameter
 * @param name the parameter's field name (`"weight"`)
 * @param options `amount`: a fraction in [0, 1) or a whole number of weights
 * @returns the module
 *
 * @example
 * ```ts
 * import { nn } from "../../mod.ts";
 * const conv = new nn.Conv2d(1, 4, 3);
 * nn.utils.prune.l1Unstructured(conv, "weight", { amount: 0.25 }); // 9 of the 36 weights
 * console.assert(conv.weight.dataSync().filter((w) => w === 0).length === 9);
 * ```
 */
export function l1Unstructured(module: Module, name: string, options: PruneOptions): Module {
  checkOptions("l1Unstructured", arguments, 2, ["amount"]);
  const param = parameterOf("l1Unstructured", module, name);
  const mask = currentMask(module, name, param);
  const remaining = isPrunedParameter(module, name)
    ? onesIn("l1Unstructured", mask)
    : param.numel();
  const count = countToPrune("l1Unstructured", options?.amount, remaining);
  applyMask(module, name, smallestMask(param, mask, count));
  return module;
}

/** The pruning method of {@link globalUnstructured}: magnitude (L1), as PyTorch's class. */
export const L1Unstructured = "L1Unstructured" as const;

/** Options of {@link globalUnstructured}. */
export interface GlobalPruneOptions extends PruneOptions {
  /** Only magnitude pruning, `prune.L1Unstructured` (the default). */
  pruningMethod?: typeof L1Unstructured;
}

/**
 * Prunes the `amount` weights of smallest absolute value among ALL the given parameters
 * together (PyTorch's `prune.global_unstructured`): a layer whose weights are small overall
 * loses more of them than a layer of large weights, unlike pruning each layer by the same
 * fraction.
 *
 * @param parameters `[module, name]` pairs, e.g. `[[model.fc1, "weight"], [model.fc2, "weight"]]`
 * @param options `amount` (a fraction in [0, 1) or a whole number), `pruningMethod`
 *
 * @example
 * ```ts
 * import { nn } from "../../mod.ts";
 * const model = new nn.Sequential(new nn.Linear(8, 8), new nn.ReLU(), new nn.Linear(8, 2));
 * nn.utils.prune.globalUnstructured(
 *   [[model.at(0), "weight"], [model.at(2), "weight"]],
 *   { pruningMethod: nn.utils.prune.L1Unstructured, amount: 0.5 },
 * );
 * ```
 */
export function globalUnstructured(
  parameters: [Module, string][],
  options: GlobalPruneOptions,
): void {
  checkOptions("globalUnstructured", arguments, 1, ["pruningMethod", "amount"]);
  if (!Array.isArray(parameters) || parameters.length === 0) {
    throw new Error(
      `globalUnstructured: expected a non-empty list of [module, name] pairs, e.g. ` +
        `[[model.fc1, "weight"], [model.fc2, "weight"]]`,
    );
  }
  const method = options?.pruningMethod ?? L1Unstructured;
  if (method !== L1Unstructured) {
    throw new Error(
      `globalUnstructured: pruningMethod must be prune.L1Unstructured, got ${String(method)}`,
    );
  }
  const entries = parameters.map((pair, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new TypeError(`globalUnstructured: entry ${i} is not a [module, name] pair`);
    }
    const [module, name] = pair;
    const param = parameterOf("globalUnstructured", module, name);
    const mask = currentMask(module, name, param);
    const remaining = isPrunedParameter(module, name)
      ? onesIn("globalUnstructured", mask)
      : param.numel();
    return { module, name, param, mask, remaining };
  });
  const remaining = entries.reduce((n, e) => n + e.remaining, 0);
  const count = countToPrune("globalUnstructured", options?.amount, remaining);
  // Scores and masks of all the parameters side by side, pruned as one vector, then split back.
  const { scores, masks } = withNoGrad(() => ({
    scores: cat(entries.map((e) => reshape(e.param.mul(e.mask), [e.param.numel()]))),
    masks: cat(entries.map((e) => reshape(e.mask, [e.param.numel()]))),
  }));
  const mask = smallestMask(scores, masks, count);
  let offset = 0;
  for (const e of entries) {
    const own = withNoGrad(() => reshape(mask.narrow(0, offset, e.param.numel()), e.param.shape));
    offset += e.param.numel();
    applyMask(e.module, e.name, own);
  }
}

/**
 * Makes the pruning of `module[name]` permanent (PyTorch's `prune.remove`): `module[name]` is a
 * plain parameter again, holding the masked values (the same tensor as `nameOrig`, so an
 * optimizer keeps training it), and `nameOrig` and `nameMask` are gone. Later training may
 * move the zeros again: nothing holds them any more.
 *
 * @returns the module
 */
export function remove(module: Module, name: string): Module {
  if (!(module instanceof Module) || !isPrunedParameter(module, name)) {
    throw new Error(
      `remove: parameter "${name}" of module ${module?.constructor?.name} has to be pruned ` +
        `before pruning can be removed`,
    );
  }
  const fields = module as unknown as Fields;
  const orig = fields[origName(name)] as Tensor;
  const mask = fields[maskName(name)] as Tensor;
  withNoGrad(() => orig.assign(orig.mul(mask)));
  delete fields[name];
  delete fields[origName(name)];
  delete fields[maskName(name)];
  fields[name] = orig;
  pruned.get(module)!.delete(name);
  return module;
}

/**
 * Whether any parameter of `module` or of a module inside it is pruned (PyTorch's
 * `prune.is_pruned`).
 */
export function isPruned(module: Module): boolean {
  return module.modules().some((m) => (pruned.get(m)?.size ?? 0) > 0);
}
