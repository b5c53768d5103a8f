/**
 * Terminal styling: ANSI colours that switch off when the output is not a terminal, and text
 * measuring and wrapping that ignore those colour codes.
 *
 * @module
 */

/** Matches ANSI escape sequences (colours, cursor movement). */
// deno-lint-ignore no-control-regex
const ANSI_PATTERN = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g;

/** Removes ANSI escape sequences from `text`. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_PATTERN, "");
}

/** The number of terminal columns `text` takes (escape codes take none). */
export function visibleWidth(text: string): number {
  return [...stripAnsi(text)].length;
}

/** Pads `text` with spaces to `width` visible columns, on the right or (for numbers) the left. */
export function pad(text: string, width: number, align: "left" | "right" = "left"): string {
  const fill = " ".repeat(Math.max(0, width - visibleWidth(text)));
  return align === "left" ? text + fill : fill + text;
}

/** Cuts `text` to at most `width` visible columns, ending with "…" when it was cut. */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return chars.slice(0, Math.max(0, width - 1)).join("") + "…";
}

/** ANSI colour codes by name; the terminal chart uses the same order as the SVG colours. */
export const ANSI = {
  bold: "1",
  dim: "2",
  italic: "3",
  red: "91",
  green: "92",
  yellow: "93",
  blue: "94",
  magenta: "95",
  cyan: "96",
} as const;

/** A style name from {@link ANSI}. */
export type StyleName = keyof typeof ANSI;

/** Applies styles to text when colour is on, and returns it unchanged otherwise. */
export type Paint = (text: string, ...styles: StyleName[]) => string;

/** Makes a {@link Paint} function; `enabled` is false when stdout is not a terminal. */
export function painter(enabled: boolean): Paint {
  return (text, ...styles) => {
    if (!enabled || styles.length === 0 || text === "") return text;
    const codes = styles.map((style) => ANSI[style]).join(";");
    return `\x1b[${codes}m${text}\x1b[0m`;
  };
}

/**
 * Wraps words to lines of at most `width` visible columns. The first line starts with
 * `firstIndent`, the others with `indent` (for list items and hanging labels). A word longer than
 * a line stays whole on its own line.
 */
export function wrap(text: string, width: number, indent = "", firstIndent = indent): string[] {
  const words = text.split(/\s+/).filter((word) => word !== "");
  const lines: string[] = [];
  let line = firstIndent;
  let lineHasWord = false;
  for (const word of words) {
    const candidate = lineHasWord ? `${line} ${word}` : line + word;
    if (lineHasWord && visibleWidth(candidate) > width) {
      lines.push(line);
      line = indent + word;
    } else {
      line = candidate;
    }
    lineHasWord = true;
  }
  if (lineHasWord || lines.length === 0) lines.push(line);
  return lines;
}
