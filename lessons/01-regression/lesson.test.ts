/**
 * Lesson 1's outcome, measured in quick mode: the MLP's total loss gets down near the noise
 * floor, and the hand-written gradient descent finds the line.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type OutputEvent, runLesson, shownValue } from "../format.ts";
import { parseLessonSource } from "../source.ts";

Deno.test("lesson 1 (quick): the MLP's total loss ends below 0.001", async () => {
  const events: OutputEvent[] = [];
  const url = new URL("./lesson.ts", import.meta.url);
  await runLesson(url, { quick: true, device: "cpu", seed: 0 }, (event) => events.push(event));

  const totalLoss = shownValue(events, "total loss (MSE over 1000 samples)") as number;
  assert.ok(totalLoss < 0.001, `total loss ${totalLoss} should be below 0.001`);
  // It cannot beat the noise: 0.05 * U[0, 1) has variance 0.05^2 / 12.
  assert.ok(totalLoss > 0.05 ** 2 / 12 * 0.8, `total loss ${totalLoss} is below the noise floor`);

  const w = shownValue(events, "w found by hand") as number;
  const b = shownValue(events, "b found by hand") as number;
  assert.ok(Math.abs(w - 2) < 0.1, `gradient descent by hand found w = ${w}, not 2`);
  assert.ok(Math.abs(b - 1) < 0.1, `gradient descent by hand found b = ${b}, not 1`);

  const { steps } = parseLessonSource(await Deno.readTextFile(url));
  assert.equal(events.filter((e) => e.kind === "step").length, steps.length);
  assert.ok(events.some((e) => e.kind === "summary"), "the lesson ends with a summary");
});
