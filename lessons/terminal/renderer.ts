/**
 * Draws a lesson's output events in a terminal, as they arrive: step headings, prose, values,
 * tables, progress bars, plots (as text, and as SVG files) and image grids (as half-block
 * pictures, and as PNG files). The runner (`lessons/run.ts`) feeds it; tests feed it a string
 * buffer.
 *
 * @module
 */

import type { OutputEvent, Series } from "../format.ts";
import { formatCell, formatDuration, slugify } from "../render/format.ts";
import { imageGridPng, type ImagesEvent } from "../render/images.ts";
import { type PlotDocument, type PlotEvent, plotSvg } from "../render/plot_svg.ts";
import { drawPlot } from "./chart.ts";
import { drawImages } from "./images.ts";
import { renderProse } from "./markdown.ts";
import { ProgressBars, type TextStream } from "./progress.ts";
import { type Paint, painter } from "./style.ts";
import { drawTable } from "./table.ts";

/** The text of a step: its title and its prose (Markdown with math). */
export interface StepText {
  /** The step's heading. */
  title: string;
  /** The step's prose, Markdown with `$...$` math. */
  prose: string;
  /** The step's code, printed (dimmed) under the prose when the renderer shows code. */
  code?: string;
}

/** Saves a file the run produced; returns once it is written. */
export type SaveFile = (path: string, data: string | Uint8Array) => Promise<void>;

/** Options of {@link TerminalRenderer}. */
export interface RendererOptions {
  /** Where text goes. */
  stream: TextStream;
  /** Colours and styles (default: when `stream.isTTY`). */
  color?: boolean;
  /** Folder for plots and images, relative to the working directory (e.g. "out/lesson-03"). */
  outDir?: string;
  /** Writes files; without it plots and images are only drawn as text. */
  saveFile?: SaveFile;
  /** The document Observable Plot draws SVG with (linkedom's, outside a browser). */
  document?: PlotDocument;
  /** Least time between progress redraws in milliseconds. */
  progressInterval?: number;
  /** Rows of a terminal chart (default 12). */
  chartHeight?: number;
  /** Print each step's code (dimmed) under its prose (`deno task lesson N --code`). */
  showCode?: boolean;
}

/** A plot and where it stands: drawn in the terminal yet, saved, changed since. */
interface PlotState {
  plot: PlotEvent;
  path?: string;
  drawn: boolean;
  dirty: boolean;
}

/** Renders events to a text stream. Call {@link finish} at the end (it waits for the files). */
export class TerminalRenderer {
  /** Colours and styles, off when the output is not a terminal. */
  readonly paint: Paint;
  #color: boolean;
  #stream: TextStream;
  #options: RendererOptions;
  #bars: ProgressBars;
  #plots = new Map<string, PlotState>();
  #pending: PlotState[] = [];
  #usedNames = new Set<string>();
  #writes = new Map<string, Promise<void>>();
  #errors: string[] = [];
  #summary: { label: string; value: string }[] = [];
  #steps: readonly StepText[];
  #lastLineBlank = false;

  /**
   * A renderer for one run.
   *
   * @param options Where and how to draw.
   * @param steps The lesson's steps, read from its file: their number is shown in each heading,
   *   their code under the prose with `showCode`, and their prose when a `step` event lacks it.
   */
  constructor(options: RendererOptions, steps: readonly StepText[] = []) {
    this.#options = options;
    this.#stream = options.stream;
    this.#color = options.color ?? options.stream.isTTY;
    this.paint = painter(this.#color);
    this.#bars = new ProgressBars(options.stream, {
      paint: this.paint,
      interval: options.progressInterval,
    });
    this.#steps = steps;
  }

  /** The width that prose and tables wrap to. */
  get width(): number {
    return Math.max(40, Math.min(this.#stream.columns, 100) - 2);
  }

  /** Prints lines, through the progress bars when they run. */
  print(lines: string | string[]): void {
    const all = Array.isArray(lines) ? [...lines] : [lines];
    // Never two blank lines in a row: blocks end with one, headings start with one.
    if (this.#lastLineBlank) { while (all.length > 1 && all[0] === "") all.shift(); }
    if (all.length === 0 || (all.length === 1 && all[0] === "" && this.#lastLineBlank)) return;
    this.#lastLineBlank = all[all.length - 1] === "";
    const text = all.join("\n") + "\n";
    if (this.#bars.active) this.#bars.log(text);
    else this.#stream.write(text);
  }

  /** Handles one event. Plots wait until their points are in (see the class comment). */
  handle(event: OutputEvent): void {
    // A plot is drawn once the lesson moves on to other output: a loss curve gets its points
    // while a progress bar runs, and is drawn complete when the loop is over.
    const addsToPlot = event.kind === "plotPoints" || event.kind.startsWith("progress");
    if (!addsToPlot) this.#flushPlots();
    switch (event.kind) {
      case "step":
        this.#step(event.index, event.title, event.prose);
        break;
      case "text":
        this.print([...renderProse(event.text, { width: this.width, paint: this.paint }), ""]);
        break;
      case "value": {
        const unit = event.unit ? ` ${event.unit}` : "";
        const value = this.paint(formatCell(event.value), "bold");
        this.print(`  ${event.label}: ${value}${unit}`);
        break;
      }
      case "table":
        this.print([...drawTable(event, this.paint), ""]);
        break;
      case "plot": {
        const state: PlotState = {
          plot: { ...event, series: event.series.map((s) => ({ ...s, x: [...s.x], y: [...s.y] })) },
          drawn: false,
          dirty: true,
        };
        this.#plots.set(event.id, state);
        this.#pending.push(state);
        break;
      }
      case "plotPoints":
        this.#addPoints(event);
        break;
      case "images":
        this.#images(event);
        break;
      case "progressStart":
        this.#lastLineBlank = false; // cli-progress writes its own lines
        this.#bars.start(event.id, event.label, event.total);
        break;
      case "progress":
        this.#bars.update(event.id, event.done, event.info);
        break;
      case "progressEnd":
        this.#bars.end(event.id, event.info);
        this.#lastLineBlank = false;
        if (!this.#bars.active) this.print(""); // a blank line under the finished bars
        break;
      case "summary":
        this.#summary.push(...event.facts);
        break;
    }
  }

  #step(index: number, title: string, eventProse?: string): void {
    this.#bars.stopAll();
    const count = this.#steps.length ? ` of ${this.#steps.length}` : "";
    const heading = `Step ${index + 1}${count}: ${title}`;
    const prose = eventProse ?? this.#steps[index]?.prose ?? "";
    const code = this.#options.showCode ? this.#steps[index]?.code ?? "" : "";
    this.print([
      "",
      this.paint(heading, "bold", "cyan"),
      this.paint("─".repeat(Math.min(this.width, [...heading].length)), "cyan"),
      ...(prose.trim()
        ? [...renderProse(prose, { width: this.width, paint: this.paint }), ""]
        : []),
      ...(code.trim()
        ? [...code.split("\n").map((line) => this.paint(`  ${line}`, "dim")), ""]
        : []),
    ]);
  }

  #addPoints(event: Extract<OutputEvent, { kind: "plotPoints" }>): void {
    const state = this.#plots.get(event.id);
    if (!state) return;
    let series: Series | undefined = state.plot.series.find((s) => s.name === event.series);
    if (!series) {
      series = { name: event.series, x: [], y: [] };
      state.plot.series.push(series);
    }
    for (const x of event.x) series.x.push(x);
    for (const y of event.y) series.y.push(y);
    if (!state.dirty) {
      state.dirty = true;
      this.#pending.push(state);
    }
  }

  /**
   * Draws the plots that changed since they were last drawn, and saves them as SVG. A plot with
   * no points yet (a live plot made before its loop) waits for them; with `final` (the end of the
   * run) it is drawn as it is.
   */
  #flushPlots(final = false): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const state of pending) {
      if (!final && !state.plot.series.some((s) => s.x.length > 0 && s.y.length > 0)) {
        this.#pending.push(state); // still dirty: its first points do not queue it again
        continue;
      }
      const again = state.drawn ? this.paint(" (updated)", "dim") : "";
      const lines = drawPlot(state.plot, {
        width: this.width,
        height: this.#options.chartHeight,
        paint: this.paint,
      });
      if (again) lines[0] += again;
      state.path ??= this.#fileName(state.plot.title, "svg");
      this.#save(state.path, () => this.#plotSvg(state.plot));
      if (state.path) lines.push(this.paint(`  saved ${state.path}`, "dim"));
      this.print([...lines, ""]);
      state.drawn = true;
      state.dirty = false;
    }
  }

  #plotSvg(plot: PlotEvent): string {
    return plotSvg(plot, { document: this.#options.document });
  }

  #images(event: ImagesEvent): void {
    const lines = drawImages(event, {
      width: this.width,
      color: this.#color,
      paint: this.paint,
    });
    const path = this.#fileName(event.title, "png");
    this.#save(path, () => imageGridPng(event));
    if (path) lines.push(this.paint(`  saved ${path}`, "dim"));
    this.print([...lines, ""]);
  }

  /** A file name under the output folder for a title, unique within this run. */
  #fileName(title: string, extension: string): string | undefined {
    if (!this.#options.saveFile || !this.#options.outDir) return undefined;
    const base = slugify(title);
    let name = `${base}.${extension}`;
    for (let n = 2; this.#usedNames.has(name); n++) name = `${base}-${n}.${extension}`;
    this.#usedNames.add(name);
    return `${this.#options.outDir}/${name}`;
  }

  /** Starts writing a file; errors are reported by {@link finish}. */
  #save(path: string | undefined, make: () => string | Uint8Array | Promise<string | Uint8Array>) {
    const saveFile = this.#options.saveFile;
    if (!path || !saveFile) return;
    // A plot saved again (updated) waits for its previous write, so the newest version wins.
    const previous = this.#writes.get(path) ?? Promise.resolve();
    const write = previous.then(async () => await saveFile(path, await make())).catch((error) => {
      this.#errors.push(
        `could not save ${path}: ${error instanceof Error ? error.message : error}`,
      );
    });
    this.#writes.set(path, write);
  }

  /**
   * Ends the run: stops the bars, draws plots still waiting, prints the summary and the time
   * taken, and waits until every file is written. Returns the errors of files that failed.
   */
  async finish(elapsedMilliseconds?: number): Promise<string[]> {
    this.#bars.stopAll();
    this.#flushPlots(true);
    this.printSummary();
    await Promise.all(this.#writes.values());
    if (elapsedMilliseconds !== undefined) {
      this.print(["", this.paint(`Done in ${formatDuration(elapsedMilliseconds)}.`, "green")]);
    }
    for (const error of this.#errors) this.print(this.paint(error, "red"));
    return this.#errors;
  }

  /** Prints the facts of the `summary` events so far, under "What this lesson showed". */
  printSummary(): void {
    if (!this.#summary.length) return;
    this.#bars.stopAll();
    this.#flushPlots();
    const width = Math.max(...this.#summary.map((fact) => [...fact.label].length));
    this.print([
      "",
      this.paint("What this lesson showed", "bold", "green"),
      ...this.#summary.map((fact) =>
        `  ${fact.label.padEnd(width)}  ${this.paint(fact.value, "bold")}`
      ),
    ]);
    this.#summary = [];
  }

  /** Stops the bars without drawing anything more (when a step throws). */
  abort(): void {
    this.#bars.stopAll();
  }
}
