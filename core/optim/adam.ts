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
import { checkOptions } from "../options.ts";
import type { Tensor } from "../tensor.ts";

/** Hyper-parameters of {@link Adam} and {@link AdamW}. */
export interface AdamOptions extends BaseHyperParams {
  /** Decay rates of the first and second moment averages. */
  betas: [number, number];
  /** Added to the denominator so that it is never 0. */
  eps: number;
  /** Weight decay (added to the gradient in Adam, applied to the weights in AdamW). */
  weightDecay: number;
  /** Use the largest second moment seen so far (AMSGrad); default false. */
  amsgrad: boolean;
}

/** The options of Adam and AdamW, in PyTorch's positional order. */
const ADAM_KEYS = ["lr", "betas", "eps", "weightDecay", "amsgrad"];

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
    checkOptions(new.target.name, arguments, 1, ADAM_KEYS);
    super(params, {
      lr: options.lr ?? 1e-3,
      betas: options.betas ?? [0.9, 0.999],
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? (new.target === AdamW ? 1e-2 : 0),
      amsgrad: options.amsgrad ?? false,
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
    if (typeof group.amsgrad !== "boolean") {
      throw new TypeError(`${name}: amsgrad must be true or false, got ${group.amsgrad}`);
    }
  }

  protected stateNames(group: ParamGroup<AdamOptions>): string[] {
    return group.amsgrad ? ["expAvg", "expAvgSq", "maxExpAvgSq"] : ["expAvg", "expAvgSq"];
  }

  /**
   * AMSGrad (Reddi et al., 2018) divides by the largest second moment seen so far instead of
   * the current one, so the step size never grows back after a burst of large gradients. It is
   * written here with tensor ops (the fused kernels cover plain Adam), as PyTorch's step is:
   *
   *   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,  vMax = max(vMax, v),
   *   p -= lr / (1 - b1^t) * m / (sqrt(vMax) / sqrt(1 - b2^t) + eps).
   */
  protected override composedStep(
    param: Tensor,
    grad: Tensor,
    group: ParamGroup<AdamOptions>,
    state: ParamState,
  ): boolean {
    if (!group.amsgrad) return false;
    const [beta1, beta2] = group.betas;
    const { expAvg, expAvgSq, maxExpAvgSq } = state.buffers;
    let g = grad;
    if (group.weightDecay !== 0 && !this.decoupled) g = g.add(param.mul(group.weightDecay));
    const decayed = group.weightDecay !== 0 && this.decoupled
      ? param.mul(1 - group.lr * group.weightDecay)
      : param;
    expAvg.assign(expAvg.mul(beta1).add(g.mul(1 - beta1)));
    expAvgSq.assign(expAvgSq.mul(beta2).add(g.mul(g).mul(1 - beta2)));
    maxExpAvgSq.assign(maxExpAvgSq.maximum(expAvgSq));
    const correction1 = 1 - beta1 ** state.step;
    const correction2 = 1 - beta2 ** state.step;
    const denom = maxExpAvgSq.sqrt().div(Math.sqrt(correction2)).add(group.eps);
    param.assign(decayed.sub(expAvg.div(denom).mul(group.lr / correction1)));
    return true;
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
    super(params, options);
  }
}
