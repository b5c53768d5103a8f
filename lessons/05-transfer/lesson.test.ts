/**
 * Lesson 5's outcome, measured in quick mode: the pretrained network is good on its own classes,
 * and with 50 images a class of new classes both pretrained starts beat training from scratch.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type OutputEvent, runLesson, shownShare } from "../format.ts";

Deno.test("lesson 5 (quick): transfer beats scratch by 3 points or more", async () => {
  const events: OutputEvent[] = [];
  const url = new URL("./lesson.ts", import.meta.url);
  await runLesson(url, { quick: true, device: "cpu", seed: 0 }, (event) => events.push(event));
  const share = (label: string) => shownShare(events, label);

  const old = share("pretrained network, accuracy on its own classes");
  assert.ok(old > 0.8, `the pretrained network gets ${old} on its own classes, expected > 0.8`);

  const scratch = share("test accuracy after the last epoch, from scratch");
  const frozen = share("test accuracy after the last epoch, frozen features");
  const finetuned = share("test accuracy after the last epoch, fine-tuned");
  assert.ok(
    frozen > scratch && finetuned > scratch,
    `both pretrained starts should beat scratch: frozen ${frozen}, fine-tuned ` +
      `${finetuned}, scratch ${scratch}`,
  );
  const lead = Math.max(frozen, finetuned) - scratch;
  assert.ok(
    lead >= 0.03,
    `transfer should lead by at least 3 points, got ${(100 * lead).toFixed(1)} ` +
      `(scratch ${scratch}, frozen ${frozen}, fine-tuned ${finetuned})`,
  );

  assert.equal(events.filter((e) => e.kind === "step").length, 5);
  assert.ok(events.some((e) => e.kind === "summary"), "the lesson ends with a summary");
});
