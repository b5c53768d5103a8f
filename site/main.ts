/**
 * `deno task site`: serves the tutorial site on localhost (the port is printed).
 *
 * Pages are rendered on request from the lessons and their captured outputs; lessons whose
 * outputs are not cached yet are captured in the background, and their pages fill in on reload.
 * Only the site's own files are served, and nothing a visitor sends is ever run.
 *
 * Flags: `--port N` (default 8000, or a free port when 8000 is taken), `--refresh` (capture
 * every lesson again), `--fixtures` (show the test fixtures instead of the lessons).
 *
 * @module
 */
import { createSite } from "./app.ts";

const args = Deno.args;
const portFlag = args.indexOf("--port");
const wantedPort = portFlag >= 0 ? Number(args[portFlag + 1]) : 8000;
if (!Number.isInteger(wantedPort) || wantedPort < 0 || wantedPort > 65535) {
  console.error(`site: --port wants a number from 0 to 65535, got "${args[portFlag + 1]}"`);
  Deno.exit(2);
}

const started = performance.now();
const site = await createSite({
  capture: "background",
  refresh: args.includes("--refresh"),
  lessons: args.includes("--fixtures") ? "fixtures" : "registry",
  log: (line) => console.log(`site: ${line}`),
});

function serve(port: number): Deno.HttpServer {
  return Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: ({ port }) => {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`site: ready in ${seconds} s, serving http://localhost:${port}/ (Ctrl-C stops)`);
    },
  }, site.handler);
}

try {
  serve(wantedPort);
} catch (error) {
  if (!(error instanceof Deno.errors.AddrInUse) || portFlag >= 0) throw error;
  console.log(`site: port ${wantedPort} is taken; using a free one`);
  serve(0);
}
site.captured.then(() => {
  if (site.data.lessons.length > 0) console.log("site: every lesson's outputs are captured");
});
