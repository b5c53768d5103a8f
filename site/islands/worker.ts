/**
 * The Web Worker that runs a lesson in the browser for the live runner. The site bundles one
 * worker per lesson (`assets/workers/<slug>.js`): a tiny entry that calls {@link serveLesson}
 * with a function importing the lesson module. On the page's request the worker picks WebGPU
 * when the browser gives an adapter (else the CPU), says how the next `lesson()` call runs
 * (`expectRun`), imports the lesson (which runs it, as in the terminal and the build), and
 * streams its output events to the page. Stopping a run ends the worker.
 *
 * @module
 */
import { expectRun, type OutputEvent } from "../../lessons/format.ts";

/** What the page asks the worker to do. */
export interface RunRequest {
  quick: boolean;
  seed: number;
  /** "auto": WebGPU when an adapter is available, else the CPU. */
  device: "auto" | "cpu" | "webgpu";
  /** Absolute URL of the folder that holds the lessons' data files. */
  dataBase: string;
}

/** What the worker tells the page. */
export type WorkerMessage =
  | { type: "device"; device: "cpu" | "webgpu"; note: string }
  | { type: "events"; events: OutputEvent[] }
  | { type: "done"; ms: number }
  | { type: "error"; message: string; stack?: string; step: number };

/** The part of a worker's global scope used here. */
interface WorkerScope {
  postMessage(message: WorkerMessage): void;
  onmessage: ((event: MessageEvent<RunRequest>) => void) | null;
}

/** Events are sent in batches, at most every this many milliseconds. */
const FLUSH_MS = 30;

/**
 * Answers the page's run request by importing the lesson module with `load`, which runs it.
 * Call once, from the worker's entry. A worker runs one lesson once.
 */
export function serveLesson(load: () => Promise<unknown>): void {
  const scope = globalThis as unknown as WorkerScope;
  scope.onmessage = (message) => {
    runInWorker(load, message.data, (reply) => scope.postMessage(reply));
  };
}

async function runInWorker(
  load: () => Promise<unknown>,
  request: RunRequest,
  post: (message: WorkerMessage) => void,
): Promise<void> {
  let pending: OutputEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    if (pending.length === 0) return;
    post({ type: "events", events: pending });
    pending = [];
  };
  let step = -1;
  const emit = (event: OutputEvent) => {
    if (event.kind === "step") step = event.index;
    pending.push(event);
    timer ??= setTimeout(flush, FLUSH_MS);
  };
  const started = performance.now();
  try {
    const { device, note } = await chooseDevice(request.device);
    post({ type: "device", device, note });
    const run = expectRun({
      quick: request.quick,
      device,
      seed: request.seed,
      dataUrl: (name: string) => new URL(name, request.dataBase),
    }, emit);
    try {
      await load();
    } finally {
      run.done();
    }
    if (timer !== undefined) clearTimeout(timer);
    flush();
    post({ type: "done", ms: Math.round(performance.now() - started) });
  } catch (error) {
    if (timer !== undefined) clearTimeout(timer);
    flush();
    const message = error instanceof Error ? error.message : String(error);
    const stack = error instanceof Error ? error.stack : undefined;
    post({ type: "error", message, stack, step });
  }
}

/**
 * Picks the device of a live run with the library's own `pickDevice`: WebGPU when this browser
 * gives an adapter (the library sets up its backend then), otherwise the CPU, with the reason.
 */
async function chooseDevice(
  preference: "auto" | "cpu" | "webgpu",
): Promise<{ device: "cpu" | "webgpu"; note: string }> {
  if (preference === "cpu") return { device: "cpu", note: "CPU (chosen)" };
  const { pickDevice } = await import("../../mod.ts");
  const { device, reason } = await pickDevice(preference);
  const said = inBrowserWords(reason);
  return { device, note: device === "webgpu" ? said : `CPU (${said})` };
}

/**
 * The device's reason in the words of the page: the library names the terminal's flag
 * (`--device webgpu forces it`); here the page's device menu does that.
 */
export function inBrowserWords(reason: string): string {
  return reason
    .replace(
      /--device (\w+) forces it/,
      (_, device: string) =>
        `choose ${device === "webgpu" ? "WebGPU" : device} in the Device menu to force it`,
    )
    .replace(
      /--device (\w+)/g,
      (_, device: string) => `the Device menu's ${device === "webgpu" ? "WebGPU" : device} choice`,
    );
}
