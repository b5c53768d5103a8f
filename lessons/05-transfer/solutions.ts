/**
 * Lesson 5, reference solutions. Same exports as `exercises.ts`; `deno task test` checks them.
 *
 * @module
 */
import { nn, noGrad, type Tensor } from "../../mod.ts";

/** A network in two parts, like the lesson's: a backbone (`features`) and a linear `head`. */
export interface HeadedNet extends nn.Module {
  features: nn.Module;
  head: nn.Linear;
}

/** A group of parameters with its own learning rate, as optimizers take them. */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
}

/** Task 5.1: freezes a module: none of its parameters is trained any more. */
export function freeze(module: nn.Module): void {
  for (const parameter of module.parameters()) parameter.requiresGrad_(false);
}

/** Task 5.2: the total size of the parameters that require a gradient. */
export function countTrainable(module: nn.Module): number {
  return module.parameters()
    .filter((parameter) => parameter.requiresGrad)
    .reduce((sum, parameter) => sum + parameter.numel(), 0);
}

/** Task 5.3: a fresh linear head with the same inputs and `classes` outputs. */
export function replaceHead(model: HeadedNet, classes: number): nn.Linear {
  model.head = new nn.Linear(model.head.inFeatures, classes);
  return model.head;
}

/** Task 5.4: the backbone's parameters at `backboneLr`, then the head's at `headLr`. */
export function fineTuningGroups(
  model: HeadedNet,
  backboneLr: number,
  headLr: number,
): ParamGroup[] {
  return [
    { params: model.features.parameters(), lr: backboneLr },
    { params: model.head.parameters(), lr: headLr },
  ];
}

/**
 * Task 5.5: gradient descent with parameter groups: each group keeps its own learning rate (or
 * the default one); a parameter without a gradient is skipped.
 */
export class MySGD {
  groups: ParamGroup[];

  constructor(groups: { params: Tensor[]; lr?: number }[], options: { lr: number }) {
    this.groups = groups.map((group) => ({ params: group.params, lr: group.lr ?? options.lr }));
  }

  step(): void {
    using _ = noGrad();
    for (const group of this.groups) {
      for (const p of group.params) {
        if (!p.grad) continue; // frozen, or not reached by the loss
        p.assign(p.sub(p.grad.mul(group.lr)));
      }
    }
  }

  zeroGrad(): void {
    for (const group of this.groups) {
      for (const p of group.params) p.zeroGrad();
    }
  }
}
