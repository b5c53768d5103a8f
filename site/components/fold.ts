/**
 * Folds a live stream of output events into what each step shows so far. It gives the same
 * blocks as `foldEvents` of the lesson format once the run is over, and while it runs it also
 * keeps unfinished progress bars (as `progress` blocks) where they started.
 *
 * @module
 */
import type { OutputEvent, PlotBlock, StepOutput } from "../../lessons/format.ts";

/** A progress bar that has not ended: its label and total are copied into `info`. */
export type LiveProgressBlock = Extract<OutputEvent, { kind: "progress" }>;

/** Accumulates events one at a time; read {@link LiveFold.steps} to draw. */
export class LiveFold {
  /** The outputs of the steps seen so far, in order. */
  readonly steps: StepOutput[] = [];
  /** Bumped on every event, so a view can tell that something changed. */
  version = 0;
  private current: StepOutput = { index: -1, title: "", blocks: [] };
  private readonly plots = new Map<string, PlotBlock>();
  private readonly bars = new Map<
    string,
    { label: string; total: number; step: StepOutput; block: LiveProgressBlock }
  >();

  /** Adds one event. */
  push(event: OutputEvent): void {
    this.version++;
    switch (event.kind) {
      case "step":
        this.current = { index: event.index, title: event.title, blocks: [] };
        this.steps.push(this.current);
        break;
      case "plot": {
        const plot: PlotBlock = { ...event, series: event.series.map((s) => ({ ...s })) };
        this.plots.set(event.id, plot);
        this.current.blocks.push(plot);
        break;
      }
      case "plotPoints":
        this.appendPoints(event);
        break;
      case "progressStart": {
        const block: LiveProgressBlock = {
          kind: "progress",
          id: event.id,
          done: 0,
          info: { label: event.label, total: event.total },
        };
        this.bars.set(event.id, { ...event, step: this.current, block });
        this.current.blocks.push(block);
        break;
      }
      case "progress": {
        const bar = this.bars.get(event.id);
        if (!bar) break;
        bar.block.done = event.done;
        bar.block.info = { label: bar.label, total: bar.total, ...event.info };
        break;
      }
      case "progressEnd":
        this.endProgress(event);
        break;
      default:
        this.current.blocks.push(event);
    }
  }

  /** Adds a batch of events. */
  pushAll(events: OutputEvent[]): void {
    for (const event of events) this.push(event);
  }

  private appendPoints(event: Extract<OutputEvent, { kind: "plotPoints" }>): void {
    const plot = this.plots.get(event.id);
    if (!plot) return;
    let series = plot.series.find((s) => s.name === event.series);
    if (!series) {
      series = { name: event.series, x: [], y: [] };
      plot.series.push(series);
    }
    series.x.push(...event.x);
    series.y.push(...event.y);
  }

  private endProgress(event: Extract<OutputEvent, { kind: "progressEnd" }>): void {
    const bar = this.bars.get(event.id);
    const block: OutputEvent = {
      kind: "progressEnd",
      id: event.id,
      info: { label: bar?.label ?? "", total: bar?.total ?? 0, ...event.info },
    };
    if (!bar) {
      this.current.blocks.push(block);
      return;
    }
    // Replace the live bar where it stood, as `foldEvents` would have placed it at the end:
    // the captured page puts the finished bar where `end()` was called, so move it there.
    const blocks = bar.step.blocks;
    blocks.splice(blocks.indexOf(bar.block), 1);
    this.current.blocks.push(block);
    this.bars.delete(event.id);
  }
}
