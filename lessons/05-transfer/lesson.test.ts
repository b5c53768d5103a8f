/**
 * Lesson 5's outcome, measured in quick mode: on the new classes, with 50 images a class and the
 * same short budget, both pretrained starts beat the network trained from scratch by a clear
 * margin, and the shipped weights are good at their own task.
 *
 * @module
 */
import assert from "node:assert/strict";
import { manualSeed } from "../../mod.ts";
import { type LessonContext, type OutputEvent, runLesson } from "../format.ts";
import lesson from "./lesson.ts";

interface Accuracies {
  scratch: number;
  frozen: number;
  finetuned: number;
  lead: number;
}

Deno.test("lesson 5 (quick): transfer beats scratch by 3 points or more", async () => {
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

  const old = ctx.state.oldAccuracy as number;
  assert.ok(old > 0.8, `the pretrained network gets ${old} on its own classes, expected > 0.8`);

  const { final } = ctx.state.accuracy as { final: Accuracies };
  assert.ok(
    final.frozen > final.scratch && final.finetuned > final.scratch,
    `both pretrained starts should beat scratch: frozen ${final.frozen}, fine-tuned ` +
      `${final.finetuned}, scratch ${final.scratch}`,
  );
  assert.ok(
    final.lead >= 0.03,
    `transfer should lead by at least 3 points, got ${(100 * final.lead).toFixed(1)} ` +
      `(scratch ${final.scratch}, frozen ${final.frozen}, fine-tuned ${final.finetuned})`,
  );

  assert.equal(events.filter((e) => e.kind === "step").length, lesson.steps.length);
  assert.ok(events.some((e) => e.kind === "summary"), "the lesson ends with a summary");
});
