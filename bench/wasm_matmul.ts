/**
 * Matrix product speed, float32 512 x 512 @ 512 x 512: a plain TypeScript triple loop, the wasm
 * kernel on one thread and on two. Prints GFLOP/s (the median of several runs; this kind of
 * machine is shared and noisy).
 *
 *     deno run bench/wasm_matmul.ts [size]
 *
 * @module
 */
import { WasmKernels } from "../core/wasm/kernels.ts";

const size = Number(Deno.args[0] ?? 512);
const flops = 2 * size ** 3;

/** The median time of `runs` calls, in milliseconds, after `warmup` calls. */
function medianMs(fn: () => void, runs: number, warmup: number): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(runs / 2)];
}

/** The plain loop a student would write (i, k, j order, so the inner loop walks rows). */
function matmulLoop(a: Float32Array, b: Float32Array, c: Float32Array, n: number): void {
  c.fill(0);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < n; p++) {
      const aip = a[i * n + p];
      for (let j = 0; j < n; j++) c[i * n + j] += aip * b[p * n + j];
    }
  }
}

const random = (length: number) => Float32Array.from({ length }, () => Math.random() - 0.5);
const a = random(size * size);
const b = random(size * size);

const rows: [string, number][] = [];
const c = new Float32Array(size * size);
rows.push(["TypeScript triple loop", medianMs(() => matmulLoop(a, b, c, size), 5, 1)]);

const kernels = WasmKernels.create();
const ptrA = kernels.alloc(a.byteLength);
const ptrB = kernels.alloc(b.byteLength);
const ptrC = kernels.alloc(c.byteLength);
kernels.f32(ptrA, a.length).set(a);
kernels.f32(ptrB, b.length).set(b);
const spec = { m: size, n: size, k: size };
const runWasm = () => kernels.matmul(ptrC, ptrA, ptrB, spec);

kernels.setThreads(1);
rows.push(["wasm, one thread", medianMs(runWasm, 31, 5)]);
kernels.setThreads(2);
if (kernels.threads === 2) {
  // The helper thread starts on the first large product; give it a moment.
  runWasm();
  await new Promise((resolve) => setTimeout(resolve, 100));
  rows.push(["wasm, two threads", medianMs(runWasm, 31, 5)]);
}
kernels.stopThreads();

console.log(
  `matmul ${size}x${size} @ ${size}x${size}, float32 (${
    kernels.relaxed ? "relaxed SIMD" : "SIMD"
  }), median:`,
);
for (const [name, ms] of rows) {
  const gflops = flops / ms / 1e6;
  console.log(
    `  ${name.padEnd(24)} ${ms.toFixed(2).padStart(8)} ms ${gflops.toFixed(1).padStart(7)} GFLOP/s`,
  );
}
