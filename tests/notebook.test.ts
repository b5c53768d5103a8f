// Every lesson's notebook (`deno task notebook N`) runs cell by cell in Deno's Jupyter kernel,
// driven by nbclient (Debian's python3-nbclient and python3-ipykernel: a test tool, never a
// dependency), without an error output and with the same summary facts as a quick run of the
// lesson; its code cells, concatenated, run with `deno run` and print the same facts.
//
// Without Python's nbclient the notebook runs are skipped, unless REQUIRE_JUPYTER=1 (as in CI),
// where they fail and say what to install.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { type OutputEvent, runLesson } from "../lessons/format.ts";
import { lessonNotebook, notebookScript } from "../lessons/notebook.ts";
import { lessons } from "../lessons/registry.ts";

const PYTHON = "/usr/bin/python3";
const REQUIRED = Deno.env.get("REQUIRE_JUPYTER") === "1";

/** Runs a notebook with nbclient; prints one JSON line: the errors and summary facts of it. */
const DRIVER = `
import json, sys
import nbformat
from nbclient import NotebookClient
path, kernel = sys.argv[1], sys.argv[2]
nb = nbformat.read(path, as_version=4)
client = NotebookClient(nb, timeout=900, kernel_name=kernel, allow_errors=True,
                        resources={"metadata": {"path": sys.argv[3]}})
client.execute()
errors, facts, outputs = [], [], 0
for index, cell in enumerate(nb.cells):
    for output in cell.get("outputs", []):
        outputs += 1
        if output.get("output_type") == "error":
            errors.append({"cell": index, "ename": output.get("ename"), "evalue": output.get("evalue")})
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            errors.append({"cell": index, "ename": "stderr", "evalue": output.get("text")})
        summary = output.get("metadata", {}).get("gradlab", {}).get("summary")
        if summary:
            facts.extend(summary)
print("NOTEBOOK_RESULT " + json.dumps({"errors": errors, "facts": facts, "outputs": outputs}))
`;

/** Whether Python with nbclient and ipykernel is here; the reason when not. */
async function jupyterMissing(): Promise<string | undefined> {
  try {
    const { code, stderr } = await new Deno.Command(PYTHON, {
      args: ["-c", "import nbclient, nbformat, ipykernel"],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      return `${PYTHON} lacks nbclient or ipykernel (${new TextDecoder().decode(stderr).trim()})`;
    }
    return undefined;
  } catch {
    return `${PYTHON} is not installed`;
  }
}

const missing = await jupyterMissing();
const HOW = "install Debian's python3-nbclient and python3-ipykernel (see .ci/run)";

/** A kernelspec for this Deno binary in a temporary Jupyter folder (what `deno jupyter --install` writes). */
async function kernelFolder(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "gradlab-jupyter-" });
  await Deno.mkdir(join(dir, "kernels", "deno-gradlab"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "kernels", "deno-gradlab", "kernel.json"),
    JSON.stringify({
      argv: [Deno.execPath(), "jupyter", "--kernel", "--conn", "{connection_file}"],
      display_name: "Deno",
      language: "typescript",
    }),
  );
  return dir;
}

/** A fact with its durations ("trained 3 s", "4.1 s") made comparable between two runs. */
function withoutTimes(fact: { label: string; value: string }): { label: string; value: string } {
  return { label: fact.label, value: fact.value.replace(/\d+(\.\d+)? s\b/g, "N s") };
}

/** The environment of a notebook run: quick, on the CPU, no colours. */
const runEnv = { GRADLAB_QUICK: "1", GRADLAB_DEVICE: "cpu", NO_COLOR: "1" };

Deno.test({
  name: "Jupyter: nbclient and Deno's kernel are available where notebooks are tested",
  ignore: !REQUIRED,
  fn() {
    assert.equal(missing, undefined, `${missing}: ${HOW}`);
  },
});

for (const entry of lessons) {
  Deno.test({
    name: `lesson ${entry.number}'s notebook runs in Deno's kernel and as a script, ` +
      "with the facts of the quick run",
    ignore: missing !== undefined && !REQUIRED,
    async fn() {
      assert.equal(missing, undefined, `${missing}: ${HOW}`);
      // Inside the repository, so that the kernel finds its deno.json (the imports) as a
      // notebook under out/notebooks/ does.
      await Deno.mkdir(new URL("../out/", import.meta.url), { recursive: true });
      const work = await Deno.makeTempDir({
        dir: new URL("../out/", import.meta.url).pathname,
        prefix: "notebook-test-",
      });
      const jupyterPath = await kernelFolder();
      try {
        const notebookFile = join(work, `${entry.folder}.ipynb`);
        const notebook = lessonNotebook(
          await Deno.readTextFile(entry.moduleUrl),
          entry.moduleUrl,
          dirname(notebookFile),
        );
        await Deno.writeTextFile(notebookFile, JSON.stringify(notebook));
        const scriptFile = join(work, `${entry.folder}.ts`);
        await Deno.writeTextFile(scriptFile, notebookScript(notebook));

        // Cell by cell in the kernel, and the code cells as one script, both started now...
        const kernelRun = new Deno.Command(PYTHON, {
          args: ["-c", DRIVER, notebookFile, "deno-gradlab", work],
          env: { ...runEnv, JUPYTER_PATH: jupyterPath },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const scriptRun = new Deno.Command(Deno.execPath(), {
          args: ["run", "--quiet", "--allow-read", "--allow-env", scriptFile],
          env: runEnv,
          stdout: "piped",
          stderr: "piped",
        }).output();

        // ...while the terminal's quick run gives the facts to expect.
        const events: OutputEvent[] = [];
        await runLesson(entry.moduleUrl, { quick: true, device: "cpu", seed: 0 }, (event) => {
          if (event.kind === "summary") events.push(event);
        });
        const expected = events.flatMap((event) => event.kind === "summary" ? event.facts : []);
        assert.ok(expected.length > 0, `lesson ${entry.number} shows no summary`);

        const [run, script] = await Promise.all([kernelRun, scriptRun]);
        const stdout = new TextDecoder().decode(run.stdout);
        const line = stdout.split("\n").find((l) => l.startsWith("NOTEBOOK_RESULT "));
        assert.ok(line, `nbclient failed:\n${new TextDecoder().decode(run.stderr)}`);
        const result = JSON.parse(line.slice("NOTEBOOK_RESULT ".length)) as {
          errors: { cell: number; ename: string; evalue: string }[];
          facts: { label: string; value: string }[];
        };
        assert.deepEqual(result.errors, [], "the notebook's cells show no error");
        assert.deepEqual(
          result.facts.map(withoutTimes),
          expected.map(withoutTimes),
          "the notebook shows the quick run's facts (durations aside)",
        );

        const printed = new TextDecoder().decode(script.stdout);
        assert.equal(script.code, 0, new TextDecoder().decode(script.stderr));
        const width = Math.max(...expected.map((fact) => [...fact.label].length));
        const block = ["What this lesson showed"].concat(
          expected.map(withoutTimes).map((fact) => `  ${fact.label.padEnd(width)}  ${fact.value}`),
        ).join("\n");
        const printedFacts = printed.replace(/\d+(\.\d+)? s\b/g, "N s");
        assert.ok(
          printedFacts.includes(block),
          `the script should print\n${block}\n\n${printed}`,
        );
      } finally {
        await Deno.remove(work, { recursive: true });
        await Deno.remove(jupyterPath, { recursive: true });
      }
    },
  });
}
