/**
 * `optim`: optimizers (`SGD`, `Adam`, `AdamW`, `RMSprop`) and learning-rate schedules
 * (`optim.lrScheduler`).
 *
 * @example
 * ```ts
 * import { F, nn, optim, randn, randint } from "../../mod.ts";
 * const model = new nn.Linear(4, 3);
 * const optimizer = new optim.Adam(model.parameters(), { lr: 1e-2 });
 * const x = randn([8, 4]), y = randint(0, 3, [8]);
 * for (let step = 0; step < 3; step++) {
 *   optimizer.zeroGrad();
 *   const loss = F.crossEntropy(model.forward(x), y);
 *   loss.backward();
 *   optimizer.step();
 * }
 * ```
 * @module
 */
export {
  type BaseHyperParams,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type ParamsInput,
  type ParamState,
} from "./optimizer.ts";
export { SGD, type SGDOptions } from "./sgd.ts";
export { Adam, type AdamOptions, AdamW } from "./adam.ts";
export { RMSprop, type RMSpropOptions } from "./rmsprop.ts";
export * as lrScheduler from "./lr_scheduler.ts";
