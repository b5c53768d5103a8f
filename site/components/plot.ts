/**
 * Line and scatter plots of a lesson's `plot` outputs, drawn with Observable Plot. The same code
 * draws into a server-side document (linkedom) at build time and into the page's document in
 * the browser, and returns the markup as a string.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import type { PlotBlock } from "../../lessons/format.ts";
import { type PlotDocument, SERIES_COLOURS } from "../../lessons/render/plot_svg.ts";

/** Most points drawn per series; longer series are thinned evenly (the last point is kept). */
const MAX_POINTS = 1500;

/** One point of a series, as Observable Plot's marks read it. */
interface Row {
  series: string;
  x: number;
  y: number;
}

/**
 * Draws a plot output as markup for a page (a `<figure>` holding a legend and the SVG when there
 * are several series), with the terminal's series colours. `document` is the DOM to draw in:
 * linkedom's on the server (`lessons/render/server_dom.ts`), the page's in the browser. (The
 * standalone SVG files of the terminal runner come from `lessons/render/plot_svg.ts`; this one
 * fits a page: responsive width, title and legend as HTML.)
 */
export function plotSvg(block: PlotBlock, document: PlotDocument): string {
  const rows = plotRows(block);
  const names = block.series.map((series) => series.name);
  // Dense scatter plots get smaller dots, so that the points stay apart.
  const radius = rows.length > 200 ? 1.6 : 2.5;
  const line = block.points
    ? Plot.dot(rows, { x: "x", y: "y", fill: "series", r: radius })
    : Plot.line(rows, { x: "x", y: "y", z: "series", stroke: "series", strokeWidth: 2 });
  const marks: Plot.Markish[] = [Plot.frame({ stroke: "#d4d4d8" }), line];
  if (!block.points && rows.length > 0) {
    // A dot on the last point of each series: where a growing curve has got to.
    marks.push(
      Plot.dot(rows, Plot.selectLast({ x: "x", y: "y", fill: "series", r: 3, z: "series" })),
    );
  }
  const figure = Plot.plot({
    document,
    width: 640,
    height: 300,
    marginLeft: 64,
    marginBottom: 44,
    marginRight: 20,
    style: { fontSize: "13px", fontFamily: "inherit", overflow: "visible" },
    x: { label: block.xLabel, labelAnchor: "center", labelArrow: "none", nice: true },
    y: {
      label: block.yLabel,
      labelAnchor: "center",
      labelArrow: "none",
      type: block.logY ? "log" : "linear",
      grid: true,
      nice: true,
      tickFormat: block.logY ? "~g" : undefined,
    },
    color: {
      domain: names,
      range: [...SERIES_COLOURS],
      legend: names.length > 1,
    },
    marks,
  });
  figure.setAttribute("role", "img");
  figure.setAttribute("aria-label", `${block.title}: ${block.yLabel} against ${block.xLabel}`);
  return figure.outerHTML;
}

/** The points of every series as rows, thinned and without values a log axis cannot show. */
export function plotRows(block: PlotBlock): Row[] {
  const rows: Row[] = [];
  for (const series of block.series) {
    const count = Math.min(series.x.length, series.y.length);
    const stride = Math.max(1, Math.ceil(count / MAX_POINTS));
    for (let i = 0; i < count; i += stride) {
      pushRow(rows, block, series.name, series.x[i], series.y[i]);
    }
    const last = count - 1;
    if (last > 0 && last % stride !== 0) {
      pushRow(rows, block, series.name, series.x[last], series.y[last]);
    }
  }
  return rows;
}

function pushRow(rows: Row[], block: PlotBlock, series: string, x: number, y: number): void {
  if (!Number.isFinite(x) || !Number.isFinite(y)) return;
  if (block.logY && y <= 0) return;
  rows.push({ series, x, y });
}
