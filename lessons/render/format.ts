/**
 * Number and name formatting shared by the terminal runner and the site, so both show a lesson's
 * numbers the same way.
 *
 * @module
 */

/**
 * Formats a number for people: integers as they are, other values with four significant digits,
 * very small or very large ones in exponent notation.
 *
 * @example
 * ```ts
 * import { formatNumber } from "./format.ts";
 * formatNumber(0.0123456); // "0.01235"
 * formatNumber(1.5e-7); // "1.50e-7"
 * ```
 */
export function formatNumber(value: number, digits = 4): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const size = Math.abs(value);
  if (size >= 1e6 || size < 1e-3) {
    // "1.50e-7" rather than JavaScript's "1.5e-7": the digits say how precise the number is.
    return value.toExponential(Math.max(0, digits - 2)).replace("e+", "e");
  }
  return String(Number(value.toPrecision(digits)));
}

/** Formats a number or passes a string through; used for table cells and values. */
export function formatCell(value: number | string): string {
  return typeof value === "number" ? formatNumber(value) : value;
}

/**
 * Turns a title into a file name: lower case, letters and digits joined by dashes.
 *
 * @example
 * ```ts
 * import { slugify } from "./format.ts";
 * slugify("Loss (log scale), train vs. test"); // "loss-log-scale-train-vs-test"
 * ```
 */
export function slugify(title: string, maxLength = 60): string {
  const slug = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, maxLength)
    .replace(/-+$/, "");
  return slug === "" ? "untitled" : slug;
}

/** Formats a duration in milliseconds as "850 ms", "12.3 s" or "2 min 05 s". */
export function formatDuration(milliseconds: number): string {
  if (milliseconds < 1000) return `${Math.round(milliseconds)} ms`;
  const seconds = milliseconds / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const wholeSeconds = Math.round(seconds);
  const minutes = Math.floor(wholeSeconds / 60);
  const rest = wholeSeconds % 60;
  return `${minutes} min ${String(rest).padStart(2, "0")} s`;
}
