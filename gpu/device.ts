/**
 * Getting a WebGPU device, with a CPU fallback that says why.
 *
 * `initWebGPU()` asks the runtime for an adapter and a device and registers the WebGPU backend,
 * so that tensors can be created with `{ device: "webgpu" }` or moved with `.to("webgpu")`.
 * `pickDevice()` does the same but never fails: it returns `"cpu"` when WebGPU cannot be had,
 * with a one-line reason (no `navigator.gpu`, no adapter, the device was lost) for the caller to
 * print. The same code runs in Deno, in a browser page and in a Web Worker.
 *
 * @module
 */
import { registerBackend } from "../core/backend.ts";
import type { Device } from "../core/dtype.ts";
import { WebGPUBackend } from "./backend.ts";

/** The device chosen by {@link pickDevice}, and one line saying why. */
export interface DeviceChoice {
  device: Device;
  reason: string;
}

let active: WebGPUBackend | null = null;
let attempt: Promise<WebGPUBackend | string> | null = null;
let lastFailure: string | null = null;

/** The registered WebGPU backend, or null before {@link initWebGPU} succeeded. */
export function webgpuBackend(): WebGPUBackend | null {
  return active && !active.runtime.isLost ? active : null;
}

/** Why WebGPU is not available (null when it is, or when nobody asked yet). */
export function webgpuUnavailableReason(): string | null {
  return webgpuBackend() ? null : lastFailure;
}

/** Asks for an adapter and a device; returns the backend, or the reason there is none. */
async function acquire(): Promise<WebGPUBackend | string> {
  const gpu = (globalThis.navigator as Navigator & { gpu?: GPU } | undefined)?.gpu;
  if (!gpu) {
    return "this runtime has no WebGPU (navigator.gpu is missing; browsers need a recent " +
      "version, some need WebGPU enabled)";
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (error) {
    return `requesting a WebGPU adapter failed: ${messageOf(error)}`;
  }
  if (!adapter) {
    return "no WebGPU adapter was found (no usable GPU driver; on Linux without a GPU, Mesa's " +
      "Vulkan drivers provide a software adapter)";
  }
  // Ask for the adapter's own limits where they exceed the defaults: bigger tensors, more
  // workgroup memory for the matmul tiles.
  const wanted = [
    "maxStorageBufferBindingSize",
    "maxBufferSize",
    "maxComputeWorkgroupStorageSize",
    "maxComputeInvocationsPerWorkgroup",
    "maxStorageBuffersPerShaderStage",
  ] as const;
  const requiredLimits: Record<string, number> = {};
  for (const name of wanted) requiredLimits[name] = adapter.limits[name];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits });
  } catch (error) {
    return `requesting a WebGPU device failed: ${messageOf(error)}`;
  }
  const backend = new WebGPUBackend(device, adapterName(adapter));
  software = isSoftwareAdapter(adapter);
  return backend;
}

/** Whether the adapter runs on the CPU (Mesa's llvmpipe or lavapipe, SwiftShader). */
function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  if (info?.isFallbackAdapter) return true;
  const name = `${info?.description ?? ""} ${info?.vendor ?? ""} ${info?.architecture ?? ""}`;
  return /llvmpipe|lavapipe|swiftshader|software/i.test(name);
}

let software = false;

/** Whether the WebGPU adapter in use is a software one (correct, but slower than the CPU). */
export function isSoftwareWebGPU(): boolean {
  return webgpuBackend() !== null && software;
}

/**
 * Makes the `"webgpu"` device available: gets an adapter and a device and registers the WebGPU
 * backend. Returns false (and remembers why, see {@link pickDevice}) when WebGPU cannot be had.
 * Calling it again is cheap; after a device loss it asks for a new device.
 *
 * @example
 * ```ts
 * import { initWebGPU, tensor } from "../mod.ts";
 * if (await initWebGPU()) {
 *   const x = tensor([1, 2, 3], { device: "webgpu" });
 *   console.log(await x.mul(2).data()); // Float32Array [2, 4, 6]
 * }
 * ```
 */
export async function initWebGPU(): Promise<boolean> {
  if (webgpuBackend()) return true;
  const lost = active?.runtime.isLost ? active : null;
  attempt ??= acquire();
  const result = await attempt;
  attempt = null;
  if (typeof result === "string") {
    lastFailure = lost ? `the WebGPU device was lost and ${result}` : result;
    return false;
  }
  active = result;
  lastFailure = null;
  registerBackend(result);
  // When the device is lost later, remember why, so that the next pickDevice() can say it.
  result.gpu.lost.then((info) => {
    lastFailure = `the WebGPU device was lost (${info.message || info.reason})`;
  });
  return true;
}

/**
 * Picks where to compute: WebGPU when an adapter exists, otherwise the CPU, with one line that
 * says why, for the caller to print. `"cpu"` always gives the CPU; `"webgpu"` and `"auto"` try
 * WebGPU and fall back.
 *
 * @example
 * ```ts
 * import { pickDevice, randn } from "../mod.ts";
 * const { device, reason } = await pickDevice();
 * console.log(`device: ${device} (${reason})`);
 * const x = randn([2, 3], { device });
 * ```
 */
export async function pickDevice(
  preferred: "auto" | "cpu" | "webgpu" = "auto",
): Promise<DeviceChoice> {
  if (preferred === "cpu") return { device: "cpu", reason: "the CPU was asked for" };
  if (await initWebGPU()) {
    const name = webgpuBackend()!.adapterName;
    // A software adapter computes on the CPU through a GPU emulation: "auto" is faster on the
    // CPU kernels themselves. Asking for "webgpu" explicitly still gets it (tests do).
    if (preferred === "auto" && software) {
      return {
        device: "cpu",
        reason: `the only WebGPU adapter is ${name.split(" (")[0]}, a software one, slower ` +
          `than the CPU kernels; --device webgpu forces it`,
      };
    }
    return { device: "webgpu", reason: `WebGPU on ${name}` };
  }
  return { device: "cpu", reason: `WebGPU is unavailable: ${lastFailure}; using the CPU` };
}

/**
 * A device by name, ready to use: `"cpu"`, `"webgpu"` (an error saying why when WebGPU cannot
 * be had), or `"auto"` (WebGPU when possible, otherwise the CPU).
 *
 * @example
 * ```ts
 * import { device, zeros } from "../mod.ts";
 * const where = await device("auto");
 * const x = zeros([2, 2], { device: where });
 * ```
 */
export async function device(name: "auto" | Device = "auto"): Promise<Device> {
  if (name === "cpu") return "cpu";
  if (name === "auto") return (await pickDevice("auto")).device;
  if (name !== "webgpu") {
    throw new Error(`device: unknown device "${name}"; expected "cpu", "webgpu" or "auto"`);
  }
  if (await initWebGPU()) return "webgpu";
  throw new Error(`device("webgpu"): ${lastFailure}`);
}

function adapterName(adapter: GPUAdapter): string {
  const info = adapter.info;
  const name = info?.description || [info?.vendor, info?.architecture, info?.device]
    .filter((part) => part).join(" ");
  return name || "an unnamed adapter";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
