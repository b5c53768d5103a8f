// The exercise checker: task results and their one-line messages, the sandbox that runs a
// student's file, and `deno task check`.
import assert from "node:assert/strict";
import { checkLesson, lessonFolders } from "../lessons/check.ts";
import { checkInSandbox } from "../lessons/sandbox.ts";
import {
  answerLineIn,
  defineTasks,
  describe,
  expectClose,
  expectEqual,
  formatResult,
  fromPlain,
  Mismatch,
  ReceivedTensor,
  runTask,
  type Task,
  toPlain,
} from "../lessons/tasks.ts";
import { painter } from "../lessons/terminal/style.ts";
import { isTodo, Todo } from "../lessons/todo.ts";
import * as solutions from "./fixtures/exercises/solutions.ts";
import fixtureTasks from "./fixtures/exercises/tasks.ts";

const fixture = new URL("./fixtures/exercises/", import.meta.url);

/** Checks `file` of the fixture folder through the sandbox and returns the printed lines. */
async function check(file: string, seconds?: number): Promise<string[]> {
  const lines: string[] = [];
  await checkLesson(
    {
      title: "Fixture",
      tasksUrl: new URL("tasks.ts", fixture),
      exercisesUrl: new URL(file, fixture),
    },
    (line) => lines.push(line),
    painter(false),
    { seconds },
  );
  return lines;
}

Deno.test("Todo names its task and hint", () => {
  const todo = new Todo("3.1", "loop over the output positions");
  assert.equal(todo.message, "Task 3.1 is not done yet: loop over the output positions");
  assert.equal(todo.task, "3.1");
  assert.ok(todo instanceof Error && isTodo(todo));
  const lookalike = Object.assign(new Error("x"), { name: "Todo", task: "1.1", hint: "h" });
  assert.ok(isTodo(lookalike), "a Todo from another copy of the module is recognised");
  assert.ok(!isTodo(new Error("Task 1.1 is not done yet")));
});

type Impl = { f: () => unknown };
const task = (judge: (received: unknown) => unknown): Task<Impl> => ({
  id: "7.2",
  title: "a task",
  hints: ["the concept", "more detail"],
  run: (impl) => impl.f(),
  judge: async (received) => void await judge(received),
});

Deno.test("runTask: done, not yet, wrong, crashed, and a stub of an earlier task", async () => {
  const exact = task(async (received) => await expectClose("f()", received, [1, 2]));
  const done = await runTask(exact, { f: () => [1, 2.0000001] });
  assert.deepEqual([done.status, formatResult(done)], ["done", "✔ 7.2 a task"]);

  const stub = {
    f: () => {
      throw new Todo("7.2", "the stub's own words");
    },
  };
  const todo = await runTask(exact, stub);
  assert.equal(formatResult(todo), "✘ 7.2 a task: not yet: the concept");
  const second = formatResult(todo, undefined, { level: 2, hints: exact.hints });
  assert.equal(second, "✘ 7.2 a task: not yet: more detail");

  const wrong = await runTask(exact, { f: () => [1, 3] });
  assert.equal(wrong.status, "wrong");
  assert.equal(
    formatResult(wrong),
    "✘ 7.2 a task: f() at [1]: expected 2, received 3; 1 of 2 values differ",
  );

  const shape = await runTask(exact, { f: () => [[1, 2]] });
  assert.equal(shape.message, "f(): expected shape [2], received shape [1, 2]");

  const crashed = await runTask(exact, {
    f: () => {
      throw new TypeError("cannot read properties of undefined\n  more detail");
    },
  });
  assert.equal(
    formatResult(crashed),
    "✘ 7.2 a task: TypeError: cannot read properties of undefined",
  );

  const earlier = await runTask(exact, {
    f: () => {
      throw new Todo("7.1", "write the helper first");
    },
  });
  assert.equal(earlier.status, "todo");
  assert.equal(earlier.message, "needs task 7.1 first (write the helper first)");
});

Deno.test("runTask stops waiting for a task whose promise never settles", async () => {
  const result = await runTask(task(() => {}), { f: () => new Promise(() => {}) }, {
    seconds: 0.1,
  });
  assert.equal(result.status, "timeout");
  assert.match(formatResult(result), /^✘ 7\.2 a task: did not finish in 0\.1 s/);
});

Deno.test("expectClose names a tensor where a number is expected, a missing await", async () => {
  const scalar = new ReceivedTensor([], "float32", [1.5]);
  await assert.rejects(
    () => expectClose("mseLineGrads(...).dw", scalar, 1.5),
    /mseLineGrads\(\.\.\.\)\.dw: received a tensor where a number is expected: .*await t\.item\(\)/,
  );
  const values = new ReceivedTensor([2], "float32", [1, 2]);
  await assert.rejects(() => expectClose("v", values, [1, 2]), /await t\.data\(\)/);
  const promise = fromPlain(await toPlain({ dw: Promise.resolve(1) })).dw;
  await assert.rejects(() => expectClose("dw", promise, 1), /a Promise .*a missing await\?/);
  await assert.rejects(
    () => expectClose("y", [1, 2], new ReceivedTensor([2], "float32", [1, 2])),
    /y: expected a tensor of shape \[2\], received \[1, 2\]/,
  );
});

Deno.test("expectClose names a known mistake when the answer matches it", async () => {
  const mistakes = [
    { value: 10, says: "a sum instead of a mean: divide by the count" },
    { value: 5, says: "a missing factor 2" },
  ];
  await expectClose("mean", 2.5, 2.5, { mistakes });
  await assert.rejects(
    () => expectClose("mean", 10, 2.5, { mistakes }),
    (error: Mismatch) =>
      error.message === "mean: a sum instead of a mean: divide by the count " +
          "(expected 2.5, received 10)",
  );
  await assert.rejects(() => expectClose("mean", 7, 2.5, { mistakes }), /^((?!factor).)*$/);
  // An answer that is right but imprecise is not named after a mistake lying close by.
  const near = [{ value: 1.0013, says: "the unbiased variance" }];
  await assert.rejects(
    () => expectClose("x", 1.00001, 1, { rtol: 1e-7, atol: 1e-9, mistakes: near }),
    (error: Mismatch) => !error.message.includes("unbiased"),
  );
});

Deno.test("expectClose says when float32 came back where float64 was asked for", async () => {
  const expected = { shape: [2], dtype: "float64", data: () => new Float64Array([1 / 3, 2 / 3]) };
  const received = new ReceivedTensor([2], "float32", Array.from(new Float32Array([1 / 3, 2 / 3])));
  await assert.rejects(
    () => expectClose("conv2dByLoops(...)", received, expected, { atol: 1e-9, rtol: 1e-9 }),
    /right to float32's precision, but the inputs are float64: .*dtype: input\.dtype/,
  );
});

Deno.test("expectClose compares tensors by their shape and data", async () => {
  const tensor = (shape: number[], values: number[]) => ({
    shape,
    data: () => Promise.resolve(Float32Array.from(values)),
  });
  await expectClose("t", tensor([2, 2], [1, 2, 3, 4]), tensor([2, 2], [1, 2, 3, 4]));
  await assert.rejects(
    () => expectClose("conv", tensor([1, 2], [0, 5]), tensor([1, 2], [0, 1])),
    (error: Mismatch) =>
      error.message === "conv at [0, 1]: expected 1, received 5; 1 of 2 values differ",
  );
  await assert.rejects(() => expectClose("x", "text", 1), /x: expected a number, received "text"/);
  await expectClose("nan", [NaN], [NaN]);
  await assert.rejects(
    () => expectClose("close", 1.001, 1),
    /close: expected 1, received 1\.001; tolerance 0\.00001 \+ 0\.0001·\|expected\|/,
  );
});

Deno.test("what run returns crosses to the judge as JSON: tensors, NaN, undefined", async () => {
  const tensor = { shape: [2], dtype: "float64", data: () => new Float64Array([NaN, 2]) };
  const plain = await toPlain({ t: tensor, n: Infinity, u: undefined, f: Math.max, list: [1] });
  const back = fromPlain(JSON.parse(JSON.stringify(plain)));
  assert.ok(back.t instanceof ReceivedTensor);
  assert.deepEqual([back.t.shape, back.t.dtype, back.t.values], [[2], "float64", [NaN, 2]]);
  assert.equal(back.n, Infinity);
  assert.ok("u" in back && back.u === undefined);
  assert.equal(describe(back.f), "a function max");
  assert.deepEqual(back.list, [1]);
});

Deno.test("expectEqual and describe show values briefly", () => {
  expectEqual("shape", [2, 3], [2, 3]);
  assert.throws(
    () => expectEqual("shape", [3, 2], [2, 3]),
    /shape: expected \[2, 3\], received \[3, 2\]/,
  );
  assert.throws(
    () => expectEqual("weight.grad", "a tensor", null, "the gradient was not cleared"),
    /weight\.grad: the gradient was not cleared \(expected null, received "a tensor"\)/,
  );
  assert.equal(
    describe(Array.from({ length: 10 }, (_, i) => i)),
    "[0, 1, 2, 3, 4, 5, … (10 values)]",
  );
  assert.equal(describe(new Float32Array([0.5, 0.25])), "[0.5, 0.25]");
  assert.equal(describe(undefined), "undefined");
});

Deno.test("defineTasks wants ids N.1, N.2, ... in order, two hints, run and judge", () => {
  const base = {
    title: "t",
    hints: ["h1", "h2"] as [string, string],
    run: () => 0,
    judge: () => {},
  };
  defineTasks([{ ...base, id: "2.1" }, { ...base, id: "2.2" }]);
  assert.throws(
    () => defineTasks([{ ...base, id: "2.1" }, { ...base, id: "2.3" }]),
    /task 2 has id "2.3", expected "2.2"/,
  );
  assert.throws(
    () => defineTasks([{ ...base, id: "2.1", hints: ["only one"] as never }]),
    /needs a title and two hints/,
  );
  assert.throws(() => defineTasks([{ ...base, id: "2.1", judge: undefined as never }]), /judge/);
});

Deno.test("a hint that quotes a line of the solution is found", () => {
  const source = "export function f(p) {\n  p.assign(p.sub(p.grad.mul(lr)));\n  return 1;\n}\n";
  assert.equal(
    answerLineIn("inside noGrad() do p.assign(p.sub(p.grad.mul(lr))), then", source),
    "p.assign(p.sub(p.grad.mul(lr)));",
  );
  assert.equal(answerLineIn("move p against its gradient, scaled by lr", source), undefined);
});

Deno.test("the fixture's solutions pass every task", async () => {
  for (const t of fixtureTasks) assert.equal((await runTask(t, solutions)).status, "done", t.id);
});

Deno.test("the sandbox prints one line a task, never a stack trace", async () => {
  const lines = await check("student.ts");
  assert.match(lines[0], /^Fixture \(.*student\.ts\)$/);
  assert.deepEqual(lines.slice(1), [
    "  ✔ 99.1 square a number",
    "      │ a student's own print shows under the task",
    "      │ a student's own print shows under the task",
    "  ✘ 99.2 mean of a list: mean([1, 2, 3, 4]): divided by one less than the count " +
    "(expected 2.5, received 3.33333)",
    "  ✘ 99.3 scale a vector: not yet: multiply each value",
    "  1 of 3 tasks done.",
    "  Stuck? Add --hint 2 for a second hint.",
  ]);
  assert.ok(!lines.join("\n").includes("    at "), "no stack frames");
});

Deno.test("the sandbox reports a task that never returns, then goes on", async () => {
  const started = performance.now();
  const lines = await check("hang.ts", 1);
  assert.deepEqual(lines.slice(1, 4), [
    "  ✘ 99.1 square a number: did not finish in 1 s (an endless loop, a wait that never " +
    "ends, or very slow code?)",
    "  ✘ 99.2 mean of a list: did not finish: it waits for a Promise that never settles " +
    "(a missing resolve?)",
    "  ✔ 99.3 scale a vector",
  ]);
  assert.ok(performance.now() - started < 20_000, "no hang");
});

Deno.test("a module that patches the checks and assert helpers does not pass them", async () => {
  const lines = await check("cheat.ts");
  assert.deepEqual(lines.slice(1, 5), [
    "  ✘ 99.1 square a number: [square(3), square(-0.5)]: twice x instead of x times x " +
    "(expected 9, received 6; 2 of 2 values differ)",
    "  ✘ 99.2 mean of a list: mean([1, 2, 3, 4]): a sum instead of a mean: divide by the count " +
    "(expected 2.5, received 10)",
    "  ✘ 99.3 scale a vector: scale([1, 2, 3], 2) at [0]: expected 2, received 1; " +
    "3 of 3 values differ",
    "  0 of 3 tasks done.",
  ]);
  // The checker's own copies were never touched.
  assert.equal(Math.abs(-1), 1);
  assert.equal(typeof fixtureTasks[0].judge, "function");
});

Deno.test("the student's file runs without permissions", async () => {
  const lines = await check("escape.ts");
  assert.match(lines[1], /^ {2}✘ 99\.1 square a number: NotCapable: Requires read access/);
  assert.match(lines[2], /^ {2}✘ 99\.2 mean of a list: NotCapable: Requires env access/);
  assert.equal(lines[3], "  ✔ 99.3 scale a vector");
});

Deno.test("a file that does not load is reported in one line", async () => {
  for (const file of ["does-not-exist.ts", "broken.ts"]) {
    const lines = await check(file);
    assert.equal(lines.length, 2, lines.join("\n"));
    assert.match(lines[1], new RegExp(`^ {2}✘ could not load .*${file.replace(".", "\\.")}: `));
  }
  const broken = await check("broken.ts");
  assert.match(broken[1], /a mistake at the top level/);
});

Deno.test("checkInSandbox gives every task a result in order", async () => {
  const report = await checkInSandbox(
    fixtureTasks,
    new URL("tasks.ts", fixture),
    new URL("solutions.ts", fixture),
  );
  assert.ok(report.loaded);
  assert.deepEqual(report.results.map((r) => `${r.id} ${r.status}`), [
    "99.1 done",
    "99.2 done",
    "99.3 done",
  ]);
});

Deno.test("lessons are found from their folders, NN-slug with a tasks.ts", async () => {
  const root = await Deno.makeTempDir();
  try {
    for (const folder of ["07-new-lesson", "12-later", "notes", "08-no-tasks-yet"]) {
      await Deno.mkdir(`${root}/${folder}`);
    }
    await Deno.writeTextFile(`${root}/07-new-lesson/tasks.ts`, "");
    await Deno.writeTextFile(`${root}/12-later/tasks.ts`, "");
    const found = await lessonFolders(new URL(`file://${root}/`));
    assert.deepEqual(found.map((entry) => [entry.number, entry.folder]), [
      [7, "07-new-lesson"],
      [12, "12-later"],
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
  const lessons = await lessonFolders();
  assert.ok(lessons.some((entry) => entry.folder === "01-regression"));
});

Deno.test("deno task check: narrowed permissions, no config, plain lines", async () => {
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      "--no-prompt",
      "--allow-read=.",
      "--allow-run",
      "lessons/check.ts",
      "--folder",
      "tests/fixtures/exercises",
      "--exercises",
      "student.ts",
      "--hint",
      "2",
    ],
    cwd: new URL("..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await command.output();
  const text = new TextDecoder().decode(stdout);
  assert.equal(new TextDecoder().decode(stderr), "");
  assert.equal(code, 1, "not every task is done");
  assert.deepEqual(text.trimEnd().split("\n").slice(1), [
    "  ✔ 99.1 square a number",
    "      │ a student's own print shows under the task",
    "      │ a student's own print shows under the task",
    "  ✘ 99.2 mean of a list: mean([1, 2, 3, 4]): divided by one less than the count " +
    "(expected 2.5, received 3.33333) (hint: add the values, divide by values.length)",
    "  ✘ 99.3 scale a vector: not yet: values.map with a function of one value",
    "  1 of 3 tasks done.",
  ]);
});

Deno.test("every lesson's solutions pass in the sandbox, without permissions", async () => {
  for (const lesson of await lessonFolders()) {
    const tasksUrl = new URL("tasks.ts", lesson.url);
    const { default: tasks } = await import(tasksUrl.href);
    const report = await checkInSandbox(tasks, tasksUrl, new URL("solutions.ts", lesson.url));
    assert.ok(report.loaded, `${lesson.folder}/solutions.ts loads in the sandbox`);
    const failed = report.results.filter((result) => result.status !== "done");
    assert.deepEqual(
      failed.map((result) => `${lesson.folder} ${formatResult(result)}`),
      [],
      "a task whose run needs a permission (a data file, the network) fails only in the sandbox",
    );
  }
});
