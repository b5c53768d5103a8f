/**
 * Tables in the terminal: columns aligned, numbers right-aligned and formatted alike.
 *
 * @module
 */

import type { OutputEvent } from "../format.ts";
import { formatCell } from "../render/format.ts";
import { pad, type Paint, visibleWidth } from "./style.ts";

/** The `table` event of a lesson's output. */
export type TableEvent = Extract<OutputEvent, { kind: "table" }>;

/**
 * Draws a table: optional title, a header row, a rule, then one line a row. A column whose cells
 * are all numbers is right-aligned, so that digits line up.
 *
 * @example
 * ```ts
 * import { drawTable } from "./table.ts";
 * const lines = drawTable(
 *   { kind: "table", columns: ["epoch", "loss"], rows: [{ epoch: 1, loss: 0.5 }] },
 *   (text) => text,
 * );
 * // ["  epoch  loss", "  ─────  ────", "      1   0.5"]
 * ```
 */
export function drawTable(event: TableEvent, paint: Paint, indent = "  "): string[] {
  const { columns, rows } = event;
  const cells = rows.map((row) => columns.map((column) => formatCell(row[column] ?? "")));
  const numeric = columns.map((column) =>
    rows.length > 0 && rows.every((row) => typeof row[column] === "number")
  );
  const widths = columns.map((column, c) =>
    Math.max(visibleWidth(column), ...cells.map((row) => visibleWidth(row[c])))
  );
  const align = (c: number) => (numeric[c] ? "right" : "left");
  const line = (parts: string[]) => (indent + parts.join("  ")).trimEnd();
  const lines: string[] = [];
  if (event.title) lines.push(paint(event.title, "bold"));
  lines.push(line(columns.map((column, c) => paint(pad(column, widths[c], align(c)), "bold"))));
  lines.push(paint(line(widths.map((width) => "─".repeat(width))), "dim"));
  for (const row of cells) lines.push(line(row.map((cell, c) => pad(cell, widths[c], align(c)))));
  return lines;
}
