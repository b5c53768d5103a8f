/**
 * Lesson 3's outcome, measured in quick mode: the convolution by loops and the backward formulas
 * agree with the framework, and the CNN reaches a test accuracy well above chance.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type OutputEvent, runLesson, shownValue } from "../format.ts";

Deno.test("lesson 3 (quick): the CNN's test accuracy is above 75%", async () => {
  const events: OutputEvent[] = [];
  const url = new URL("./lesson.ts", import.meta.url);
  await runLesson(url, { quick: true, device: "cpu", seed: 0 }, (event) => events.push(event));

  const loops = shownValue(events, "largest difference, loops vs F.conv2d") as number;
  assert.ok(loops < 1e-5, `convolution by loops differs from F.conv2d by ${loops}`);
  const backward = shownValue(events, "largest difference, formulas vs autograd") as number;
  assert.ok(backward < 1e-10, `backward formulas differ from autograd by ${backward}`);

  // Shown as "81.2% (1624 of 2000)".
  const accuracy = parseFloat(String(shownValue(events, "test accuracy"))) / 100;
  assert.ok(accuracy > 0.75, `test accuracy ${accuracy} should be above 0.75`);

  const images = events.filter((e) => e.kind === "images").length;
  assert.ok(images >= 4, `expected the filters and feature maps as images, got ${images} grids`);
  assert.ok(events.some((e) => e.kind === "summary"), "the lesson ends with a summary");
});
