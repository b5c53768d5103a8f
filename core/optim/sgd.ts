/**
 * Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay.
 * @module
 */
import type { OptimizerUpdate } from "../backend.ts";
import {
  type BaseHyperParams,
  Optimizer,
  type ParamGroup,
  type ParamsInput,
  type ParamState,
} from "./optimizer.ts";
import { checkOptions } from "../options.ts";

/** Hyper-parameters of {@link SGD}. */
export interface SGDOptions extends BaseHyperParams {
  /** How much of the previous update to keep (0 = plain gradient descent). */
  momentum: number;
  /** How much to damp the new gradient in the momentum buffer. */
  dampening: number;
  /** Look ahead along the momentum (needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** L2 penalty: `weightDecay * param` is added to the gradient. */
  weightDecay: number;
}

/**
 * Stochastic gradient descent, PyTorch's update: with `g = grad + weightDecay * param`,
 * the momentum buffer is `buf = g` on the first step and `buf = momentum * buf +
 * (1 - dampening) * g` after; the step is `param -= lr * buf` (or `lr * (g + momentum * buf)`
 * with Nesterov). Without momentum it is `param -= lr * g`.
 *
 * @example
 * ```ts
 * import { nn, optim } from "../../mod.ts";
 * const model = new nn.Linear(4, 2);
 * const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * // Fine-tuning: a smaller learning rate for one part of the model.
 * const backbone = new nn.Linear(4, 4), head = new nn.Linear(4, 2);
 * new optim.SGD([
 *   { params: backbone.parameters(), lr: 1e-4 },
 *   { params: head.parameters() },
 * ], { lr: 1e-2 });
 * ```
 */
/** The options of SGD, in PyTorch's positional order. */
const SGD_KEYS = ["lr", "momentum", "dampening", "weightDecay", "nesterov"];

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    checkOptions(new.target.name, arguments, 1, SGD_KEYS);
    if (options?.lr === undefined) {
      throw new Error("SGD: a learning rate is required, e.g. new optim.SGD(params, { lr: 0.01 })");
    }
    super(params, {
      lr: options.lr,
      momentum: options.momentum ?? 0,
      dampening: options.dampening ?? 0,
      nesterov: options.nesterov ?? false,
      weightDecay: options.weightDecay ?? 0,
    });
  }

  protected override checkHyperParams(group: SGDOptions): void {
    super.checkHyperParams(group);
    if (!(group.momentum >= 0)) throw new Error(`SGD: invalid momentum ${group.momentum}`);
    if (!(group.weightDecay >= 0)) throw new Error(`SGD: invalid weightDecay ${group.weightDecay}`);
    if (group.nesterov && (group.momentum <= 0 || group.dampening !== 0)) {
      throw new Error("SGD: Nesterov momentum requires a momentum > 0 and zero dampening");
    }
  }

  protected stateNames(group: ParamGroup<SGDOptions>): string[] {
    return group.momentum !== 0 ? ["momentumBuffer"] : [];
  }

  protected updateFor(group: ParamGroup<SGDOptions>, state: ParamState): OptimizerUpdate {
    return {
      kind: "sgd",
      lr: group.lr,
      momentum: group.momentum,
      dampening: group.dampening,
      nesterov: group.nesterov,
      weightDecay: group.weightDecay,
      firstStep: state.step === 1,
    };
  }
}
