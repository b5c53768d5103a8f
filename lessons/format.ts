/**
 * The lesson format. One lesson file serves four places: the terminal runner
 * (`deno task lesson 3`), the site's page (each step's code exactly as written, with its real
 * output), the live run in a browser's Web Worker, and a Jupyter notebook for Deno's kernel
 * (`deno task notebook 3`).
 *
 * # How to write a lesson
 *
 * Make a folder `lessons/NN-slug/` (two digits, then a short name used in URLs: `06-iris`) with a
 * `lesson.ts`. The runner, the site, the exercise checker and the notebook export find it there;
 * no list to edit. Copy `lessons/01-regression/lesson.ts` as a start. The file reads top to
 * bottom like a notebook:
 *
 * ```ts
 * // lessons/06-iris/lesson.ts
 * import { lesson, md } from "../format.ts";
 * import { nn, optim, tensor } from "../../mod.ts";
 *
 * const { step, show, quick, device, dataUrl } = await lesson(import.meta, {
 *   number: 6,
 *   title: "Your own dataset: Iris",
 *   description: "One sentence for lists and the page's header.",
 * });
 *
 * step("Loading the data", md`
 * Prose in Markdown, with math: $\hat y = W x + b$ and display math $$L = \frac{1}{N} \sum ...$$
 * `);
 * const table = await fetchCsv(dataUrl("iris.csv"));
 * show.table(rows, { title: "The first rows" });
 *
 * step("Training", md`Each epoch ...`);
 * const model = new nn.Linear(4, 3).to(device);
 * const epochs = quick ? 5 : 50;
 * for (const epoch of show.range(epochs, "epochs")) {
 *   for (const [X, y] of show.progress(trainLoader, "batches")) { ... }
 * }
 * show.summary([{ label: "test accuracy", value: "97%" }]);
 * ```
 *
 * The rules, and why:
 *
 * - **A step is the code between two `step(...)` markers.** Write each marker at the start of a
 *   line (no indentation), with a title in a plain string and the prose as an `md` template
 *   (or a plain string). The site shows the code between two markers exactly as written, and the
 *   notebook makes it one code cell; the prose becomes the step's text. So the title and the
 *   prose must be literals: no `${...}` inside them. Code between the `lesson(...)` call and the
 *   first marker is the file's top part (shown folded on the site, the notebook's first cell).
 * - **Prose for every place.** The terminal prints the prose without the code (unless
 *   `--code`): write "this step computes ..." or "here", not "the code below".
 * - **Plain top-level code.** A later step uses the `const`s of an earlier one directly, as in a
 *   script. No per-step functions, no shared state object, no casts.
 * - **Output only through `show`.** `show.text`, `show.value`, `show.table`, `show.plot` (returns
 *   a handle whose `push` appends points while training), `show.images`, `show.progress` and
 *   `show.range` (progress bars around a loop), `show.summary` (the measured facts, printed at
 *   the end as "What this lesson showed"). Never `console.log`, never `Deno.*`: the same file
 *   runs in a browser. Each call becomes a plain JSON {@link OutputEvent} that each place draws
 *   its own way.
 * - **The run decides** `quick` (small data, few epochs: every lesson in under a minute on a
 *   2-core machine), `device` ("cpu" or "webgpu"; move models and tensors there) and `seed`
 *   (already given to `manualSeed` when `lesson()` returns). Use `quick ? 3 : 10` for sizes.
 * - **Data by URL.** `dataUrl("iris.csv")` is the URL of a shipped file under `lessons/data/` (or
 *   of the `--data` folder's file); load it with the library's `fetch`-based readers.
 * - **Stopping is the runner's job.** The browser ends the worker; no signal checks in loops.
 * - **A measured outcome.** End with `show.summary([...])`, and beside the lesson put a
 *   `lesson.test.ts` that runs it in quick mode with {@link runLesson} and asserts the fact
 *   (see `lessons/01-regression/lesson.test.ts`; {@link shownValue} reads a shown value back).
 * - **One definition.** A model or helper that two files need (the lesson and a pretraining
 *   script) lives in its own module in the lesson's folder and both import it.
 * - **Checked everywhere.** `tests/notebook.test.ts` runs every lesson's notebook cell by cell in
 *   Deno's Jupyter kernel (no error and nothing on stderr allowed) and its cells as one script,
 *   and compares their summary with the quick run's; the site's browser test opens every lesson
 *   page at a phone's width. Keep the summary's facts deterministic (durations are ignored).
 *
 * Running a lesson file by itself (`deno run --allow-read lessons/06-iris/lesson.ts`, or the
 * notebook's cells in Jupyter) works too: without a runner, `lesson()` draws the output in the
 * terminal, or as rich output in a notebook, and reads `GRADLAB_QUICK=1`, `GRADLAB_DEVICE` and
 * `GRADLAB_SEED` from the environment when it may.
 *
 * @module
 */
import { manualSeed, pickDevice } from "../mod.ts";

/** One row of a table: column name to value. */
export type TableRow = Record<string, string | number>;

/** A named series of points for a line plot. */
export interface Series {
  name: string;
  x: number[];
  y: number[];
}

/** A grey-scale (or signed) image: `values` has `height * width` numbers, row-major. */
export interface ImageData2D {
  label?: string;
  width: number;
  height: number;
  values: number[];
}

/** Live numbers shown beside a progress bar (loss, accuracy). */
export type ProgressInfo = Record<string, number | string>;

/** Everything a lesson can show. Each variant is plain JSON, so it can cross a worker boundary. */
export type OutputEvent =
  | { kind: "step"; index: number; title: string; prose?: string }
  | { kind: "text"; text: string }
  | { kind: "value"; label: string; value: number | string; unit?: string }
  | { kind: "table"; title?: string; columns: string[]; rows: TableRow[] }
  | {
    kind: "plot";
    id: string;
    title: string;
    xLabel: string;
    yLabel: string;
    series: Series[];
    logY?: boolean;
    /** Draw as points instead of lines. */
    points?: boolean;
  }
  /** Points appended to a plot made earlier (a loss curve that grows while training). */
  | { kind: "plotPoints"; id: string; series: string; x: number[]; y: number[] }
  | {
    kind: "images";
    title: string;
    images: ImageData2D[];
    columns?: number;
    /** "grey": 0 black to 1 white after min-max scaling; "diverging": blue-white-red around 0. */
    colormap?: "grey" | "diverging";
  }
  | { kind: "progressStart"; id: string; label: string; total: number }
  | { kind: "progress"; id: string; done: number; info?: ProgressInfo }
  | { kind: "progressEnd"; id: string; info?: ProgressInfo }
  | { kind: "summary"; facts: { label: string; value: string }[] };

/** A plot handle returned by {@link Show.plot}, to which points can be appended. */
export interface LivePlot {
  /** Append points to the series named `series` (created on first use). */
  push(series: string, x: number | number[], y: number | number[]): void;
}

/** Options of {@link Show.plot}. */
export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Series known now; more can be pushed later through the returned handle. */
  series?: Series[];
  /** A logarithmic y axis (loss curves). */
  logY?: boolean;
  /** Points instead of lines (scattered data). */
  points?: boolean;
}

/**
 * A loop with a progress bar: iterate it like the items it wraps. `note` sets the live numbers
 * shown beside the bar (the loss so far), as tqdm's `set_postfix` does.
 */
export interface ProgressLoop<T> extends Iterable<T> {
  /** Shows these numbers beside the bar from now on (merged with the ones noted before). */
  note(info: ProgressInfo): void;
}

/** The display API of a lesson: every output goes through it. */
export interface Show {
  /** A paragraph of text (Markdown allowed). */
  text(text: string): void;
  /** One labelled number or string, e.g. `show.value("final loss", loss)`. */
  value(label: string, value: number | string, unit?: string): void;
  /** A table with the given rows; columns default to the keys of the first row. */
  table(rows: TableRow[], options?: { title?: string; columns?: string[] }): void;
  /** A line plot. Returns a handle for appending points while training. */
  plot(options: PlotOptions): LivePlot;
  /** A grid of images (filters, feature maps, samples). */
  images(
    title: string,
    images: ImageData2D[],
    options?: { columns?: number; colormap?: "grey" | "diverging" },
  ): void;
  /**
   * A progress bar around a loop: `for (const [X, y] of show.progress(trainLoader, "batches"))`.
   * The total is the iterable's `length` (a DataLoader's number of batches, an array's size)
   * unless given.
   */
  progress<T>(items: Iterable<T>, label?: string, total?: number): ProgressLoop<T>;
  /** `0, 1, ..., count - 1` with a progress bar: `for (const epoch of show.range(epochs))`. */
  range(count: number, label?: string): ProgressLoop<number>;
  /** The measured facts the lesson showed; printed at the end of the run. */
  summary(facts: { label: string; value: string }[]): void;
  /**
   * Waits until everything shown so far is on screen. A notebook's code cell ends with
   * `await show.flush();` (Deno's kernel ends a cell before sending output still on its way);
   * elsewhere it only lets the event loop turn once.
   */
  flush(): Promise<void>;
}

/** Where the events of a run go: `emit` each one; `flush` waits until they are shown. */
export interface Display {
  emit(event: OutputEvent): void;
  flush?(): Promise<void>;
}

/** What a lesson says about itself in its `lesson(import.meta, {...})` call. */
export interface LessonInfo {
  /** 1, 2, ...: what `deno task lesson N` takes; the folder's two digits. */
  number: number;
  /** Shown in lists and as the page's heading. */
  title: string;
  /** One or two sentences: what the lesson does. */
  description: string;
}

/** What a run decides: the same lesson runs quick or long, on the CPU or WebGPU, any seed. */
export interface RunSettings {
  /** Small data and few epochs (every lesson in under a minute on a 2-core machine). */
  quick: boolean;
  /** The device to train on; the runner has set WebGPU up when it is "webgpu". */
  device: "cpu" | "webgpu";
  /** The seed given to `manualSeed` before the lesson's first line runs. */
  seed: number;
  /** Where data files are; default: `lessons/data/` beside this file. */
  dataUrl?: (name: string) => URL;
}

/** What `lesson()` gives the lesson's code. */
export interface LessonKit extends Readonly<Required<RunSettings>> {
  /** Starts a step: its title and prose (Markdown with `$...$` math). */
  step(title: string, prose?: string): void;
  /** Where every output goes. */
  show: Show;
}

/**
 * Prose in Markdown, written as a template literal: `md\`...\``. Backslashes are kept as typed
 * (`$\frac{a}{b}$`, no doubling), the common indentation and the blank lines around are removed,
 * and `` \` `` gives a backtick.
 */
export function md(strings: TemplateStringsArray, ...values: unknown[]): string {
  let text = strings.raw[0];
  for (let i = 0; i < values.length; i++) text += String(values[i]) + strings.raw[i + 1];
  return dedent(text.replaceAll("\\`", "`").replaceAll("\\${", "${"));
}

/** Removes the common indentation of the lines and the blank lines at the start and end. */
export function dedent(text: string): string {
  const lines = text.replace(/\s+$/, "").split("\n");
  while (lines.length && lines[0].trim() === "") lines.shift();
  const indents = lines.filter((line) => line.trim()).map((line) => line.match(/^ */)![0].length);
  const common = indents.length ? Math.min(...indents) : 0;
  return lines.map((line) => line.slice(common)).join("\n");
}

/**
 * Builds a {@link Show} that turns every call into an {@link OutputEvent} passed to `emit`;
 * `show.flush()` awaits `flush` when given.
 */
export function createShow(
  emit: (event: OutputEvent) => void,
  flush?: () => Promise<void>,
): Show {
  let nextId = 0;
  const progress = <T>(items: Iterable<T>, label = "", total?: number): ProgressLoop<T> => {
    const length = (items as { length?: unknown }).length;
    const count = total ?? (typeof length === "number" ? length : 0);
    return progressLoop(items, label, count, `progress-${nextId++}`, emit);
  };
  return {
    text: (text) => emit({ kind: "text", text }),
    value: (label, value, unit) => emit({ kind: "value", label, value, unit }),
    table: (rows, options = {}) =>
      emit({
        kind: "table",
        title: options.title,
        columns: options.columns ?? Object.keys(rows[0] ?? {}),
        rows,
      }),
    plot: (options) => {
      const id = `plot-${nextId++}`;
      emit({ kind: "plot", id, ...options, series: options.series ?? [] });
      return {
        push(series, x, y) {
          const xs = Array.isArray(x) ? x : [x];
          const ys = Array.isArray(y) ? y : [y];
          emit({ kind: "plotPoints", id, series, x: xs, y: ys });
        },
      };
    },
    images: (title, images, options = {}) => emit({ kind: "images", title, images, ...options }),
    progress,
    range: (count, label = "") => progress(countUpTo(count), label, count),
    summary: (facts) => emit({ kind: "summary", facts }),
    flush: async () => {
      await flush?.();
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
  };
}

function* countUpTo(count: number): Generator<number> {
  for (let i = 0; i < count; i++) yield i;
}

/** Least time between two `progress` events of one bar, in milliseconds. */
const PROGRESS_EVERY_MS = 50;

function progressLoop<T>(
  items: Iterable<T>,
  label: string,
  total: number,
  id: string,
  emit: (event: OutputEvent) => void,
): ProgressLoop<T> {
  let info: ProgressInfo | undefined;
  return {
    note(more) {
      info = { ...info, ...more };
    },
    *[Symbol.iterator]() {
      emit({ kind: "progressStart", id, label, total });
      let done = 0;
      let last = performance.now();
      try {
        for (const item of items) {
          yield item;
          done++;
          const now = performance.now();
          if (now - last >= PROGRESS_EVERY_MS || done === total) {
            emit({ kind: "progress", id, done, info });
            last = now;
          }
        }
      } finally {
        // Also when the loop is left early (break, or an error in its body).
        emit({ kind: "progressEnd", id, info });
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Running a lesson. A lesson module runs when it is imported; a runner first says how (settings)
// and where its output goes (emit), then imports it. `lesson()` picks that up.

/** A run waiting for its lesson module to call `lesson()`. */
interface PendingRun {
  settings: RunSettings;
  emit: (event: OutputEvent) => void;
  /** Set by `lesson()`: what the lesson said about itself. */
  info?: LessonInfo;
}

let pending: PendingRun | undefined;
/** How many times each module URL was run in this process (a second run needs a fresh copy). */
const runCounts = new Map<string, number>();

/**
 * Makes the next `lesson()` call use these settings and send its output to `emit`. Runners that
 * import the lesson themselves (the browser worker's entry) call this first; others use
 * {@link runLesson}.
 */
export function expectRun(settings: RunSettings, emit: (event: OutputEvent) => void): {
  readonly info: LessonInfo | undefined;
  done(): void;
} {
  if (pending) throw new Error("expectRun: another lesson run is under way in this process");
  const run: PendingRun = { settings, emit };
  pending = run;
  return {
    get info() {
      return run.info;
    },
    done() {
      if (pending === run) pending = undefined;
    },
  };
}

/**
 * Runs the lesson module at `url` with these settings, sending each output event to `emit`.
 * Resolves with what the lesson said about itself once its last line has run; rejects with the
 * lesson's error. The same module can be run again: each run gets a fresh copy.
 */
export async function runLesson(
  url: URL | string,
  settings: RunSettings,
  emit: (event: OutputEvent) => void,
): Promise<LessonInfo> {
  const href = new URL(url).href;
  const count = (runCounts.get(href) ?? 0) + 1;
  runCounts.set(href, count);
  const run = expectRun(settings, emit);
  try {
    await import(count === 1 ? href : `${href}${href.includes("?") ? "&" : "?"}run=${count}`);
  } finally {
    run.done();
  }
  if (!run.info) {
    throw new Error(
      `${href} ran without calling lesson(import.meta, {...}): is it a lesson module?`,
    );
  }
  return run.info;
}

/**
 * Starts a lesson: call it once, at the top of the lesson file, and take what you need:
 * `const { step, show, quick, device } = await lesson(import.meta, { number, title, ... })`.
 *
 * In a notebook, where a cell has no `import.meta`, `lesson({ number, title, ... })` alone does
 * the same. Under a runner it uses the run's settings and output. Run by itself (a plain `deno run` of the
 * file, or a notebook) it draws the output here and takes its settings from the environment.
 * Either way the seed is given to `manualSeed` before it returns.
 */
export async function lesson(
  meta: { url: string } | LessonInfo,
  info?: LessonInfo,
): Promise<LessonKit>;
export async function lesson(
  meta: { url: string } | LessonInfo,
  maybeInfo?: LessonInfo,
): Promise<LessonKit> {
  // `lesson(info)` alone is the notebook's form: a notebook cell has no `import.meta`.
  const info = maybeInfo ?? meta as LessonInfo;
  checkInfo(info, maybeInfo ? (meta as { url: string }).url : "a notebook");
  const run = pending;
  let settings: RunSettings;
  let display: Display;
  if (run && !run.info) {
    run.info = info;
    settings = run.settings;
    display = { emit: run.emit };
  } else {
    ({ settings, display } = await standalone(info));
  }
  const emit = (event: OutputEvent) => display.emit(event);
  manualSeed(settings.seed);
  const show = createShow(emit, display.flush && (() => display.flush!()));
  let index = 0;
  return {
    quick: settings.quick,
    device: settings.device,
    seed: settings.seed,
    dataUrl: settings.dataUrl ?? ((name: string) => new URL(name, shippedData)),
    show,
    step(title: string, prose = "") {
      emit({ kind: "step", index: index++, title, prose });
    },
  };
}

/** The data shipped with the lessons. */
const shippedData = new URL("./data/", import.meta.url);

function checkInfo(info: LessonInfo, url: string): void {
  const problems: string[] = [];
  if (!Number.isInteger(info?.number) || info.number < 1) problems.push("number (1, 2, ...)");
  if (typeof info?.title !== "string" || !info.title) problems.push("title");
  if (typeof info?.description !== "string") problems.push("description");
  if (problems.length) {
    throw new Error(`lesson(import.meta, {...}) in ${url} needs ${problems.join(", ")}`);
  }
}

/**
 * Settings and output of a lesson run by itself: a notebook's rich output in Deno's Jupyter
 * kernel, else the terminal. The renderers are loaded here (not imported at the top) so that a
 * browser bundle of a lesson never includes them.
 */
async function standalone(
  info: LessonInfo,
): Promise<{ settings: RunSettings; display: Display }> {
  const env = (name: string): string | undefined => {
    const deno = (globalThis as { Deno?: typeof Deno }).Deno;
    if (!deno) return undefined;
    try {
      if (deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
        return undefined;
      }
      return deno.env.get(name);
    } catch {
      return undefined;
    }
  };
  const quick = ["1", "true", "yes"].includes(env("GRADLAB_QUICK") ?? "");
  const seed = Number(env("GRADLAB_SEED") ?? 0);
  const wanted = env("GRADLAB_DEVICE") ?? "auto";
  if (!["cpu", "webgpu", "auto"].includes(wanted)) {
    throw new Error(`GRADLAB_DEVICE must be cpu, webgpu or auto, not "${wanted}"`);
  }
  const device = wanted === "cpu" ? "cpu" : (await pickDevice(wanted as "webgpu" | "auto")).device;
  const settings: RunSettings = { quick, seed: Number.isSafeInteger(seed) ? seed : 0, device };
  let inJupyter = false;
  try {
    // Outside `deno jupyter`, reading Deno.jupyter throws.
    inJupyter = (globalThis as { Deno?: { jupyter?: unknown } }).Deno?.jupyter !== undefined;
  } catch {
    inJupyter = false;
  }
  // Computed specifiers: bundlers leave these imports out of a browser bundle.
  const display = inJupyter ? "./render/jupyter.ts" : "./terminal/standalone.ts";
  const module = await import(new URL(display, import.meta.url).href) as {
    standaloneDisplay(info: LessonInfo, settings: RunSettings): Display;
  };
  return { settings, display: module.standaloneDisplay(info, settings) };
}

// ---------------------------------------------------------------------------------------------
// Reading a run's output back.

/** A plot with all the points it was given, after folding `plotPoints` events into it. */
export type PlotBlock = Extract<OutputEvent, { kind: "plot" }>;

/** What one step showed, in order, with plots complete and progress bars reduced to their end. */
export interface StepOutput {
  index: number;
  title: string;
  blocks: OutputEvent[];
}

/**
 * The value a lesson showed with `show.value(label, ...)` (the last one with that label), as a
 * number when it reads as one. For outcome tests: `shownValue(events, "total loss")`.
 */
export function shownValue(events: OutputEvent[], label: string): number | string | undefined {
  let found: number | string | undefined;
  for (const event of events) {
    if (event.kind === "value" && event.label === label) found = event.value;
  }
  if (typeof found === "string" && found.trim() !== "" && Number.isFinite(Number(found))) {
    return Number(found);
  }
  return found;
}

/**
 * A share the lesson showed as a percentage (`"80.2%"`) under `label`, as a number from 0 to 1.
 * For outcome tests: throws when the lesson showed no percentage under that label.
 */
export function shownShare(events: OutputEvent[], label: string): number {
  const shown = shownValue(events, label);
  if (typeof shown !== "string" || !/^\d+(\.\d+)?%$/.test(shown)) {
    throw new Error(`the lesson shows no percentage labelled "${label}" (got ${shown})`);
  }
  return Number(shown.slice(0, -1)) / 100;
}

/**
 * Folds a stream of events into the final outputs of each step: points appended to a plot are
 * merged into it, and a progress bar keeps only its last state (as a `progressEnd` block with the
 * label and total copied in `info`). Used by the site's build-time capture and by tests.
 */
export function foldEvents(events: OutputEvent[]): StepOutput[] {
  const steps: StepOutput[] = [];
  const plots = new Map<string, PlotBlock>();
  const bars = new Map<string, { label: string; total: number; done: number }>();
  let current: StepOutput = { index: -1, title: "", blocks: [] };
  for (const event of events) {
    switch (event.kind) {
      case "step":
        current = { index: event.index, title: event.title, blocks: [] };
        steps.push(current);
        break;
      case "plot": {
        const plot: PlotBlock = { ...event, series: event.series.map((s) => ({ ...s })) };
        plots.set(event.id, plot);
        current.blocks.push(plot);
        break;
      }
      case "plotPoints": {
        const plot = plots.get(event.id);
        if (!plot) break;
        let series = plot.series.find((s) => s.name === event.series);
        if (!series) {
          series = { name: event.series, x: [], y: [] };
          plot.series.push(series);
        }
        series.x.push(...event.x);
        series.y.push(...event.y);
        break;
      }
      case "progressStart":
        bars.set(event.id, { label: event.label, total: event.total, done: 0 });
        break;
      case "progress": {
        const bar = bars.get(event.id);
        if (bar) bar.done = event.done;
        break;
      }
      case "progressEnd": {
        const bar = bars.get(event.id);
        const block: OutputEvent = {
          kind: "progressEnd",
          id: event.id,
          info: { label: bar?.label ?? "", total: bar?.total ?? 0, ...event.info },
        };
        // A bar inside a loop (the batches of each epoch) ends many times: keep its last end.
        const label = bar?.label ?? "";
        const earlier = current.blocks.findIndex((b) =>
          b.kind === "progressEnd" && b.info?.label === label && label !== ""
        );
        if (earlier >= 0) current.blocks[earlier] = block;
        else current.blocks.push(block);
        break;
      }
      default:
        current.blocks.push(event);
    }
  }
  return steps;
}
