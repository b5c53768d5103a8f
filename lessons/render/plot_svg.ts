/**
 * Line plots of a lesson as standalone SVG, drawn with Observable Plot.
 *
 * Plot builds its chart with the DOM. In a browser it uses the page's `document`; on the server
 * (the terminal runner, the site's build) pass one made by linkedom: see `server_dom.ts`. This file
 * itself imports no DOM implementation, so it can be bundled for the browser as it is.
 *
 * @module
 */

import * as Plot from "@observablehq/plot";
import type { OutputEvent } from "../format.ts";
import { escapeXml } from "./images.ts";

/** The `plot` event of a lesson's output (after `foldEvents`, with all its points). */
export type PlotEvent = Extract<OutputEvent, { kind: "plot" }>;

/** The DOM document type that Observable Plot draws into. */
export type PlotDocument = NonNullable<Plot.PlotOptions["document"]>;

/**
 * Series colours, in order. The terminal uses the nearest ANSI colours in the same order
 * (see `lessons/terminal/chart.ts`), so "the red line" means the same series in both places.
 */
export const SERIES_COLOURS: readonly string[] = [
  "#1f77b4", // blue
  "#d62728", // red
  "#2ca02c", // green
  "#ff7f0e", // orange
  "#9467bd", // purple
  "#17becf", // cyan
];

/** Options of {@link plotSvg}. */
export interface PlotSvgOptions {
  /** The document to draw with; defaults to the browser's global `document`. */
  document?: PlotDocument;
  /** Width of the whole picture in pixels (default 640). */
  width?: number;
  /** Height of the chart area in pixels, without title and legend (default 360). */
  height?: number;
}

/** One point of the long-form data that Plot draws. */
interface Point {
  series: string;
  x: number;
  y: number;
}

/** The default document: the browser's, if there is one. */
function globalDocument(): PlotDocument | undefined {
  return (globalThis as { document?: PlotDocument }).document;
}

/** The plot's points as rows, without those a chart cannot show (NaN; y <= 0 on a log axis). */
function plotPoints(plot: PlotEvent): Point[] {
  const points: Point[] = [];
  for (const series of plot.series) {
    const count = Math.min(series.x.length, series.y.length);
    for (let i = 0; i < count; i++) {
      const x = series.x[i];
      const y = series.y[i];
      if (!Number.isFinite(x) || !Number.isFinite(y) || (plot.logY && y <= 0)) continue;
      points.push({ series: series.name, x, y });
    }
  }
  return points;
}

/** The legend: a short coloured line and the name of each series, wrapped to `width`. */
function legend(names: string[], width: number, top: number): { svg: string; height: number } {
  const items: string[] = [];
  let x = 12;
  let y = top;
  for (const [i, name] of names.entries()) {
    const itemWidth = 30 + name.length * 7 + 16;
    if (x + itemWidth > width && x > 12) {
      x = 12;
      y += 18;
    }
    const colour = SERIES_COLOURS[i % SERIES_COLOURS.length];
    items.push(
      `<line x1="${x}" x2="${x + 22}" y1="${y - 4}" y2="${y - 4}" stroke="${colour}" ` +
        `stroke-width="3"/>`,
      `<text x="${x + 28}" y="${y}" font-size="12">${escapeXml(name)}</text>`,
    );
    x += itemWidth;
  }
  return { svg: items.join("\n"), height: names.length ? y - top + 18 : 0 };
}

/**
 * Draws a plot event as a standalone SVG document: title, legend, labelled axes (log scale on y
 * when `logY` is set), every series as a line (or as dots when `points` is set).
 *
 * @example
 * ```ts ignore
 * import { plotSvg } from "./plot_svg.ts";
 * import { serverDocument } from "./server_dom.ts";
 * const svg = plotSvg({
 *   kind: "plot", id: "loss", title: "Training loss", xLabel: "epoch", yLabel: "loss",
 *   series: [{ name: "train", x: [1, 2, 3], y: [0.9, 0.5, 0.3] }],
 * }, { document: serverDocument() });
 * ```
 */
export function plotSvg(plot: PlotEvent, options: PlotSvgOptions = {}): string {
  const document = options.document ?? globalDocument();
  if (!document) {
    throw new Error(
      `plotSvg "${plot.title}": no DOM document to draw with. Outside a browser pass one: ` +
        `plotSvg(plot, { document: serverDocument() }) with serverDocument from ` +
        `lessons/render/server_dom.ts`,
    );
  }
  const width = options.width ?? 640;
  const chartHeight = options.height ?? 360;
  const names = plot.series.map((series) => series.name);
  const points = plotPoints(plot);
  const mark = plot.points
    ? Plot.dot(points, { x: "x", y: "y", fill: "series", r: 2 })
    : Plot.line(points, {
      x: "x",
      y: "y",
      z: "series",
      stroke: "series",
      strokeWidth: 1.5,
      sort: "x",
    });
  const chart = Plot.plot({
    document,
    width,
    height: chartHeight,
    marginLeft: 64,
    marginBottom: 44,
    marginRight: 24,
    style: { fontSize: "12px", background: "white" },
    x: { label: plot.xLabel, labelAnchor: "center", labelArrow: "none", nice: true },
    y: {
      label: plot.yLabel,
      labelAnchor: "center",
      labelArrow: "none",
      type: plot.logY ? "log" : "linear",
      // Plain decimals on a log axis ("0.2", not the SI default "200m").
      tickFormat: plot.logY ? "~g" : undefined,
      grid: true,
      nice: !plot.logY,
    },
    color: { domain: names, range: [...SERIES_COLOURS] },
    marks: [mark],
  }) as unknown as { setAttribute(name: string, value: string): void; outerHTML: string };

  const titleHeight = 30;
  const legendPart = legend(names, width, titleHeight + 14);
  const top = titleHeight + legendPart.height + 4;
  chart.setAttribute("x", "0");
  chart.setAttribute("y", String(top));
  const height = top + chartHeight;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="21" font-size="15" font-weight="bold">${escapeXml(plot.title)}</text>`,
    legendPart.svg,
    chart.outerHTML,
    "</svg>",
  ].join("\n");
}
