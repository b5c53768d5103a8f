/**
 * The committed kernel binaries are what the sources build to: a fresh build must give the same
 * bytes (run `deno task build:wasm` after editing `core/wasm/assembly/`).
 * @module
 */
import { ok } from "node:assert/strict";
import { buildWasm } from "../core/wasm/build.ts";

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
