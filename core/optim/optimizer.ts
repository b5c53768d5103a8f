/**
 * The base class of optimizers: parameter groups, `zeroGrad()`, `step()` and state dicts.
 *
 * An optimizer holds the model's parameters in one or more groups. Each group has its own
 * hyper-parameters (fine-tuning often trains a pretrained backbone with a small learning rate
 * and a new head with a larger one); what a group leaves out comes from the defaults.
 *
 * `step()` updates every parameter that has a gradient, in place, with one kernel per parameter
 * (`sgdStep`, `adamStep` or `rmspropStep` of the kernel registry), so on a GPU the weights and
 * the optimizer's state (momentum, Adam's moments) never leave the device.
 *
 * @module
 */
import { bumpVersion, withNoGrad } from "../autograd.ts";
import { checkOptions } from "../options.ts";
import { findKernel, type OptimizerUpdate } from "../backend.ts";
import { zerosLike } from "../creation.ts";
import { fmtShape } from "../shape.ts";
import { sayWhereNamesWent, Tensor } from "../tensor.ts";

/** Hyper-parameters every optimizer has. */
export interface BaseHyperParams {
  /** The learning rate. */
  lr: number;
}

/** A group of parameters with its hyper-parameters (what `optimizer.paramGroups` holds). */
export type ParamGroup<H extends BaseHyperParams> = H & {
  params: Tensor[];
  /** The learning rate a scheduler started from (set by the first scheduler attached). */
  initialLr?: number;
};

/** A group as given to the constructor: its parameters and any hyper-parameters to override. */
export type ParamGroupInput<H extends BaseHyperParams> = Partial<H> & { params: Tensor[] };

/** What an optimizer is given: parameters, or groups of parameters with their own settings. */
export type ParamsInput<H extends BaseHyperParams> = Tensor[] | ParamGroupInput<H>[];

/** The state kept for one parameter: a step count and named buffers shaped like it. */
export interface ParamState {
  step: number;
  buffers: Record<string, Tensor>;
}

/** An optimizer's state as plain data, with parameters referred to by their index. */
export interface OptimizerStateDict {
  /** Per-parameter state, by the parameter's index across all groups. */
  state: Record<number, { step: number; buffers: Record<string, Tensor> }>;
  /** Each group's hyper-parameters, with `params` as indices. */
  paramGroups: (Record<string, number | boolean | number[]> & { params: number[] })[];
}

/**
 * The base of every optimizer. A subclass names its state buffers and says how one parameter is
 * updated ({@link Optimizer.updateFor}); the base class does the bookkeeping.
 */
export abstract class Optimizer<H extends BaseHyperParams = BaseHyperParams> {
  /** The groups of parameters, each with its hyper-parameters (schedulers change `lr`). */
  readonly paramGroups: ParamGroup<H>[] = [];
  /** The hyper-parameters of a group that does not set its own. */
  readonly defaults: H;
  /** Per-parameter state (momentum buffers, Adam's moments). */
  readonly state = new Map<Tensor, ParamState>();

  constructor(params: ParamsInput<H>, defaults: H) {
    this.defaults = { ...defaults };
    const name = this.constructor.name;
    if (!Array.isArray(params)) {
      const given = params as unknown;
      const got = typeof given === "function"
        ? "a function (call it: model.parameters())"
        : typeof (given as { parameters?: unknown })?.parameters === "function"
        ? "a model (pass model.parameters())"
        : typeof given;
      throw new TypeError(
        `${name}: expected a list of parameters (model.parameters()) or of parameter groups, ` +
          `got ${got}`,
      );
    }
    if (params.length === 0) throw new Error(`${name}: got an empty parameter list`);
    const groups = params[0] instanceof Tensor
      ? [{ params: params as Tensor[] } as ParamGroupInput<H>]
      : (params as ParamGroupInput<H>[]);
    for (const group of groups) this.addParamGroup(group);
  }

  /**
   * Adds a group of parameters (for example layers unfrozen later in fine-tuning). Settings it
   * leaves out come from the defaults.
   */
  addParamGroup(group: ParamGroupInput<H>): void {
    const name = this.constructor.name;
    if (!group || !Array.isArray(group.params)) {
      throw new TypeError(`${name}: a parameter group needs a "params" list of tensors`);
    }
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const [i, p] of group.params.entries()) {
      if (!(p instanceof Tensor)) {
        throw new TypeError(`${name}: parameter ${i} of a group is not a tensor`);
      }
      if (!p.isLeaf) {
        throw new Error(
          `${name}: can't optimize a non-leaf tensor (parameter ${i} of shape ` +
            `${fmtShape(p.shape)} was computed by an op); pass the model's parameters`,
        );
      }
      if (p.dtype === "int32") {
        throw new TypeError(`${name}: parameter ${i} is int32; only float tensors can be trained`);
      }
      if (seen.has(p)) {
        throw new Error(
          `${name}: some parameters appear in more than one parameter group (parameter ${i} ` +
            `of shape ${fmtShape(p.shape)})`,
        );
      }
      seen.add(p);
    }
    checkOptions(`${name} parameter group`, [group], 0, [
      "params",
      ...Object.keys(this.defaults),
    ]);
    const merged = { ...this.defaults, ...group, params: [...group.params] } as ParamGroup<H>;
    this.checkHyperParams(merged);
    this.paramGroups.push(merged);
  }

  /** Throws if a group's hyper-parameters are out of range (each optimizer adds its checks). */
  protected checkHyperParams(group: H): void {
    if (!(group.lr >= 0)) {
      throw new Error(`${this.constructor.name}: invalid learning rate ${group.lr} (must be >= 0)`);
    }
  }

  /** Clears the gradient of every parameter (call before each backward pass). */
  zeroGrad(): void {
    // The old gradients are released now (a training loop's memory stays flat without waiting
    // for the garbage collector); reading one afterwards is an error that says so.
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        p.grad?.releaseBy("zeroGrad");
        p.grad = null;
      }
    }
  }

  /** The names of the state buffers kept per parameter (none, or momentum, or two moments). */
  protected abstract stateNames(group: ParamGroup<H>): string[];

  /**
   * Updates one parameter with tensor ops instead of the backend's fused step, for variants
   * the kernels do not cover (Adam's AMSGrad); returns false to use the fused step.
   */
  protected composedStep(
    _param: Tensor,
    _grad: Tensor,
    _group: ParamGroup<H>,
    _state: ParamState,
  ): boolean {
    return false;
  }

  /** The update for one parameter, given its group and its step number (from 1). */
  protected abstract updateFor(group: ParamGroup<H>, state: ParamState): OptimizerUpdate;

  /**
   * Updates every parameter that has a gradient (others are skipped), in place on its device.
   * Call after `loss.backward()`.
   */
  step(): void {
    withNoGrad(() => {
      for (const group of this.paramGroups) {
        for (const param of group.params) {
          if (param.grad) this.#stepOne(param, param.grad, group);
        }
      }
    });
  }

  #stepOne(param: Tensor, grad: Tensor, group: ParamGroup<H>): void {
    if (grad.device !== param.device || grad.dtype !== param.dtype) {
      grad = grad.to(param.device).to(param.dtype);
    }
    if (grad.ndim !== param.ndim || grad.shape.some((d, i) => d !== param.shape[i])) {
      throw new Error(
        `${this.constructor.name}.step: the gradient of shape ${fmtShape(grad.shape)} does not ` +
          `match its parameter of shape ${fmtShape(param.shape)}`,
      );
    }
    let state = this.state.get(param);
    if (!state) {
      state = { step: 0, buffers: {} };
      this.state.set(param, state);
    }
    // Buffers are made on the parameter's device the first time they are needed.
    const names = this.stateNames(group);
    for (const name of names) state.buffers[name] ??= zerosLike(param);
    state.step++;
    const update = this.updateFor(group, state);
    // The values change in place: a graph that saved them can no longer go backward.
    bumpVersion(param);
    if (this.composedStep(param, grad, group, state)) return;
    const buffers = names.map((name) => state.buffers[name].storage);
    const args = [param.storage, grad.storage, buffers, param.numel()] as const;
    const { device, dtype } = param;
    const missing = () =>
      new Error(
        `${this.constructor.name}.step: no ${update.kind} kernel for ${dtype} on ${device}`,
      );
    // The update is a kernel of the registry: WebAssembly or WGSL where registered, the
    // reference loops of core/cpu/kernels.ts on the CPU otherwise.
    if (update.kind === "sgd") {
      (findKernel("sgdStep", device, dtype) ?? throwError(missing()))(...args, update);
    } else if (update.kind === "adam") {
      (findKernel("adamStep", device, dtype) ?? throwError(missing()))(...args, update);
    } else {
      (findKernel("rmspropStep", device, dtype) ?? throwError(missing()))(...args, update);
    }
  }

  /**
   * The optimizer's state (hyper-parameters of each group and the per-parameter buffers), with
   * parameters referred to by index, so that it can be loaded into an optimizer made for a
   * fresh copy of the model.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((group) => {
      const { params, ...hyper } = group;
      const ids = params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      return { ...(hyper as Record<string, number | boolean | number[]>), params: ids };
    });
    const state: OptimizerStateDict["state"] = {};
    for (const [param, s] of this.state) {
      const id = index.get(param);
      if (id !== undefined) {
        state[id] = { step: s.step, buffers: { ...s.buffers } };
      }
    }
    return { state, paramGroups };
  }

  /**
   * Restores a state from {@link Optimizer.stateDict}. The groups must hold the same number of
   * parameters as when it was saved; buffers are copied onto each parameter's device.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const name = this.constructor.name;
    const saved = stateDict.paramGroups;
    if (saved.length !== this.paramGroups.length) {
      throw new Error(
        `${name}.loadStateDict: the state has ${saved.length} parameter groups, this ` +
          `optimizer has ${this.paramGroups.length}`,
      );
    }
    saved.forEach((group, g) => {
      const own = this.paramGroups[g].params.length;
      if (group.params.length !== own) {
        throw new Error(
          `${name}.loadStateDict: group ${g} of the state has ${group.params.length} ` +
            `parameters, this optimizer's has ${own}`,
        );
      }
    });
    const byIndex = new Map<number, Tensor>();
    saved.forEach((group, g) => {
      group.params.forEach((id, i) => byIndex.set(id, this.paramGroups[g].params[i]));
    });
    withNoGrad(() => {
      this.state.clear();
      for (const [id, s] of Object.entries(stateDict.state)) {
        const param = byIndex.get(Number(id));
        if (!param) continue;
        const buffers: Record<string, Tensor> = {};
        for (const [key, t] of Object.entries(s.buffers)) {
          buffers[key] = zerosLike(param).assign(t.detach().clone());
        }
        this.state.set(param, { step: s.step, buffers });
      }
      saved.forEach((group, g) => {
        const { params: _ids, ...hyper } = group;
        Object.assign(this.paramGroups[g], hyper);
      });
    });
  }
}

sayWhereNamesWent(Optimizer.prototype, "Optimizer", {
  zero_grad: "optimizer.zeroGrad()",
  state_dict: "optimizer.stateDict()",
  load_state_dict: "optimizer.loadStateDict(stateDict)",
  param_groups: "optimizer.paramGroups",
  add_param_group: "optimizer.addParamGroup(group)",
});

function throwError(error: Error): never {
  throw error;
}
