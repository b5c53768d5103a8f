/**
 * The exercise tasks of the lessons (id, title, first hint), read in a child process: a
 * lesson's `tasks.ts` is lesson code, so the site's server never imports it. The child may only
 * read the repository and import nothing remote; it prints the lists as one JSON line.
 *
 * Run as a script: `deno run --allow-read=. site/task_list.ts lessons/01-regression/tasks.ts ...`.
 *
 * @module
 */
import { denoExecutable } from "../lessons/deno_executable.ts";
import { readTasks, type SiteTask } from "./lessons.ts";
import { fromFileUrl, repoRoot } from "./paths.ts";

/** The line prefix that marks the JSON result in the child's output. */
const RESULT_PREFIX = "SITE_TASK_LISTS ";

/**
 * The task list of each `tasks.ts` file, in order. Read in a child process when this process
 * may start one; in a process that may not (the capture child), the files are imported here.
 */
export async function readTaskLists(files: URL[]): Promise<SiteTask[][]> {
  if (files.length === 0) return [];
  const deno = denoExecutable();
  const mayRun = Deno.permissions.querySync({ name: "run", command: deno }).state === "granted";
  if (!mayRun) return await importTaskLists(files);
  const root = fromFileUrl(repoRoot);
  const output = await new Deno.Command(deno, {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--no-remote",
      `--allow-read=${root}`,
      fromFileUrl(new URL(import.meta.url)),
      ...files.map((file) => file.href),
    ],
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const line = new TextDecoder().decode(output.stdout).split("\n")
    .find((l) => l.startsWith(RESULT_PREFIX));
  if (!line) {
    throw new Error(
      `site: reading the exercise tasks failed (exit code ${output.code}):\n` +
        new TextDecoder().decode(output.stderr).trim(),
    );
  }
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as SiteTask[][];
}

async function importTaskLists(files: URL[]): Promise<SiteTask[][]> {
  const lists: SiteTask[][] = [];
  for (const file of files) lists.push(readTasks((await import(file.href)).default));
  return lists;
}

if (import.meta.main) {
  const lists = await importTaskLists(Deno.args.map((arg) => new URL(arg)));
  console.log(RESULT_PREFIX + JSON.stringify(lists));
}
