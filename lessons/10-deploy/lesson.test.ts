/**
 * Lesson 10's outcome, measured in quick mode: magnitude pruning keeps the accuracy that the
 * tutorial's mask (which keeps the small weights) destroys; at 90% sparsity fine-tuning with the
 * masks wins back most of the accuracy and the zeros stay; a small student distilled from the
 * CNN's softened outputs beats the same student trained on the labels; the model saved to a
 * file and loaded back predicts exactly the same; the handler serves it and refuses a bad image
 * with a 400.
 * (Measured on the 2-core reference machine, seed 0: 67% against 23% at 50% pruning; 39% then
 * 80% after fine-tuning at 90%; students 80% distilled against 78% on the labels.)
 *
 * @module
 */
import assert from "node:assert/strict";
import { type OutputEvent, runLesson, shownShare, shownValue } from "../format.ts";
import { parseLessonSource } from "../source.ts";

Deno.test("lesson 10 (quick): pruning with the right mask, fine-tuning, a lossless round trip", async () => {
  const events: OutputEvent[] = [];
  const url = new URL("./lesson.ts", import.meta.url);
  await runLesson(url, { quick: true, device: "cpu", seed: 0 }, (event) => events.push(event));
  const value = (label: string) => {
    const shown = shownValue(events, label);
    assert.ok(shown !== undefined, `the lesson shows no value "${label}"`);
    return shown as number;
  };
  const share = (label: string) => shownShare(events, label);

  const small = share("accuracy with the tutorial's mask (median threshold)");
  const large = share("accuracy with magnitude pruning (50%)");
  assert.ok(large > small + 0.2, `magnitude pruning ${large} should beat the tutorial's ${small}`);

  const pruned = share("accuracy pruned 90% before fine-tuning");
  const fineTuned = share("accuracy pruned 90% after fine-tuning");
  assert.ok(
    fineTuned > pruned + 0.2,
    `fine-tuning should recover accuracy: ${pruned} before, ${fineTuned} after`,
  );
  const sparsity = share("share of zero weights after fine-tuning");
  assert.ok(Math.abs(sparsity - 0.9) < 1e-3, `the masks held through training: ${sparsity}`);

  const alone = share("student alone test accuracy");
  const distilled = share("distilled student test accuracy");
  assert.ok(
    distilled > alone + 0.01,
    `the student taught by the CNN (${distilled}) should beat the one on the labels (${alone})`,
  );

  assert.equal(value("largest |logit difference| after loading"), 0);
  assert.equal(value("status"), 200);
  assert.equal(value("status of a 2x2 image"), 400);

  const { steps } = parseLessonSource(await Deno.readTextFile(url));
  assert.equal(events.filter((e) => e.kind === "step").length, steps.length);
  assert.ok(events.some((e) => e.kind === "summary"), "the lesson ends with a summary");
});
