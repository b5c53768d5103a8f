// The terminal renderer: every kind of output event drawn into a string buffer.
import assert from "node:assert/strict";
import { type OutputEvent, runLesson, type RunSettings } from "../lessons/format.ts";
import { parseLessonSource } from "../lessons/source.ts";
import type { ImagesEvent } from "../lessons/render/images.ts";
import { serverDocument } from "../lessons/render/server_dom.ts";
import { drawPlot, resample } from "../lessons/terminal/chart.ts";
import { ansi256, drawImages } from "../lessons/terminal/images.ts";
import { mathToText, renderInline, renderProse } from "../lessons/terminal/markdown.ts";
import { ProgressBars, type TextStream } from "../lessons/terminal/progress.ts";
import { TerminalRenderer } from "../lessons/terminal/renderer.ts";
import { painter, stripAnsi, visibleWidth, wrap } from "../lessons/terminal/style.ts";
import { drawTable } from "../lessons/terminal/table.ts";

const fixtureUrl = new URL("./fixtures/lesson/lesson.ts", import.meta.url);
const fixture = parseLessonSource(await Deno.readTextFile(fixtureUrl));

const plain = painter(false);

/** A stream that keeps what is written. */
function buffer(columns = 100, isTTY = false): TextStream & { text: () => string } {
  const chunks: string[] = [];
  return { isTTY, columns, write: (text) => void chunks.push(text), text: () => chunks.join("") };
}

const settings: RunSettings = {
  quick: true,
  device: "cpu",
  seed: 0,
  dataUrl: (name) => new URL(name, "file:///data/"),
};

/** Runs the fixture lesson into a renderer and returns the text and the files it saved. */
async function renderFixture(columns = 100, isTTY = false) {
  const stream = buffer(columns, isTTY);
  const files = new Map<string, string | Uint8Array>();
  const renderer = new TerminalRenderer({
    stream,
    outDir: "out/lesson-99",
    document: serverDocument(),
    progressInterval: 0,
    saveFile: (path, data) => {
      files.set(path, data);
      return Promise.resolve();
    },
  }, fixture.steps);
  await runLesson(fixtureUrl, settings, (event) => renderer.handle(event));
  const errors = await renderer.finish(1234);
  return { text: stream.text(), files, errors };
}

Deno.test("the fixture lesson renders every kind of event as plain text when piped", async () => {
  const { text, files, errors } = await renderFixture();
  assert.deepEqual(errors, []);
  assert.ok(!text.includes("\x1b["), "no escape codes when the output is not a terminal");
  // Step headings, numbered.
  for (const [i, step] of fixture.steps.entries()) {
    assert.ok(text.includes(`Step ${i + 1} of 6: ${step.title}`), `heading of step ${i + 1}`);
  }
  // Each step's prose under its heading, then what its code showed.
  assert.ok(
    text.includes(
      "Step 1 of 6: Prose, math and values\n" + "─".repeat(35) +
        "\nThe loss of one example is L = (w x - y)², so by the chain rule\n\nWith w = 3",
    ),
    text,
  );
  // Prose: Markdown markers gone, math readable.
  assert.ok(text.includes("With w = 3, x = 2 and y = 5 the derivative is ∂L/∂w = 2x(wx - y) = 4."));
  assert.ok(!text.includes("**") && !text.includes("$"));
  assert.ok(text.includes("• a second item with σ(x) = 1/(1 + e⁻ˣ)"));
  // Values and the table.
  assert.ok(text.includes("  dL/dw by hand: 4\n"));
  assert.ok(text.includes("  learning rate: 0.05 per step\n"));
  assert.ok(text.includes("  SGD + momentum   0.05     0.00421\n"), text);
  // Progress bars: the final line of each.
  assert.match(text, /epoch 1 █{20} 10\/10 │ loss [\d.]+/);
  assert.match(text, /epochs █{20} 2\/2 │ w [\d.]+/);
  // Plots: title, legend, x label, saved file.
  assert.ok(text.includes("Training loss\nloss (log scale)\n"));
  // Without colour each series has its own glyph, in the plot and in the legend.
  assert.match(text, /── train {3}\+\+ epoch mean/);
  assert.ok(text.includes("saved out/lesson-99/training-loss.svg"));
  assert.ok(text.includes("• samples"));
  // Images: shades, labels, saved PNG.
  assert.ok(text.includes("radius 3") && text.includes("horizontal"));
  assert.match(text, /[░▒▓█]/);
  assert.ok(text.includes("saved out/lesson-99/rings.png"));
  // Summary and time at the end.
  assert.match(text, /What this lesson showed\n {2}learned w {2}\d\.\d{3}\n {2}true w {5}3\n/);
  assert.ok(text.trimEnd().endsWith("Done in 1.2 s."));
  assert.deepEqual([...files.keys()].sort(), [
    "out/lesson-99/filters.png",
    "out/lesson-99/fits-over-the-true-curve.svg",
    "out/lesson-99/rings.png",
    "out/lesson-99/samples.svg",
    "out/lesson-99/training-loss.svg",
  ]);
});

Deno.test("every rendered line fits a terminal 60 columns wide", async () => {
  const { text } = await renderFixture(60);
  const tooWide = text.split("\n").filter((line) => visibleWidth(line) > 60);
  assert.deepEqual(tooWide, []);
});

Deno.test("on a terminal the output is coloured and bars are redrawn in place", async () => {
  const { text } = await renderFixture(100, true);
  assert.ok(text.includes("\x1b[1;96mStep 1 of 6"), "headings in bold cyan");
  assert.ok(text.includes("\x1b[38;5;"), "images in 256 colours");
  // deno-lint-ignore no-control-regex
  assert.match(text, /\x1b\[\d*[AG]/, "cursor moves to redraw the bars");
  assert.ok(stripAnsi(text).includes("Done in 1.2 s."));
});

Deno.test("piped progress bars: a line when a bar moves, one final line, no repeats", () => {
  const stream = buffer();
  let clock = 0;
  const bars = new ProgressBars(stream, { paint: plain, interval: 0, now: () => (clock += 10) });
  bars.start("epochs", "epochs", 2);
  for (const epoch of [1, 2]) {
    bars.start("batches", `epoch ${epoch}`, 3);
    for (const done of [1, 2, 3]) bars.update("batches", done, { loss: 1 / done });
    bars.end("batches");
    bars.update("epochs", epoch);
  }
  bars.end("epochs");
  const lines = stream.text().trimEnd().split("\n");
  const counts = lines.map((line) => /^ {2}(.+?) [█░]+ (\d+\/\d+)/.exec(line)?.slice(1).join(" "));
  assert.deepEqual(counts, [
    "epoch 1 1/3",
    "epoch 1 2/3",
    "epoch 1 3/3",
    "epochs 1/2",
    "epoch 2 1/3",
    "epoch 2 2/3",
    "epoch 2 3/3",
    "epochs 2/2",
  ], stream.text());
  assert.ok(!lines.some((line) => / 0\/\d/.test(line)), "no line for a bar that has not moved");
  assert.equal(lines.filter((line) => / in \d/.test(line)).length, 3, "one final line per bar");
});

Deno.test("a bar that ends before its total says where it stopped", () => {
  for (const isTTY of [false, true]) {
    const stream = buffer(100, isTTY);
    let clock = 0;
    const bars = new ProgressBars(stream, { paint: plain, interval: 0, now: () => (clock += 10) });
    bars.start("epochs", "epochs", 300);
    for (let done = 1; done <= 131; done++) bars.update("epochs", done);
    bars.end("epochs", { "best epoch": 121 });
    const text = stripAnsi(stream.text()).trimEnd();
    const final = text.slice(text.lastIndexOf("epochs "));
    // The speed part needs a measurable time: cli-progress times bars with the real clock, and
    // this loop can end within the same millisecond, when the line has no speed.
    assert.match(
      final,
      /^epochs [█░]+ stopped early at 131\/300 │ best epoch 121 │ (.+ │ )?in /,
      final,
    );
    assert.ok(!final.includes("eta"), final);
  }
});

Deno.test("a plot that gets points after it was drawn is drawn again, marked updated", async () => {
  const stream = buffer();
  const saved: string[] = [];
  const renderer = new TerminalRenderer({
    stream,
    outDir: "out/test",
    document: serverDocument(),
    saveFile: (path, data) => {
      saved.push(`${path}:${typeof data === "string" ? data.length : data.length}`);
      return Promise.resolve();
    },
  });
  const events: OutputEvent[] = [
    { kind: "plot", id: "p", title: "Loss", xLabel: "epoch", yLabel: "loss", series: [] },
    { kind: "plotPoints", id: "p", series: "train", x: [1, 2], y: [1, 0.5] },
    { kind: "text", text: "between" },
    { kind: "plotPoints", id: "p", series: "train", x: [3], y: [0.25] },
  ];
  for (const event of events) renderer.handle(event);
  await renderer.finish();
  const text = stream.text();
  assert.equal(text.split("saved out/test/loss.svg").length - 1, 2, text);
  assert.ok(text.includes("Loss (updated)"));
  assert.ok(text.indexOf("between") < text.indexOf("Loss (updated)"));
  assert.equal(saved.length, 2, "the SVG is written again with the new points");
});

Deno.test("a live plot made before its loop is drawn once its points are in, not empty", async () => {
  const stream = buffer();
  const renderer = new TerminalRenderer({ stream });
  const events: OutputEvent[] = [
    { kind: "plot", id: "p", title: "Loss", xLabel: "epoch", yLabel: "loss", series: [] },
    { kind: "text", text: "before the loop" },
    { kind: "plotPoints", id: "p", series: "train", x: [1, 2], y: [1, 0.5] },
    { kind: "text", text: "after the loop" },
    { kind: "plot", id: "q", title: "Never filled", xLabel: "x", yLabel: "y", series: [] },
  ];
  for (const event of events) renderer.handle(event);
  await renderer.finish();
  const text = stream.text();
  assert.equal(text.split("Loss").length - 1, 1, text);
  assert.ok(!text.includes("(updated)"), text);
  assert.ok(text.indexOf("before the loop") < text.indexOf("Loss"));
  assert.ok(text.indexOf("Loss") < text.indexOf("after the loop"));
  // A plot that never got points is still shown at the end, saying so.
  assert.ok(text.includes("Never filled\n  (no points to show)"), text);
});

Deno.test("two plots with the same title get different file names", async () => {
  const stream = buffer();
  const paths: string[] = [];
  const renderer = new TerminalRenderer({
    stream,
    outDir: "out/x",
    document: serverDocument(),
    saveFile: (path) => {
      paths.push(path);
      return Promise.resolve();
    },
  });
  const plot = (id: string): OutputEvent => ({
    kind: "plot",
    id,
    xLabel: "x",
    yLabel: "y",
    title: "Fit",
    series: [],
  });
  renderer.handle(plot("a"));
  renderer.handle(plot("b"));
  await renderer.finish();
  assert.deepEqual(paths, ["out/x/fit.svg", "out/x/fit-2.svg"]);
});

Deno.test("a file that cannot be saved is reported by finish, not thrown mid-lesson", async () => {
  const stream = buffer();
  const renderer = new TerminalRenderer({
    stream,
    outDir: "out/x",
    document: serverDocument(),
    saveFile: () => Promise.reject(new Error("read-only file system")),
  });
  renderer.handle({ kind: "images", title: "A", images: [{ width: 1, height: 1, values: [1] }] });
  const errors = await renderer.finish();
  assert.deepEqual(errors, ["could not save out/x/a.png: read-only file system"]);
  assert.ok(stream.text().includes("could not save out/x/a.png"));
});

Deno.test("math in prose becomes readable Unicode", () => {
  const cases: [string, string][] = [
    ["\\frac{\\partial L}{\\partial w}", "∂L/∂w"],
    ["\\frac{a + b}{2}", "(a + b)/2"],
    ["x^2 + y_i", "x² + yᵢ"],
    ["W^{T} x_{ij}", "Wᵀ xᵢⱼ"],
    ["e^{-x}", "e⁻ˣ"],
    ["\\hat{y}", "y\u0302"],
    ["\\sqrt{x + 1}", "√(x + 1)"],
    ["\\mathbb{R}^{n}", "ℝⁿ"],
    ["\\sum_{i=1}^{n} x_i", "Σᵢ₌₁ⁿ xᵢ"],
    ["w \\leftarrow w - \\eta \\nabla L", "w ← w - η∇L"],
    ["\\log x \\cdot \\text{lr}", "log x · lr"],
    ["\\left( a \\right)", "( a )"],
    ["x_{\\text{max}}", "xₘₐₓ"],
    ["x_{\\text{big}}", "x_(big)"],
  ];
  for (const [tex, text] of cases) assert.equal(mathToText(tex), text, tex);
});

Deno.test("prose: emphasis, code, links, lists, headings and code blocks", () => {
  assert.equal(
    renderInline("**bold**, *it*, `a_b*c`, [site](https://x.org) and snake_case_name", plain),
    "bold, it, a_b*c, site (https://x.org) and snake_case_name",
  );
  const lines = renderProse(
    "# Title\n\nA paragraph\nover two lines.\n\n1. first\n2. second item\n   continued\n\n" +
      "```ts\nconst x = 1;\n```\n> quoted",
    { width: 40, paint: plain },
  );
  assert.deepEqual(lines, [
    "Title",
    "",
    "A paragraph over two lines.",
    "",
    "1. first",
    "2. second item continued",
    "",
    "    const x = 1;",
    "",
    "│ quoted",
  ]);
});

Deno.test("wrap keeps lines within the width and indents continuation lines", () => {
  const lines = wrap("one two three four five six seven eight nine ten", 15, "    ", "  - ");
  assert.deepEqual(lines, [
    "  - one two",
    "    three four",
    "    five six",
    "    seven eight",
    "    nine ten",
  ]);
  assert.ok(lines.every((line) => line.length <= 15));
});

Deno.test("tables right-align numeric columns and left-align text", () => {
  const lines = drawTable({
    kind: "table",
    title: "Scores",
    columns: ["model", "accuracy"],
    rows: [{ model: "cnn", accuracy: 0.9123 }, { model: "mlp with a long name", accuracy: 0.85 }],
  }, plain);
  assert.deepEqual(lines, [
    "Scores",
    "  model                 accuracy",
    "  ────────────────────  ────────",
    "  cnn                     0.9123",
    "  mlp with a long name      0.85",
  ]);
});

Deno.test("terminal chart: axis labels, legend, and series over part of the x range", () => {
  const lines = drawPlot({
    kind: "plot",
    id: "p",
    title: "Fit",
    xLabel: "x",
    yLabel: "y",
    series: [
      { name: "line", x: [0, 1, 2, 3, 4], y: [0, 1, 2, 3, 4] },
      { name: "right half", x: [2, 3, 4], y: [4, 4, 4] },
    ],
  }, { width: 40, height: 4, paint: plain });
  assert.equal(lines[0], "Fit");
  assert.equal(lines[1], "y");
  assert.match(lines[2], /^ +4[┤┼]/);
  assert.match(lines.at(-2)!, /^ +0 +x +4$/);
  assert.match(lines.at(-1)!, /── line {3}\+\+ right half/);
  // The flat series starts halfway: the top row is empty on the left.
  const top = lines[2].slice(lines[2].search(/[┤┼]/) + 1);
  assert.ok(top.startsWith(" ".repeat(10)), `top row: "${top}"`);
  assert.ok(top.trimEnd().endsWith("+++"), `top row: "${top}"`);
  assert.ok(!top.includes("─"), "the second series is drawn with its own glyph, not a line");
});

Deno.test("terminal chart: without colour every series has its own glyph; with colour, lines", () => {
  const plot: Parameters<typeof drawPlot>[0] = {
    kind: "plot",
    id: "p",
    title: "Three",
    xLabel: "x",
    yLabel: "y",
    series: [
      { name: "a", x: [0, 1, 2], y: [0, 0, 0] },
      { name: "b", x: [0, 1, 2], y: [1, 1, 1] },
      { name: "c", x: [0, 1, 2], y: [2, 2, 2] },
    ],
  };
  const text = drawPlot(plot, { width: 40, height: 4, paint: plain }).join("\n");
  assert.ok(text.endsWith("── a   ++ b   xx c"), text);
  assert.match(text, /─{5}/);
  assert.match(text, /\+{5}/);
  assert.match(text, /x{5}/);
  const dots = drawPlot({ ...plot, points: true }, { width: 40, height: 4, paint: plain });
  assert.ok(dots.at(-1)!.endsWith("• a   + b   x c"), dots.at(-1));
  const coloured = drawPlot(plot, { width: 40, height: 4, paint: painter(true) }).join("\n");
  assert.ok(stripAnsi(coloured).endsWith("── a   ── b   ── c"));
  assert.ok(!stripAnsi(coloured).includes("+"));
});

Deno.test("terminal chart: no points, a flat line, NaNs and log scale do not break it", () => {
  const plot = { kind: "plot", id: "p", title: "T", xLabel: "x", yLabel: "y" } as const;
  assert.deepEqual(drawPlot({ ...plot, series: [] }, { width: 40, paint: plain }), [
    "T",
    "  (no points to show)",
  ]);
  const flat = drawPlot({ ...plot, series: [{ name: "c", x: [0, 1], y: [2, 2] }] }, {
    width: 40,
    paint: plain,
  });
  assert.ok(flat.length > 5);
  const log = drawPlot({
    ...plot,
    logY: true,
    series: [{ name: "loss", x: [0, 1, 2, 3], y: [1, 0.1, NaN, 0] }],
  }, { width: 40, height: 4, paint: plain });
  assert.equal(log[1], "y (log scale)");
  assert.match(log.join("\n"), /^ +1[┤┼]/m);
  assert.match(log.join("\n"), /^ +0\.1[┤┼]/m);
});

Deno.test("resample averages points per column and interpolates between them", () => {
  const points: [number, number][] = [[0, 0], [0.01, 2], [10, 10]];
  const values = resample(points, 0, 10, 11);
  assert.equal(values[0], 1);
  assert.ok(Math.abs(values[5]! - (2 + (8 * 4.99) / 9.99)) < 1e-12, `${values[5]}`);
  assert.equal(values[10], 10);
  assert.deepEqual(resample([[5, 1]], 0, 10, 3), [undefined, 1, undefined]);
  assert.deepEqual(resample(points, 0, 10, 11, false).filter((v) => v !== undefined), [1, 10]);
});

Deno.test("images: half blocks in colour, shades without, tiny images grown", () => {
  const event: ImagesEvent = {
    kind: "images",
    title: "Two",
    images: [
      { label: "ramp", width: 4, height: 2, values: [0, 1, 2, 3, 0, 1, 2, 3] },
      { label: "signed", width: 2, height: 2, values: [-1, 1, 0, 0] },
    ],
    colormap: "grey",
  };
  const shaded = drawImages(event, { width: 80, color: false, paint: plain });
  assert.equal(shaded[0], "Two");
  // The ramp, dark to light, centred in a cell as wide as the label "signed".
  assert.equal(shaded[1].slice(2, 8), "  ░▓█ ");
  assert.match(shaded.at(-1)!, /ramp +signed/);
  const coloured = drawImages(event, { width: 80, color: true, paint: painter(true) });
  assert.ok(coloured[1].includes("\x1b[38;5;16;48;5;16m▀"), "black over black");
  assert.ok(coloured[1].includes("\x1b[38;5;231;48;5;231m▀"), "white over white");
  assert.equal(ansi256([255, 0, 0]), 196);
  assert.equal(ansi256([128, 128, 128]), 244);
});

Deno.test("images: a wrong number of values names the image and the sizes", () => {
  assert.throws(
    () =>
      drawImages({
        kind: "images",
        title: "Bad",
        images: [{ label: "x", width: 3, height: 3, values: [1, 2] }],
      }, { width: 80, color: false, paint: plain }),
    /image "x" is 3x3 = 9 pixels, but has 2 values/,
  );
});
