/**
 * The executable that starts a Deno subprocess: the exercise sandbox, the site's lesson
 * capture, `deno doc`.
 *
 * The tasks that start them may run only Deno (`--allow-run=deno`), which Deno resolves on the
 * PATH when the task starts; `Deno.execPath()` is the binary itself, which differs when `deno`
 * on the PATH is a link to it (as an npm install makes it). So the binary is used when the
 * permission covers it (the test task allows any program), and the name `deno` otherwise.
 *
 * @module
 */

/** The path or name to give `new Deno.Command` for a Deno subprocess. */
export function denoExecutable(): string {
  const self = Deno.execPath();
  try {
    const state = Deno.permissions.querySync({ name: "run", command: self }).state;
    if (state === "granted") return self;
  } catch {
    // No permission API here: try the name.
  }
  return "deno";
}
