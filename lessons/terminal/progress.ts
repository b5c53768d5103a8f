/**
 * Progress bars for a lesson's loops, drawn with cli-progress.
 *
 * A lesson's training loop often runs without giving the event loop a turn (CPU work between
 * awaits of values that are already there), so cli-progress's own redraw timer would never fire.
 * The bars are therefore redrawn from the progress events themselves, at most every
 * `interval` milliseconds. Bars can nest (epochs around batches): the running ones stay at the
 * bottom of the terminal, and a finished inner bar leaves its final line above them.
 *
 * When the output is not a terminal (a pipe, a file, CI), nothing is redrawn: now and then a line
 * for each bar that moved since its last line (not the bars around it again), and one final line
 * per bar. A bar ended before its total (early stopping) says where it stopped.
 *
 * @module
 */

// @ts-types="@types/cli-progress"
import cliProgress from "cli-progress";
import { formatDuration, formatNumber } from "../render/format.ts";
import { type Paint, truncate, visibleWidth } from "./style.ts";

/** Where the bars are written: a terminal (redrawn in place) or a plain text stream. */
export interface TextStream {
  /** Writes text as it is. */
  write(text: string): void;
  /** True when the output is a terminal that understands cursor movement. */
  readonly isTTY: boolean;
  /** Width in columns. */
  readonly columns: number;
}

/** Numbers shown next to a bar (loss, accuracy, steps per second). */
export type ProgressInfo = Record<string, number | string>;

/** What the format function gets as the bar's payload. */
interface Payload {
  label: string;
  info: ProgressInfo;
}

/** The parameters cli-progress hands to a format function. */
interface FormatParams {
  progress: number;
  eta: number;
  startTime: number;
  stopTime: number | null;
  total: number;
  value: number;
}

/** Formats the numbers of a bar: "loss 0.2345 · acc 0.91". */
export function formatInfo(info: ProgressInfo): string {
  return Object.entries(info)
    .map(([key, value]) => `${key} ${typeof value === "number" ? formatNumber(value) : value}`)
    .join(" · ");
}

/** Formats a speed: "45.2 it/s", or "2.3 s/it" when slower than one a second. */
function formatRate(done: number, seconds: number): string {
  if (done <= 0 || seconds <= 0) return "";
  const rate = done / seconds;
  return rate >= 1 ? `${formatNumber(rate, 3)} it/s` : `${formatNumber(1 / rate, 3)} s/it`;
}

/**
 * The same stream, claiming 10,000 columns (see where the multi-bar is made). When it is not a
 * terminal, cli-progress's own writes are dropped: the bars' lines are then written here.
 */
function wideStream(stream: TextStream): TextStream {
  return {
    isTTY: stream.isTTY,
    columns: 10_000,
    write: (text: string) => {
      if (stream.isTTY) stream.write(text);
    },
  };
}

/** Options of {@link ProgressBars}. */
export interface ProgressOptions {
  /** Colours and styles. */
  paint: Paint;
  /** Least time between two redraws in milliseconds (default 100 on a terminal, 2000 otherwise). */
  interval?: number;
  /** The clock (tests pass a fake one). */
  now?: () => number;
}

/** A bar and what the runner knows about it. */
interface BarState {
  bar: cliProgress.SingleBar;
  total: number;
  active: boolean;
  /** Without a terminal: the count of the bar's last line. */
  printed?: number;
}

/** The progress bars of one lesson run. */
export class ProgressBars {
  #stream: TextStream;
  #paint: Paint;
  #interval: number;
  #width: number;
  #now: () => number;
  #multi: cliProgress.MultiBar | undefined;
  #bars = new Map<string, BarState>();
  #lastDraw = -Infinity;

  /** Bars written to `stream`, redrawn at most every `options.interval` milliseconds. */
  constructor(stream: TextStream, options: ProgressOptions) {
    this.#stream = stream;
    this.#paint = options.paint;
    this.#interval = options.interval ?? (stream.isTTY ? 100 : 2000);
    this.#width = stream.columns;
    this.#now = options.now ?? (() => Date.now());
  }

  /** True while at least one bar runs: other output must then go through {@link log}. */
  get active(): boolean {
    return this.#multi !== undefined;
  }

  /** One line of a bar: label, bar, count, the lesson's numbers, speed, time left or taken. */
  #format = (options: cliProgress.Options, params: FormatParams, payload: Payload): string => {
    const paint = this.#paint;
    const bar = cliProgress.Format.BarFormat(params.progress, options);
    const seconds = ((params.stopTime ?? this.#now()) - params.startTime) / 1000;
    const stoppedEarly = params.stopTime !== null && params.value < params.total;
    const count = `${params.value}/${params.total}`;
    const parts = [stoppedEarly ? `stopped early at ${count}` : count];
    const info = formatInfo(payload.info);
    if (info) parts.push(info);
    const ownRate = Object.keys(payload.info).some((key) => key.includes("/s"));
    const rate = ownRate ? "" : formatRate(params.value, seconds);
    if (rate) parts.push(rate);
    if (params.stopTime !== null) parts.push(`in ${formatDuration(seconds * 1000)}`);
    else if (params.value > 0 && params.value < params.total) {
      parts.push(`eta ${formatDuration(params.eta * 1000)}`);
    }
    // Drop the last parts until the line fits the terminal (a wrapped bar cannot be redrawn).
    const room = this.#width - 1;
    const plain = () => `  ${payload.label} ${bar} ${parts.join(" │ ")}`;
    while (parts.length > 1 && visibleWidth(plain()) > room) parts.pop();
    const label = truncate(
      payload.label,
      Math.max(8, room - visibleWidth(plain()) + payload.label.length),
    );
    return `  ${paint(label, "bold")} ${paint(bar, "cyan")} ${parts.join(paint(" │ ", "dim"))}`;
  };

  /** Creates the shared multi-bar on the first bar. */
  #ensureMulti(): cliProgress.MultiBar {
    this.#multi ??= new cliProgress.MultiBar({
      // cli-progress cuts lines at the stream's width counting colour codes as characters;
      // the format above fits each line to the terminal itself, so it is told the width is huge.
      stream: wideStream(this.#stream) as unknown as NodeJS.WritableStream,
      format: this.#format as unknown as cliProgress.GenericFormatter,
      noTTYOutput: true,
      // Redraws come from progress events; cli-progress's own timer is only a fallback.
      notTTYSchedule: 3_600_000,
      // The cursor stays visible and line wrapping on: a run stopped with Ctrl-C (which cannot
      // clean up while a training loop holds the thread) leaves the terminal as it was.
      hideCursor: false,
      linewrap: true,
      barsize: 20,
      barCompleteChar: "█",
      barIncompleteChar: "░",
      gracefulExit: false,
      clearOnComplete: false,
      etaBuffer: 50,
    });
    return this.#multi;
  }

  /** Redraws the bars if the last redraw is older than the interval, or when `force` is set. */
  #draw(force = false): void {
    const now = this.#now();
    if (!this.#multi || (!force && now - this.#lastDraw < this.#interval)) return;
    this.#lastDraw = now;
    if (this.#stream.isTTY) {
      this.#multi.update();
      return;
    }
    // Not a terminal: a line for each bar that moved, not yet complete (its final line follows).
    for (const state of this.#bars.values()) {
      const value = this.#value(state);
      if (!state.active || value === 0 || value === state.printed || value >= state.total) continue;
      this.#stream.write(this.#line(state) + "\n");
      state.printed = value;
    }
  }

  #value(state: BarState): number {
    return (state.bar as unknown as { value: number }).value;
  }

  /** A bar's line as it stands, formatted as cli-progress would. */
  #line(state: BarState): string {
    return this.#format(
      (state.bar as unknown as { options: cliProgress.Options }).options,
      this.#params(state),
      (state.bar as unknown as { payload: Payload }).payload,
    );
  }

  /** Starts a bar over `total` units. */
  start(id: string, label: string, total: number): void {
    const multi = this.#ensureMulti();
    const payload: Payload = { label, info: {} };
    const bar = multi.create(total, 0, payload);
    this.#bars.set(id, { bar, total, active: true });
    // On a terminal the new bar shows at once; in a log the first line comes after an interval.
    if (this.#stream.isTTY) this.#draw(true);
    else this.#lastDraw = this.#now();
  }

  /** Moves a bar to `done` units, with the lesson's latest numbers. */
  update(id: string, done: number, info: ProgressInfo = {}): void {
    const state = this.#bars.get(id);
    if (!state?.active) return;
    state.bar.update(done, { info: { ...this.#info(state), ...info } });
    this.#draw();
  }

  #info(state: BarState): ProgressInfo {
    return ((state.bar as unknown as { payload: Payload }).payload.info) ?? {};
  }

  /** Finishes a bar, leaving its final line on the screen. */
  end(id: string, info: ProgressInfo = {}): void {
    const state = this.#bars.get(id);
    const multi = this.#multi;
    if (!state?.active || !multi) return;
    state.active = false;
    state.bar.update(this.#value(state), { info: { ...this.#info(state), ...info } });
    state.bar.stop();
    const stillRunning = [...this.#bars.values()].some((other) => other.active);
    // Not a terminal: the bar's final line, once.
    if (!this.#stream.isTTY) this.#stream.write(this.#line(state) + "\n");
    if (!stillRunning) {
      // The last bar: on a terminal cli-progress draws it one final time and moves below it.
      this.#stopMulti();
      return;
    }
    // Other bars still run: the finished one becomes a line above them.
    if (this.#stream.isTTY) {
      const line = this.#line(state);
      multi.log(line + "\n");
      multi.remove(state.bar);
    } else {
      const bars = (multi as unknown as { bars: unknown[] }).bars;
      bars.splice(bars.indexOf(state.bar), 1);
    }
    this.#bars.delete(id);
    this.#lastDraw = this.#now();
  }

  /** The parameters cli-progress would hand the format function for this bar. */
  #params(state: BarState): FormatParams {
    const bar = state.bar as unknown as {
      value: number;
      startTime: number;
      stopTime: number | null;
      getProgress(): number;
      eta?: { getTime(): number };
    };
    return {
      progress: bar.getProgress(),
      eta: bar.eta?.getTime() ?? 0,
      startTime: bar.startTime,
      stopTime: bar.stopTime,
      total: state.total,
      value: bar.value,
    };
  }

  /** Prints text while bars run: above them on a terminal, between their lines otherwise. */
  log(text: string): void {
    if (!this.#multi || !this.#stream.isTTY) {
      this.#stream.write(text);
      return;
    }
    this.#multi.log(text);
    this.#draw(true);
  }

  #stopMulti(): void {
    const multi = this.#multi;
    this.#multi = undefined;
    this.#bars.clear();
    multi?.stop();
  }

  /** Stops every bar (at the end of a run, or when a step throws). */
  stopAll(): void {
    if (!this.#multi) return;
    for (const state of this.#bars.values()) {
      if (!state.active) continue;
      state.bar.stop();
      // Not a terminal: where the bar stood (on a terminal cli-progress draws it once more).
      if (!this.#stream.isTTY) this.#stream.write(this.#line(state) + "\n");
    }
    this.#stopMulti();
  }
}
