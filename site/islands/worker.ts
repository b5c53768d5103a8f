/**
 * The Web Worker that runs a lesson in the browser for the live runner. The site bundles one
 * worker per lesson (`assets/workers/<slug>.js`): a tiny entry that imports the lesson module and
 * calls {@link serveLesson}. The worker picks WebGPU when the browser gives an adapter (else the
 * CPU), runs the lesson with the same `runLesson` as the terminal and the build, and streams its
 * output events to the page.
 *
 * @module
 */
import { type Lesson, type OutputEvent, runLesson } from "../../lessons/format.ts";

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

/** Answers the page's run request by running `lesson`. Call once, from the worker's entry. */
export function serveLesson(lesson: Lesson): void {
  const scope = globalThis as unknown as WorkerScope;
  scope.onmessage = (message) => {
    runInWorker(lesson, message.data, (reply) => scope.postMessage(reply));
  };
}

async function runInWorker(
  lesson: Lesson,
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
    await runLesson(lesson, {
      quick: request.quick,
      device,
      seed: request.seed,
      dataUrl: (name: string) => new URL(name, request.dataBase),
    }, emit);
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
  return { device, note: device === "webgpu" ? reason : `CPU (${reason})` };
}
