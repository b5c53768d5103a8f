// The exercise checker: task results, their one-line messages, and `deno task check`.
import assert from "node:assert/strict";
import { checkLesson } from "../lessons/check.ts";
import {
  defineTasks,
  describe,
  expectClose,
  expectEqual,
  formatResult,
  Mismatch,
  runTask,
  type Task,
} from "../lessons/tasks.ts";
import { painter } from "../lessons/terminal/style.ts";
import { isTodo, Todo } from "../lessons/todo.ts";
import * as solutions from "./fixtures/lesson/solutions.ts";

const fixture = new URL("./fixtures/lesson/", import.meta.url);

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
const task = (check: (impl: Impl) => unknown): Task<Impl> => ({
  id: "7.2",
  title: "a task",
  hint: "the task's hint",
  check: async (impl) => void await check(impl),
});

Deno.test("runTask: done, not yet, wrong, crashed, and a stub of an earlier task", async () => {
  const exact = task(async (impl) => await expectClose("f()", impl.f(), [1, 2]));
  const done = await runTask(exact, { f: () => [1, 2.0000001] });
  assert.deepEqual([done.status, formatResult(done)], ["done", "✔ 7.2 a task"]);

  const todo = await runTask(exact, {
    f: () => {
      throw new Todo("7.2", "return [1, 2]");
    },
  });
  assert.equal(formatResult(todo), "✘ 7.2 a task: not yet: return [1, 2]");

  const wrong = await runTask(exact, { f: () => [1, 3] });
  assert.equal(wrong.status, "wrong");
  assert.equal(
    formatResult(wrong),
    "✘ 7.2 a task: f() at [1]: expected 2, received 3 (1 of 2 values differ)",
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

Deno.test("runTask reads node:assert failures as expected against received", async () => {
  const strict = task((impl) => assert.deepEqual(impl.f(), { lr: 0.1 }));
  const result = await runTask(strict, { f: () => ({ lr: 0.2 }) });
  assert.equal(result.status, "wrong");
  assert.equal(result.message, 'expected {"lr":0.1}, received {"lr":0.2}');
  const named = task((impl) => assert.equal(impl.f(), 4, "square(2)"));
  const message = (await runTask(named, { f: () => 5 })).message;
  assert.equal(message, "square(2): expected 4, received 5");
});

Deno.test("runTask points at the line of the student's file where an error came from", async () => {
  const moduleUrl = new URL("./fixtures/lesson/broken.ts", import.meta.url).href;
  const broken = await import(moduleUrl);
  const result = await runTask(task((impl) => impl.f()), { f: broken.crash }, { moduleUrl });
  assert.match(result.message, /^RangeError: .*\(broken\.ts:\d+\)$/);
});

Deno.test("expectClose compares tensors by their shape and data", async () => {
  const tensor = (shape: number[], values: number[]) => ({
    shape,
    data: () => Promise.resolve(Float32Array.from(values)),
  });
  await expectClose("t", tensor([2, 2], [1, 2, 3, 4]), [[1, 2], [3, 4]]);
  await assert.rejects(
    () => expectClose("conv", tensor([1, 2], [0, 5]), tensor([1, 2], [0, 1])),
    (error: Mismatch) =>
      error.message === "conv at [0, 1]: expected 1, received 5 (1 of 2 values differ)",
  );
  await assert.rejects(() => expectClose("x", "text", 1), /x: expected a number, received "text"/);
  await expectClose("nan", [NaN], [NaN]);
  await assert.rejects(
    () => expectClose("close", 1.001, 1),
    /close: expected 1, received 1\.001 \(tolerance 0\.00001 \+ 0\.0001·\|expected\|\)/,
  );
});

Deno.test("expectEqual and describe show values briefly", () => {
  expectEqual("shape", [2, 3], [2, 3]);
  assert.throws(
    () => expectEqual("shape", [3, 2], [2, 3]),
    /shape: expected \[2, 3\], received \[3, 2\]/,
  );
  assert.equal(
    describe(Array.from({ length: 10 }, (_, i) => i)),
    "[0, 1, 2, 3, 4, 5, … (10 values)]",
  );
  assert.equal(describe(new Float32Array([0.5, 0.25])), "[0.5, 0.25]");
  assert.equal(describe(undefined), "undefined");
});

Deno.test("defineTasks wants ids N.1, N.2, ... in order", () => {
  const base = { title: "t", hint: "h", check: () => {} };
  defineTasks([{ ...base, id: "2.1" }, { ...base, id: "2.2" }]);
  assert.throws(
    () => defineTasks([{ ...base, id: "2.1" }, { ...base, id: "2.3" }]),
    /task 2 has id "2.3", expected "2.2"/,
  );
  assert.throws(() => defineTasks([{ ...base, id: "2.1", hint: " " }]), /needs a title and a hint/);
});

Deno.test("checkLesson prints one line a task, never a stack trace", async () => {
  const lines: string[] = [];
  const count = await checkLesson(
    {
      title: "Fixture",
      tasksUrl: new URL("tasks.ts", fixture),
      exercisesUrl: new URL("student.ts", fixture),
    },
    (line) => lines.push(line),
    painter(false),
  );
  assert.deepEqual(count, { done: 1, total: 3 });
  assert.equal(lines.length, 5);
  assert.match(lines[0], /^Fixture \(.*student\.ts\)$/);
  assert.deepEqual(lines.slice(1), [
    "  ✔ 99.1 square a number",
    "  ✘ 99.2 mean of a list: mean([1, 2, 3, 4]): expected 2.5, received 3.33333",
    "  ✘ 99.3 scale a vector: not yet: values.map(...)",
    "  1 of 3 tasks done.",
  ]);
  assert.ok(!lines.join("\n").includes("    at "), "no stack frames");
});

Deno.test("checkLesson reports a file that does not load in one line", async () => {
  const lines: string[] = [];
  await checkLesson(
    {
      title: "Fixture",
      tasksUrl: new URL("tasks.ts", fixture),
      exercisesUrl: new URL("does-not-exist.ts", fixture),
    },
    (line) => lines.push(line),
    painter(false),
  );
  assert.equal(lines.length, 2);
  assert.match(lines[1], /^ {2}✘ could not load .*does-not-exist\.ts: /);
});

Deno.test("the fixture's solutions pass every task", async () => {
  const { default: tasks } = await import("./fixtures/lesson/tasks.ts");
  for (const t of tasks) assert.equal((await runTask(t, solutions)).status, "done", t.id);
});

Deno.test("deno task check runs with narrowed permissions and prints plain lines", async () => {
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-read=.",
      "lessons/check.ts",
      "--folder",
      "tests/fixtures/lesson",
      "--exercises",
      "student.ts",
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
    "  ✘ 99.2 mean of a list: mean([1, 2, 3, 4]): expected 2.5, received 3.33333",
    "  ✘ 99.3 scale a vector: not yet: values.map(...)",
    "  1 of 3 tasks done.",
  ]);
});
