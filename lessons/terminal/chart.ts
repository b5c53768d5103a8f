/**
 * Line plots drawn in the terminal with asciichart.
 *
 * asciichart draws series of y values, one per column, from the left edge. A lesson's series have
 * x values, may cover different x ranges, and may have thousands of points, so each series is
 * first resampled onto the chart's columns (the mean of the points that fall in a column, linear
 * interpolation between points where none does). Each series is drawn on its own and the layers
 * are then laid over each other, so a series that covers only part of the x range shows only
 * there.
 *
 * @module
 */

import asciichart from "asciichart";
import { formatNumber } from "../render/format.ts";
import type { PlotEvent } from "../render/plot_svg.ts";
import type { Paint, StyleName } from "./style.ts";

/** Terminal colours of the series, in the order of the SVG colours (blue, red, green, ...). */
export const SERIES_STYLES: readonly StyleName[] = [
  "blue",
  "red",
  "green",
  "yellow",
  "magenta",
  "cyan",
];

/**
 * Without colour, the glyph of each series (series 0 of a line plot keeps asciichart's lines), so
 * that the series and their legend can be told apart.
 */
export const SERIES_GLYPHS: readonly string[] = ["•", "+", "x", "o", "*", "#"];

/** Options of {@link drawPlot}. */
export interface ChartOptions {
  /** Terminal width in columns; the chart uses at most this much. */
  width: number;
  /** Rows of the chart area (default 12). */
  height?: number;
  /** Colours and styles. */
  paint: Paint;
  /** Whether `paint` colours (default: whether it changes text); without, each series has a glyph. */
  color?: boolean;
}

/** A series' points with y mapped to the chart's scale (log10 when `logY`), NaNs removed. */
function cleanPoints(xs: number[], ys: number[], logY: boolean): [number, number][] {
  const points: [number, number][] = [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i];
    const y = logY ? (ys[i] > 0 ? Math.log10(ys[i]) : NaN) : ys[i];
    if (Number.isFinite(x) && Number.isFinite(y)) points.push([x, y]);
  }
  return points.sort((a, b) => a[0] - b[0]);
}

/**
 * Resamples points onto `columns` equally spaced x positions from `xMin` to `xMax`: the mean of the
 * points nearest to each column, linear interpolation where no point is nearest (unless
 * `interpolate` is false, for dots), and `undefined` outside the series' own x range.
 */
export function resample(
  points: [number, number][],
  xMin: number,
  xMax: number,
  columns: number,
  interpolate = true,
): (number | undefined)[] {
  const values: (number | undefined)[] = new Array(columns).fill(undefined);
  if (points.length === 0) return values;
  const step = columns > 1 && xMax > xMin ? (xMax - xMin) / (columns - 1) : 1;
  const columnOf = (x: number) => Math.round((x - xMin) / step);
  const sums = new Float64Array(columns);
  const counts = new Uint32Array(columns);
  for (const [x, y] of points) {
    const column = Math.min(columns - 1, Math.max(0, columnOf(x)));
    sums[column] += y;
    counts[column]++;
  }
  const first = columnOf(points[0][0]);
  const last = columnOf(points[points.length - 1][0]);
  let next = 0; // index of the first point right of the current column
  for (let column = 0; column < columns; column++) {
    if (counts[column] > 0) {
      values[column] = sums[column] / counts[column];
      continue;
    }
    if (!interpolate || column < first || column > last) continue;
    const x = xMin + column * step;
    while (next < points.length && points[next][0] <= x) next++;
    if (next === 0 || next === points.length) continue;
    const [x0, y0] = points[next - 1];
    const [x1, y1] = points[next];
    values[column] = x1 === x0 ? y0 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
  }
  return values;
}

/** Fills the `undefined` ends of a series with its nearest value (asciichart needs numbers). */
function fillEnds(values: (number | undefined)[]): number[] {
  const known = values.findIndex((value) => value !== undefined);
  const filled: number[] = [];
  let previous = known >= 0 ? values[known]! : 0;
  for (const value of values) {
    if (value !== undefined) previous = value;
    filled.push(previous);
  }
  return filled;
}

/** The values asciichart labels its rows with (the same arithmetic as asciichart's). */
function tickValues(min: number, max: number, height: number): number[] {
  const range = max - min;
  const ratio = range !== 0 ? height / range : 1;
  const rows = Math.abs(Math.round(max * ratio) - Math.round(min * ratio));
  return Array.from({ length: rows + 1 }, (_, row) => rows > 0 ? max - (row * range) / rows : row);
}

/** Puts `text` into `row` (an array of cells) starting at `column`, if it fits. */
function place(row: string[], column: number, text: string): void {
  const chars = [...text];
  if (column < 0 || column + chars.length > row.length) return;
  chars.forEach((c, i) => (row[column + i] = c));
}

/**
 * Draws a plot as text: title, y label, the chart with y tick labels, x range and label under it,
 * and a legend in the series' colours. A log-scale plot draws log10(y) and labels the ticks with
 * y itself.
 */
export function drawPlot(plot: PlotEvent, options: ChartOptions): string[] {
  const { paint } = options;
  const height = options.height ?? 12;
  const logY = plot.logY ?? false;
  const color = options.color ?? paint("x", "red") !== "x";
  // The glyph that every drawn cell of a series shows; undefined keeps asciichart's lines.
  const glyph = (index: number): string | undefined => {
    if (color) return plot.points ? "•" : undefined;
    if (!plot.points && index === 0) return undefined;
    return SERIES_GLYPHS[index % SERIES_GLYPHS.length];
  };
  const lines = [paint(plot.title, "bold")];
  const series = plot.series.map((s) => ({ name: s.name, points: cleanPoints(s.x, s.y, logY) }));
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return [...lines, paint("  (no points to show)", "dim")];

  let [xMin, xMax, yMin, yMax] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [x, y] of all) {
    [xMin, xMax] = [Math.min(xMin, x), Math.max(xMax, x)];
    [yMin, yMax] = [Math.min(yMin, y), Math.max(yMax, y)];
  }
  if (yMax - yMin < 1e-12 * Math.max(1, Math.abs(yMax))) {
    // A flat line: give it some room so that asciichart has rows to draw.
    [yMin, yMax] = [yMin - 0.5, yMax + 0.5];
  }
  const label = (value: number) => formatNumber(logY ? 10 ** value : value, 3);
  const labelWidth = Math.max(6, ...tickValues(yMin, yMax, height).map((v) => label(v).length));
  const columns = Math.max(8, Math.min(options.width - labelWidth - 3, 96));
  const config = {
    height,
    min: yMin,
    max: yMax,
    offset: 2,
    format: (value: number) => label(value).padStart(labelWidth),
  };

  // Every series drawn alone, then laid over the first one's grid (which has the axis).
  const resampled = series.map((s) => resample(s.points, xMin, xMax, columns, !plot.points));
  const layers = resampled.map((values) =>
    (asciichart.plot(fillEnds(values), config) as string).split("\n").map((row) => [...row])
  );
  const grid = layers[0].map((row) => row.map((cell) => cell));
  const start = labelWidth + 1; // the grid column where the data begins (after label and axis)
  for (const row of grid) for (let c = start; c < row.length; c++) row[c] = " ";
  const rows = grid.length - 1;

  series.forEach((_series, index) => {
    const style = SERIES_STYLES[index % SERIES_STYLES.length];
    const values = resampled[index];
    if (plot.points) {
      // Dots where the points are, using asciichart's rounding so that they match the ticks.
      const scale = height / (yMax - yMin);
      const top = Math.round(yMax * scale);
      for (const [column, value] of values.entries()) {
        if (value === undefined) continue;
        const row = Math.min(rows, Math.max(0, top - Math.round(value * scale)));
        grid[row][start + column] = paint(glyph(index)!, style);
      }
      return;
    }
    const layer = layers[index];
    for (let r = 0; r < layer.length; r++) {
      for (let column = 0; column < columns; column++) {
        // asciichart draws the step from value `column` to `column + 1` in that column.
        const cell = layer[r][start + column];
        if (cell === " " || cell === undefined) continue;
        const drawn = column + 1 < columns
          ? values[column] !== undefined && values[column + 1] !== undefined
          : values[column] !== undefined;
        if (drawn) grid[r][start + column] = paint(glyph(index) ?? cell, style);
      }
    }
  });

  if (plot.yLabel) lines.push(paint(`${plot.yLabel}${logY ? " (log scale)" : ""}`, "dim"));
  lines.push(...grid.map((row) => row.join("").trimEnd()));

  // x range under the chart, and the x label centred between its ends.
  const axis = new Array(start + columns).fill(" ");
  const left = formatNumber(xMin, 3);
  const right = formatNumber(xMax, 3);
  place(axis, start, left);
  place(axis, start + columns - right.length, right);
  const centre = start + Math.floor((columns - plot.xLabel.length) / 2);
  if (centre > start + left.length + 1) place(axis, centre, plot.xLabel);
  lines.push(paint(axis.join("").trimEnd(), "dim"));

  const legend = series.map((s, index) => {
    const style = SERIES_STYLES[index % SERIES_STYLES.length];
    const mark = glyph(index);
    return `${paint(mark ? (plot.points ? mark : mark.repeat(2)) : "──", style)} ${s.name}`;
  });
  if (legend.length) lines.push(" ".repeat(start) + legend.join("   "));
  return lines;
}
