/**
 * Syntax highlighting of TypeScript at build time with shiki (server only: pages ship the
 * highlighted HTML, no highlighter runs in the browser).
 *
 * @module
 */
import { createHighlighter, type Highlighter } from "shiki";

/** The theme of code blocks (a light theme with good contrast). */
export const CODE_THEME = "github-light";

let highlighter: Promise<Highlighter> | undefined;

/** Highlights code as HTML (`<pre class="shiki">...`). `lang` is "ts" unless given. */
export async function highlight(code: string, lang: "ts" | "sh" | "json" = "ts"): Promise<string> {
  highlighter ??= createHighlighter({ themes: [CODE_THEME], langs: ["ts", "sh", "json"] });
  return (await highlighter).codeToHtml(code, { lang, theme: CODE_THEME });
}
