/**
 * Lesson 8's outcomes, measured in quick mode: the facts about schedules, warm-up,
 * initialization, optimizers and clipping that the lesson's prose states.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type OutputEvent, runLesson, shownShare, shownValue } from "../format.ts";
import { parseLessonSource } from "../source.ts";

const events: OutputEvent[] = [];
const url = new URL("./lesson.ts", import.meta.url);
let ran: Promise<unknown> | undefined;

/** Runs the lesson once (quick, CPU, seed 0) for all the tests of this file. */
async function run(): Promise<void> {
  ran ??= runLesson(url, { quick: true, device: "cpu", seed: 0 }, (event) => events.push(event));
  await ran;
}

/** A share the lesson showed as a percentage ("40.7%") under `label`, from 0 to 1. */
const share = (label: string) => shownShare(events, label);

/** A number the lesson showed under `label`. */
function value(label: string): number {
  const shown = shownValue(events, label);
  assert.equal(typeof shown, "number", `the lesson shows a number labelled "${label}"`);
  return shown as number;
}

Deno.test("lesson 8 (quick): decaying schedules end with a lower validation loss than a constant rate", async () => {
  await run();
  const constant = value("validation loss, constant rate");
  const worst = value("validation loss, worst decaying schedule");
  const best = value("validation loss, best decaying schedule");
  assert.ok(
    worst < constant,
    `every decaying schedule should beat the constant rate: worst ${worst}, constant ${constant}`,
  );
  assert.ok(
    constant > 1.3 * best,
    `the constant rate's validation loss ${constant} should be 30% above the best ${best}`,
  );
});

Deno.test("lesson 8 (quick): warm-up removes the loss spike of the first epoch at lr 0.3", async () => {
  await run();
  const without = value("largest first-epoch loss without warm-up");
  const withWarmup = value("largest first-epoch loss with warm-up");
  assert.ok(without > 1.5 * withWarmup, `without ${without}, with ${withWarmup}`);
  assert.ok(withWarmup < 2.6, `with warm-up the loss stays near ln 10, got ${withWarmup}`);
});

Deno.test("lesson 8 (quick): a 12-layer plain network's signal vanishes or explodes unless Kaiming", async () => {
  await run();
  const kaiming = value("Kaiming: std of layer 11 / std of layer 1");
  assert.ok(kaiming > 0.5 && kaiming < 2, `Kaiming keeps the scale: ratio ${kaiming}`);
  const xavier = value("Xavier: std of layer 11 / std of layer 1");
  assert.ok(xavier < 0.2, `Xavier halves the variance per ReLU layer: ratio ${xavier}`);
  const small = value("too small: std of layer 11");
  assert.ok(small < 1e-6, `too small vanishes: ${small}`);
  const large = value("too large: std of layer 11");
  assert.ok(large > 1e6, `too large explodes: ${large}`);
  const defaultGrads = value("default: grad norm of layer 1 / layer 12");
  assert.ok(defaultGrads < 0.05, `default init: vanishing gradients, ratio ${defaultGrads}`);
  const kaimingGrads = value("Kaiming: grad norm of layer 1 / layer 12");
  assert.ok(kaimingGrads > 0.2 && kaimingGrads < 5, `Kaiming's gradients: ratio ${kaimingGrads}`);

  const defaultLoss = value("training loss after one epoch, default init");
  const xavierLoss = value("training loss after one epoch, Xavier");
  const kaimingLoss = value("training loss after one epoch, Kaiming");
  assert.ok(defaultLoss > 2.2, `the default init does not learn in one epoch: ${defaultLoss}`);
  assert.ok(kaimingLoss < defaultLoss - 0.5, `Kaiming learns: ${kaimingLoss}`);
  assert.ok(kaimingLoss < xavierLoss, `Kaiming ${kaimingLoss} before Xavier ${xavierLoss}`);
});

Deno.test("lesson 8 (quick): momentum, Nesterov, RMSprop and Adam all beat plain SGD", async () => {
  await run();
  const sgd = value("SGD: training loss at the end");
  for (const name of ["momentum", "Nesterov", "RMSprop", "Adam"]) {
    const loss = value(`${name}: training loss at the end`);
    assert.ok(loss * 1.3 < sgd, `${name} ${loss} should end well below plain SGD ${sgd}`);
  }
  const momentumStart = value("momentum: mean loss of the first epoch");
  for (const name of ["RMSprop", "Adam"]) {
    const start = value(`${name}: mean loss of the first epoch`);
    assert.ok(
      start < momentumStart,
      `${name} ${start} is fastest early (momentum ${momentumStart})`,
    );
  }
});

Deno.test("lesson 8 (quick): the run that diverges without clipping trains with clipGradNorm_", async () => {
  await run();
  const firstNaN = value("first NaN step without clipping");
  assert.ok(firstNaN > 0, `without clipping the loss becomes NaN (first NaN step ${firstNaN})`);
  const without = share("validation accuracy without clipping");
  const clipped = share("validation accuracy with clipping");
  assert.ok(clipped > 0.3 && clipped > without + 0.15, `clipped ${clipped}, without ${without}`);
});

Deno.test("lesson 8 (quick): log-uniform sampling and a search chosen on validation", async () => {
  await run();
  const uniform = share("share of uniform draws below 1e-2");
  const logUniform = share("share of log-uniform draws below 1e-2");
  assert.ok(Math.abs(uniform - 0.1) < 0.02, `uniform draws below 1e-2: ${uniform}`);
  assert.ok(Math.abs(logUniform - 2 / 3) < 0.03, `log-uniform draws below 1e-2: ${logUniform}`);
  const validation = share("validation accuracy of the chosen run");
  const test = share("test accuracy of the chosen run (measured once)");
  assert.ok(validation > 0.65, `the chosen run's validation accuracy ${validation}`);
  assert.ok(Math.abs(test - validation) < 0.08, `test ${test} near validation ${validation}`);

  const { steps } = parseLessonSource(await Deno.readTextFile(url));
  assert.equal(events.filter((e) => e.kind === "step").length, steps.length);
  assert.ok(events.some((e) => e.kind === "summary"), "the lesson ends with a summary");
});
