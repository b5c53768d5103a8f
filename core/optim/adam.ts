/**
 * Adam and AdamW: gradient descent with a per-weight step size from running averages of the
 * gradient (first moment) and of its square (second moment).
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

/** Hyper-parameters of {@link Adam} and {@link AdamW}. */
export interface AdamOptions extends BaseHyperParams {
  /** Decay rates of the first and second moment averages. */
  betas: [number, number];
  /** Added to the denominator so that it is never 0. */
  eps: number;
  /** Weight decay (added to the gradient in Adam, applied to the weights in AdamW). */
  weightDecay: number;
}

/**
 * Adam, PyTorch's update: with `g = grad (+ weightDecay * param)`,
 * `m = beta1 * m + (1 - beta1) * g`, `v = beta2 * v + (1 - beta2) * g^2`, and bias-corrected
 * step `param -= lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps)`. The corrections
 * undo the pull toward 0 of averages that start at 0.
 *
 * @example
 * ```ts
 * import { nn, optim } from "../../mod.ts";
 * const model = new nn.Linear(4, 2);
 * const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
 * ```
 */
export class Adam extends Optimizer<AdamOptions> {
  /** Whether weight decay is decoupled from the gradient (AdamW). */
  protected readonly decoupled: boolean = false;

  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, {
      lr: options.lr ?? 1e-3,
      betas: options.betas ?? [0.9, 0.999],
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0,
    });
  }

  protected override checkHyperParams(group: AdamOptions): void {
    super.checkHyperParams(group);
    const name = this.constructor.name;
    const [beta1, beta2] = group.betas;
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
      throw new Error(`${name}: betas must be in [0, 1), got [${group.betas}]`);
    }
    if (!(group.eps >= 0)) throw new Error(`${name}: invalid eps ${group.eps}`);
    if (!(group.weightDecay >= 0)) {
      throw new Error(`${name}: invalid weightDecay ${group.weightDecay}`);
    }
  }

  protected stateNames(): string[] {
    return ["expAvg", "expAvgSq"];
  }

  protected updateFor(group: ParamGroup<AdamOptions>, state: ParamState): OptimizerUpdate {
    return {
      kind: "adam",
      lr: group.lr,
      beta1: group.betas[0],
      beta2: group.betas[1],
      eps: group.eps,
      weightDecay: group.weightDecay,
      decoupled: this.decoupled,
      step: state.step,
    };
  }
}

/**
 * AdamW: Adam with decoupled weight decay. Instead of adding `weightDecay * param` to the
 * gradient (where Adam's scaling would shrink it for weights with large gradients), each step
 * first multiplies the weights by `1 - lr * weightDecay`. Default weight decay 0.01.
 */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { ...options, weightDecay: options.weightDecay ?? 1e-2 });
  }
}
