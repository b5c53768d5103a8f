/**
 * Markdown with math, for the prose of steps and for text outputs: `marked` parses the Markdown
 * and KaTeX renders `$inline$` and `$$display$$` math. Runs on the server and in the browser.
 *
 * @module
 */
import { Marked } from "marked";
import markedKatex from "marked-katex-extension";

const markdown = new Marked(
  markedKatex({ throwOnError: false, nonStandard: true }),
  { gfm: true, async: false },
);

/** Renders Markdown (with math) to HTML. */
export function renderMarkdown(text: string): string {
  return markdown.parse(text, { async: false }) as string;
}

/** Renders one line of Markdown (with math) to HTML, without a wrapping paragraph. */
export function renderInlineMarkdown(text: string): string {
  return markdown.parseInline(text, { async: false }) as string;
}
