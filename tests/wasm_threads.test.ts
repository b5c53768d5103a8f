/**
 * The second thread: a matrix product shared between two threads gives exactly the bytes of the
 * one-thread product, and everything still works where memory cannot be shared.
 * @module
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { WasmKernels } from "../core/wasm/kernels.ts";
import { randomF32, seeded, upload } from "./wasm_helpers.ts";

/** Runs `product` until the helper thread has taken part (it starts on first use). */
async function untilShared(kernels: WasmKernels, product: () => void): Promise<void> {
  const before = kernels.sharedProducts;
  for (let attempt = 0; attempt < 200 && kernels.sharedProducts === before; attempt++) {
    product();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test("a large matmul split over two threads equals the one-thread result exactly", async () => {
  const kernels = WasmKernels.create();
  ok(kernels.shared, "Deno should give the kernels a shared memory");
  const random = seeded(31);
  const [m, n, k] = [203, 150, 170];
  const a = upload(kernels, randomF32(random, m * k));
  const b = upload(kernels, randomF32(random, k * n));
  const one = kernels.alloc(m * n * 4);
  const two = kernels.alloc(m * n * 4);
  for (const transB of [false, true]) {
    const spec = { m, n, k, transB, batch: 1 };
    kernels.setThreads(1);
    kernels.matmul(one, a, b, spec);
    kernels.setThreads(2);
    kernels.threadThreshold = 1;
    await untilShared(kernels, () => kernels.matmul(two, a, b, spec));
    ok(kernels.sharedProducts > 0, "the second thread never took part");
    deepStrictEqual(
      kernels.f32(two, m * n),
      kernels.f32(one, m * n),
      `matmul [${m}, ${k}] @ [${k}, ${n}] transB=${transB}: two threads differ from one`,
    );
  }
  kernels.stopThreads();
});

Deno.test("batched products split across the batch boundary between the threads", async () => {
  const kernels = WasmKernels.create();
  const random = seeded(32);
  const [batch, m, n, k] = [3, 10, 30, 20];
  const a = upload(kernels, randomF32(random, batch * m * k));
  const b = upload(kernels, randomF32(random, k * n));
  const one = kernels.alloc(batch * m * n * 4);
  const two = kernels.alloc(batch * m * n * 4);
  const spec = { m, n, k, batch, bBatchStride: 0 };
  kernels.setThreads(1);
  kernels.matmul(one, a, b, spec);
  kernels.setThreads(2);
  kernels.threadThreshold = 1;
  await untilShared(kernels, () => kernels.matmul(two, a, b, spec));
  deepStrictEqual(kernels.f32(two, batch * m * n), kernels.f32(one, batch * m * n));
  kernels.stopThreads();
});

Deno.test("without shared memory the kernels run on one thread", () => {
  const kernels = WasmKernels.create({ shared: false });
  strictEqual(kernels.shared, false);
  kernels.setThreads(2);
  strictEqual(kernels.threads, 1, "asking for two threads on unshared memory must give one");
  const a = upload(kernels, [1, 2, 3, 4]);
  const c = kernels.alloc(16);
  kernels.matmul(c, a, a, { m: 2, n: 2, k: 2 });
  deepStrictEqual(Array.from(kernels.f32(c, 4)), [7, 10, 15, 22]);
});
