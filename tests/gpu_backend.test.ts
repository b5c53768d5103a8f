/**
 * The WebGPU backend's machinery: dispatch splitting past the workgroup limit, the binding-size
 * limit, float64 errors, device loss, the buffer pool, the pipeline cache, index clamping, the
 * device picker, and the browser type check of `gpu/`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertClose, manualSeed, randn, tensor, zeros } from "../mod.ts";
import { device, isSoftwareWebGPU, pickDevice } from "../mod.ts";
import { WebGPUBackend } from "../gpu/backend.ts";
import { sizeClass } from "../gpu/pool.ts";
import { gpu, gpuTest, onGpu } from "./gpu_helpers.ts";
import { assertRejectsWith, assertThrowsWith } from "./core_helpers.ts";

gpuTest(
  "launches of more workgroups than one dimension allows are split over a 2-D grid",
  async () => {
    const runtime = gpu().runtime;
    assert.deepEqual(runtime.grid(10), [10, 1]);
    const limit = runtime.maxWorkgroupsPerDimension;
    const [x, y] = runtime.grid(limit * 3 + 1);
    assert.ok(x <= limit && y === 4 && x * y >= limit * 3 + 1, `grid gave ${x} x ${y}`);
    // Shrink the limit so that ordinary sizes exercise the 2-D path of every kernel family.
    runtime.maxWorkgroupsPerDimension = 7;
    try {
      manualSeed(40);
      const a = randn([37, 300]);
      const b = randn([300, 45]);
      const ga = onGpu(a), gb = onGpu(b);
      await assertClose(ga.exp(), a.exp(), { rtol: 2e-4 }, "unary with a 2-D grid");
      await assertClose(ga.add(ga.T.T), a.add(a), {}, "binary with a 2-D grid");
      await assertClose(ga.sum(1), a.sum(1), { atol: 1e-4 }, "tree reduction with a 2-D grid");
      await assertClose(ga.max(0), a.max(0), {}, "loop reduction with a 2-D grid");
      await assertClose(ga.argmax(1), a.argmax(1), {}, "argmax with a 2-D grid");
      await assertClose(ga.matmul(gb), a.matmul(b), { atol: 1e-4 }, "matmul with a 2-D grid");
    } finally {
      runtime.maxWorkgroupsPerDimension = limit;
    }
  },
);

gpuTest(
  "a tensor larger than maxStorageBufferBindingSize gets an error naming op, size and limit",
  () => {
    const elements = gpu().maxBindingBytes / 4 + 1;
    const limitMiB = (gpu().maxBindingBytes / 2 ** 20).toFixed(1);
    assertThrowsWith(() => zeros([elements], { device: "webgpu" }), [
      "zeros",
      `[${elements}]`,
      `${limitMiB} MiB`,
      "webgpu",
    ]);
  },
);

gpuTest("float64 on WebGPU gets a clear error", () => {
  const x = tensor([1, 2], { device: "webgpu" });
  assertThrowsWith(() => x.to("float64"), ["float64", "WGSL"]);
  assertThrowsWith(() => tensor([1], { dtype: "float64" }).to("webgpu"), ["float64"]);
  assertThrowsWith(() => gpu().upload(new Float64Array(2)), ["float64", ".float()"]);
});

gpuTest("a lost device is reported as an error, not a hang", async () => {
  const adapter = await navigator.gpu.requestAdapter();
  const lostDevice = await adapter!.requestDevice();
  const backend = new WebGPUBackend(lostDevice, "test adapter");
  const storage = backend.upload(Float32Array.of(1, 2, 3));
  assert.deepEqual(Array.from(await backend.read(storage, "float32")), [1, 2, 3]);
  // A read in flight when the device goes away settles (one way or the other) instead of hanging.
  const inFlight = backend.read(storage, "float32").then(() => "read", () => "rejected");
  lostDevice.destroy();
  const info = await lostDevice.lost;
  assert.ok(["read", "rejected"].includes(await inFlight));
  assert.equal(info.reason, "destroyed");
  await assertRejectsWith(() => backend.read(storage, "float32"), ["WebGPU device lost"]);
  assertThrowsWith(() => backend.fill(4, 1, "float32"), ["WebGPU device lost"]);
  backend.free(storage);
});

gpuTest("freed buffers are reused instead of created again", async () => {
  const backend = gpu();
  const x = randn([1000], { device: "webgpu" });
  for (let i = 0; i < 5; i++) x.mul(2).add(1).dispose();
  await x.sum().item();
  const before = backend.stats();
  for (let i = 0; i < 50; i++) {
    const y = x.mul(2);
    const z = y.add(1);
    y.dispose();
    z.dispose();
  }
  const after = backend.stats();
  await x.sum().item();
  // 100 results of 1000 elements, all served by at most two buffers created for them.
  assert.ok(
    after.created <= before.created + 2,
    `buffers created during 100 ops: ${after.created - before.created}`,
  );
  assert.ok(after.live <= before.live + 1, `live buffers: ${before.live} -> ${after.live}`);
  assert.equal(sizeClass(1), 16);
  assert.equal(sizeClass(5000), 5120);
  assert.equal(sizeClass(8192), 8192);
});

gpuTest("pipelines are compiled once per kernel variant", async () => {
  const x = randn([3, 5], { device: "webgpu" });
  await x.exp().add(x).sum(1).data();
  const count = gpu().runtime.pipelineCount;
  for (let i = 0; i < 10; i++) await x.exp().add(x).sum(1).data();
  assert.equal(gpu().runtime.pipelineCount, count);
});

gpuTest(
  "indices out of range raise the CPU's error at the next read back, never a clamped value",
  async () => {
    const x = tensor([[10, 20, 30], [40, 50, 60]], { device: "webgpu" });
    const index = tensor([[5], [-2]], { dtype: "int32", device: "webgpu" });
    await assertRejectsWith(() => x.gather(1, index).toArray(), ["gather", "out of bounds"]);
    const rows = tensor([3], { dtype: "int32", device: "webgpu" });
    await assertRejectsWith(() => x.indexSelect(0, rows).toArray(), ["indexSelect", "out of"]);
    // The flag is cleared once reported: the next good op reads back normally.
    assert.deepEqual(await x.sum(1).toArray(), [60, 150]);
  },
);

gpuTest("pickDevice and device() choose WebGPU when it works", async () => {
  const asked = await pickDevice("webgpu");
  assert.equal(asked.device, "webgpu");
  assert.match(asked.reason, /WebGPU on /);
  // "auto" prefers the CPU kernels over a software adapter (llvmpipe, SwiftShader), and says so.
  const auto = await pickDevice();
  if (isSoftwareWebGPU()) {
    assert.equal(auto.device, "cpu");
    assert.match(
      auto.reason,
      /the only WebGPU adapter is .+, a software one, slower than the CPU kernels/,
    );
  } else {
    assert.equal(auto.device, "webgpu");
  }
  assert.deepEqual(await pickDevice("cpu"), { device: "cpu", reason: "the CPU was asked for" });
  assert.equal(await device("webgpu"), "webgpu");
  assert.equal(await device("cpu"), "cpu");
});

gpuTest("empty tensors work on WebGPU", async () => {
  const empty = zeros([0, 3], { device: "webgpu" });
  assert.deepEqual(Array.from(await empty.add(1).data()), []);
  assert.deepEqual(Array.from(await empty.sum(0).data()), [0, 0, 0]);
  assert.deepEqual(
    await zeros([2, 0], { device: "webgpu" }).matmul(zeros([0, 2], { device: "webgpu" })).toArray(),
    [[0, 0], [0, 0]],
  );
});

Deno.test({
  name: "gpu/ type-checks for the browser (DOM lib and @webgpu/types)",
  // Type checking downloads @webgpu/types from npm the first time.
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const config = new URL("../gpu/deno.browser.json", import.meta.url);
    const entry = new URL("../gpu/mod.ts", import.meta.url);
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--config", config.pathname, entry.pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(result.stderr) +
      new TextDecoder().decode(result.stdout);
    assert.ok(result.success, `deno check with the browser config failed:\n${output}`);
  },
});
