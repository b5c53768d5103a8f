/**
 * The core runs unchanged in Deno and in a browser: no file under core/ may call `Deno.*`
 * (files are read with `fetch` of URLs instead). The one exception is the WebAssembly build
 * script, a command-line tool that nothing in the core imports.
 */
import assert from "node:assert/strict";

const coreDir = new URL("../core/", import.meta.url);
const buildTool = new URL("wasm/build.ts", coreDir).href;

async function* typescriptFiles(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* typescriptFiles(url);
    else if (entry.name.endsWith(".ts")) yield url;
  }
}

Deno.test("no module under core/ calls Deno.* (it must run in a browser too)", async () => {
  const offenders: string[] = [];
  for await (const file of typescriptFiles(coreDir)) {
    if (file.href === buildTool) continue;
    const lines = (await Deno.readTextFile(file)).split("\n");
    lines.forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, "");
      // Doc comments may mention Deno's API to the reader; code may not use it.
      if (/^\s*\*/.test(code)) return;
      if (/\bDeno\.[a-zA-Z]/.test(code)) {
        offenders.push(`${file.pathname}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(offenders, [], `Deno.* calls in core/:\n${offenders.join("\n")}`);
});

Deno.test("nothing in core/ imports the WebAssembly build script", async () => {
  const importers: string[] = [];
  for await (const file of typescriptFiles(coreDir)) {
    if (file.href === buildTool) continue;
    const text = await Deno.readTextFile(file);
    if (/from\s+["'][^"']*wasm\/build\.ts["']|from\s+["']\.\/build\.ts["']/.test(text)) {
      importers.push(file.pathname);
    }
  }
  assert.deepEqual(importers, []);
});
