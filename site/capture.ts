/**
 * Captures a lesson's real outputs for its page: runs the lesson in quick mode on the CPU, in a
 * separate Deno process that may only read the repository, and folds its events into the final
 * output of each step. Results are cached under `out/site-cache/outputs/`, keyed by a hash of
 * everything that can change them, so rebuilding the site is fast.
 *
 * Run as a script, it captures one lesson and prints the result as JSON:
 * `deno run --allow-read=. site/capture.ts --source registry --slug regression`.
 *
 * @module
 */
import { foldEvents, type OutputEvent, runLesson, type StepOutput } from "../lessons/format.ts";
import { type LessonListSource, loadLessonList, type SiteLesson } from "./lessons.ts";
import { cacheDir, fromFileUrl, lessonDataDir, repoRoot, repoUrl } from "./paths.ts";
import { denoExecutable } from "../lessons/deno_executable.ts";

/** Bump when the format of a capture changes, to drop old caches. */
const CAPTURE_VERSION = 2;
/** The seed of captured runs: the terminal runner's default, so the site matches the terminal. */
export const CAPTURE_SEED = 0;
/** The line prefix that marks the JSON result in the capture process's output. */
const RESULT_PREFIX = "SITE_CAPTURE_RESULT ";

/** The captured outputs of one lesson run. */
export interface Capture {
  slug: string;
  /** The cache key the capture was made under. */
  key: string;
  quick: boolean;
  seed: number;
  device: "cpu";
  /** Each step's final output, in order. */
  steps: StepOutput[];
  /** How long the run took, in milliseconds. */
  ms: number;
  /** The error message and stack when the run failed (outputs up to the failure are kept). */
  error?: string;
  /** When the capture was made (ISO date). */
  capturedAt: string;
}

/** Options of {@link captureLesson}. */
export interface CaptureOptions {
  /** Which lesson list the lesson comes from (the capture process loads it again). */
  source: LessonListSource;
  /** Ignore the cache and run again. */
  refresh?: boolean;
  /** Longest time a run may take before it is stopped, in milliseconds (default 10 minutes). */
  timeoutMs?: number;
  /** Called with a line of progress (for the build's log). */
  log?: (line: string) => void;
}

/**
 * Returns the lesson's captured outputs, from the cache when nothing that could change them has
 * changed, else by running the lesson in a child process.
 */
export async function captureLesson(lesson: SiteLesson, options: CaptureOptions): Promise<Capture> {
  const key = await captureKey(lesson);
  const cacheFile = new URL(`outputs/${lesson.slug}.json`, cacheDir);
  if (!options.refresh) {
    const cached = await readCached(cacheFile, key);
    if (cached) return cached;
  }
  options.log?.(`capturing lesson ${lesson.number} (${lesson.slug}) in quick mode...`);
  const started = performance.now();
  const capture = await runCaptureProcess(lesson, key, options);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  options.log?.(
    capture.error
      ? `lesson ${lesson.number} failed after ${seconds} s: ${capture.error.split("\n")[0]}`
      : `captured lesson ${lesson.number} in ${seconds} s`,
  );
  if (!capture.error) {
    await Deno.mkdir(new URL("outputs/", cacheDir), { recursive: true });
    await Deno.writeTextFile(cacheFile, JSON.stringify(capture));
  }
  return capture;
}

/** Reads a cached capture when its key matches. */
export async function readCached(file: URL, key?: string): Promise<Capture | undefined> {
  try {
    const capture = JSON.parse(await Deno.readTextFile(file)) as Capture;
    return key === undefined || capture.key === key ? capture : undefined;
  } catch {
    return undefined;
  }
}

/** The cache file of a lesson's capture. */
export function cacheFileOf(slug: string): URL {
  return new URL(`outputs/${slug}.json`, cacheDir);
}

/**
 * A hash of everything a lesson's output depends on: the lesson's folder, the lesson format,
 * the public API and the core library.
 */
export async function captureKey(lesson: SiteLesson): Promise<string> {
  const moduleUrl = repoUrl(lesson.modulePath);
  const inputs = [
    new URL("./", moduleUrl),
    repoUrl("lessons/format.ts"),
    repoUrl("mod.ts"),
    repoUrl("core/"),
  ];
  const parts: string[] = [`v${CAPTURE_VERSION}`, `seed ${CAPTURE_SEED}`, lesson.slug];
  for (const input of inputs) {
    for (const file of await listFiles(input)) {
      const bytes = await Deno.readFile(file);
      parts.push(`${file.href} ${await sha256(bytes)}`);
    }
  }
  return await sha256(new TextEncoder().encode(parts.join("\n")));
}

/** Every file under a folder (sorted), or the file itself; nothing when it does not exist. */
async function listFiles(url: URL): Promise<URL[]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(url);
  } catch {
    return [];
  }
  if (info.isFile) return [url];
  const files: URL[] = [];
  const names: string[] = [];
  for await (const entry of Deno.readDir(url)) names.push(entry.name);
  names.sort();
  for (const name of names) {
    const child = new URL(name, url);
    const childInfo = await Deno.stat(child);
    files.push(...(childInfo.isDirectory ? await listFiles(new URL(`${name}/`, url)) : [child]));
  }
  return files;
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Runs `site/capture.ts` for one lesson in a child process that may only read the repository. */
async function runCaptureProcess(
  lesson: SiteLesson,
  key: string,
  options: CaptureOptions,
): Promise<Capture> {
  const root = fromFileUrl(repoRoot);
  const command = new Deno.Command(denoExecutable(), {
    args: [
      "run",
      "--quiet",
      // Read-only, and nothing remote: the lesson module runs only here, never in the server.
      "--no-prompt",
      "--no-remote",
      `--allow-read=${root}`,
      fromFileUrl(new URL("capture.ts", import.meta.url)),
      "--source",
      options.source,
      "--slug",
      lesson.slug,
      "--key",
      key,
    ],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  });
  const child = command.spawn();
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const { stdout, stderr, code } = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder().decode(stdout);
  const line = text.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
  if (line) return JSON.parse(line.slice(RESULT_PREFIX.length)) as Capture;
  const errorText = new TextDecoder().decode(stderr).trim();
  return {
    slug: lesson.slug,
    key,
    quick: true,
    seed: CAPTURE_SEED,
    device: "cpu",
    steps: [],
    ms: 0,
    error: `the capture process exited with code ${code}` +
      (code === 137 || code === 143 ? ` (stopped after ${timeoutMs / 1000} s)` : "") +
      (errorText ? `:\n${errorText}` : ""),
    capturedAt: new Date().toISOString(),
  };
}

/** Runs a lesson here, in this process, and returns its capture. */
export async function captureInProcess(lesson: SiteLesson, key: string): Promise<Capture> {
  const events: OutputEvent[] = [];
  const started = performance.now();
  let error: string | undefined;
  try {
    await runLesson(repoUrl(lesson.modulePath), {
      quick: true,
      device: "cpu",
      seed: CAPTURE_SEED,
      dataUrl: (name: string) => new URL(name, lessonDataDir),
    }, (event) => events.push(event));
  } catch (caught) {
    error = caught instanceof Error ? (caught.stack ?? caught.message) : String(caught);
  }
  return {
    slug: lesson.slug,
    key,
    quick: true,
    seed: CAPTURE_SEED,
    device: "cpu",
    steps: foldEvents(events),
    ms: Math.round(performance.now() - started),
    error,
    capturedAt: new Date().toISOString(),
  };
}

if (import.meta.main) {
  const args = Deno.args;
  const option = (name: string) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const source = (option("source") ?? "registry") as LessonListSource;
  const slug = option("slug");
  const { lessons } = await loadLessonList(source);
  const lesson = lessons.find((l) => l.slug === slug);
  if (!lesson) {
    console.error(`capture: no lesson "${slug}"; known: ${lessons.map((l) => l.slug).join(", ")}`);
    Deno.exit(2);
  }
  const capture = await captureInProcess(lesson, option("key") ?? "");
  console.log(RESULT_PREFIX + JSON.stringify(capture));
  // Lessons may leave timers or GPU handles open; the result is out, so stop here.
  Deno.exit(0);
}
