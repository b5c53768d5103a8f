/**
 * Learning-rate schedules: they set `lr` of each of an optimizer's parameter groups as training
 * goes on. Call `scheduler.step()` once per epoch, after `optimizer.step()`
 * (`ReduceLROnPlateau` takes the validation metric: `scheduler.step(valLoss)`).
 *
 * @example
 * ```ts
 * import { nn, optim } from "../../mod.ts";
 * const optimizer = new optim.SGD(new nn.Linear(2, 1).parameters(), { lr: 0.1 });
 * const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: 2, gamma: 0.5 });
 * const lrs = [];
 * for (let epoch = 0; epoch < 5; epoch++) {
 *   lrs.push(optimizer.paramGroups[0].lr);
 *   // ... train one epoch ...
 *   scheduler.step();
 * }
 * console.assert(lrs.join() === "0.1,0.1,0.05,0.05,0.025");
 * ```
 * @module
 */
import { checkOptions } from "../options.ts";
import type { BaseHyperParams, Optimizer } from "./optimizer.ts";

/** Any optimizer, whatever its hyper-parameters. */
// deno-lint-ignore no-explicit-any
type AnyOptimizer = Optimizer<any>;

/**
 * The base of epoch-based schedules: the learning rate of each group is a function of the
 * group's starting rate (`initialLr`) and the epoch count.
 */
export abstract class LRScheduler {
  /** The optimizer whose learning rates are set. */
  readonly optimizer: AnyOptimizer;
  /** The starting learning rate of each group. */
  readonly baseLrs: number[];
  /** How many times `step()` was called. */
  lastEpoch = 0;

  /**

   * Attaches the schedule to an optimizer.

   * @param optimizer the optimizer whose groups' learning rates are set

   */
  constructor(optimizer: AnyOptimizer) {
    this.optimizer = optimizer;
    this.baseLrs = optimizer.paramGroups.map((group) => {
      group.initialLr ??= group.lr;
      return group.initialLr as number;
    });
    // Epoch 0 runs at the starting rates, which the groups already hold.
  }

  /** The learning rate at `epoch` for a group that started at `baseLr`. */
  protected abstract lrAt(baseLr: number, epoch: number): number;

  /** Moves to the next epoch and sets the learning rates for it. */
  step(): void {
    this.lastEpoch++;
    this.#apply();
  }

  #apply(): void {
    this.optimizer.paramGroups.forEach((group: BaseHyperParams, i: number) => {
      group.lr = this.lrAt(this.baseLrs[i], this.lastEpoch);
    });
  }

  /** The learning rate of each group as last set. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((group: BaseHyperParams) => group.lr);
  }
}

/** Options of {@link StepLR}. */
export interface StepLROptions {
  /** Epochs between two decays. */
  stepSize: number;
  /** The factor of each decay (default 0.1). */
  gamma?: number;
}

/**
 * Multiplies the learning rate by `gamma` every `stepSize` epochs:
 * `lr = initialLr * gamma^floor(epoch / stepSize)`.
 */
export class StepLR extends LRScheduler {
  /** Epochs between two decays. */
  readonly stepSize: number;
  /** The factor of each decay. */
  readonly gamma: number;

  /**
   * Attaches the schedule to an optimizer.
   * @param optimizer the optimizer to schedule
   * @param options `stepSize` and `gamma`
   */
  constructor(optimizer: AnyOptimizer, options: StepLROptions) {
    checkOptions("StepLR", arguments, 1, ["stepSize", "gamma"]);
    const { stepSize, gamma = 0.1 } = options ?? {};
    if (!Number.isInteger(stepSize) || stepSize < 1) {
      throw new Error(`StepLR: stepSize must be a positive integer, got ${stepSize}`);
    }
    super(optimizer);
    this.stepSize = stepSize;
    this.gamma = gamma;
  }

  /** The learning rate at `epoch` for a group that started at `baseLr`. */
  protected lrAt(baseLr: number, epoch: number): number {
    return baseLr * Math.pow(this.gamma, Math.floor(epoch / this.stepSize));
  }
}

/** Options of {@link CosineAnnealingLR}. */
export interface CosineAnnealingLROptions {
  /** The number of epochs of the half cosine, from the initial rate down to `etaMin`. */
  tMax: number;
  /** The lowest learning rate (default 0). */
  etaMin?: number;
}

/**
 * Follows half a cosine from the initial learning rate down to `etaMin` over `tMax` epochs:
 * `lr = etaMin + (initialLr - etaMin) * (1 + cos(pi * epoch / tMax)) / 2`. Fast progress early,
 * a gentle landing at the end.
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Epochs from the initial rate down to `etaMin`. */
  readonly tMax: number;
  /** The lowest learning rate. */
  readonly etaMin: number;

  /**
   * Attaches the schedule to an optimizer.
   * @param optimizer the optimizer to schedule
   * @param options `tMax` and `etaMin`
   */
  constructor(optimizer: AnyOptimizer, options: CosineAnnealingLROptions) {
    checkOptions("CosineAnnealingLR", arguments, 1, ["tMax", "etaMin"]);
    const { tMax, etaMin = 0 } = options ?? {};
    if (!(tMax > 0)) throw new Error(`CosineAnnealingLR: tMax must be > 0, got ${tMax}`);
    super(optimizer);
    this.tMax = tMax;
    this.etaMin = etaMin;
  }

  /** The learning rate at `epoch` for a group that started at `baseLr`. */
  protected lrAt(baseLr: number, epoch: number): number {
    return this.etaMin + (baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax)) / 2;
  }
}

/** Options of {@link ReduceLROnPlateau}. */
export interface ReduceLROnPlateauOptions {
  /** Whether the metric should go down (`"min"`, a loss; default) or up (`"max"`, accuracy). */
  mode?: "min" | "max";
  /** The factor of each reduction (default 0.1). */
  factor?: number;
  /** Epochs without improvement to wait before reducing (default 10). */
  patience?: number;
  /** How much better a value must be to count as an improvement (default 1e-4). */
  threshold?: number;
  /** Whether `threshold` is relative (`"rel"`, default) or absolute (`"abs"`). */
  thresholdMode?: "rel" | "abs";
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** The lowest learning rate, one for all groups or one per group (default 0). */
  minLr?: number | number[];
  /** A reduction smaller than this is skipped (default 1e-8). */
  eps?: number;
}

/**
 * Reduces the learning rate by `factor` when a metric (say the validation loss) has not
 * improved for `patience` epochs. Call `step(metric)` once per epoch.
 *
 * @example
 * ```ts
 * import { nn, optim } from "../../mod.ts";
 * const optimizer = new optim.SGD(new nn.Linear(2, 1).parameters(), { lr: 1 });
 * const scheduler = new optim.lrScheduler.ReduceLROnPlateau(optimizer, { patience: 1 });
 * for (const valLoss of [1, 0.5, 0.6, 0.7]) scheduler.step(valLoss);
 * console.assert(Math.abs(optimizer.paramGroups[0].lr - 0.1) < 1e-12);
 * ```
 */
export class ReduceLROnPlateau {
  /** The optimizer whose learning rates are reduced. */
  readonly optimizer: AnyOptimizer;
  /** Whether the metric should go down (`"min"`) or up (`"max"`). */
  readonly mode: "min" | "max";
  /** The factor of each reduction. */
  readonly factor: number;
  /** Epochs without improvement to wait before reducing. */
  readonly patience: number;
  /** How much better a value must be to count as an improvement. */
  readonly threshold: number;
  /** Whether `threshold` is relative or absolute. */
  readonly thresholdMode: "rel" | "abs";
  /** Epochs to wait after a reduction before counting again. */
  readonly cooldown: number;
  /** The lowest learning rate of each group. */
  readonly minLrs: number[];
  /** A reduction smaller than this is skipped. */
  readonly eps: number;
  /** The best metric seen so far. */
  best: number;
  /** Epochs since the last improvement. */
  numBadEpochs = 0;
  /** Epochs of cooldown left. */
  cooldownCounter = 0;
  /** How many times `step()` was called. */
  lastEpoch = 0;

  /**
   * Attaches the schedule to an optimizer.
   * @param optimizer the optimizer to schedule
   * @param options `mode`, `factor`, `patience`, `threshold`, `cooldown`, `minLr`, ...
   */
  constructor(optimizer: AnyOptimizer, options: ReduceLROnPlateauOptions = {}) {
    this.optimizer = optimizer;
    checkOptions("ReduceLROnPlateau", arguments, 1, [
      "mode",
      "factor",
      "patience",
      "threshold",
      "thresholdMode",
      "cooldown",
      "minLr",
      "eps",
    ]);
    this.mode = options.mode ?? "min";
    this.factor = options.factor ?? 0.1;
    this.patience = options.patience ?? 10;
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? "rel";
    this.cooldown = options.cooldown ?? 0;
    this.eps = options.eps ?? 1e-8;
    if (this.mode !== "min" && this.mode !== "max") {
      throw new Error(`ReduceLROnPlateau: mode must be "min" or "max", got "${this.mode}"`);
    }
    if (!(this.factor < 1)) {
      throw new Error(`ReduceLROnPlateau: factor should be < 1, got ${this.factor}`);
    }
    const groups = optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    if (Array.isArray(minLr) && minLr.length !== groups) {
      throw new Error(
        `ReduceLROnPlateau: expected ${groups} minLr values (one per group), got ${minLr.length}`,
      );
    }
    this.minLrs = Array.isArray(minLr) ? [...minLr] : Array(groups).fill(minLr);
    this.best = this.mode === "min" ? Infinity : -Infinity;
  }

  /** Whether `value` beats the best so far by more than the threshold. */
  isBetter(value: number): boolean {
    const { mode, thresholdMode, threshold, best } = this;
    if (mode === "min") {
      return thresholdMode === "rel" ? value < best * (1 - threshold) : value < best - threshold;
    }
    return thresholdMode === "rel" ? value > best * (1 + threshold) : value > best + threshold;
  }

  /** Records this epoch's metric and reduces the learning rate after too long a plateau. */
  step(metric: number): void {
    if (typeof metric !== "number" || Number.isNaN(metric)) {
      throw new TypeError(
        `ReduceLROnPlateau.step: expected the metric as a number, got ${metric} ` +
          `(use await loss.item())`,
      );
    }
    this.lastEpoch++;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0; // bad epochs during cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.#reduce();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }

  #reduce(): void {
    this.optimizer.paramGroups.forEach((group: BaseHyperParams, i: number) => {
      const newLr = Math.max(group.lr * this.factor, this.minLrs[i]);
      if (group.lr - newLr > this.eps) group.lr = newLr;
    });
  }

  /** The learning rate of each group as last set. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((group: BaseHyperParams) => group.lr);
  }
}

/** Options of {@link LinearLR}. */
export interface LinearLROptions {
  /** The factor of the initial rate at epoch 0 (default 1/3). */
  startFactor?: number;
  /** The factor reached after `totalIters` epochs and kept after (default 1). */
  endFactor?: number;
  /** Epochs from `startFactor` to `endFactor` (default 5). */
  totalIters?: number;
}

/**
 * Changes the learning rate linearly from `startFactor * initialLr` to `endFactor * initialLr`
 * over `totalIters` epochs, then keeps it:
 * `lr = initialLr * (start + (end - start) * min(epoch, totalIters) / totalIters)`.
 *
 * With a small `startFactor` this is a **warm-up**: the first steps of training, when the
 * weights are random and the gradients large and erratic (and, with Adam, the second-moment
 * estimates still poor), are taken with a small rate. Unlike StepLR and CosineAnnealingLR, it
 * sets the rate of epoch 0 as soon as it is made.
 *
 * @example
 * ```ts
 * import { nn, optim } from "../../mod.ts";
 * const optimizer = new optim.SGD(new nn.Linear(2, 1).parameters(), { lr: 0.1 });
 * const warmup = new optim.lrScheduler.LinearLR(optimizer, { startFactor: 0.25, totalIters: 3 });
 * const lrs = [];
 * for (let epoch = 0; epoch < 5; epoch++) {
 *   lrs.push(optimizer.paramGroups[0].lr);
 *   warmup.step();
 * }
 * console.assert(lrs.map((lr) => lr.toFixed(3)).join() === "0.025,0.050,0.075,0.100,0.100");
 * ```
 */
export class LinearLR extends LRScheduler {
  /** The factor of the initial rate at epoch 0. */
  readonly startFactor: number;
  /** The factor after `totalIters` epochs. */
  readonly endFactor: number;
  /** Epochs from `startFactor` to `endFactor`. */
  readonly totalIters: number;

  /**
   * Attaches the schedule to an optimizer and sets the rate of epoch 0.
   * @param optimizer the optimizer to schedule
   * @param options `startFactor`, `endFactor` and `totalIters`
   */
  constructor(optimizer: AnyOptimizer, options: LinearLROptions = {}) {
    checkOptions("LinearLR", arguments, 1, ["startFactor", "endFactor", "totalIters"]);
    const { startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = options ?? {};
    if (!(startFactor > 0 && startFactor <= 1)) {
      throw new Error(
        `LinearLR: startFactor must be in (0, 1], got ${startFactor} (the rate starts at ` +
          `startFactor * lr; use a small value such as 0.01 rather than 0)`,
      );
    }
    if (!(endFactor >= 0 && endFactor <= 1)) {
      throw new Error(`LinearLR: endFactor must be in [0, 1], got ${endFactor}`);
    }
    if (!Number.isInteger(totalIters) || totalIters < 1) {
      throw new Error(`LinearLR: totalIters must be a positive integer, got ${totalIters}`);
    }
    super(optimizer);
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    this.optimizer.paramGroups.forEach((group: BaseHyperParams, i: number) => {
      group.lr = this.lrAt(this.baseLrs[i], 0);
    });
  }

  /** The learning rate at `epoch` for a group that started at `baseLr`. */
  protected lrAt(baseLr: number, epoch: number): number {
    const progress = Math.min(epoch, this.totalIters) / this.totalIters;
    return baseLr * (this.startFactor + (this.endFactor - this.startFactor) * progress);
  }
}

/** Options of {@link SequentialLR}. */
export interface SequentialLROptions {
  /** The schedules, in the order they run (all made for the same optimizer). */
  schedulers: LRScheduler[];
  /** The epochs at which the next schedule takes over (one fewer than the schedules). */
  milestones: number[];
}

/**
 * Runs schedules one after another: `schedulers[0]` until epoch `milestones[0]`, then
 * `schedulers[1]` starting from its own epoch 0, and so on. The usual pairing is a linear
 * warm-up followed by a cosine decay.
 *
 * @example
 * ```ts
 * import { nn, optim } from "../../mod.ts";
 * const { CosineAnnealingLR, LinearLR, SequentialLR } = optim.lrScheduler;
 * const optimizer = new optim.SGD(new nn.Linear(2, 1).parameters(), { lr: 0.1 });
 * const warmup = new LinearLR(optimizer, { startFactor: 0.1, totalIters: 3 });
 * const cosine = new CosineAnnealingLR(optimizer, { tMax: 6 });
 * const scheduler = new SequentialLR(optimizer, { schedulers: [warmup, cosine], milestones: [3] });
 * const lrs = [];
 * for (let epoch = 0; epoch < 6; epoch++) {
 *   lrs.push(optimizer.paramGroups[0].lr);
 *   scheduler.step();
 * }
 * console.assert(lrs.map((lr) => lr.toFixed(3)).join() === "0.010,0.040,0.070,0.100,0.093,0.075");
 * ```
 */
export class SequentialLR {
  /** The optimizer whose learning rates are set. */
  readonly optimizer: AnyOptimizer;
  /** The schedules, in order. */
  readonly schedulers: LRScheduler[];
  /** The epochs at which the next schedule takes over. */
  readonly milestones: number[];
  /** How many times `step()` was called. */
  lastEpoch = 0;

  /**
   * Chains schedules and sets the rate of epoch 0 from the first one.
   * @param optimizer the optimizer the schedules were made for
   * @param options `schedulers` and `milestones`
   */
  constructor(optimizer: AnyOptimizer, options: SequentialLROptions) {
    checkOptions("SequentialLR", arguments, 1, ["schedulers", "milestones"]);
    const { schedulers, milestones } = options ?? {};
    if (!Array.isArray(schedulers) || schedulers.length === 0) {
      throw new Error("SequentialLR: expected a non-empty list of schedulers");
    }
    schedulers.forEach((scheduler, i) => {
      if (!(scheduler instanceof LRScheduler)) {
        throw new TypeError(
          `SequentialLR: scheduler ${i} is not an epoch schedule (StepLR, CosineAnnealingLR, ` +
            `LinearLR, ...); ReduceLROnPlateau cannot be chained`,
        );
      }
      if (scheduler.optimizer !== optimizer) {
        throw new Error(
          `SequentialLR: all schedulers must belong to the same optimizer, but scheduler ${i} ` +
            `was made for another one`,
        );
      }
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new Error(
        `SequentialLR: expected ${schedulers.length - 1} milestones (one fewer than the ` +
          `${schedulers.length} schedulers), got ${JSON.stringify(milestones)}`,
      );
    }
    milestones.forEach((m, i) => {
      if (!Number.isInteger(m) || m < 1 || (i > 0 && m <= milestones[i - 1])) {
        throw new Error(
          `SequentialLR: milestones must be increasing positive integers, got ` +
            `${JSON.stringify(milestones)}`,
        );
      }
    });
    this.optimizer = optimizer;
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    this.#apply();
  }

  /** Moves to the next epoch and sets the learning rates from the schedule in charge. */
  step(): void {
    this.lastEpoch++;
    this.#apply();
  }

  #apply(): void {
    // The schedule in charge is the one after the last milestone reached; it counts epochs
    // from that milestone.
    const index = this.milestones.filter((m) => m <= this.lastEpoch).length;
    const start = index === 0 ? 0 : this.milestones[index - 1];
    const scheduler = this.schedulers[index];
    scheduler.lastEpoch = this.lastEpoch - start - 1;
    scheduler.step();
  }

  /** The learning rate of each group as last set. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((group: BaseHyperParams) => group.lr);
  }
}
