/**
 * Lesson 1's outcome, measured in quick mode: the MLP's total loss gets down near the noise
 * floor, and the hand-written gradient descent finds the line.
 *
 * @module
 */
import assert from "node:assert/strict";
import { manualSeed } from "../../mod.ts";
import { type LessonContext, type OutputEvent, runLesson } from "../format.ts";
import lesson from "./lesson.ts";

Deno.test("lesson 1 (quick): the MLP's total loss ends below 0.001", async () => {
  const events: OutputEvent[] = [];
  const ctx: LessonContext = {
    quick: true,
    device: "cpu",
    seed: 0,
    dataUrl: (name) => new URL(`../data/${name}`, import.meta.url),
    state: {},
  };
  manualSeed(ctx.seed);
  await runLesson(lesson, ctx, (event) => events.push(event));

  const totalLoss = ctx.state.totalLoss as number;
  assert.ok(totalLoss < 0.001, `total loss ${totalLoss} should be below 0.001`);
  // It cannot beat the noise: 0.05 * U[0, 1) has variance 0.05^2 / 12.
  assert.ok(totalLoss > 0.05 ** 2 / 12 * 0.8, `total loss ${totalLoss} is below the noise floor`);

  const line = ctx.state.lineByHand as { w: number; b: number };
  assert.ok(Math.abs(line.w - 2) < 0.1, `gradient descent by hand found w = ${line.w}, not 2`);
  assert.ok(Math.abs(line.b - 1) < 0.1, `gradient descent by hand found b = ${line.b}, not 1`);

  assert.equal(events.filter((e) => e.kind === "step").length, lesson.steps.length);
  assert.ok(events.some((e) => e.kind === "summary"), "the lesson ends with a summary");
});
