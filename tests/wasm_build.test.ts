/**
 * The committed kernel binaries are what the sources build to: a fresh build must give the same
 * bytes (run `deno task build:wasm` after editing `core/wasm/assembly/`).
 * @module
 */
import { ok } from "node:assert/strict";
import { buildWasm } from "../core/wasm/build.ts";
import { ELEMENTWISE_SOURCE, regenerate } from "../core/wasm/codegen.ts";

Deno.test("the wasm op switch is what the op table generates", async () => {
  const committed = await Deno.readTextFile(ELEMENTWISE_SOURCE);
  ok(
    regenerate(committed) === committed,
    `core/wasm/assembly/elementwise.ts is stale: the op table (core/ops/table.ts) generates a ` +
      `different op switch. Run "deno task build:wasm" and commit the result`,
  );
});

Deno.test("the committed wasm kernels match a fresh build of core/wasm/assembly", async () => {
  const files = await buildWasm();
  for (const [name, bytes] of files) {
    const committed = await Deno.readFile(new URL(`../core/wasm/build/${name}`, import.meta.url));
    const same = committed.length === bytes.length && committed.every((b, i) => b === bytes[i]);
    ok(
      same,
      `core/wasm/build/${name} (${committed.length} bytes) differs from a fresh build ` +
        `(${bytes.length} bytes): run "deno task build:wasm" and commit the result`,
    );
  }
});
