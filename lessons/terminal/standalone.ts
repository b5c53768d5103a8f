/**
 * The output of a lesson file run by itself (`deno run --allow-read lessons/01-regression/lesson.ts`,
 * or a notebook's code cells pasted into a script): drawn in the terminal as the runner does,
 * without saving files, with the summary printed as soon as the lesson gives it.
 * `format.ts` loads this file only then.
 *
 * @module
 */
import type { Display, LessonInfo, RunSettings } from "../format.ts";
import { serverDocument } from "../render/server_dom.ts";
import { stdoutStream } from "../run.ts";
import { TerminalRenderer } from "./renderer.ts";
import { wrap } from "./style.ts";

/** Prints the lesson's header and returns the display that draws each event. */
export function standaloneDisplay(info: LessonInfo, settings: RunSettings): Display {
  const stream = stdoutStream();
  const renderer = new TerminalRenderer({
    stream,
    color: stream.isTTY && !Deno.noColor,
    document: serverDocument(),
  });
  const paint = renderer.paint;
  const heading = `Lesson ${info.number}: ${info.title}`;
  renderer.print([
    paint(heading, "bold"),
    paint("═".repeat(Math.min([...heading].length, renderer.width)), "bold"),
    ...wrap(info.description, renderer.width),
    paint(
      `quick: ${settings.quick ? "yes" : "no"} · device: ${settings.device} · ` +
        `seed: ${settings.seed}`,
      "dim",
    ),
  ]);
  return {
    emit(event) {
      renderer.handle(event);
      if (event.kind === "summary") renderer.printSummary();
    },
  };
}
