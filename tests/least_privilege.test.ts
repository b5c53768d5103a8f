/**
 * Least privilege: what each task may do is written in `deno.json`; these tests hold the
 * flags to what the README promises (no remote imports for lessons and exercises, no program
 * but deno and esbuild for the site), check that lesson code runs only in child processes, and
 * that the site's pages and static files carry a Content-Security-Policy.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createSite } from "../site/app.ts";
import { CONTENT_SECURITY_POLICY, headersFile } from "../site/csp.ts";

const root = new URL("../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
const tasks: Record<string, string> = config.tasks;

/** The values of a flag in a task's command (`--allow-run=a,b` gives ["a", "b"]). */
function flag(task: string, name: string): string[] | "bare" | undefined {
  const words = tasks[task].split(/\s+/);
  if (words.includes(name)) return "bare";
  const given = words.find((word) => word.startsWith(`${name}=`));
  return given?.slice(name.length + 1).split(",");
}

Deno.test("lessons, exercises and notebooks cannot import code from the network", () => {
  for (const task of ["lesson", "check", "notebook", "pretrain"]) {
    assert.ok(tasks[task].includes("--no-remote"), `deno task ${task}: ${tasks[task]}`);
  }
});

Deno.test("no task that runs lessons or serves pages may run any program", () => {
  for (const task of ["lesson", "notebook", "pretrain", "serve"]) {
    assert.equal(flag(task, "--allow-run"), undefined, `deno task ${task} may run programs`);
  }
  assert.deepEqual(flag("check", "--allow-run"), ["deno"], "deno task check");
  for (const task of ["site", "build"]) {
    const allowed = flag(task, "--allow-run");
    assert.ok(Array.isArray(allowed), `deno task ${task} may run any program: ${tasks[task]}`);
    for (const program of allowed) {
      assert.ok(
        program === "deno" || /\/@esbuild\/[a-z0-9-]+\/(bin\/esbuild|esbuild\.exe)$/.test(program),
        `deno task ${task} may run ${program}`,
      );
    }
  }
});

Deno.test("the capture child and the exercise sandbox import nothing remote", async () => {
  for (const file of ["site/capture.ts", "site/task_list.ts", "lessons/sandbox.ts"]) {
    const source = await Deno.readTextFile(new URL(file, root));
    assert.ok(source.includes('"--no-remote"'), `${file} starts a child without --no-remote`);
    assert.ok(!/--allow-(write|net|run|env)/.test(source), `${file} gives a child more than reads`);
  }
});

Deno.test("the site's server imports no lesson code (lesson.ts, tasks.ts run in children)", async () => {
  for (const file of ["site/app.ts", "site/lessons.ts", "site/main.ts", "site/build.ts"]) {
    const source = await Deno.readTextFile(new URL(file, root));
    assert.ok(!/\bimport\s*\(/.test(source), `${file} imports a module at run time`);
  }
});

Deno.test({
  name: "pages and static files of the site carry the Content-Security-Policy",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const site = await createSite({ lessons: "fixtures", capture: "none", minify: false });
    for (const path of ["/", "/static/style.css", "/assets/islands.js"]) {
      const response = await site.handler(new Request(`http://localhost${path}`));
      await response.body?.cancel();
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY, path);
    }
    const page = await (await site.handler(new Request("http://localhost/"))).text();
    assert.match(page, /<meta http-equiv="Content-Security-Policy" content="default-src 'self'/);
    assert.ok(headersFile().includes(`Content-Security-Policy: ${CONTENT_SECURITY_POLICY}`));
  },
});
