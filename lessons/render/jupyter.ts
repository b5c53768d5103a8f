/**
 * A lesson's output in a Jupyter notebook run by Deno's kernel (`deno jupyter`): text and values
 * as Markdown, tables as HTML, plots as SVG, image grids as SVG, progress bars as HTML bars
 * updated in place, and the summary as a list. `format.ts` loads this file when a lesson runs in
 * the kernel (see `deno task notebook N`).
 *
 * Every display also carries a plain-text form, and the summary carries its facts as metadata
 * (`gradlab.summary`), which the notebook test reads.
 *
 * @module
 */
import type { Display, LessonInfo, OutputEvent, RunSettings } from "../format.ts";
import { formatCell, formatNumber } from "./format.ts";
import { escapeXml, imageGridSvg } from "./images.ts";
import { type PlotEvent, plotSvg } from "./plot_svg.ts";
import { serverDocument } from "./server_dom.ts";

/** A MIME bundle: the same output in several forms; the front end picks the richest. */
type Bundle = Record<string, string>;

/** The part of Deno's `Deno.jupyter` namespace used here. */
interface JupyterApi {
  broadcast(
    type: string,
    content: Record<string, unknown>,
    extra?: { metadata?: Record<string, unknown> },
  ): Promise<void> | void;
}

/** Least time between two redraws of a live plot or a progress bar, in milliseconds. */
const REDRAW_MS = 500;

/** A display in a notebook, for a lesson run in Deno's Jupyter kernel. */
export function standaloneDisplay(info: LessonInfo, settings: RunSettings): Display {
  const jupyter = (Deno as unknown as { jupyter: JupyterApi }).jupyter;
  return new JupyterDisplay(jupyter, info, settings);
}

/** A plot that may still get points: where it stands in the notebook. */
interface LivePlotState {
  plot: PlotEvent;
  displayId: string;
  shown: boolean;
  dirty: boolean;
  drawnAt: number;
}

/** A progress bar in the notebook. */
interface BarState {
  label: string;
  total: number;
  done: number;
  displayId: string;
  drawnAt: number;
  started: number;
}

/** Turns events into Jupyter display messages. */
export class JupyterDisplay implements Display {
  #jupyter: JupyterApi;
  #plots = new Map<string, LivePlotState>();
  #bars = new Map<string, BarState>();
  #pending = new Set<Promise<unknown>>();
  #sending: Promise<unknown> = Promise.resolve();
  #run = crypto.randomUUID().slice(0, 8);
  #nextId = 0;

  constructor(jupyter: JupyterApi, info: LessonInfo, settings: RunSettings) {
    this.#jupyter = jupyter;
    this.#show({
      "text/markdown": `*Lesson ${info.number}: ${info.title}. Quick: ${
        settings.quick ? "yes" : "no"
      }, device: ${settings.device}, seed: ${settings.seed}.*`,
      "text/plain": `Lesson ${info.number} · quick: ${settings.quick ? "yes" : "no"} · ` +
        `device: ${settings.device} · seed: ${settings.seed}`,
    });
  }

  emit(event: OutputEvent): void {
    switch (event.kind) {
      case "step":
        this.#drawPlots(true);
        this.#show({
          "text/markdown": `### ${event.title}`,
          "text/plain": event.title,
        });
        break;
      case "text":
        this.#show({ "text/markdown": event.text, "text/plain": event.text });
        break;
      case "value": {
        const value = formatCell(event.value) + (event.unit ? ` ${event.unit}` : "");
        this.#show({
          "text/markdown": `${escapeMarkdown(event.label)}: **${escapeMarkdown(value)}**`,
          "text/plain": `${event.label}: ${value}`,
        });
        break;
      }
      case "table":
        this.#show(tableBundle(event));
        break;
      case "plot":
        this.#plots.set(event.id, {
          plot: { ...event, series: event.series.map((s) => ({ ...s, x: [...s.x], y: [...s.y] })) },
          displayId: this.#newId("plot"),
          shown: false,
          dirty: true,
          drawnAt: 0,
        });
        // A plot given with its data is drawn now; an empty one once it has points.
        if (event.series.length) this.#drawPlots(true);
        break;
      case "plotPoints": {
        const state = this.#plots.get(event.id);
        if (!state) break;
        let series = state.plot.series.find((s) => s.name === event.series);
        if (!series) {
          series = { name: event.series, x: [], y: [] };
          state.plot.series.push(series);
        }
        series.x.push(...event.x);
        series.y.push(...event.y);
        state.dirty = true;
        this.#drawPlots(false);
        break;
      }
      case "images": {
        const id = this.#newId("images");
        this.#track(
          imageGridSvg(event).then((svg) =>
            this.#send("display_data", { "image/svg+xml": svg, "text/plain": event.title }, id)
          ),
        );
        break;
      }
      case "progressStart": {
        const bar: BarState = {
          label: event.label,
          total: event.total,
          done: 0,
          displayId: this.#newId("progress"),
          drawnAt: performance.now(),
          started: performance.now(),
        };
        this.#bars.set(event.id, bar);
        this.#send("display_data", barBundle(bar), bar.displayId);
        break;
      }
      case "progress": {
        const bar = this.#bars.get(event.id);
        if (!bar) break;
        bar.done = event.done;
        if (performance.now() - bar.drawnAt >= REDRAW_MS) {
          bar.drawnAt = performance.now();
          this.#send("update_display_data", barBundle(bar, event.info), bar.displayId);
        }
        this.#drawPlots(false);
        break;
      }
      case "progressEnd": {
        const bar = this.#bars.get(event.id);
        if (!bar) break;
        this.#send("update_display_data", barBundle(bar, event.info, true), bar.displayId);
        this.#bars.delete(event.id);
        this.#drawPlots(true);
        break;
      }
      case "summary": {
        this.#drawPlots(true);
        const lines = event.facts.map((fact) => `- ${fact.label}: **${fact.value}**`);
        this.#show(
          {
            "text/markdown": ["**What this lesson showed**", "", ...lines].join("\n"),
            "text/plain": [
              "What this lesson showed",
              ...event.facts.map((fact) => `  ${fact.label}  ${fact.value}`),
            ].join("\n"),
          },
          { gradlab: { summary: event.facts } },
        );
        break;
      }
    }
  }

  /** Draws plots that changed, waits for images being made, then lets the kernel send it all. */
  async flush(): Promise<void> {
    this.#drawPlots(true);
    while (this.#pending.size) await Promise.all([...this.#pending]);
    // A sent message still has to leave the kernel's queue before the cell ends (Deno 2.9's
    // kernel can report the cell done first, and the last outputs are then lost); on a busy
    // machine 50 ms was seen not to be enough, so wait a quarter of a second.
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  /** Draws each changed plot: now when `force`, else at most every {@link REDRAW_MS}. */
  #drawPlots(force: boolean): void {
    const now = performance.now();
    for (const state of this.#plots.values()) {
      if (!state.dirty || !state.plot.series.some((s) => s.x.length)) continue;
      if (!force && now - state.drawnAt < REDRAW_MS) continue;
      const svg = plotSvg(state.plot, { document: serverDocument() });
      this.#send(
        state.shown ? "update_display_data" : "display_data",
        { "image/svg+xml": svg, "text/plain": `[plot: ${state.plot.title}]` },
        state.displayId,
      );
      state.shown = true;
      state.dirty = false;
      state.drawnAt = now;
    }
  }

  #show(bundle: Bundle, metadata: Record<string, unknown> = {}): void {
    this.#send("display_data", bundle, undefined, metadata);
  }

  #newId(kind: string): string {
    return `gradlab-${this.#run}-${kind}-${this.#nextId++}`;
  }

  #send(
    type: "display_data" | "update_display_data",
    data: Bundle,
    displayId?: string,
    metadata: Record<string, unknown> = {},
  ): void {
    const content = { data, metadata, transient: displayId ? { display_id: displayId } : {} };
    // One message at a time, each after the previous one went out: sent together, two updates
    // of one display can arrive in the wrong order. (`broadcast` returns a promise or nothing.)
    this.#sending = this.#sending.then(() => this.#jupyter.broadcast(type, content));
    this.#track(this.#sending);
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error) => {
      console.error(`could not display an output: ${error}`);
    }).finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }
}

function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]<>|])/g, "\\$1");
}

function escapeHtml(text: string): string {
  return escapeXml(text);
}

/** A table as HTML (numbers right-aligned) and as plain text. */
function tableBundle(event: Extract<OutputEvent, { kind: "table" }>): Bundle {
  const cell = (value: string | number | undefined) => value === undefined ? "" : formatCell(value);
  const numeric = event.columns.map((column) =>
    event.rows.every((row) => typeof row[column] === "number" || row[column] === undefined)
  );
  const align = (i: number) => (numeric[i] ? ' style="text-align:right"' : "");
  const html = [
    "<table>",
    event.title ? `<caption>${escapeHtml(event.title)}</caption>` : "",
    `<thead><tr>${
      event.columns.map((c, i) => `<th${align(i)}>${escapeHtml(c)}</th>`).join("")
    }</tr></thead>`,
    "<tbody>",
    ...event.rows.map((row) =>
      `<tr>${
        event.columns.map((c, i) => `<td${align(i)}>${escapeHtml(cell(row[c]))}</td>`).join("")
      }</tr>`
    ),
    "</tbody></table>",
  ].join("");
  const text = [
    ...(event.title ? [event.title] : []),
    event.columns.join("  "),
    ...event.rows.map((row) => event.columns.map((c) => cell(row[c])).join("  ")),
  ].join("\n");
  return { "text/html": html, "text/plain": text };
}

/** A progress bar as an HTML `<progress>` with its numbers, and as text. */
function barBundle(
  bar: BarState,
  info?: Record<string, number | string>,
  finished = false,
): Bundle {
  const numbers = Object.entries(info ?? {}).map(([key, value]) =>
    `${key} ${typeof value === "number" ? formatNumber(value) : value}`
  );
  const seconds = (performance.now() - bar.started) / 1000;
  const parts = [
    `${bar.done}/${bar.total}`,
    ...numbers,
    finished ? `in ${seconds.toFixed(1)} s` : "",
  ].filter(Boolean);
  const label = escapeHtml(bar.label);
  const html = `<div style="font-family:monospace">${label} ` +
    `<progress value="${bar.done}" max="${Math.max(1, bar.total)}"></progress> ` +
    `${escapeHtml(parts.join(" · "))}</div>`;
  return { "text/html": html, "text/plain": `${bar.label} ${parts.join(" · ")}` };
}
