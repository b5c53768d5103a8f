/**
 * The terminal runner: `deno task lesson 3` runs lesson 3 step by step and draws what it shows.
 *
 * ```
 * deno task lesson                 # lists the lessons
 * deno task lesson 3               # runs lesson 3
 * deno task lesson 3 --quick       # small data, few epochs (under a minute)
 * deno task lesson 3 --code        # also print each step's code, dimmed, under its prose
 * deno task lesson 3 --device webgpu --seed 1 --data /usr/share/datasets/fashion-mnist
 * ```
 *
 * Plots are drawn in the terminal and written as SVG under `out/lesson-NN/`, image grids as PNG;
 * the run ends with what the lesson showed and the time it took. The task runs with Deno's
 * permissions narrowed to reading the repository and writing `out/`: no network, and of the
 * environment only XDG_RUNTIME_DIR (see {@link withRuntimeDir}).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { suggestKey } from "../core/options.ts";
import { relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { runLesson, type RunSettings } from "./format.ts";
import { findLesson, lessons, twoDigits } from "./registry.ts";
import { type LessonSource, parseLessonSource } from "./source.ts";
import { formatDuration } from "./render/format.ts";
import { serverDocument } from "./render/server_dom.ts";
import { TerminalRenderer } from "./terminal/renderer.ts";
import type { TextStream } from "./terminal/progress.ts";
import { painter, wrap } from "./terminal/style.ts";
import { isTodo } from "./todo.ts";
import { pickDevice } from "../mod.ts";

/** Which device a run asks for on the command line. */
export type DeviceChoice = "cpu" | "webgpu" | "auto";

/** The options of a run, from the command line. */
export interface RunOptions {
  /** The lesson's number; undefined lists the lessons. */
  lesson?: number;
  /** Small data and few epochs. */
  quick: boolean;
  /** The device asked for. */
  device: DeviceChoice;
  /** The seed given to `manualSeed` before the first step. */
  seed: number;
  /** A folder with the full Fashion-MNIST IDX files. */
  data?: string;
  /** For tests and lesson authors: run this lesson module instead of one from the registry. */
  lessonFile?: string;
  /** Where plots and images go (default "out"). */
  out: string;
  /** Print each step's code under its prose. */
  code: boolean;
  /** Print the usage and stop. */
  help: boolean;
}

const USAGE = `Usage: deno task lesson N [options]
  N                  the lesson to run (without it: the list of lessons)
  --quick            small data and few epochs (each lesson in under a minute)
  --device D         cpu, webgpu or auto (default auto: WebGPU when there is a GPU)
  --seed N           seed of every random choice (default 0)
  --code             also print each step's code (dimmed) under its prose
  --data DIR         folder with the full Fashion-MNIST (*-idx?-ubyte.gz files), e.g.
                     /usr/share/datasets/fashion-mnist; default: the subset in lessons/data/`;

/** Parses the command line; throws an Error with a readable message on bad input. */
export function parseRunArgs(args: string[]): RunOptions {
  const options = {
    quick: { type: "boolean", default: false },
    device: { type: "string", default: "auto" },
    seed: { type: "string", default: "0" },
    data: { type: "string" },
    "lesson-file": { type: "string" },
    out: { type: "string", default: "out" },
    code: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  } as const;
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options });
  } catch (error) {
    // node:util's message for a typo ("Unknown option '--quik'. To specify a positional
    // argument starting with a '-', ...") says nothing of the option meant.
    const unknown = (error as Error).message.match(/^Unknown option '(-{1,2})([^']*)'/);
    if (!unknown) throw error;
    const names = Object.keys(options);
    const meant = suggestKey(unknown[2], names);
    throw new Error(
      `unknown option ${unknown[1]}${unknown[2]}` + (meant ? `; did you mean --${meant}?` : "") +
        ` (options: ${names.map((name) => `--${name}`).join(", ")}; --help says what they do)`,
    );
  }
  const { values, positionals } = parsed;
  const device = values.device as DeviceChoice;
  if (!["cpu", "webgpu", "auto"].includes(device)) {
    throw new Error(`--device must be cpu, webgpu or auto, not "${values.device}"`);
  }
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`--seed must be a whole number, not "${values.seed}"`);
  }
  if (positionals.length > 1) throw new Error(`one lesson at a time, not ${positionals.join(" ")}`);
  let lesson: number | undefined;
  if (positionals.length === 1) {
    lesson = Number(positionals[0]);
    if (!Number.isInteger(lesson)) throw new Error(`"${positionals[0]}" is not a lesson number`);
  }
  return {
    lesson,
    quick: values.quick,
    device,
    seed,
    data: values.data,
    lessonFile: values["lesson-file"],
    out: values.out,
    code: values.code,
    help: values.help,
  };
}

/**
 * Picks the device of a run: WebGPU when asked for or when an adapter exists, else the CPU. With
 * `outFolder`, the WebGPU probe goes through {@link withRuntimeDir}.
 */
export async function chooseDevice(
  choice: DeviceChoice,
  outFolder?: string,
): Promise<{ device: "cpu" | "webgpu"; note: string }> {
  if (choice === "cpu") return { device: "cpu", note: "cpu" };
  const probe = () => pickDevice(choice);
  const { device, reason } = await (outFolder ? withRuntimeDir(outFolder, probe) : probe());
  return { device, note: `${device} (${reason})` };
}

/**
 * Runs `probe` with XDG_RUNTIME_DIR set to a new empty folder under `outFolder` (readable by this
 * user only) when the variable is unset, as on a server, in a container or a CI job: the graphics
 * drivers look there for a display while WebGPU finds its adapter, and without it they print
 * "error: XDG_RUNTIME_DIR is invalid or not set in the environment." although nothing is wrong.
 * The folder is removed and the variable unset again afterwards. Without the permission to read
 * and set the variable, or to write `outFolder`, the probe runs as it is.
 */
export async function withRuntimeDir<T>(outFolder: string, probe: () => Promise<T>): Promise<T> {
  const allowed = Deno.permissions.querySync({ name: "env", variable: "XDG_RUNTIME_DIR" });
  if (allowed.state !== "granted" || Deno.env.get("XDG_RUNTIME_DIR") !== undefined) {
    return await probe();
  }
  let folder: string;
  try {
    await Deno.mkdir(outFolder, { recursive: true });
    folder = await Deno.makeTempDir({ dir: resolve(outFolder), prefix: ".runtime-" });
  } catch {
    return await probe();
  }
  Deno.env.set("XDG_RUNTIME_DIR", folder);
  try {
    return await probe();
  } finally {
    Deno.env.delete("XDG_RUNTIME_DIR");
    await Deno.remove(folder, { recursive: true }).catch(() => {});
  }
}

/**
 * Where data files are found: `name` in the `--data` folder when it is there (also by its last
 * path part, so "fashion-mnist/train-images-idx3-ubyte.gz" finds the file at the folder's top),
 * else in the shipped `lessons/data/`.
 */
export function dataResolver(dataDir: string | undefined, shipped: URL): (name: string) => URL {
  const folder = dataDir ? pathToFileURL(resolve(dataDir) + "/") : undefined;
  return (name) => {
    if (folder) {
      for (const candidate of [name, name.split("/").pop()!]) {
        const url = new URL(candidate, folder);
        try {
          if (Deno.statSync(url).isFile) return url;
        } catch {
          // not there: try the next place
        }
      }
    }
    return new URL(name, shipped);
  };
}

/** Standard output as a {@link TextStream}, written synchronously so that bars show mid-loop. */
export function stdoutStream(): TextStream {
  const encoder = new TextEncoder();
  const isTTY = Deno.stdout.isTerminal();
  let columns = 100;
  if (isTTY) {
    try {
      columns = Deno.consoleSize().columns;
    } catch {
      // keep 100
    }
  }
  return {
    isTTY,
    columns,
    write(text: string) {
      const bytes = encoder.encode(text);
      let written = 0;
      try {
        while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
      } catch (error) {
        // The reader went away (`deno task lesson 1 | head`): stop quietly, as other tools do.
        if (error instanceof Deno.errors.BrokenPipe) Deno.exit(0);
        throw error;
      }
    },
  };
}

/** A path relative to the working directory when inside it, for printing. */
function shortPath(path: string): string {
  const inside = relative(Deno.cwd(), path);
  return inside.startsWith("..") ? path : inside;
}

/** Checks that the `--data` folder can be read, asking for permission on a terminal. */
function checkDataFolder(dir: string, args: string[]): string | undefined {
  const descriptor = { name: "read", path: dir } as const;
  let state = Deno.permissions.querySync(descriptor).state;
  if (state === "prompt" && Deno.stdin.isTerminal()) {
    state = Deno.permissions.requestSync(descriptor).state;
  }
  if (state !== "granted") {
    return `This run may only read the repository, not ${dir}. Allow it with:\n` +
      `  deno run --no-prompt --allow-read=.,${dir} --allow-write=out lessons/run.ts ${
        args.join(" ")
      }`;
  }
  try {
    if (!Deno.statSync(dir).isDirectory) return `--data ${dir} is not a folder`;
  } catch {
    return `--data ${dir}: no such folder`;
  }
  // A folder without the data is an error, not a quiet fallback to the shipped subset.
  const missing = FASHION_MNIST_FILES.filter((name) =>
    ![name, name.replace(/\.gz$/, "")].some((file) => {
      try {
        return Deno.statSync(resolve(dir, file)).isFile;
      } catch {
        return false;
      }
    })
  );
  if (missing.length > 0) {
    return `--data ${dir} does not hold the Fashion-MNIST files (missing: ${
      missing.join(", ")
    }); ` +
      `give the folder of the four *-idx?-ubyte.gz files (Debian's dataset-fashion-mnist puts ` +
      `them in /usr/share/datasets/fashion-mnist), or leave out --data for the shipped subset`;
  }
  return undefined;
}

/** The four files a `--data` folder must hold (gzipped or not). */
const FASHION_MNIST_FILES = [
  "train-images-idx3-ubyte.gz",
  "train-labels-idx1-ubyte.gz",
  "t10k-images-idx3-ubyte.gz",
  "t10k-labels-idx1-ubyte.gz",
];

/** The list printed by `deno task lesson` alone. */
function listLessons(write: (text: string) => void): void {
  if (lessons.length === 0) {
    write("There are no lessons yet.\n");
    return;
  }
  write("Lessons:\n");
  for (const entry of lessons) write(`  ${String(entry.number).padStart(2)}  ${entry.title}\n`);
  write(`\nRun one with: deno task lesson N  (add --quick for a short run; --help for options)\n`);
}

/** The lesson to run, from the registry or from `--lesson-file`, read but not yet run. */
async function findLessonFile(
  options: RunOptions,
): Promise<{ url: URL; source: LessonSource } | string> {
  let url: URL;
  if (options.lessonFile) {
    url = pathToFileURL(resolve(options.lessonFile));
  } else {
    const entry = findLesson(options.lesson!);
    if (!entry) return `There is no lesson ${options.lesson}.`;
    url = entry.moduleUrl;
  }
  try {
    return {
      url,
      source: parseLessonSource(await Deno.readTextFile(url), shortPath(url.pathname)),
    };
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Runs the command line; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  const stream = stdoutStream();
  const write = (text: string) => stream.write(text);
  let options: RunOptions;
  try {
    options = parseRunArgs(args);
  } catch (error) {
    write(`${error instanceof Error ? error.message : error}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    write(USAGE + "\n");
    return 0;
  }
  if (options.lesson === undefined && !options.lessonFile) {
    listLessons(write);
    return 0;
  }
  if (options.data) {
    const problem = checkDataFolder(options.data, args);
    if (problem) {
      write(problem + "\n");
      return 2;
    }
  }
  const found = await findLessonFile(options);
  if (typeof found === "string") {
    write(found + "\n");
    if (!options.lessonFile) listLessons(write);
    return 2;
  }
  const { url, source } = found;

  const { device, note } = await chooseDevice(options.device, options.out);
  const outDir = resolve(options.out, `lesson-${twoDigits(source.number)}`);
  const settings: RunSettings = {
    quick: options.quick,
    device,
    seed: options.seed,
    dataUrl: dataResolver(options.data, new URL("./data/", import.meta.url)),
  };
  const renderer = new TerminalRenderer({
    stream,
    color: stream.isTTY && !Deno.noColor,
    outDir: shortPath(outDir),
    document: serverDocument(),
    showCode: options.code,
    saveFile: async (path, data) => {
      const full = resolve(path);
      await Deno.mkdir(resolve(full, ".."), { recursive: true });
      if (typeof data === "string") await Deno.writeTextFile(full, data);
      else await Deno.writeFile(full, data);
    },
  }, source.steps);
  const paint = renderer.paint;

  // The header: which lesson, what it is about, and the options of this run.
  const heading = `Lesson ${source.number}: ${source.title}`;
  const data = options.data ? shortPath(resolve(options.data)) : "shipped subset (lessons/data)";
  renderer.print([
    paint(heading, "bold"),
    paint("═".repeat(Math.min([...heading].length, renderer.width)), "bold"),
    ...wrap(source.description, renderer.width),
    paint(
      `quick: ${options.quick ? "yes" : "no"} · device: ${note} · seed: ${options.seed} · ` +
        `data: ${data}`,
      "dim",
    ),
  ]);

  const started = performance.now();
  let step = "";
  // The runner is the only printer: a lesson that logs is told so, and its text still shows.
  const { log, info } = console;
  let warned = false;
  console.log = console.info = (...parts: unknown[]) => {
    if (!warned) {
      renderer.print(paint(
        `(${step || "The lesson"} called console.log; lessons write with show.text and show.value)`,
        "yellow",
      ));
      warned = true;
    }
    renderer.print(
      parts.map((part) => typeof part === "string" ? part : Deno.inspect(part)).join(" "),
    );
  };
  try {
    await runLesson(url, settings, (event) => {
      if (event.kind === "step") step = `Step ${event.index + 1} (${event.title})`;
      renderer.handle(event);
    });
  } catch (error) {
    [console.log, console.info] = [log, info];
    renderer.abort();
    await renderer.finish();
    const red = painter(stream.isTTY && !Deno.noColor);
    if (isTodo(error)) {
      write(`\n${red(error.message, "yellow")}\n`);
    } else {
      const message = error instanceof Error ? error.stack ?? error.message : String(error);
      const where = step ? `${step} stopped with an error:` : "The lesson stopped with an error:";
      write(`\n${red(where, "red", "bold")}\n${message}\n`);
    }
    write(`(after ${formatDuration(performance.now() - started)})\n`);
    return 1;
  }
  [console.log, console.info] = [log, info];
  const errors = await renderer.finish(performance.now() - started);
  return errors.length ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
