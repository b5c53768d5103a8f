import assert from "node:assert/strict";
import { assertClose, optim, tensor } from "../mod.ts";

const { CosineAnnealingLR, ReduceLROnPlateau, StepLR } = optim.lrScheduler;

function makeOptimizer(lr = 0.1): optim.SGD {
  return new optim.SGD([tensor([0], { requiresGrad: true })], { lr });
}

/**
 * The learning rate used in each of `epochs` epochs, as the Python reference collects it:
 *   for i in range(n): out.append(opt.param_groups[0]["lr"]); opt.step(); sched.step(...)
 */
function lrSequence(
  optimizer: optim.SGD,
  epochs: number,
  step: (epoch: number) => void,
): number[] {
  const lrs: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    lrs.push(optimizer.paramGroups[0].lr);
    step(epoch);
  }
  return lrs;
}

Deno.test("StepLR halves the rate every 3 epochs, as PyTorch", async () => {
  // torch.optim.lr_scheduler.StepLR(SGD(lr=0.1), step_size=3, gamma=0.5), 10 epochs
  const optimizer = makeOptimizer();
  const scheduler = new StepLR(optimizer, { stepSize: 3, gamma: 0.5 });
  const lrs = lrSequence(optimizer, 10, () => scheduler.step());
  await assertClose(lrs, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125], {
    atol: 1e-15,
  });
  assert.deepEqual(scheduler.getLastLr(), [0.1 * 0.5 ** 3]);
  assert.throws(
    () => new StepLR(optimizer, { stepSize: 0 }),
    /StepLR: stepSize must be a positive/,
  );
});

Deno.test("CosineAnnealingLR follows PyTorch's sequence, past tMax too", async () => {
  // torch.optim.lr_scheduler.CosineAnnealingLR(SGD(lr=0.1), T_max=5, eta_min=0.01), 12 epochs
  const optimizer = makeOptimizer();
  const scheduler = new CosineAnnealingLR(optimizer, { tMax: 5, etaMin: 0.01 });
  const lrs = lrSequence(optimizer, 12, () => scheduler.step());
  await assertClose(lrs, [
    0.1,
    0.09140576474687263,
    0.06890576474687263,
    0.04109423525312736,
    0.018594235253127367,
    0.01,
    0.018594235253127367,
    0.04109423525312739,
    0.06890576474687267,
    0.09140576474687269,
    0.10000000000000006,
    0.09140576474687272,
  ], { atol: 1e-12 });
});

Deno.test("ReduceLROnPlateau waits `patience` epochs, then reduces, then cools down", async () => {
  // ReduceLROnPlateau(SGD(lr=0.1), patience=2, factor=0.5, cooldown=1, min_lr=0.02)
  const metrics = [
    1.0,
    0.9,
    0.91,
    0.92,
    0.89,
    0.95,
    0.96,
    0.97,
    0.98,
    0.99,
    1.0,
    0.5,
    0.6,
    0.7,
    0.8,
  ];
  const optimizer = makeOptimizer();
  const scheduler = new ReduceLROnPlateau(optimizer, {
    patience: 2,
    factor: 0.5,
    cooldown: 1,
    minLr: 0.02,
  });
  const lrs = lrSequence(optimizer, metrics.length, (i) => scheduler.step(metrics[i]));
  await assertClose(
    lrs,
    [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05],
    { atol: 1e-15 },
  );
});

Deno.test("ReduceLROnPlateau in max mode with an absolute threshold, and its minimum", async () => {
  // ReduceLROnPlateau(SGD(lr=0.1), mode="max", patience=1, threshold=0.1, threshold_mode="abs")
  const metrics = [0.5, 0.55, 0.7, 0.75, 0.78, 0.9, 0.95, 0.96];
  const optimizer = makeOptimizer();
  const scheduler = new ReduceLROnPlateau(optimizer, {
    mode: "max",
    patience: 1,
    threshold: 0.1,
    thresholdMode: "abs",
  });
  const lrs = lrSequence(optimizer, metrics.length, (i) => scheduler.step(metrics[i]));
  await assertClose(lrs, [0.1, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01], { atol: 1e-15 });

  const floored = makeOptimizer(1);
  const plateau = new ReduceLROnPlateau(floored, { patience: 0, minLr: 0.05 });
  for (let i = 0; i < 5; i++) plateau.step(1);
  assert.equal(floored.paramGroups[0].lr, 0.05);
  assert.throws(() => plateau.step(NaN), /expected the metric as a number/);
  assert.throws(() => new ReduceLROnPlateau(floored, { factor: 2 }), /factor should be < 1/);
});

Deno.test("schedulers scale every parameter group from its own starting rate", () => {
  const optimizer = new optim.SGD([
    { params: [tensor([0], { requiresGrad: true })], lr: 1e-3 },
    { params: [tensor([0], { requiresGrad: true })] },
  ], { lr: 1e-1 });
  const scheduler = new StepLR(optimizer, { stepSize: 1, gamma: 0.1 });
  scheduler.step();
  assert.deepEqual(scheduler.baseLrs, [1e-3, 1e-1]);
  const [backbone, head] = scheduler.getLastLr();
  assert.ok(Math.abs(backbone - 1e-4) < 1e-15 && Math.abs(head - 1e-2) < 1e-15);
});
