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
import { dedent, md } from "../lessons/format.ts";
import { parseLessonSource } from "../lessons/source.ts";

const fixtureLesson = new URL("./fixtures/site_lessons/01-fixture-line/lesson.ts", import.meta.url);

const lessonText = `/**
 * Lesson nine.
 */
import { lesson, md } from "../format.ts";

const { step, show, seed } = await lesson(import.meta, {
  number: 9,
  title: "Nine",
  description: "d, " +
    "on two lines",
});

/** A helper the steps use. */
function double(x: number): number {
  return x * 2;
}

step("First", md\`
  Prose with $\\frac{a}{b}$ and \\\`code\\\`.
\`);
// A comment stays.
const value: number = double(seed);

show.value("value", value);
const text = \`a template
step("not a marker", "inside a template")\`;
function inner() {
  // step("not a marker either")
}

step(
  "Second",
  "p",
);
show.text("step(\\"in a string\\")");

step("Third");
show.text("three");
`;

Deno.test("steps are the code between step() markers, as written", () => {
  const source = parseLessonSource(lessonText, "nine.ts");
  assert.equal(source.number, 9);
  assert.equal(source.title, "Nine");
  assert.equal(source.description, "d, on two lines");
  assert.equal(source.header, "/**\n * Lesson nine.\n */");
  assert.deepEqual(source.steps.map((s) => s.title), ["First", "Second", "Third"]);
  assert.deepEqual(source.steps.map((s) => s.line), [18, 31, 37]);
  assert.equal(source.steps[0].prose, "Prose with $\\frac{a}{b}$ and `code`.");
  assert.equal(
    source.steps[0].code,
    [
      "// A comment stays.",
      "const value: number = double(seed);",
      "",
      'show.value("value", value);',
      "const text = `a template",
      'step("not a marker", "inside a template")`;',
      "function inner() {",
      '  // step("not a marker either")',
      "}",
    ].join("\n"),
  );
  assert.equal(source.steps[1].prose, "p");
  assert.equal(source.steps[1].code, 'show.text("step(\\"in a string\\")");');
  assert.equal(source.steps[2].code, 'show.text("three");');
  assert.ok(source.prelude.startsWith('import { lesson, md } from "../format.ts";'));
  assert.ok(source.prelude.includes("await lesson(import.meta"));
  // Code between the lesson() call and the first marker belongs to the file's top part.
  assert.ok(source.prelude.includes("function double(x: number): number {"));
});

Deno.test("a marker whose title or prose is not a literal gets an error that says so", () => {
  const head = 'import { lesson } from "../format.ts";\n' +
    'const { step } = await lesson(import.meta, { number: 1, title: "A", description: "" });\n';
  assert.throws(
    () => parseLessonSource(head + "step(title);\n", "a.ts"),
    /a\.ts:3: the title and prose of a step must be literals/,
  );
  assert.throws(
    () => parseLessonSource(head + 'step("T", md`x ${y}`);\n', "a.ts"),
    /must be literals/,
  );
  assert.throws(() => parseLessonSource("export const x = 1;", "b.ts"), /b\.ts: no lesson\(/);
});

Deno.test("md keeps backslashes, removes the common indentation and unescapes backticks", () => {
  assert.equal(
    md`
    $\frac{1}{2}$ and \`x\`
      indented
  `,
    "$\\frac{1}{2}$ and `x`\n  indented",
  );
  assert.equal(dedent("\n    a\n      b\n\n    c\n  "), "a\n  b\n\nc");
  assert.equal(dedent(""), "");
});

Deno.test("the live fold ends with the same blocks as foldEvents", async () => {
  const events: OutputEvent[] = [];
  await runLesson(
    fixtureLesson,
    { quick: true, device: "cpu", seed: 0 },
    (event) => events.push(event),
  );
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
