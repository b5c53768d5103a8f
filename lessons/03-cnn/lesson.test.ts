/**
 * Lesson 3's outcome, measured in quick mode: the convolution by loops and the backward formulas
 * agree with the framework, and the CNN reaches a test accuracy well above chance.
 *
 * @module
 */
import assert from "node:assert/strict";
import { manualSeed } from "../../mod.ts";
import { type LessonContext, type OutputEvent, runLesson } from "../format.ts";
import lesson from "./lesson.ts";

Deno.test("lesson 3 (quick): the CNN's test accuracy is above 75%", async () => {
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

  const loops = ctx.state.loopsMaxDiff as number;
  assert.ok(loops < 1e-5, `convolution by loops differs from F.conv2d by ${loops}`);
  const backward = ctx.state.backwardMaxDiff as number;
  assert.ok(backward < 1e-10, `backward formulas differ from autograd by ${backward}`);

  const accuracy = ctx.state.testAccuracy as number;
  assert.ok(accuracy > 0.75, `test accuracy ${accuracy} should be above 0.75`);

  const images = events.filter((e) => e.kind === "images").length;
  assert.ok(images >= 4, `expected the filters and feature maps as images, got ${images} grids`);
  assert.ok(events.some((e) => e.kind === "summary"), "the lesson ends with a summary");
});
