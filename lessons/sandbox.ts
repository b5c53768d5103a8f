/**
 * The sandbox of `deno task check`: the student's `exercises.ts` runs in a `deno` subprocess with
 * no permissions (no `--allow-*` flag, `--no-remote`), one task after another, each with a time
 * limit. The subprocess only runs each task's `run` and sends back what the student's code
 * produced, as JSON lines on its standard output; each task's `judge` runs here, in the checker's
 * process, where the student's module is never loaded. So a module that patches the checks, the
 * assert helpers or the framework changes nothing but its own answers.
 *
 * A task that does not finish in time is reported as "did not finish in N s": the subprocess is
 * killed (an endless loop cannot be interrupted from inside) and a fresh one checks the tasks that
 * are left.
 *
 * @module
 */

import { denoExecutable } from "./deno_executable.ts";
import {
  DEFAULT_SECONDS,
  judgePart,
  type RunOutcome,
  runPart,
  type Task,
  type TaskResult,
  timeoutResult,
} from "./tasks.ts";

/** Marks the subprocess's protocol lines on its standard output (the student may print too). */
const MARK = "\u001eGRADLAB ";

// Taken when this module is evaluated, before the student's module (it is imported first), so
// that the protocol keeps working if the student's code replaces console.log or Deno.stdout.
const writeSync = Deno.stdout.writeSync.bind(Deno.stdout);
const encode = TextEncoder.prototype.encode.bind(new TextEncoder());
const stringify = JSON.stringify;

function send(message: unknown): void {
  const bytes = encode(`\n${MARK}${stringify(message)}\n`);
  let written = 0;
  while (written < bytes.length) written += writeSync(bytes.subarray(written));
}

/** A task that did not finish: out of time, or waiting on a Promise that never settles. */
type Unfinished = "timeout" | "never";

/** One event of the protocol, from the subprocess to the checker. */
type Event =
  | { event: "ready" }
  | { event: "start"; id: string }
  | { event: "outcome"; id: string; outcome: RunOutcome }
  | { event: "end" };

/**
 * The subprocess's side: runs the `run` half of the tasks `ids` against the student's module and
 * sends each outcome. Called by the generated main module of the subprocess.
 */
export async function serve<M>(
  tasks: Task<M>[],
  impl: M,
  ids: string[],
  moduleUrl: string,
): Promise<void> {
  send({ event: "ready" } satisfies Event);
  for (const id of ids) {
    const task = tasks.find((candidate) => candidate.id === id);
    if (!task) continue;
    send({ event: "start", id } satisfies Event);
    const outcome = await runPart(task, impl, moduleUrl);
    send({ event: "outcome", id, outcome } satisfies Event);
  }
  send({ event: "end" } satisfies Event);
}

/** Options of {@link checkInSandbox}. */
export interface SandboxOptions {
  /** Time to load the modules before the first task starts, in seconds (default 30). */
  loadSeconds?: number;
  /** A time limit for every task, overriding the tasks' own (for tests). */
  seconds?: number;
  /** Called with each result as soon as it is known, in task order. */
  onResult?: (result: TaskResult) => void;
}

/** What came of checking a module in the sandbox. */
export type SandboxReport =
  | { loaded: true; results: TaskResult[] }
  | { loaded: false; message: string };

/** The main module of the subprocess: imports the sandbox first, then the tasks and the answer. */
function mainModule(tasksUrl: URL, exercisesUrl: URL, ids: string[]): string {
  const source = [
    `import { serve } from ${stringify(new URL("./sandbox.ts", import.meta.url).href)};`,
    `import tasks from ${stringify(tasksUrl.href)};`,
    `import * as impl from ${stringify(exercisesUrl.href)};`,
    `await serve(tasks, impl, ${stringify(ids)}, ${stringify(exercisesUrl.href)});`,
  ].join("\n");
  const base64 = btoa(String.fromCharCode(...new TextEncoder().encode(source)));
  return `data:application/typescript;base64,${base64}`;
}

/** Deno's error line from the subprocess's standard error, without colours or the stack. */
function errorLine(stderr: string): string {
  // deno-lint-ignore no-control-regex
  const plain = stderr.replace(/\u001b\[[0-9;]*m/g, "");
  const lines = plain.split("\n").map((line) => line.trim()).filter(Boolean);
  const error = lines.find((line) => /^error:/.test(line)) ?? lines[0] ?? "";
  const message = error.replace(/^error:\s*/, "").replace(/^Uncaught \(in promise\)\s*/, "")
    .replace(/^Uncaught\s*/, "");
  // A syntax error's place is on a later line ("at file:///.../exercises.ts:2:18"): keep it,
  // relative to the project ("lessons/01-regression/exercises.ts:2:18").
  if (!/^SyntaxError\b/.test(message)) return message;
  const at = lines.slice(lines.indexOf(error) + 1).find((line) => /^at \S+:\d+:\d+$/.test(line));
  if (!at) return message;
  const root = new URL("..", import.meta.url).href;
  const place = at.slice(3);
  return `${message} at ${place.startsWith(root) ? place.slice(root.length) : place}`;
}

/** One subprocess: runs `ids` until they are all done, one hangs, or it ends. */
async function runBatch<M>(
  tasks: Task<M>[],
  tasksUrl: URL,
  exercisesUrl: URL,
  ids: string[],
  options: SandboxOptions,
  outcome: (
    id: string,
    result: RunOutcome | Unfinished,
    seconds: number,
    printed: string[],
  ) => Promise<void>,
): Promise<{ ready: boolean; message?: string; finished: string[] }> {
  const child = new Deno.Command(denoExecutable(), {
    args: [
      "run",
      "--no-prompt",
      // Nothing fetched (no remote modules, no packages), and without the project's config: no
      // npm packages to install, only the modules imported.
      "--no-remote",
      "--cached-only",
      "--no-config",
      mainModule(tasksUrl, exercisesUrl, ids),
    ],
    cwd: new URL("..", import.meta.url),
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let stderr = "";
  const stderrDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      if (stderr.length < 20_000) stderr += chunk;
    }
  })();

  const finished: string[] = [];
  let ready = false;
  let current: { id: string; seconds: number } | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  let printed: string[] = [];
  const arm = (seconds: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      try {
        child.kill("SIGKILL");
      } catch {
        // already ended
      }
    }, seconds * 1000);
  };
  const loadSeconds = options.loadSeconds ?? 30;
  arm(loadSeconds);

  let buffer = "";
  try {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (!line.startsWith(MARK)) {
          // The student's own output during a task: kept to show under the task's line.
          if (current && line.trim() !== "") printed.push(line);
          continue;
        }
        let event: Event;
        try {
          event = JSON.parse(line.slice(MARK.length));
        } catch {
          continue;
        }
        if (event.event === "ready") {
          ready = true;
        } else if (event.event === "start" && ids.includes(event.id)) {
          const task = tasks.find((candidate) => candidate.id === event.id)!;
          current = { id: event.id, seconds: options.seconds ?? task.seconds ?? DEFAULT_SECONDS };
          arm(current.seconds);
          printed = [];
        } else if (event.event === "outcome" && current && event.id === current.id) {
          clearTimeout(timer);
          finished.push(current.id);
          await outcome(current.id, event.outcome, current.seconds, printed);
          current = undefined;
        } else if (event.event === "end") {
          clearTimeout(timer);
        }
      }
    }
  } finally {
    clearTimeout(timer);
  }
  const status = await child.status;
  await stderrDone;

  if (!ready) {
    const message = timedOut
      ? `did not finish loading in ${loadSeconds} s (an endless loop at the top level?)`
      : errorLine(stderr) || `the check ended with exit code ${status.code} before starting`;
    return { ready, message, finished };
  }
  if (current) {
    finished.push(current.id);
    if (timedOut) {
      await outcome(current.id, "timeout", current.seconds, printed);
    } else {
      const line = errorLine(stderr);
      if (/promise never resolved/i.test(line)) {
        // Deno ends a process whose only work left is a Promise that nothing will settle.
        await outcome(current.id, "never", current.seconds, printed);
        return { ready, finished };
      }
      const message = line ||
        `the check ended with exit code ${status.code} during the task (a call of Deno.exit?)`;
      await outcome(current.id, { error: { name: "", message } }, current.seconds, printed);
    }
  }
  return { ready, finished };
}

/**
 * Checks `exercisesUrl` against the tasks of `tasksUrl` in a sandbox: a subprocess without
 * permissions runs each task's `run`, this process judges. Never throws for a student's mistake;
 * a module that does not load is reported as `loaded: false` with Deno's one-line message.
 */
export async function checkInSandbox<M>(
  tasks: Task<M>[],
  tasksUrl: URL,
  exercisesUrl: URL,
  options: SandboxOptions = {},
): Promise<SandboxReport> {
  const results = new Map<string, TaskResult>();
  let left = tasks.map((task) => task.id);
  const record = async (
    id: string,
    outcome: RunOutcome | Unfinished,
    seconds: number,
    printed: string[] = [],
  ) => {
    const task = tasks.find((candidate) => candidate.id === id)!;
    const result = outcome === "timeout" || outcome === "never"
      ? timeoutResult(task, seconds, outcome)
      : await judgePart(task, outcome);
    if (printed.length > 0) result.printed = printed;
    results.set(id, result);
    options.onResult?.(result);
  };
  while (left.length > 0) {
    const batch = await runBatch(tasks, tasksUrl, exercisesUrl, left, options, record);
    if (!batch.ready) {
      if (results.size === 0) return { loaded: false, message: batch.message ?? "" };
      // It loaded before: a load failing now is the same failure for every task left.
      for (const id of left) {
        await record(id, { error: { name: "", message: batch.message ?? "" } }, 0);
      }
      break;
    }
    const progressed = batch.finished.length > 0;
    left = left.filter((id) => !results.has(id));
    if (!progressed) {
      // Ended without starting a task: report the rest as not checked rather than loop.
      for (const id of left) {
        await record(
          id,
          { error: { name: "", message: "not checked: the sandbox ended before this task" } },
          0,
        );
      }
      break;
    }
  }
  return { loaded: true, results: tasks.map((task) => results.get(task.id)!) };
}
