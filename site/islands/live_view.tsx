/**
 * Draws a live run into the page: each step's output box (`[data-step-output]`) is cleared and
 * then re-rendered with Preact from the folded event stream, at most once per animation frame.
 * Loaded by the live runner on the first run, so pages that are only read stay light.
 *
 * @module
 */
import { render } from "preact";
import type { OutputEvent } from "../../lessons/format.ts";
import { LiveFold } from "../components/fold.ts";
import { clearPlotCache, ErrorOutput, OutputBlocks } from "../components/Outputs.tsx";

/** The step output boxes of the page, drawn from one live run. */
export class LiveBoard {
  /** The board of the latest run: an older run's board no longer draws. */
  private static active: LiveBoard | null = null;
  private readonly fold = new LiveFold();
  private frame = 0;
  private deviceNote = "";
  private state: "running" | "done" | "failed" | "stopped" = "running";
  private failure: { step: number; message: string; stack?: string } | null = null;

  constructor(private readonly stepCount: number) {
    LiveBoard.active = this;
  }

  /** Empties every step's output box and marks it as live. */
  clear(): void {
    clearPlotCache();
    for (let index = 0; index < this.stepCount; index++) {
      const box = outputBox(index);
      if (!box) continue;
      box.container.classList.add("live");
      render(null, box.body);
      box.body.replaceChildren();
    }
    this.draw();
  }

  /** Shows which device the run uses. */
  setDevice(note: string): void {
    this.deviceNote = note;
    this.schedule();
  }

  /** Adds streamed events. */
  push(events: OutputEvent[]): void {
    this.fold.pushAll(events);
    this.schedule();
  }

  /** Marks the run as finished. */
  finish(): void {
    this.state = "done";
    this.schedule();
  }

  /** Marks the run as stopped by the reader. */
  halt(): void {
    if (this.state === "running") this.state = "stopped";
    this.schedule();
  }

  /** Shows an error under the step that raised it. */
  fail(step: number, message: string, stack?: string): void {
    this.state = "failed";
    this.failure = { step: Math.max(step, 0), message, stack };
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    if (LiveBoard.active !== this) return;
    const reached = this.fold.steps.length === 0
      ? -1
      : this.fold.steps[this.fold.steps.length - 1].index;
    for (let index = 0; index < this.stepCount; index++) {
      const box = outputBox(index);
      if (!box) continue;
      const output = this.fold.steps.find((step) => step.index === index);
      const failure = this.failure?.step === index ? this.failure : null;
      box.note.textContent = this.noteFor(index, reached);
      render(
        <>
          {output ? <OutputBlocks blocks={output.blocks} plotDocument={document} /> : null}
          {!output && !failure
            ? <p class="out-waiting">{this.waitingText(index, reached)}</p>
            : null}
          {failure ? <ErrorOutput message={failure.message} detail={failure.stack} /> : null}
        </>,
        box.body,
      );
    }
  }

  private noteFor(index: number, reached: number): string {
    // Each block names the device only; the status line above the lesson says why it was chosen.
    const name = this.deviceNote.split(" (")[0];
    const device = name ? ` · ${/^cpu$/i.test(name) ? "CPU" : "WebGPU"}` : "";
    if (index < reached || (index === reached && this.state === "done")) return `live${device}`;
    if (index === reached) {
      if (this.state === "running") return `live${device} · running`;
      return `live${device} · ${this.state === "done" ? "done" : this.state}`;
    }
    return `live${device} · waiting`;
  }

  private waitingText(index: number, reached: number): string {
    if (this.state !== "running" || index < reached) return "This step did not run.";
    return index === reached ? "Running…" : "Waiting for the steps above…";
  }
}

/** The output box of step `index` on the page. */
function outputBox(
  index: number,
): { container: HTMLElement; body: HTMLElement; note: HTMLElement } | null {
  const container = document.querySelector<HTMLElement>(`[data-step-output="${index}"]`);
  const body = container?.querySelector<HTMLElement>(".output-body");
  const note = container?.querySelector<HTMLElement>(".output-note");
  return container && body && note ? { container, body, note } : null;
}
