/**
 * "Run in your browser": the only component of a lesson page that runs in the browser. It
 * starts a Web Worker that runs the lesson (quick mode) on WebGPU when the browser has it, else
 * on the CPU, and draws the streamed outputs under each step's code with the same components as
 * the captured outputs. Stop ends the worker; Re-run starts a new one.
 *
 * Without JavaScript the page still shows the outputs captured at build time.
 *
 * @module
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { RunRequest, WorkerMessage } from "./worker.ts";

/** Props of the live runner (serialized into the page as JSON). */
export interface LiveRunnerProps {
  slug: string;
  lessonNumber: number;
  stepCount: number;
  /** The relative path from the page to the site root ("../../"). */
  base: string;
  seed: number;
}

type RunState = "idle" | "loading" | "running" | "done" | "stopped" | "error";

/**
 * Where a live run computes: "auto" takes a GPU through WebGPU when there is one and the CPU
 * otherwise (a software WebGPU adapter is slower than the CPU kernels); "webgpu" takes any
 * WebGPU adapter, software ones included.
 */
type DevicePreference = "auto" | "cpu" | "webgpu";

/** The live view module, loaded on the first run (plots, Markdown and math are heavy). */
type LiveView = typeof import("./live_view.tsx");

/** The run button, device choice and status line of a lesson page. */
export default function LiveRunner(props: LiveRunnerProps) {
  const [ready, setReady] = useState(false);
  const [state, setState] = useState<RunState>("idle");
  const [device, setDevice] = useState<DevicePreference>("auto");
  const [deviceNote, setDeviceNote] = useState("");
  const [step, setStep] = useState<{ index: number; title: string } | null>(null);
  const [elapsed, setElapsed] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const run = useRef<LiveRun | null>(null);

  useEffect(() => {
    // Enabled only once hydrated; `?device=cpu` or `?device=webgpu` in the address picks one.
    const wanted = new URLSearchParams(location.search).get("device");
    if (wanted === "cpu" || wanted === "webgpu") setDevice(wanted);
    setReady(true);
    return () => run.current?.stop();
  }, []);

  useEffect(() => {
    if (state !== "running" && state !== "loading") return;
    const timer = setInterval(() => setElapsed(run.current?.elapsed() ?? 0), 100);
    return () => clearInterval(timer);
  }, [state]);

  const start = () => {
    run.current?.stop();
    setError(null);
    setStep(null);
    setDeviceNote("");
    setElapsed(0);
    setState("loading");
    run.current = new LiveRun(props, device, {
      onDevice: setDeviceNote,
      onStep: setStep,
      onDone: (ms) => {
        setElapsed(ms);
        setState("done");
      },
      onError: (message) => {
        setError(message);
        setState("error");
      },
      onStarted: () => setState("running"),
    });
  };
  const stop = () => {
    run.current?.stop();
    setElapsed(run.current?.elapsed() ?? 0);
    setState("stopped");
  };

  const busy = state === "loading" || state === "running";
  const seconds = `${(elapsed / 1000).toFixed(1)} s`;
  return (
    <section class="live-runner" data-state={state} aria-label="Run this lesson in your browser">
      <div class="live-controls">
        {busy
          ? (
            <button type="button" class="button stop" onClick={stop}>
              ■ Stop
            </button>
          )
          : (
            <button type="button" class="button run" onClick={start} disabled={!ready}>
              {state === "idle" ? "▶ Run in your browser" : "↻ Re-run"}
            </button>
          )}
        <label class="device-choice">
          Device{" "}
          <select
            value={device}
            disabled={!ready || busy}
            onChange={(event) =>
              setDevice(event.currentTarget.value as DevicePreference)}
          >
            <option value="auto">Best available</option>
            <option value="webgpu">WebGPU (even a software one)</option>
            <option value="cpu">CPU</option>
          </select>
        </label>
      </div>
      <p class="live-status" aria-live="polite">
        {statusLine(state, props, deviceNote, step, seconds, ready)}
      </p>
      {error ? <p class="live-error" role="alert">The run failed: {error}</p> : null}
    </section>
  );
}

function statusLine(
  state: RunState,
  props: LiveRunnerProps,
  deviceNote: string,
  step: { index: number; title: string } | null,
  seconds: string,
  ready: boolean,
): string {
  const on = deviceNote ? ` on ${deviceNote}` : "";
  switch (state) {
    case "idle":
      return ready
        ? `Runs lesson ${props.lessonNumber} in quick mode in a Web Worker, on your GPU through ` +
          "WebGPU when the browser has it, else on the CPU. Outputs below are then replaced live."
        : "The outputs below were captured at build time (quick mode, CPU). Running the lesson " +
          "in the browser needs JavaScript.";
    case "loading":
      return "Loading the lesson…";
    case "running":
      return step
        ? `Running${on}: step ${step.index + 1} of ${props.stepCount}, “${step.title}” · ${seconds}`
        : `Starting${on}…`;
    case "done":
      return `Done in ${seconds}${on}. The outputs below are from this run.`;
    case "stopped":
      return `Stopped after ${seconds}${on}. The outputs below are what it showed so far.`;
    case "error":
      return `Failed after ${seconds}${on}.`;
  }
}

/** Callbacks of a {@link LiveRun}. */
interface LiveRunEvents {
  onStarted(): void;
  onDevice(note: string): void;
  onStep(step: { index: number; title: string }): void;
  onDone(ms: number): void;
  onError(message: string): void;
}

/** One run of the lesson in a worker, drawing into the step outputs of the page. */
class LiveRun {
  private worker: Worker | null = null;
  private board: { halt(): void } | null = null;
  private stopped = false;
  private readonly started = performance.now();
  private finishedMs: number | null = null;

  constructor(
    private readonly props: LiveRunnerProps,
    private readonly device: DevicePreference,
    private readonly events: LiveRunEvents,
  ) {
    this.begin().catch((error) =>
      this.fail(error instanceof Error ? error.message : String(error))
    );
  }

  /** Milliseconds since the run started (frozen once it ends). */
  elapsed(): number {
    return this.finishedMs ?? performance.now() - this.started;
  }

  /** Ends the worker; what was drawn stays. */
  stop(): void {
    this.stopped = true;
    this.finishedMs ??= performance.now() - this.started;
    this.worker?.terminate();
    this.worker = null;
    this.board?.halt();
  }

  private async begin(): Promise<void> {
    const view: LiveView = await import("./live_view.tsx");
    if (this.stopped) return;
    const root = new URL(this.props.base, document.baseURI);
    const board = new view.LiveBoard(this.props.stepCount);
    this.board = board;
    const worker = new Worker(new URL(`assets/workers/${this.props.slug}.js`, root), {
      type: "module",
      name: `lesson ${this.props.lessonNumber}`,
    });
    this.worker = worker;
    worker.onmessage = (message: MessageEvent<WorkerMessage>) => {
      if (this.stopped) return;
      const data = message.data;
      switch (data.type) {
        case "device":
          board.setDevice(data.note);
          this.events.onDevice(data.note);
          break;
        case "events":
          for (const event of data.events) {
            if (event.kind === "step") this.events.onStep(event);
          }
          board.push(data.events);
          break;
        case "done":
          this.finish();
          board.finish();
          this.events.onDone(data.ms);
          break;
        case "error":
          this.finish();
          board.fail(data.step, data.message, data.stack);
          this.events.onError(data.message);
          break;
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.fail(event.message || "the lesson's worker could not start");
    };
    const request: RunRequest = {
      quick: true,
      seed: this.props.seed,
      device: this.device,
      dataBase: new URL("data/", root).href,
    };
    board.clear();
    worker.postMessage(request);
    this.events.onStarted();
  }

  private finish(): void {
    this.finishedMs = performance.now() - this.started;
    this.worker?.terminate();
    this.worker = null;
  }

  private fail(message: string): void {
    if (this.stopped) return;
    this.finish();
    this.events.onError(message);
  }
}
