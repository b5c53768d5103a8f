/**
 * Lesson 4's outcome, measured in quick mode: at the same high learning rate the network with
 * batch norm reaches a clearly lower training loss than its twin without, its activations keep
 * their scale, and it is more accurate on the test images.
 *
 * @module
 */
import assert from "node:assert/strict";
import { manualSeed } from "../../mod.ts";
import { type LessonContext, type OutputEvent, runLesson } from "../format.ts";
import lesson from "./lesson.ts";

Deno.test("lesson 4 (quick): with batch norm the loss falls faster at lr 0.1", async () => {
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

  const loss = ctx.state.finalLoss as { plain: number; batchNorm: number };
  assert.ok(
    loss.batchNorm < 0.85 * loss.plain,
    `training loss with batch norm ${loss.batchNorm} should be well below the loss without ` +
      `it, ${loss.plain} (at most 85% of it)`,
  );

  const std = ctx.state.block2Std as Record<string, number>;
  assert.ok(
    std["with batch norm"] > 3 * std["without batch norm"],
    `block 2's output at step 1 should spread much more with batch norm ` +
      `(${std["with batch norm"]}) than without (${std["without batch norm"]})`,
  );

  const accuracy = ctx.state.testAccuracy as Record<string, number>;
  assert.ok(
    accuracy.batchNorm > accuracy.plain,
    `test accuracy with batch norm ${accuracy.batchNorm} should beat ${accuracy.plain}`,
  );
  assert.ok(accuracy.batchNorm > 0.7, `test accuracy with batch norm ${accuracy.batchNorm}`);

  assert.equal(events.filter((e) => e.kind === "step").length, lesson.steps.length);
  assert.ok(events.some((e) => e.kind === "summary"), "the lesson ends with a summary");
});
