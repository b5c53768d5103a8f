/**
 * Warm-up schedules: `LinearLR` and `SequentialLR` against PyTorch 1.13 (the learning rate of
 * each epoch), with their errors.
 *
 * @module
 */
import assert from "node:assert/strict";
import { nn, optim } from "../mod.ts";

const { CosineAnnealingLR, LinearLR, SequentialLR, StepLR, ReduceLROnPlateau } = optim.lrScheduler;

function sgd(lr = 0.1): optim.SGD {
  return new optim.SGD(new nn.Linear(2, 1).parameters(), { lr });
}

/**
 * The learning rate of each of `epochs` epochs, read before the epoch's `step()`, as the
 * Python reference: `for e in range(n): out.append(opt.param_groups[0]["lr"]); opt.step();
 * scheduler.step()`.
 */
function lrs(optimizer: optim.SGD, scheduler: { step(): void }, epochs: number): number[] {
  const out = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    out.push(optimizer.paramGroups[0].lr);
    scheduler.step();
  }
  return out;
}

function assertLrs(received: number[], expected: number[], what: string): void {
  assert.equal(received.length, expected.length, what);
  received.forEach((lr, epoch) => {
    assert.ok(
      Math.abs(lr - expected[epoch]) <= 1e-12,
      `${what}: epoch ${epoch}: expected lr ${expected[epoch]}, received ${lr}\n` +
        `  expected ${expected.join(", ")}\n  received ${received.join(", ")}`,
    );
  });
}

Deno.test("LinearLR warms up (and decays) linearly as PyTorch", () => {
  // torch.optim.lr_scheduler.LinearLR(opt) with lr 0.1: defaults 1/3 -> 1 over 5 epochs
  let optimizer = sgd();
  assertLrs(lrs(optimizer, new LinearLR(optimizer), 8), [
    0.03333333333333333,
    0.04666666666666667,
    0.060000000000000005,
    0.07333333333333335,
    0.08666666666666668,
    0.1,
    0.1,
    0.1,
  ], "LinearLR()");
  // LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=4)
  optimizer = sgd();
  const warmup = new LinearLR(optimizer, { startFactor: 0.1, endFactor: 1, totalIters: 4 });
  assertLrs(
    lrs(optimizer, warmup, 7),
    [0.01, 0.0325, 0.055, 0.0775, 0.1, 0.1, 0.1],
    "LinearLR(0.1 -> 1 over 4)",
  );
  // LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=5): a linear decay
  optimizer = sgd();
  const decay = new LinearLR(optimizer, { startFactor: 1, endFactor: 0, totalIters: 5 });
  assertLrs(lrs(optimizer, decay, 7), [0.1, 0.08, 0.06, 0.04, 0.02, 0, 0], "LinearLR(1 -> 0)");
  assert.deepEqual(decay.getLastLr(), [0]);
});

Deno.test("SequentialLR: linear warm-up then cosine decay matches PyTorch", () => {
  // w = LinearLR(opt, start_factor=0.1, total_iters=3)
  // c = CosineAnnealingLR(opt, T_max=6, eta_min=0.001)
  // SequentialLR(opt, [w, c], milestones=[3])
  const optimizer = sgd();
  const warmup = new LinearLR(optimizer, { startFactor: 0.1, totalIters: 3 });
  const cosine = new CosineAnnealingLR(optimizer, { tMax: 6, etaMin: 0.001 });
  const scheduler = new SequentialLR(optimizer, { schedulers: [warmup, cosine], milestones: [3] });
  assertLrs(lrs(optimizer, scheduler, 12), [
    0.010000000000000002,
    0.04,
    0.07,
    0.1,
    0.09336825748732973,
    0.07525000000000001,
    0.0505,
    0.025750000000000012,
    0.007631742512670284,
    0.001,
    0.007631742512670284,
    0.025750000000000002,
  ], "warm-up then cosine");
});

Deno.test("SequentialLR with three schedules and two milestones matches PyTorch", () => {
  // LinearLR(start_factor=0.25, total_iters=2), StepLR(step_size=2, gamma=0.5),
  // LinearLR(start_factor=1.0, end_factor=0.1, total_iters=3); milestones=[2, 6]
  const optimizer = sgd();
  const schedulers = [
    new LinearLR(optimizer, { startFactor: 0.25, totalIters: 2 }),
    new StepLR(optimizer, { stepSize: 2, gamma: 0.5 }),
    new LinearLR(optimizer, { startFactor: 1, endFactor: 0.1, totalIters: 3 }),
  ];
  const scheduler = new SequentialLR(optimizer, { schedulers, milestones: [2, 6] });
  assertLrs(
    lrs(optimizer, scheduler, 11),
    [0.025, 0.0625, 0.1, 0.1, 0.05, 0.05, 0.1, 0.07, 0.04, 0.01, 0.01],
    "three schedules",
  );
});

Deno.test("warm-up schedules reject bad options with a message that names them", () => {
  const optimizer = sgd();
  assert.throws(
    () => new LinearLR(optimizer, { startFactor: 0 }),
    /LinearLR: startFactor must be in \(0, 1\], got 0/,
  );
  assert.throws(
    () => new LinearLR(optimizer, { endFactor: 1.5 }),
    /LinearLR: endFactor must be in \[0, 1\], got 1.5/,
  );
  assert.throws(
    () => new LinearLR(optimizer, { totalIters: 2.5 }),
    /LinearLR: totalIters must be a positive integer, got 2.5/,
  );
  assert.throws(
    () => new LinearLR(optimizer, { total_iters: 5 } as never),
    /LinearLR: unknown option "total_iters"; did you mean "totalIters"\?/,
  );
  assert.throws(
    () => new LinearLR(optimizer, 0.1 as never),
    /LinearLR: the second argument is an options object, got a number \(0.1\)/,
  );
  const warmup = new LinearLR(optimizer);
  const cosine = new CosineAnnealingLR(optimizer, { tMax: 10 });
  assert.throws(
    () => new SequentialLR(optimizer, { schedulers: [warmup, cosine], milestones: [] }),
    /SequentialLR: expected 1 milestones \(one fewer than the 2 schedulers\), got \[\]/,
  );
  assert.throws(
    () => new SequentialLR(optimizer, { schedulers: [], milestones: [] }),
    /SequentialLR: expected a non-empty list of schedulers/,
  );
  const other = sgd();
  assert.throws(
    () =>
      new SequentialLR(optimizer, {
        schedulers: [warmup, new StepLR(other, { stepSize: 1 })],
        milestones: [5],
      }),
    /SequentialLR: all schedulers must belong to the same optimizer, but scheduler 1/,
  );
  assert.throws(
    () =>
      new SequentialLR(optimizer, {
        schedulers: [warmup, new ReduceLROnPlateau(optimizer)] as never,
        milestones: [5],
      }),
    /SequentialLR: scheduler 1 is not an epoch schedule .*ReduceLROnPlateau cannot be chained/,
  );
  assert.throws(
    () =>
      new SequentialLR(optimizer, {
        schedulers: [warmup, cosine, new StepLR(optimizer, { stepSize: 1 })],
        milestones: [5, 5],
      }),
    /SequentialLR: milestones must be increasing positive integers, got \[5,5\]/,
  );
  assert.throws(
    () => new SequentialLR(optimizer, [warmup, cosine] as never),
    /SequentialLR: the second argument is an options object, got an array/,
  );
});
