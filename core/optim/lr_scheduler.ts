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
    const { stepSize, gamma = 0.1 } = options;
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
    const { tMax, etaMin = 0 } = options;
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
