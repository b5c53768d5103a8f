/**
 * Lesson 6's outcome, measured in quick mode: the network trained on Iris with early stopping
 * classifies at least 93% of the test flowers right, early stopping picks an epoch before the
 * last one it ran, and the model loaded back from its saved bytes predicts exactly the same.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type OutputEvent, runLesson, shownValue } from "../format.ts";
import { parseLessonSource } from "../source.ts";

Deno.test("lesson 6 (quick): test accuracy >= 93% with the epoch early stopping chose", async () => {
  const events: OutputEvent[] = [];
  const url = new URL("./lesson.ts", import.meta.url);
  await runLesson(url, { quick: true, device: "cpu", seed: 0 }, (event) => events.push(event));
  const number = (label: string) => {
    const shown = shownValue(events, label);
    assert.equal(typeof shown, "number", `the lesson shows a number labelled "${label}"`);
    return shown as number;
  };

  const testAccuracy = number("test accuracy");
  assert.ok(testAccuracy >= 0.93, `test accuracy ${testAccuracy} should be at least 0.93`);

  const chosen = number("epoch chosen by early stopping");
  const ran = number("epochs run");
  assert.ok(chosen >= 1 && chosen < ran, `early stopping chose epoch ${chosen} of ${ran}`);
  assert.equal(ran - chosen, 20, "training stopped `patience` (20) epochs after the best one");

  assert.equal(number("largest |logit difference| after loading"), 0);

  const { steps } = parseLessonSource(await Deno.readTextFile(url));
  assert.equal(events.filter((e) => e.kind === "step").length, steps.length);
  assert.ok(events.some((e) => e.kind === "summary"), "the lesson ends with a summary");
});
