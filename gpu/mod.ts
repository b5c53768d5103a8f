/**
 * The WebGPU backend's public face: device acquisition with a CPU fallback, and the backend
 * itself (for tests and benchmarks that look at its buffer pool).
 * @module
 */
export {
  device,
  type DeviceChoice,
  initWebGPU,
  pickDevice,
  webgpuBackend,
  webgpuUnavailableReason,
} from "./device.ts";
export { GpuStorage, WebGPUBackend } from "./backend.ts";
export type { PoolStats } from "./pool.ts";
