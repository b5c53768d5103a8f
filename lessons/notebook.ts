/**
 * Exports lessons as Jupyter notebooks for Deno's kernel: `deno task notebook 3` writes
 * `out/notebooks/03-cnn.ipynb` (`deno task notebook` writes every lesson's).
 *
 * A notebook has a Markdown cell with each step's title and prose, and a code cell with the
 * step's code exactly as in the lesson file, plus one line, `await show.flush();`, which lets
 * Deno's kernel send the cell's output before it reports the cell done. The first code cell holds
 * the lesson's imports (their paths made relative to the notebook) and its `lesson(...)` call.
 * The code cells one after the other form a script that `deno run` runs.
 *
 * To open one: `deno jupyter --install` once, then open the file in Jupyter (or VS Code) with
 * the Deno kernel. Set `GRADLAB_QUICK=1` in the kernel's environment for a short run.
 *
 * @module
 */
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { findLesson, type LessonEntry, lessons } from "./registry.ts";
import { parseLessonSource } from "./source.ts";

/** A notebook cell in the format of nbformat 4.5. */
export interface NotebookCell {
  id: string;
  cell_type: "markdown" | "code";
  metadata: Record<string, unknown>;
  source: string;
  execution_count?: null;
  outputs?: unknown[];
}

/** A notebook in the format of nbformat 4.5. */
export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: 4;
  nbformat_minor: 5;
}

/** The line that ends every code cell (see the module comment). */
export const FLUSH_LINE = "await show.flush();";

/**
 * Makes the notebook of a lesson file, with the relative imports of its code rewritten for a
 * notebook saved in `notebookDir`.
 */
export function lessonNotebook(text: string, lessonUrl: URL, notebookDir: string): Notebook {
  const source = parseLessonSource(text, fileURLToPath(lessonUrl));
  const lessonDir = dirname(fileURLToPath(lessonUrl));
  const code = (body: string) => rewriteImports(body, lessonDir, notebookDir);
  const cells: NotebookCell[] = [];
  const add = (type: "markdown" | "code", body: string) => {
    const cell: NotebookCell = {
      id: `cell-${cells.length}`,
      cell_type: type,
      metadata: {},
      source: body,
    };
    if (type === "code") Object.assign(cell, { execution_count: null, outputs: [] });
    cells.push(cell);
  };
  add(
    "markdown",
    `# Lesson ${source.number}: ${source.title}\n\n${source.description}\n\n` +
      "*Runs in Deno's Jupyter kernel (`deno jupyter --install` once). Set `GRADLAB_QUICK=1` " +
      "in the kernel's environment for a short run, `GRADLAB_DEVICE=cpu` or `webgpu` to choose " +
      "the device.*",
  );
  // A notebook cell has no import.meta: lesson({...}) alone does the same there.
  add("code", code(source.prelude).replace(/\blesson\(\s*import\.meta\s*,\s*/, "lesson("));
  for (const [index, step] of source.steps.entries()) {
    add("markdown", `## Step ${index + 1}: ${step.title}\n\n${step.prose}`.trimEnd());
    add("code", `${code(step.code)}\n${FLUSH_LINE}`.trimStart());
  }
  return {
    cells,
    metadata: {
      kernelspec: { name: "deno", display_name: "Deno", language: "typescript" },
      language_info: {
        name: "typescript",
        file_extension: ".ts",
        mimetype: "text/x.typescript",
        codemirror_mode: "typescript",
        pygments_lexer: "typescript",
      },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/** The code cells of a notebook, one after the other: a script that `deno run` runs. */
export function notebookScript(notebook: Notebook): string {
  return notebook.cells.filter((cell) => cell.cell_type === "code").map((cell) => cell.source)
    .join("\n\n") + "\n";
}

/** Rewrites `"./x"` and `"../x"` module specifiers from `fromDir` to `toDir`. */
export function rewriteImports(code: string, fromDir: string, toDir: string): string {
  return code.replace(
    /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"']*)\2/g,
    (_, before: string, quote: string, specifier: string) => {
      let path = relative(toDir, resolve(fromDir, specifier));
      if (!path.startsWith(".")) path = `./${path}`;
      return `${before}${quote}${path}${quote}`;
    },
  );
}

/** The notebook file of a lesson: `out/notebooks/NN-slug.ipynb` under `outDir`. */
export function notebookPath(entry: LessonEntry, outDir = "out"): string {
  return resolve(outDir, "notebooks", `${entry.folder}.ipynb`);
}

/** Writes the notebook of one lesson; returns its path. */
export async function writeNotebook(entry: LessonEntry, outDir = "out"): Promise<string> {
  const path = notebookPath(entry, outDir);
  const notebook = lessonNotebook(
    await Deno.readTextFile(entry.moduleUrl),
    entry.moduleUrl,
    dirname(path),
  );
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(notebook, null, 1) + "\n");
  return path;
}

async function main(args: string[]): Promise<number> {
  const numbers = args.filter((arg) => !arg.startsWith("-"));
  const outAt = args.indexOf("--out");
  const outDir = outAt >= 0 ? args[outAt + 1] : "out";
  const chosen = numbers.length === 0 ? lessons : numbers.map((n) => findLesson(Number(n)));
  for (const [i, entry] of chosen.entries()) {
    if (!entry) {
      console.error(`There is no lesson ${numbers[i]}.`);
      return 2;
    }
    const path = await writeNotebook(entry, outDir);
    console.log(`Lesson ${entry.number}: ${relative(Deno.cwd(), path)}`);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
