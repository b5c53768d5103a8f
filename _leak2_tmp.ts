import lesson from "/tmp/scratch/leak_lesson.ts";
import { runLesson } from "/work/main/lessons/format.ts";
if (Deno.args.includes("server")) await import("/work/main/lessons/render/server_dom.ts").then((m) => m.serverDocument());
if (Deno.args.includes("renderer")) await import("/work/main/lessons/terminal/renderer.ts");
await runLesson(lesson, { quick: false, device: "cpu", seed: 0, dataUrl: (n) => new URL(n, "file:///"), state: {} }, (e) => { if (e.kind === "text") console.log(e.text); });
