/**
 * The lesson format: one source that serves the terminal runner, the site's pre-rendered page and
 * the live run in the browser.
 *
 * A lesson is a module whose default export is made with {@link defineLesson}. It is a list of
 * steps; each step has a title, prose (Markdown with `$...$` / `$$...$$` math) and an async `run`
 * function. `run` talks to the world only through the {@link Output} it is handed: it never calls
 * `console.log`, never touches `Deno.*`, and loads data with `fetch` of URLs (see
 * {@link LessonContext.dataUrl}). Each `Output` method turns into a plain JSON
 * {@link OutputEvent}, so the same events can be drawn in a terminal, captured at build time into
 * HTML, or streamed from a Web Worker to a page.
 *
 * The site shows the source text of each step's `run` function exactly as written in the lesson
 * file, so keep each step's code inside its `run` arrow function.
 *
 * @module
 */
import { manualSeed } from "../mod.ts";

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

/** Everything a lesson can show. Each variant is plain JSON, so it can cross a worker boundary. */
export type OutputEvent =
  | { kind: "step"; index: number; title: string }
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
  | { kind: "progress"; id: string; done: number; info?: Record<string, number | string> }
  | { kind: "progressEnd"; id: string; info?: Record<string, number | string> }
  | { kind: "summary"; facts: { label: string; value: string }[] };

/** A progress bar handle returned by {@link Output.progress}. */
export interface Progress {
  /** Mark `done` units of `total` as finished, with optional live numbers (loss, steps/s). */
  update(done: number, info?: Record<string, number | string>): void;
  /** Finish the bar, with the final numbers. */
  end(info?: Record<string, number | string>): void;
}

/** A plot handle returned by {@link Output.plot}, to which points can be appended. */
export interface LivePlot {
  /** Append points to the series named `series` (created on first use). */
  push(series: string, x: number | number[], y: number | number[]): void;
}

/** Where a lesson writes. Build one with {@link createOutput} around an event sink. */
export interface Output {
  /** A paragraph of plain text (Markdown allowed). */
  text(text: string): void;
  /** One labelled number or string, e.g. `out.value("final loss", 0.0123)`. */
  value(label: string, value: number | string, unit?: string): void;
  /** A table with the given rows; columns default to the keys of the first row. */
  table(rows: TableRow[], options?: { title?: string; columns?: string[] }): void;
  /** A line plot. Returns a handle for appending points while training. */
  plot(options: {
    title: string;
    xLabel: string;
    yLabel: string;
    series?: Series[];
    logY?: boolean;
    points?: boolean;
  }): LivePlot;
  /** A grid of images (filters, feature maps, samples). */
  images(
    title: string,
    images: ImageData2D[],
    options?: { columns?: number; colormap?: "grey" | "diverging" },
  ): void;
  /** A progress bar over `total` units (batches, epochs). */
  progress(label: string, total: number): Progress;
  /** The measured facts the lesson showed; printed at the end of the run. */
  summary(facts: { label: string; value: string }[]): void;
}

/** What a lesson's steps get besides the output: options of this run and where its data is. */
export interface LessonContext {
  /** Small data and few epochs (every lesson under a minute on a 2-core machine). */
  quick: boolean;
  /** The device to train on: "cpu" or "webgpu". */
  device: "cpu" | "webgpu";
  /** The seed passed to `manualSeed` before the first step. */
  seed: number;
  /**
   * The URL of a data file. Names resolve against the folder given with `--data` when set (the
   * full Fashion-MNIST), else against the shipped `lessons/data/` folder.
   */
  dataUrl(name: string): URL;
  /** Values shared between the steps of one run (a model trained in step 3, used in step 4). */
  state: Record<string, unknown>;
  /** Set when the run should stop (the "Stop" button in the browser); loops check it. */
  signal?: AbortSignal;
}

/** One step of a lesson: heading, prose, code. */
export interface Step {
  title: string;
  /** Markdown with `$inline$` and `$$display$$` math. */
  prose: string;
  /** The code of the step. Its source text is what the site shows. */
  run: (out: Output, ctx: LessonContext) => Promise<void> | void;
}

/** A lesson: number, title, a one-sentence description, and its steps. */
export interface Lesson {
  number: number;
  slug: string;
  title: string;
  description: string;
  steps: Step[];
}

/** Declares a lesson (identity function that checks the shape). */
export function defineLesson(lesson: Lesson): Lesson {
  if (lesson.steps.length === 0) throw new Error(`lesson ${lesson.number} has no steps`);
  return lesson;
}

/** Builds an {@link Output} that turns every call into an {@link OutputEvent} passed to `emit`. */
export function createOutput(emit: (event: OutputEvent) => void): Output {
  let nextId = 0;
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
      emit({ kind: "plot", id, series: [], ...options });
      return {
        push(series, x, y) {
          const xs = Array.isArray(x) ? x : [x];
          const ys = Array.isArray(y) ? y : [y];
          emit({ kind: "plotPoints", id, series, x: xs, y: ys });
        },
      };
    },
    images: (title, images, options = {}) => emit({ kind: "images", title, images, ...options }),
    progress: (label, total) => {
      const id = `progress-${nextId++}`;
      emit({ kind: "progressStart", id, label, total });
      return {
        update: (done, info) => emit({ kind: "progress", id, done, info }),
        end: (info) => emit({ kind: "progressEnd", id, info }),
      };
    },
    summary: (facts) => emit({ kind: "summary", facts }),
  };
}

/**
 * Runs every step of a lesson, emitting a `step` event before each. Used by the terminal runner,
 * the site's build-time capture and the browser worker alike.
 */
export async function runLesson(
  lesson: Lesson,
  ctx: LessonContext,
  emit: (event: OutputEvent) => void,
): Promise<void> {
  // Seeded here, so the terminal, the site's capture and the browser all show the same numbers.
  manualSeed(ctx.seed);
  const out = createOutput(emit);
  for (const [index, step] of lesson.steps.entries()) {
    if (ctx.signal?.aborted) break;
    emit({ kind: "step", index, title: step.title });
    await step.run(out, ctx);
  }
}

/** A plot with all the points it was given, after folding `plotPoints` events into it. */
export type PlotBlock = Extract<OutputEvent, { kind: "plot" }>;

/** What one step showed, in order, with plots complete and progress bars reduced to their end. */
export interface StepOutput {
  index: number;
  title: string;
  blocks: OutputEvent[];
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
        current.blocks.push({
          kind: "progressEnd",
          id: event.id,
          info: { label: bar?.label ?? "", total: bar?.total ?? 0, ...event.info },
        });
        break;
      }
      default:
        current.blocks.push(event);
    }
  }
  return steps;
}
