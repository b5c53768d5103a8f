/**
 * RMSprop: gradient descent with a per-weight step size from a running average of the squared
 * gradient (Hinton's lecture notes, 2012).
 * @module
 */
import type { OptimizerUpdate } from "../backend.ts";
import { checkOptions } from "../options.ts";
import {
  type BaseHyperParams,
  Optimizer,
  type ParamGroup,
  type ParamsInput,
  type ParamState,
} from "./optimizer.ts";

/** Hyper-parameters of {@link RMSprop}. */
export interface RMSpropOptions extends BaseHyperParams {
  /** Decay rate of the running average of the squared gradient (default 0.99). */
  alpha: number;
  /** Added to the denominator so that it is never 0 (default 1e-8). */
  eps: number;
  /** L2 penalty: `weightDecay * param` is added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum on the scaled step (default 0). */
  momentum: number;
  /** Divide by an estimate of the gradient's standard deviation instead of its root mean
   * square: the running mean of the gradient is subtracted (default false). */
  centered: boolean;
}

/** The option keys, in PyTorch's positional order. */
const KEYS = ["lr", "alpha", "eps", "weightDecay", "momentum", "centered"];

/**
 * RMSprop, PyTorch's update: with `g = grad + weightDecay * param`, keep
 * `squareAvg = alpha * squareAvg + (1 - alpha) * g^2` and step
 * `param -= lr * g / (sqrt(squareAvg) + eps)`. A weight whose gradient is always large takes
 * small steps and one whose gradient is small takes larger ones, so one learning rate suits
 * weights whose gradients differ by orders of magnitude. Adam is RMSprop plus momentum on the
 * gradient and bias correction.
 *
 * With `centered`, the running mean of the gradient `gradAvg` is subtracted:
 * `sqrt(squareAvg - gradAvg^2)`. With `momentum`, `buf = momentum * buf + g / (...)` and
 * `param -= lr * buf`.
 *
 * @example
 * ```ts
 * import { nn, optim } from "../../mod.ts";
 * const model = new nn.Linear(4, 2);
 * const optimizer = new optim.RMSprop(model.parameters(), { lr: 1e-3, momentum: 0.9 });
 * ```
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  /**
   * Makes the optimizer.
   * @param params the parameters (`model.parameters()`) or groups of parameters
   * @param options `lr` (default 0.01), `alpha`, `eps`, `weightDecay`, `momentum`, `centered`
   */
  constructor(params: ParamsInput<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    checkOptions("RMSprop", arguments, 1, KEYS);
    options ??= {};
    super(params, {
      lr: options.lr ?? 1e-2,
      alpha: options.alpha ?? 0.99,
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0,
      momentum: options.momentum ?? 0,
      centered: options.centered ?? false,
    });
  }

  protected override checkHyperParams(group: RMSpropOptions): void {
    super.checkHyperParams(group);
    const check = (ok: boolean, what: string, value: unknown, expected: string) => {
      if (!ok) throw new Error(`RMSprop: invalid ${what} ${value} (${expected})`);
    };
    check(group.alpha >= 0 && group.alpha <= 1, "alpha", group.alpha, "must be in [0, 1]");
    check(group.eps >= 0, "eps", group.eps, "must be >= 0");
    check(group.weightDecay >= 0, "weightDecay", group.weightDecay, "must be >= 0");
    check(group.momentum >= 0, "momentum", group.momentum, "must be >= 0");
    check(typeof group.centered === "boolean", "centered", group.centered, "true or false");
  }

  protected stateNames(group: ParamGroup<RMSpropOptions>): string[] {
    // The order the backends expect: the square average, then the optional buffers.
    return [
      "squareAvg",
      ...(group.momentum > 0 ? ["momentumBuffer"] : []),
      ...(group.centered ? ["gradAvg"] : []),
    ];
  }

  protected updateFor(group: ParamGroup<RMSpropOptions>, _state: ParamState): OptimizerUpdate {
    return {
      kind: "rmsprop",
      lr: group.lr,
      alpha: group.alpha,
      eps: group.eps,
      weightDecay: group.weightDecay,
      momentum: group.momentum,
      centered: group.centered,
    };
  }
}
