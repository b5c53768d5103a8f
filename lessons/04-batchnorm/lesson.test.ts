/**
 * Lesson 4's outcome, measured in quick mode: at the same high learning rate the network with
 * batch norm reaches a clearly lower training loss than its twin without, its activations keep
 * their scale, and it is more accurate on the test images.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type OutputEvent, runLesson, shownShare, shownValue } from "../format.ts";

Deno.test("lesson 4 (quick): with batch norm the loss falls faster at lr 0.1", async () => {
  const events: OutputEvent[] = [];
  const url = new URL("./lesson.ts", import.meta.url);
  await runLesson(url, { quick: true, device: "cpu", seed: 0 }, (event) => events.push(event));
  const value = (label: string) => shownValue(events, label) as number;
  const share = (label: string) => shownShare(events, label);

  const plainLoss = value("training loss without batch norm, mean of the last 20 steps");
  const bnLoss = value("training loss with batch norm, mean of the last 20 steps");
  assert.ok(
    bnLoss < 0.85 * plainLoss,
    `training loss with batch norm ${bnLoss} should be well below the loss without ` +
      `it, ${plainLoss} (at most 85% of it)`,
  );

  const plainStd = value("spread after block 2 at step 1, without batch norm");
  const bnStd = value("spread after block 2 at step 1, with batch norm");
  assert.ok(
    bnStd > 3 * plainStd,
    `block 2's output at step 1 should spread much more with batch norm ` +
      `(${bnStd}) than without (${plainStd})`,
  );

  const plainAccuracy = share("test accuracy without batch norm");
  const bnAccuracy = share("test accuracy with batch norm");
  assert.ok(
    bnAccuracy > plainAccuracy,
    `test accuracy with batch norm ${bnAccuracy} should beat ${plainAccuracy}`,
  );
  assert.ok(bnAccuracy > 0.7, `test accuracy with batch norm ${bnAccuracy}`);

  assert.equal(events.filter((e) => e.kind === "step").length, 6);
  assert.ok(events.some((e) => e.kind === "summary"), "the lesson ends with a summary");
});
