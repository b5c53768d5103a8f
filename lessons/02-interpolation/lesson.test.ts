/**
 * Lesson 2's outcome, measured in quick mode: the held-out error of interpolation is several
 * times smaller than that of extrapolation.
 *
 * @module
 */
import assert from "node:assert/strict";
import { manualSeed } from "../../mod.ts";
import { type LessonContext, type OutputEvent, runLesson } from "../format.ts";
import lesson from "./lesson.ts";

Deno.test("lesson 2 (quick): interpolation beats extrapolation several times", async () => {
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

  const outcome = ctx.state.outcome as {
    extrapolation: number;
    interpolation: number;
    ratio: number;
    minRatio: number;
  };
  assert.ok(
    outcome.ratio > 3,
    `held-out MSE: interpolation ${outcome.interpolation}, extrapolation ` +
      `${outcome.extrapolation}: the ratio ${outcome.ratio} should be above 3`,
  );
  assert.ok(
    outcome.minRatio > 1,
    `with another seed extrapolation did better (${outcome.minRatio})`,
  );
  assert.ok(events.some((e) => e.kind === "summary"), "the lesson ends with a summary");
});
