/**
 * `nn`: modules (layers and models), their parameters and state dicts, `nn.init`, and
 * `nn.utils` (gradient clipping).
 *
 * @example
 * ```ts
 * import { nn } from "../../mod.ts";
 * const model = new nn.Sequential(
 *   new nn.Conv2d(1, 8, 3, { padding: 1 }),
 *   new nn.ReLU(),
 *   new nn.MaxPool2d(2),
 *   new nn.Flatten(),
 *   new nn.Linear(8 * 14 * 14, 10),
 * );
 * console.assert(model.namedParameters()[0][0] === "0.weight");
 * ```
 * @module
 */
export {
  isParameter,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  Module,
  ModuleList,
  Parameter,
  Sequential,
  type StateDict,
  stateDictName,
} from "./module.ts";
export * from "./layers.ts";
export * as init from "./init.ts";
export * as functional from "./functional.ts";
export * as utils from "./utils.ts";
