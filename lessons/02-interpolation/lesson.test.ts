/**
 * Lesson 2's outcome, measured in quick mode: the held-out error of interpolation is several
 * times smaller than that of extrapolation.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type OutputEvent, runLesson, shownValue } from "../format.ts";

Deno.test("lesson 2 (quick): interpolation beats extrapolation several times", async () => {
  const events: OutputEvent[] = [];
  const url = new URL("./lesson.ts", import.meta.url);
  await runLesson(url, { quick: true, device: "cpu", seed: 0 }, (event) => events.push(event));

  const ratio = shownValue(events, "held-out error, extrapolation / interpolation") as number;
  const minRatio = shownValue(events, "smallest ratio over the seeds") as number;
  const summary = events.find((e) => e.kind === "summary");
  assert.ok(
    ratio > 3,
    `held-out MSE of extrapolation / interpolation: the ratio ${ratio} should be above 3 ` +
      `(${JSON.stringify(summary)})`,
  );
  assert.ok(minRatio > 1, `with another seed extrapolation did better (${minRatio})`);
  assert.ok(summary, "the lesson ends with a summary");
});
