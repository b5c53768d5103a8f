// deno-lint-ignore-file no-explicit-any
/**
 * More PyTorch habits that ran without a word (students run code with `deno run`, without a type
 * checker): each must throw an error that names the op, what was wrong and what to write.
 */
import assert from "node:assert/strict";
import { F, isGradEnabled, nn, noGrad, tensor, withNoGrad } from "../mod.ts";
import { parseRunArgs } from "../lessons/run.ts";
import { checkInSandbox } from "../lessons/sandbox.ts";
import fixtureTasks from "./fixtures/exercises/tasks.ts";

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error, got none");
}

Deno.test("an options object where the kernel size or the sizes belong shows the positional call", () => {
  const x = tensor([[[[1, 2], [3, 4]]]]);
  const any = (v: unknown) => v as any;

  let m = messageOf(() => F.maxPool2d(x, any({ kernel_size: 2, stride: 2 })));
  assert.match(m, /^maxPool2d: the kernel size is the second argument \(a number or \[h, w\]\)/);
  assert.ok(m.includes("F.maxPool2d(x, 2, { stride: 2 })"), m);
  m = messageOf(() => F.avgPool2d(x, any({ kernelSize: 2 })));
  assert.ok(m.includes("F.avgPool2d(x, 2)"), m);
  m = messageOf(() => new nn.MaxPool2d(any({ kernel_size: 2 })));
  assert.ok(m.startsWith("MaxPool2d: the kernel size is the first argument"), m);
  assert.ok(m.includes("new nn.MaxPool2d(2)"), m);
  m = messageOf(() => new nn.AvgPool2d(any({ kernel_size: [2, 3], stride: 1 })));
  assert.ok(m.includes("new nn.AvgPool2d([2,3], { stride: 1 })"), m);
  m = messageOf(() =>
    new (nn.Conv2d as any)({ in_channels: 3, out_channels: 16, kernel_size: 3, padding: 1 })
  );
  assert.ok(m.startsWith("Conv2d: the input channels, output channels and kernel size"), m);
  assert.ok(m.includes("new nn.Conv2d(3, 16, 3, { padding: 1 })"), m);
  m = messageOf(() => new (nn.Linear as any)({ in_features: 4, out_features: 2, bias: false }));
  assert.ok(m.includes("new nn.Linear(4, 2, { bias: false })"), m);
  m = messageOf(() => new nn.BatchNorm2d(any({ num_features: 8 })));
  assert.ok(m.startsWith("BatchNorm2d: the number of features"), m);
  assert.ok(m.includes("new nn.BatchNorm2d(8)"), m);
  // The positional forms still work.
  assert.deepEqual(F.maxPool2d(x, 2, { stride: 2 }).shape, [1, 1, 1, 1]);
  assert.equal(new nn.Conv2d(3, 16, 3, { padding: 1 }).outChannels, 16);
});

Deno.test("a device of PyTorch or another library names the devices this framework has", () => {
  const x = tensor([1, 2]);
  for (
    const [call, op, device] of [
      [() => x.to("cuda" as any), "to", "cuda"],
      [() => x.to("cuda:0" as any), "to", "cuda:0"],
      [() => x.to({ device: "mps" } as any), "to", "mps"],
      [() => tensor([1], { device: "gpu" } as any), "tensor", "gpu"],
      [() => new nn.Linear(2, 2).to("cuda" as any), "Module.to", "cuda"],
    ] as [() => unknown, string, string][]
  ) {
    const m = messageOf(call);
    assert.ok(m.startsWith(`${op}: unknown device "${device}"`), m);
    assert.ok(m.includes(`the devices here are "cpu" and "webgpu"; for a GPU use "webgpu"`), m);
  }
  assert.match(messageOf(() => x.to("float" as any)), /^to: unknown dtype "float"/);
});

Deno.test("a read back used without await says to await it; await and then still work", async () => {
  const loss = tensor([1.5, 2]).sum();
  let running = 0;
  let m = messageOf(() => (running += loss.item() as any));
  assert.equal(
    m,
    "item: t.item() is asynchronous (it returns a Promise), so it cannot be used as a value: " +
      'write "await t.item()" (or t.itemSync() on the CPU)',
  );
  assert.ok(messageOf(() => Number(loss.item())).startsWith("item: t.item() is asynchronous"));
  assert.ok(messageOf(() => (loss.item() as any).toFixed(3)).includes('"await t.item()"'));
  m = messageOf(() => `${loss.data()}`);
  assert.ok(m.includes('write "await t.data()" (or t.dataSync() on the CPU)'), m);
  assert.ok(messageOf(() => [...(loss.data() as any)]).startsWith("data: t.data() is async"));
  m = messageOf(() => (tensor([1, 2]).toArray() as any).map((v: number) => v));
  assert.ok(m.startsWith("toArray: t.toArray() is asynchronous") && !m.includes("Sync"), m);
  assert.ok(messageOf(() => String(loss.cpu())).includes('"await t.cpu()"'));
  // The ordinary uses.
  running += await loss.item();
  assert.equal(running, 3.5);
  assert.equal(loss.itemSync(), 3.5);
  assert.equal(await loss.item().then((v) => v * 2), 7);
  assert.ok(loss.item() instanceof Promise);
  assert.deepEqual(await Promise.all([loss.toArray(), tensor([1, 2]).toArray()]), [3.5, [1, 2]]);
  await assert.rejects(tensor([1, 2]).item(), /item: only a tensor with one element/);
  assert.match(messageOf(() => tensor([1, 2]).itemSync()), /^itemSync: only a tensor with one/);
});

Deno.test("w.data = ... (PyTorch's w.data -= ...) says how to change values here", async () => {
  const w = tensor([1, 2], { requiresGrad: true });
  const m = messageOf(() => ((w as any).data = w.sub(0.1)));
  assert.ok(m.startsWith("data: t.data is a method here"), m);
  assert.ok(m.includes("{ using _ = noGrad(); w.assign(w.sub(0.1)); }"), m);
  assert.ok(m.includes("optimizer.step()"), m);
  // data() still reads, and is the same method on every tensor.
  assert.deepEqual(Array.from(await w.data()), [1, 2]);
  assert.equal(w.data, tensor([3]).data);
  // A snake_case name assigned to says where it went, as when it is read.
  assert.match(
    messageOf(() => ((w as any).requires_grad = true)),
    /^Tensor\.requires_grad: the names here are PyTorch's in camelCase: use t\.requiresGrad/,
  );
});

Deno.test("backward() after a bare noGrad() says the guard is still active and where it was made", () => {
  const w = tensor([1, 2], { requiresGrad: true });
  {
    using _ = noGrad();
  }
  w.mul(2).sum().backward(); // a disposed guard leaves nothing behind
  const guard = noGrad(); // PyTorch's torch.no_grad() without `with`
  try {
    const m = messageOf(() => w.mul(2).sum().backward());
    assert.ok(m.startsWith("backward: this tensor does not require a gradient"), m);
    assert.ok(m.includes("a noGrad() guard made at "), m);
    assert.ok(m.includes("pytorch_habits_more.test.ts:"), m);
    assert.ok(m.includes('a bare "noGrad();" turns gradients off'), m);
    assert.ok(m.includes("{ using _ = noGrad(); ... }"), m);
  } finally {
    guard.restore();
  }
  assert.ok(isGradEnabled());
  const m = messageOf(() => withNoGrad(() => w.mul(2).sum().backward()));
  assert.ok(m.includes("inside withNoGrad()"), m);
  // Without any guard the message is the one about requiresGrad.
  assert.ok(messageOf(() => tensor([1]).sum().backward()).includes("{ requiresGrad: true }"));
});

Deno.test("out.max(1).eq(labels) and out.max(1)[1] say that max gives only the values", async () => {
  const out = tensor([[0.1, 0.9], [0.8, 0.2]]);
  const labels = tensor([1, 0], { dtype: "int32" });
  let m = messageOf(() => out.max(1).eq(labels));
  assert.ok(m.startsWith("eq: comparing the maxima of x.max(dim) (float32) with an int32"), m);
  assert.ok(m.includes("x.argmax(dim).eq(labels)"), m);
  m = messageOf(() => labels.ne(out.min(1)));
  assert.ok(m.startsWith("ne: comparing the minima of x.min(dim)"), m);
  m = messageOf(() => (out.max(1) as any)[1]);
  assert.ok(m.startsWith("Tensor: x[1]: a tensor of shape [2] has no [] indexing"), m);
  assert.ok(m.includes("for the indices use x.argmax(dim)"), m);
  m = messageOf(() => (out.max(1) as any).indices);
  assert.ok(m.startsWith('Tensor: x.indices: a tensor of shape [2] has no "indices"'), m);
  // Mixed dtypes follow PyTorch's promotion: int32 labels against float predictions.
  assert.deepEqual(await out.argmax(1).eq(labels).toArray(), [1, 1]);
  assert.deepEqual(await out.argmax(1).eq(tensor([1, 1])).toArray(), [1, 0]);
  assert.deepEqual(await tensor([1, 2.5]).eq(tensor([1, 2], { dtype: "int32" })).toArray(), [1, 0]);
  assert.deepEqual(await tensor([1, 2.5]).lt(tensor([1, 3], { dtype: "int32" })).toArray(), [0, 1]);
  assert.deepEqual(await out.argmax(1).ne(labels).toArray(), [0, 0]);
  // The maxima compared with float values, and sort's { values, indices }, still work.
  assert.deepEqual(await out.max(1).eq(tensor([0.9, 0.5])).toArray(), [1, 0]);
  assert.deepEqual(out.sort().indices.shape, [2, 2]);
});

Deno.test("a syntax error in the exercises is reported with its file, line and column", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const exercises = `${dir}/exercises.ts`;
    await Deno.writeTextFile(exercises, "export const a = 1;\nexport const b = ;\n");
    const report = await checkInSandbox(
      fixtureTasks,
      new URL("./fixtures/exercises/tasks.ts", import.meta.url),
      new URL(`file://${exercises}`),
    );
    assert.ok(!report.loaded);
    if (report.loaded) return;
    assert.ok(report.message.startsWith("SyntaxError: Expression expected at "), report.message);
    assert.ok(report.message.endsWith(`${dir}/exercises.ts:2:18`), report.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task lesson with a misspelt option suggests the option meant", () => {
  assert.equal(
    messageOf(() => parseRunArgs(["3", "--quik"])),
    "unknown option --quik; did you mean --quick? (options: --quick, --device, --seed, --data, " +
      "--lesson-file, --out, --code, --help; --help says what they do)",
  );
  assert.ok(messageOf(() => parseRunArgs(["--devcie", "cpu"])).includes("did you mean --device?"));
  assert.ok(!messageOf(() => parseRunArgs(["--zzz"])).includes("did you mean"));
  assert.equal(parseRunArgs(["3", "--quick"]).quick, true);
});
