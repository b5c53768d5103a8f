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

/**
 * Puts every `$$display$$` formula on lines of its own, the form the math extension reads as a
 * display block, however the lesson's prose wrapped it.
 */
function separateDisplayMath(text: string): string {
  return text.replace(/\$\$([\s\S]+?)\$\$/g, (_, tex: string) => `\n\n$$\n${tex.trim()}\n$$\n\n`);
}

/** Renders Markdown (with math) to HTML. */
export function renderMarkdown(text: string): string {
  return markdown.parse(separateDisplayMath(text), { async: false }) as string;
}

/** Renders one line of Markdown (with math) to HTML, without a wrapping paragraph. */
export function renderInlineMarkdown(text: string): string {
  return markdown.parseInline(text, { async: false }) as string;
}
