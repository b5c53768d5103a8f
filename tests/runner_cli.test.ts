// The lesson runner's command line: options, data folders, and a whole run of the fixture lesson.
import assert from "node:assert/strict";
import { dataResolver, parseRunArgs } from "../lessons/run.ts";
import { findLesson, lessons } from "../lessons/registry.ts";

const root = new URL("..", import.meta.url);

/**
 * Runs `lessons/run.ts` as `deno task lesson` does, with write access to `outDir` only, and
 * without XDG_RUNTIME_DIR, as on a server or in a CI job.
 */
async function runLessonCommand(args: string[], outDir: string) {
  const env = Deno.env.toObject();
  delete env.XDG_RUNTIME_DIR;
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-read=.",
      `--allow-write=${outDir}`,
      "--allow-env=XDG_RUNTIME_DIR",
      "lessons/run.ts",
      ...args,
      "--out",
      outDir,
    ],
    cwd: root,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await command.output();
  return {
    code,
    stdout: new TextDecoder().decode(stdout),
    stderr: new TextDecoder().decode(stderr),
  };
}

Deno.test("run options: defaults, every flag, and readable errors", () => {
  assert.deepEqual(parseRunArgs(["3"]), {
    lesson: 3,
    quick: false,
    device: "auto",
    seed: 0,
    data: undefined,
    lessonFile: undefined,
    out: "out",
    code: false,
    help: false,
  });
  const all = parseRunArgs(["2", "--quick", "--device", "webgpu", "--seed", "7", "--data", "/d"]);
  assert.deepEqual([all.lesson, all.quick, all.device, all.seed, all.data], [
    2,
    true,
    "webgpu",
    7,
    "/d",
  ]);
  assert.equal(parseRunArgs([]).lesson, undefined);
  assert.throws(
    () => parseRunArgs(["1", "--device", "gpu"]),
    /--device must be cpu, webgpu or auto, not "gpu"/,
  );
  assert.throws(() => parseRunArgs(["1", "--seed", "x"]), /--seed must be a whole number/);
  assert.throws(() => parseRunArgs(["one"]), /"one" is not a lesson number/);
  assert.throws(() => parseRunArgs(["1", "--fast"]), /fast/);
});

Deno.test("data files come from the --data folder when there, else from lessons/data", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/train-images-idx3-ubyte.gz`, "x");
    const shipped = new URL("../lessons/data/", import.meta.url);
    const resolve = dataResolver(dir, shipped);
    assert.equal(
      resolve("train-images-idx3-ubyte.gz").pathname,
      `${dir}/train-images-idx3-ubyte.gz`,
    );
    assert.equal(
      resolve("fashion-mnist/train-images-idx3-ubyte.gz").pathname,
      `${dir}/train-images-idx3-ubyte.gz`,
      "found by its file name at the folder's top",
    );
    assert.equal(resolve("iris.csv").href, new URL("iris.csv", shipped).href);
    assert.equal(dataResolver(undefined, shipped)("a/b.gz").href, new URL("a/b.gz", shipped).href);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the registry lists lessons with unique numbers and folders named NN-slug", () => {
  const numbers = lessons.map((entry) => entry.number);
  assert.equal(new Set(numbers).size, numbers.length);
  for (const entry of lessons) {
    assert.match(entry.folder, new RegExp(`^${String(entry.number).padStart(2, "0")}-`));
    assert.equal(findLesson(entry.number), entry);
  }
  assert.equal(findLesson(-1), undefined);
});

Deno.test("a whole run of the fixture lesson, piped, with files under the out folder", async () => {
  const out = await Deno.makeTempDir();
  try {
    const { code, stdout, stderr } = await runLessonCommand(
      ["--lesson-file", "tests/fixtures/lesson/lesson.ts", "--quick", "--seed", "3"],
      out,
    );
    // Nothing on stderr, not even the graphics drivers' complaint about a missing
    // XDG_RUNTIME_DIR while WebGPU is probed.
    assert.equal(stderr, "");
    assert.equal(code, 0, stdout);
    assert.ok(stdout.startsWith("Lesson 99: Fixture: every kind of output\n"));
    // "auto" picks the CPU here (no adapter, or only a software one), and says why.
    assert.match(stdout, /quick: yes · device: cpu \(.+\) · seed: 3/);
    assert.ok(stdout.includes("Step 6 of 6: Summary"));
    assert.match(stdout, /Done in \d/);
    assert.ok(!stdout.includes("\x1b["), "no escape codes in a pipe");
    const top = [...Deno.readDirSync(out)].map((entry) => entry.name);
    assert.deepEqual(top, ["lesson-99"], "the probe's runtime folder is removed");
    const files = [...Deno.readDirSync(`${out}/lesson-99`)].map((entry) => entry.name).sort();
    assert.deepEqual(files, [
      "filters.png",
      "fits-over-the-true-curve.svg",
      "rings.png",
      "samples.svg",
      "training-loss.svg",
    ]);
    const svg = await Deno.readTextFile(`${out}/lesson-99/training-loss.svg`);
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
    for (const name of files) assert.ok(stdout.includes(`/lesson-99/${name}`), `path of ${name}`);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a lesson that logs is told so; one that throws stops with the step's name", async () => {
  const out = await Deno.makeTempDir();
  const lessonFile = "tests/fixtures/failing_lesson.ts";
  try {
    const { code, stdout } = await runLessonCommand(["--lesson-file", lessonFile], out);
    assert.equal(code, 1);
    assert.ok(
      stdout.includes("Step 2 (bad) stopped with an error:\nError: shape mismatch"),
      stdout,
    );
    assert.ok(stdout.includes("(Step 1 (fine) called console.log; lessons write with show.text"));
    assert.ok(stdout.includes("a stray log { x: 1 }"));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("without a number the runner lists the lessons; a wrong number says so", async () => {
  const out = await Deno.makeTempDir();
  try {
    const list = await runLessonCommand([], out);
    assert.equal(list.code, 0);
    assert.ok(list.stdout.includes(lessons.length ? "Lessons:" : "There are no lessons yet."));
    const wrong = await runLessonCommand(["42"], out);
    assert.equal(wrong.code, 2);
    assert.ok(wrong.stdout.startsWith("There is no lesson 42.\n"));
    const data = await runLessonCommand(["1", "--data", "/nonexistent-folder"], out);
    assert.equal(data.code, 2);
    assert.match(data.stdout, /may only read the repository, not \/nonexistent-folder/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("the lessons' lock file holds only the packages of deno.json (the first run's download)", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const lock = JSON.parse(await Deno.readTextFile(new URL("deno.lock", root)));
  const wanted = new Set(Object.values(config.imports as Record<string, string>));
  const extra = Object.keys(lock.specifiers ?? {}).filter((specifier) => !wanted.has(specifier));
  assert.deepEqual(
    extra,
    [],
    "deno.lock lists packages the lessons do not import, which a first `deno task lesson 1` " +
      "would download: run site, bench and test code with their import maps " +
      "(--import-map site/imports.json --lock=site/deno.lock, see site/README.md), and restore " +
      "deno.lock (git show HEAD:deno.lock > deno.lock)",
  );
});
