/**
 * The bad-input table (`bad_inputs.ts`), on the CPU and on WebGPU: every row must throw an
 * error that names the op the student called, what was wrong and the fix. On WebGPU an error
 * may come at the next read back (index checks run on the device), which the rows include.
 */
import assert from "node:assert/strict";
import { tensor } from "../mod.ts";
import { attempt, BAD_INPUTS, type BadInput, contextFor, missingWords } from "./bad_inputs.ts";
import { gpuTest } from "./gpu_helpers.ts";

Deno.test("the bad-input table has at least 150 rows, each with a distinct name", () => {
  assert.ok(BAD_INPUTS.length >= 150, `only ${BAD_INPUTS.length} rows`);
  const names = new Set(BAD_INPUTS.map((row) => row.name));
  assert.equal(names.size, BAD_INPUTS.length, "two rows share a name");
});

async function check(row: BadInput, device: "cpu" | "webgpu"): Promise<void> {
  const message = await attempt(row, contextFor(device));
  if (device === "webgpu") {
    // A check the row left pending must not leak into the next row.
    await tensor([0], { device }).data().catch(() => {});
  }
  assert.ok(message !== null, `${row.name} on ${device}: no error (expected "${row.op}: ...")`);
  const missing = missingWords(row, message);
  assert.deepEqual(
    missing,
    [],
    `${row.name} on ${device}: the message lacks ${JSON.stringify(missing)}:\n  ${message}`,
  );
}

for (const row of BAD_INPUTS) {
  Deno.test(`bad input on the CPU: ${row.name}`, () => check(row, "cpu"));
}

for (const row of BAD_INPUTS.filter((row) => !row.cpuOnly)) {
  gpuTest(`bad input on WebGPU: ${row.name}`, () => check(row, "webgpu"));
}
