/**
 * `nn.utils`: gradient clipping, and `nn.utils.prune` (magnitude pruning with masks, in
 * `prune.ts`).
 *
 * A single bad batch (an outlier, a loss surface with a cliff, a learning rate a little too
 * high) can give a gradient hundreds of times larger than usual, and one step along it throws
 * the weights far away: the loss jumps and often never comes back, or becomes NaN. Clipping
 * bounds the step. `clipGradNorm_` rescales all gradients together when their joint norm is
 * above a limit (the direction is kept, only the length shrinks); `clipGradValue_` clamps each
 * entry (the direction changes).
 *
 * Both change the gradients in place: call them after `loss.backward()` and before
 * `optimizer.step()`.
 *
 * @example
 * ```ts
 * import { F, nn, optim, randn } from "../../mod.ts";
 * const model = new nn.Linear(4, 1);
 * const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
 * F.mseLoss(model.forward(randn([8, 4])), randn([8, 1]).mul(1000)).backward();
 * const norm = nn.utils.clipGradNorm_(model.parameters(), 1.0); // the norm before clipping
 * console.assert((await norm.item()) > 1);
 * optimizer.step();
 * ```
 * @module
 */
import { withNoGrad } from "../autograd.ts";
import { tensor } from "../creation.ts";
import { checkArgCount, checkOptions } from "../options.ts";
import { stack } from "../ops/shape.ts";
import { Tensor } from "../tensor.ts";
export * as prune from "./prune.ts";

/** Parameters as PyTorch takes them: one tensor or a list of tensors. */
export type ParametersInput = Tensor | Iterable<Tensor>;

/** Options of {@link clipGradNorm_}. */
export interface ClipGradNormOptions {
  /** Which norm: 2 (default, the Euclidean length), 1, any p >= 1, or `Infinity` (max |g|). */
  normType?: number;
}

/** The parameters' gradients (those that have one), with the input checked. */
function gradientsOf(op: string, parameters: ParametersInput): Tensor[] {
  const list = parameters instanceof Tensor ? [parameters] : parameters;
  if (list === null || typeof list !== "object" || !(Symbol.iterator in list)) {
    throw new TypeError(
      `${op}: expected the parameters (model.parameters()) or one tensor, got ${typeof list}`,
    );
  }
  const grads: Tensor[] = [];
  for (const [i, p] of [...list].entries()) {
    if (!(p instanceof Tensor)) {
      throw new TypeError(`${op}: parameter ${i} is not a tensor`);
    }
    if (p.grad) grads.push(p.grad);
  }
  return grads;
}

/**
 * Rescales the gradients of `parameters` in place so that their joint norm (the norm of all
 * gradient entries taken as one long vector) is at most `maxNorm`, as PyTorch's
 * `clip_grad_norm_`: each gradient is multiplied by `min(1, maxNorm / (totalNorm + 1e-6))`.
 * Parameters without a gradient are skipped.
 *
 * The norm is computed on the gradients' device without reading it back; `await norm.item()`
 * when you want to log it.
 *
 * @param parameters the parameters (`model.parameters()`) or one tensor
 * @param maxNorm the largest joint norm allowed (a positive number)
 * @param options `normType` (default 2; `Infinity` for the largest absolute entry)
 * @returns the joint norm before clipping, a scalar tensor
 */
export function clipGradNorm_(
  parameters: ParametersInput,
  maxNorm: number,
  options: ClipGradNormOptions = {},
): Tensor {
  checkOptions("clipGradNorm_", arguments, 2, ["normType"]);
  const normType = options?.normType ?? 2;
  if (typeof maxNorm !== "number" || !(maxNorm > 0)) {
    throw new Error(
      `clipGradNorm_: maxNorm must be a positive number, got ${String(maxNorm)} ` +
        `(e.g. nn.utils.clipGradNorm_(model.parameters(), 1.0))`,
    );
  }
  if (typeof normType !== "number" || !(normType >= 1)) {
    throw new Error(
      `clipGradNorm_: normType must be a number >= 1 or Infinity, got ${String(normType)}`,
    );
  }
  const grads = gradientsOf("clipGradNorm_", parameters);
  if (grads.length === 0) return tensor(0);
  return withNoGrad(() => {
    const { dtype, device } = grads[0];
    // The norm of the per-tensor norms is the norm of all entries together.
    const norms = grads.map((g) => g.norm(normType).to(device).to(dtype));
    const totalNorm = stack(norms).norm(normType);
    // The factor is clamped at 1: gradients shorter than maxNorm are left as they are. The
    // 1e-6 keeps it finite when every gradient is 0.
    const factor = totalNorm.add(1e-6).pow(-1).mul(maxNorm).clamp(undefined, 1);
    for (const g of grads) g.assign(g.mul(factor.to(g.device).to(g.dtype)));
    return totalNorm;
  });
}

/**
 * Clamps every gradient entry of `parameters` into `[-clipValue, clipValue]`, in place, as
 * PyTorch's `clip_grad_value_`. Parameters without a gradient are skipped.
 *
 * @param parameters the parameters (`model.parameters()`) or one tensor
 * @param clipValue the largest absolute value allowed (a positive number)
 */
export function clipGradValue_(parameters: ParametersInput, clipValue: number): void {
  checkArgCount("clipGradValue_", arguments, 2);
  if (typeof clipValue !== "number" || !(clipValue > 0)) {
    throw new Error(
      `clipGradValue_: clipValue must be a positive number, got ${String(clipValue)} ` +
        `(e.g. nn.utils.clipGradValue_(model.parameters(), 0.5))`,
    );
  }
  const grads = gradientsOf("clipGradValue_", parameters);
  withNoGrad(() => {
    for (const g of grads) g.assign(g.clamp(-clipValue, clipValue));
  });
}
