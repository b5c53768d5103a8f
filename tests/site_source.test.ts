/**
 * The site's pieces that need no server: reading each step's code out of a lesson file, folding a
 * live event stream, the README's quick start.
 *
 * @module
 */
import assert from "node:assert/strict";
import { foldEvents, type OutputEvent, runLesson } from "../lessons/format.ts";
import { LiveFold } from "../site/components/fold.ts";
import { parseReadme } from "../site/readme.ts";
import { checkRequestPath } from "../site/app.ts";
import { npmToBare } from "../site/bundle.ts";
import { dedent, extractLessonSource } from "../site/source.ts";
import fixtureLesson from "./fixtures/site_lesson.ts";

const lessonText = `import { defineLesson } from "../format.ts";

/** A helper the steps use. */
function double(x: number): number {
  return x * 2;
}

const third = {
  title: "Third",
  prose: "",
  run: (out) => out.text("three"),
};

export default defineLesson({
  number: 9,
  slug: "nine",
  title: "Nine",
  description: "d",
  steps: [
    {
      title: "First",
      prose: "p",
      run: async (out, ctx) => {
        // A comment stays.
        const value: number = double(ctx.seed);

        out.value("value", value);
      },
    },
    {
      title: "Second",
      prose: "p",
      async run(out) {
        out.text("method syntax");
      },
    },
    third,
  ],
});
`;

Deno.test("step code is read from the source with comments, types and blank lines", () => {
  const source = extractLessonSource(lessonText, "nine.ts");
  assert.deepEqual(source.steps.map((s) => s.title), ["First", "Second", "Third"]);
  assert.equal(
    source.steps[0].code,
    [
      "// A comment stays.",
      "const value: number = double(ctx.seed);",
      "",
      'out.value("value", value);',
    ].join("\n"),
  );
  assert.equal(source.steps[1].code, 'out.text("method syntax");');
  assert.equal(source.steps[2].code, 'out.text("three")');
  assert.ok(source.preamble.startsWith('import { defineLesson } from "../format.ts";'));
  assert.ok(source.preamble.includes("function double(x: number): number {"));
});

Deno.test("a step whose run is not written in place gets an error that says so", () => {
  const text = `import { defineLesson } from "../format.ts";
import { runFirst } from "./elsewhere.ts";
export default defineLesson({ number: 1, slug: "a", title: "A", description: "",
  steps: [{ title: "Imported", prose: "", run: runFirst }] });`;
  assert.throws(
    () => extractLessonSource(text, "a.ts"),
    /step 0 \("Imported"\) in a\.ts has no `run` function written in place/,
  );
  assert.throws(() => extractLessonSource("export const x = 1;", "b.ts"), /b\.ts has no/);
});

Deno.test("dedent removes common indentation and blank edges only", () => {
  assert.equal(dedent("\n    a\n      b\n\n    c\n  "), "a\n  b\n\nc");
  assert.equal(dedent(""), "");
});

Deno.test("the live fold ends with the same blocks as foldEvents", async () => {
  const events: OutputEvent[] = [];
  await runLesson(fixtureLesson, {
    quick: true,
    device: "cpu",
    seed: 0,
    dataUrl: (name) => new URL(name, "file:///"),
  }, (event) => events.push(event));
  const live = new LiveFold();
  let sawLiveBar = false;
  for (const event of events) {
    live.push(event);
    const blocks = live.steps.at(-1)?.blocks ?? [];
    if (blocks.some((block) => block.kind === "progress")) sawLiveBar = true;
  }
  assert.ok(sawLiveBar, "a running progress bar should show while the loop runs");
  assert.deepEqual(live.steps, foldEvents(events));
});

Deno.test("the README's title, first paragraph and quick-start commands are found", () => {
  const info = parseReadme(`# Gradlab

A *small* library
on two lines.

## Quick start

\`\`\`sh
# a comment
$ deno task lesson 1
deno task check 1
\`\`\`
`);
  assert.equal(info.title, "Gradlab");
  assert.equal(info.intro, "A *small* library on two lines.");
  assert.deepEqual(info.quickStart, ["deno task lesson 1", "deno task check 1"]);
});

Deno.test("request paths are checked on their raw text", () => {
  const ok = checkRequestPath("http://127.0.0.1:8000/lessons/one/?x=1");
  assert.deepEqual(ok, { ok: true, path: "/lessons/one/", segments: ["lessons", "one", ""] });
  for (const raw of ["/a/../b", "/a/%2e%2e/b", "/a/%2F", "/a%5cb", "/a/./b", "/a\\b"]) {
    const checked = checkRequestPath(`http://localhost${raw}`);
    assert.equal(checked.ok, false, `${raw} should be refused`);
  }
  assert.equal(checkRequestPath("http://localhost/.env").ok, false);
});

Deno.test("npm: specifiers become bare names for the bundler", () => {
  assert.equal(npmToBare("npm:preact@10.29.8"), "preact");
  assert.equal(npmToBare("npm:/preact@10.29.8/hooks"), "preact/hooks");
  assert.equal(npmToBare("npm:@observablehq/plot@0.6.17"), "@observablehq/plot");
  assert.equal(npmToBare("npm:@scope/name@1/sub/path.js"), "@scope/name/sub/path.js");
});
