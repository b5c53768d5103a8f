/**
 * Lesson 7's outcomes, measured in quick mode: the plain network overfits (a wide gap between
 * training and validation accuracy); over several seeds, the regularized network's best
 * validation accuracy beats the plain network's final one on every seed, and its gap is
 * smaller; the hand-written L2 penalty and SGD's weightDecay take the same step; L1 makes many
 * weights near zero.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type OutputEvent, runLesson, shownValue } from "../format.ts";
import { parseLessonSource } from "../source.ts";

const events: OutputEvent[] = [];
const url = new URL("./lesson.ts", import.meta.url);
let ran: Promise<unknown> | undefined;

/** Runs the lesson once (quick, CPU, seed 0) for all the tests of this file. */
async function run(): Promise<void> {
  ran ??= runLesson(url, { quick: true, device: "cpu", seed: 0 }, (event) => events.push(event));
  await ran;
}

/** A number the lesson showed under `label`. */
function value(label: string): number {
  const shown = shownValue(events, label);
  assert.equal(typeof shown, "number", `the lesson shows a number labelled "${label}"`);
  return shown as number;
}

Deno.test("lesson 7 (quick): the plain network overfits", async () => {
  await run();
  const gap = value("generalization gap (training - validation)");
  assert.ok(gap > 0.1, `the plain network's gap ${gap} should exceed 0.1`);
});

Deno.test("lesson 7 (quick): regularization beats the plain network over seeds, gap shrinks", async () => {
  await run();
  const mean = value("mean margin: regularized (best) - plain (last epoch)");
  const smallest = value("smallest margin over the seeds");
  assert.ok(mean >= 0.01, `mean margin ${mean} should be at least 1 point`);
  assert.ok(smallest > 0, `regularized should win on every seed (smallest margin ${smallest})`);
  const plainGap = value("mean gap, plain");
  const regularizedGap = value("mean gap, regularized");
  assert.ok(
    regularizedGap < plainGap - 0.02,
    `the gap should shrink by more than 0.02: plain ${plainGap}, regularized ${regularizedGap}`,
  );
});

Deno.test("lesson 7 (quick): L2 by hand equals weightDecay; L1 makes weights near zero", async () => {
  await run();
  const difference = value("largest |weight difference| after one step, by hand vs weightDecay");
  assert.ok(difference < 1e-6, `hand L2 and weightDecay differ by ${difference}`);
  const table = events.find((e) => e.kind === "table" && e.title?.includes("near zero"));
  assert.ok(table && table.kind === "table", "the lesson shows the near-zero table");
  const [plain, l1] = table.rows.map((row) => parseFloat(String(row["weights |w| < 1e-3"])));
  assert.ok(l1 > plain + 10, `L1 should make far more weights near zero: ${plain}% vs ${l1}%`);
});

Deno.test("lesson 7 (quick): weight decay, L1 and dropout each shrink the gap", async () => {
  await run();
  const table = events.find((e) => e.kind === "table" && e.title === "One regularizer at a time");
  assert.ok(table && table.kind === "table", "the lesson shows the table of regularizers");
  const rows: Record<string, string | number>[] = table.rows;
  const plain = rows.find((row) => row.model === "plain (Adam)")!;
  for (const name of ["AdamW, λ = 0.5", "L1, λ1 = 1e-4", "dropout 0.3"]) {
    const row = rows.find((r) => r.model === name)!;
    assert.equal(row.epochs, plain.epochs, `${name} trains as long as the plain network`);
    assert.ok(
      Number(row.gap) < Number(plain.gap) - 0.02,
      `${name}: gap ${row.gap} should be below the plain network's ${plain.gap} by 0.02`,
    );
  }
});

Deno.test("lesson 7 (quick): one event a step, and a summary", async () => {
  await run();
  const { steps } = parseLessonSource(await Deno.readTextFile(url));
  assert.equal(events.filter((e) => e.kind === "step").length, steps.length);
  assert.ok(events.some((e) => e.kind === "summary"), "the lesson ends with a summary");
});
