/**
 * What the home page takes from the README: the project's name, its opening paragraph and the
 * quick-start commands, so the two never disagree.
 *
 * @module
 */
import { repoUrl } from "./paths.ts";

/** The parts of the README the home page shows. */
export interface ReadmeInfo {
  title: string;
  /** The first paragraph after the title (Markdown). */
  intro: string;
  /** The commands of the first code block under a "Quick start" heading. */
  quickStart: string[];
}

/** Used while the README is missing or lacks a part. */
export const README_DEFAULTS: ReadmeInfo = {
  title: "Deep learning in TypeScript",
  intro: "A small, readable tensor and autograd library that runs on the CPU and on WebGPU, and " +
    "step-by-step lessons that you run in the terminal, read here with their real outputs, and " +
    "run again live in your browser.",
  quickStart: ["deno task lesson 1", "deno task check 1"],
};

/** Reads `README.md` of the repository (defaults where it is missing). */
export async function readReadme(): Promise<ReadmeInfo> {
  let text: string;
  try {
    text = await Deno.readTextFile(repoUrl("README.md"));
  } catch {
    return README_DEFAULTS;
  }
  return parseReadme(text);
}

/** Picks the title, first paragraph and quick-start commands out of README Markdown. */
export function parseReadme(text: string): ReadmeInfo {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const titleLine = lines.findIndex((line) => /^#\s+/.test(line));
  const title = titleLine >= 0 ? lines[titleLine].replace(/^#\s+/, "").trim() : "";
  const paragraph: string[] = [];
  for (let i = titleLine + 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") {
      if (paragraph.length > 0) break;
      continue;
    }
    if (/^(#|```|\||!\[|<)/.test(line.trim())) {
      if (paragraph.length > 0) break;
      continue;
    }
    paragraph.push(line.trim());
  }
  return {
    title: title || README_DEFAULTS.title,
    intro: paragraph.join(" ") || README_DEFAULTS.intro,
    quickStart: quickStartCommands(lines) ?? README_DEFAULTS.quickStart,
  };
}

function quickStartCommands(lines: string[]): string[] | undefined {
  const heading = lines.findIndex((line) => /^#+\s.*quick\s*-?\s*start/i.test(line));
  if (heading < 0) return undefined;
  const open = lines.findIndex((line, i) => i > heading && line.trim().startsWith("```"));
  if (open < 0) return undefined;
  const commands: string[] = [];
  for (let i = open + 1; i < lines.length && !lines[i].trim().startsWith("```"); i++) {
    const line = lines[i].trim().replace(/^\$\s+/, "");
    if (line && !line.startsWith("#")) commands.push(line);
  }
  return commands.length > 0 ? commands : undefined;
}
