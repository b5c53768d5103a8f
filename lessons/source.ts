/**
 * Reads a lesson file as text and cuts it into what the site, the notebook export, the terminal's
 * `--code` and the lesson list show: the lesson's number, title and description, the code before
 * the first step (imports and the `lesson(...)` call), and for each step its title, its prose and
 * its code exactly as written between its marker and the next.
 *
 * A step marker is a call `step("Title", md\`prose\`)` at the start of a line, outside any string,
 * comment or bracket (see `format.ts`). Its title and prose are literals, so they are read here
 * without running the lesson.
 *
 * @module
 */
import { md } from "./format.ts";

/** One step of a lesson file. */
export interface StepSource {
  title: string;
  /** Markdown with `$...$` math. */
  prose: string;
  /** The code between this step's marker and the next, as written (blank lines around removed). */
  code: string;
  /** The line of the marker, counting from 1. */
  line: number;
}

/** What a lesson file says, read without running it. */
export interface LessonSource {
  number: number;
  title: string;
  description: string;
  /** The file's opening comment (`/** ... *\/`), if any. */
  header: string;
  /** The code before the first step: imports and the `lesson(import.meta, {...})` call. */
  prelude: string;
  steps: StepSource[];
}

/**
 * Cuts the text of a lesson file into its parts. Throws an Error naming the file and line when
 * the file has no `lesson(import.meta, {...})` call or a marker whose title or prose is not a
 * literal.
 */
export function parseLessonSource(text: string, fileName = "lesson.ts"): LessonSource {
  const markers = findMarkers(text);
  const firstMarker = markers.length ? markers[0].start : text.length;
  let before = text.slice(0, firstMarker);
  let header = "";
  const opening = before.match(/^\s*\/\*\*[\s\S]*?\*\/\s*/);
  if (opening) {
    header = opening[0].trim();
    before = before.slice(opening[0].length);
  }
  const info = readLessonInfo(before, fileName);
  const steps = markers.map((marker, i): StepSource => {
    const next = i + 1 < markers.length ? markers[i + 1].start : text.length;
    const args = evaluateLiterals(text.slice(marker.argsStart, marker.argsEnd), fileName, marker);
    const [title, prose = ""] = args;
    if (typeof title !== "string" || typeof prose !== "string") {
      throw new Error(
        `${fileName}:${marker.line}: step(title, prose) takes a string and an md\`...\` text`,
      );
    }
    return { title, prose, code: trimBlankLines(text.slice(marker.end, next)), line: marker.line };
  });
  return { ...info, header, prelude: trimBlankLines(before), steps };
}

/** Removes blank lines at the start and the end, and trailing spaces. */
function trimBlankLines(code: string): string {
  return code.replace(/^\s*\n/, "").replace(/\s+$/, "");
}

interface Marker {
  /** Offset of the `s` of `step(`. */
  start: number;
  /** Offsets of the text inside the parentheses. */
  argsStart: number;
  argsEnd: number;
  /** Offset just after the marker's line (after `)`, an optional `;` and the newline). */
  end: number;
  line: number;
}

/** Evaluates the literal arguments of a marker: strings and `md` templates, nothing else. */
function evaluateLiterals(args: string, fileName: string, marker: Marker): unknown[] {
  // Only literals may appear here: a name or a call is refused before anything is evaluated.
  const withoutStrings = args.replace(
    /md`(?:\\[\s\S]|[^`\\])*`|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'/g,
    "",
  );
  if (/[^\s,+]/.test(withoutStrings) || /\$\{/.test(args.replace(/\\\$\{/g, ""))) {
    throw new Error(
      `${fileName}:${marker.line}: the title and prose of a step must be literals ` +
        "(a string and an md`...` text without ${...})",
    );
  }
  return new Function("md", `"use strict"; return [${args}];`)(md) as unknown[];
}

/** Reads `number`, `title` and `description` from the `lesson(import.meta, {...})` call. */
function readLessonInfo(
  prelude: string,
  fileName: string,
): { number: number; title: string; description: string } {
  const call = prelude.search(/\blesson\(\s*import\.meta\s*,/);
  if (call < 0) throw new Error(`${fileName}: no lesson(import.meta, {...}) call before the steps`);
  const open = prelude.indexOf("{", call);
  const close = open < 0 ? -1 : matchingBracket(prelude, open);
  if (close < 0) throw new Error(`${fileName}: the lesson(import.meta, {...}) call is not closed`);
  const objectText = prelude.slice(open, close + 1);
  let value: { number?: unknown; title?: unknown; description?: unknown };
  try {
    value = new Function(`"use strict"; return (${objectText});`)();
  } catch (error) {
    throw new Error(
      `${fileName}: the object of lesson(import.meta, {...}) must hold literals only (${error})`,
    );
  }
  if (typeof value.number !== "number" || typeof value.title !== "string") {
    throw new Error(`${fileName}: lesson(import.meta, {...}) needs a number and a title`);
  }
  return {
    number: value.number,
    title: value.title,
    description: typeof value.description === "string" ? value.description : "",
  };
}

/**
 * Finds every step marker: `step(` at the start of a line, in code (not in a string, a template
 * or a comment) and outside any bracket.
 */
function findMarkers(text: string): Marker[] {
  const markers: Marker[] = [];
  const scanner = new Scanner(text);
  while (scanner.position < text.length) {
    const at = scanner.position;
    const atLineStart = at === 0 || text[at - 1] === "\n";
    if (atLineStart && scanner.depth === 0 && text.startsWith("step(", at)) {
      const open = at + 4;
      const close = matchingBracket(text, open);
      if (close < 0) break;
      let end = close + 1;
      if (text[end] === ";") end++;
      while (end < text.length && (text[end] === " " || text[end] === "\t")) end++;
      if (text[end] === "\n") end++;
      markers.push({
        start: at,
        argsStart: open + 1,
        argsEnd: close,
        end,
        line: text.slice(0, at).split("\n").length,
      });
      scanner.position = end;
      continue;
    }
    scanner.next();
  }
  return markers;
}

/** The offset of the bracket that closes the one at `open`, or -1. */
function matchingBracket(text: string, open: number): number {
  const scanner = new Scanner(text);
  scanner.position = open;
  const depth = scanner.depth;
  scanner.next(); // the opening bracket itself
  while (scanner.position < text.length) {
    if (scanner.depth === depth + 1 && ")]}".includes(text[scanner.position])) {
      return scanner.position;
    }
    scanner.next();
  }
  return -1;
}

/**
 * Walks TypeScript text one piece at a time: a whole string, template, comment or regular
 * expression at once, else one character, keeping the depth of open brackets.
 */
class Scanner {
  position = 0;
  depth = 0;
  #text: string;
  /** The last character of code that is not a space, to tell a division from a regex. */
  #previous = "";

  constructor(text: string) {
    this.#text = text;
  }

  next(): void {
    const text = this.#text;
    const c = text[this.position];
    const c2 = text[this.position + 1];
    if (c === "/" && c2 === "/") {
      const end = text.indexOf("\n", this.position);
      this.position = end < 0 ? text.length : end;
    } else if (c === "/" && c2 === "*") {
      const end = text.indexOf("*/", this.position + 2);
      this.position = end < 0 ? text.length : end + 2;
    } else if (c === '"' || c === "'") {
      this.position = this.#skipQuoted(this.position, c);
      this.#previous = c;
    } else if (c === "`") {
      this.position = this.#skipTemplate(this.position);
      this.#previous = c;
    } else if (
      c === "/" && (this.#previous === "" || "(,=:[!&|?{};+-*%<>~^".includes(this.#previous))
    ) {
      this.position = this.#skipRegex(this.position);
      this.#previous = "/";
    } else {
      if ("([{".includes(c)) this.depth++;
      else if (")]}".includes(c)) this.depth = Math.max(0, this.depth - 1);
      if (c.trim()) this.#previous = c;
      this.position++;
    }
  }

  #skipQuoted(start: number, quote: string): number {
    const text = this.#text;
    let i = start + 1;
    while (i < text.length && text[i] !== quote && text[i] !== "\n") i += text[i] === "\\" ? 2 : 1;
    return i + 1;
  }

  #skipTemplate(start: number): number {
    const text = this.#text;
    let i = start + 1;
    while (i < text.length) {
      if (text[i] === "\\") i += 2;
      else if (text[i] === "`") return i + 1;
      else if (text[i] === "$" && text[i + 1] === "{") {
        // An expression inside the template: scan it as code up to its closing brace.
        const inner = new Scanner(text);
        inner.position = i + 1;
        inner.next();
        while (inner.position < text.length && !(inner.depth === 0)) inner.next();
        i = inner.position;
      } else i++;
    }
    return text.length;
  }

  #skipRegex(start: number): number {
    const text = this.#text;
    let i = start + 1;
    let inClass = false;
    while (i < text.length && text[i] !== "\n") {
      if (text[i] === "\\") i += 2;
      else if (text[i] === "[") (inClass = true), i++;
      else if (text[i] === "]") (inClass = false), i++;
      else if (text[i] === "/" && !inClass) return i + 1;
      else i++;
    }
    return i;
  }
}
