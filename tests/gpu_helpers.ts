/**
 * Helpers of the WebGPU test files: registering tests that need an adapter, and running the same
 * computation on the CPU and on WebGPU to compare forward values and gradients.
 *
 * Without an adapter the WebGPU tests are registered as ignored, and the reason is printed once.
 * With `REQUIRE_WEBGPU=1` (set by `.ci/run`) a missing adapter fails every one of them instead,
 * so a skip can never hide a failure in CI.
 *
 * @module
 */
import { manualSeed, rand, type Tensor, tensor, type Tolerance } from "../mod.ts";
import { assertClose } from "../mod.ts";
import { initWebGPU, webgpuBackend, webgpuUnavailableReason } from "../gpu/mod.ts";
import type { WebGPUBackend } from "../gpu/backend.ts";

/** Whether WebGPU works in this process. */
export const gpuReady: boolean = await initWebGPU();

function envFlag(name: string): boolean {
  try {
    return Deno.env.get(name) === "1";
  } catch {
    return false;
  }
}

const required = envFlag("REQUIRE_WEBGPU");
const reason = webgpuUnavailableReason() ?? "unknown reason";
let announced = false;

/** The registered WebGPU backend (only valid inside a {@link gpuTest}). */
export function gpu(): WebGPUBackend {
  return webgpuBackend()!;
}

/**
 * Registers a test that needs WebGPU: ignored (with the reason printed) when there is no
 * adapter, failed instead when `REQUIRE_WEBGPU=1`. Resource and op sanitizers are off, because
 * WebGPU keeps device resources and callbacks alive across tests.
 */
export function gpuTest(name: string, fn: (t: Deno.TestContext) => Promise<void> | void): void {
  if (!gpuReady && required) {
    Deno.test(name, () => {
      throw new Error(`WebGPU is required (REQUIRE_WEBGPU=1) but unavailable: ${reason}`);
    });
    return;
  }
  if (!gpuReady && !announced) {
    announced = true;
    console.log(`WebGPU tests are skipped: ${reason}`);
  }
  Deno.test({ name, ignore: !gpuReady, sanitizeOps: false, sanitizeResources: false, fn });
}

/** A copy of a CPU tensor on WebGPU as a new leaf (requiring a gradient if the original does). */
export function onGpu(t: Tensor): Tensor {
  return tensor(t.dataSync(), {
    shape: t.shape,
    dtype: t.dtype,
    device: "webgpu",
    requiresGrad: t.requiresGrad,
  });
}

/** Seeded uniform float32 values in `[low, high)` on the CPU (a leaf requiring a gradient). */
export function input(shape: number[], seed: number, { low = -1, high = 1 } = {}): Tensor {
  manualSeed(seed);
  return rand(shape).mul(high - low).add(low).requiresGrad_();
}

/** Float32 parity tolerance of most ops (see the parity suite's header). */
export const TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-4 };

/**
 * Runs `fn` on CPU inputs and on WebGPU copies of them, and checks that the outputs agree and,
 * when the output has a gradient, that the gradients of every input agree. The gradient is that
 * of `sum(fn(inputs) * probe)` for a fixed random probe, so every output element matters.
 */
export async function checkParity(
  name: string,
  inputs: Tensor[],
  fn: (...xs: Tensor[]) => Tensor,
  tolerance: Tolerance = TOLERANCE,
  gradTolerance: Tolerance = tolerance,
): Promise<void> {
  const gpuInputs = inputs.map(onGpu);
  const expected = fn(...inputs);
  const actual = fn(...gpuInputs);
  if (actual.device !== "webgpu") {
    throw new Error(`${name}: the result is on "${actual.device}", expected "webgpu"`);
  }
  if (actual.dtype !== expected.dtype) {
    throw new Error(`${name}: dtype ${actual.dtype} on WebGPU, ${expected.dtype} on the CPU`);
  }
  await assertClose(actual, expected, tolerance, `${name} forward`);
  if (!expected.requiresGrad) return;
  manualSeed(12345);
  const probe = rand(expected.shape).add(0.5);
  expected.mul(probe).sum().backward();
  actual.mul(onGpu(probe)).sum().backward();
  for (const [k, x] of inputs.entries()) {
    if (!x.requiresGrad) continue;
    const want = x.grad;
    const got = gpuInputs[k].grad;
    if (!want || !got) {
      throw new Error(`${name}: input ${k} has a gradient on one device only`);
    }
    if (got.device !== "webgpu") throw new Error(`${name}: gradient ${k} left the GPU`);
    await assertClose(got, want, gradTolerance, `${name} gradient of input ${k} [${x.shape}]`);
  }
}
