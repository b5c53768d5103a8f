/**
 * The GPU runtime under the WebGPU backend: it records kernel launches into command batches,
 * caches compute pipelines by shader key, packs every launch's small parameters into one uniform
 * buffer per batch, and reads results back.
 *
 * Nothing here waits for the GPU except {@link GpuRuntime.read}. Launches are recorded into a
 * command encoder and submitted in batches (when a batch is full, when a value is read, and at
 * the end of the current task), so a training step is one stream of GPU work with no round trip
 * to the host.
 *
 * @module
 */
import { BufferPool, type PooledBuffer, type PoolStats } from "./pool.ts";

// WebGPU's flag constants, spelled out so that this module does not depend on globals being
// present at import time (it is imported on machines without WebGPU too).
const USAGE_MAP_READ = 0x0001;
const USAGE_COPY_SRC = 0x0004;
const USAGE_COPY_DST = 0x0008;
const USAGE_UNIFORM = 0x0040;
const USAGE_STORAGE = 0x0080;
const MAP_MODE_READ = 0x0001;

/** One buffer bound to a kernel: `bytes` from the start of `buffer` (a multiple of 4). */
export interface Binding {
  buffer: PooledBuffer;
  bytes: number;
}

/** How many kernel launches a batch records before it is submitted. */
const MAX_LAUNCHES_PER_BATCH = 128;
/** Bytes of the per-batch uniform buffer holding the launches' parameters. */
const PARAM_ARENA_BYTES = 64 * 1024;
/** Pooled storage bytes kept for reuse before unused buffers are destroyed. */
const KEEP_POOLED_BYTES = 512 * 1024 * 1024;

/** Records and submits GPU work for one device. */
export class GpuRuntime {
  readonly storage: BufferPool;
  readonly #uniforms: BufferPool;
  readonly #staging: BufferPool;
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  /** The largest number of workgroups one dispatch dimension may have. */
  maxWorkgroupsPerDimension: number;

  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  /** Id of the batch being recorded; buffers used by it carry this id. */
  #batch = 1;
  #launches = 0;
  #arena: PooledBuffer | null = null;
  #arenaWords = new Uint32Array(PARAM_ARENA_BYTES / 4);
  #arenaUsed = 0;
  #flushScheduled = false;
  #lost: string | null = null;
  #error: string | null = null;
  readonly #lostSignal: Promise<never>;

  constructor(readonly device: GPUDevice) {
    const maxBuffer = device.limits.maxBufferSize;
    this.storage = new BufferPool(
      device,
      USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST,
      "tensor",
      maxBuffer,
    );
    this.#uniforms = new BufferPool(device, USAGE_UNIFORM | USAGE_COPY_DST, "params", maxBuffer);
    this.#staging = new BufferPool(device, USAGE_MAP_READ | USAGE_COPY_DST, "readback", maxBuffer);
    this.maxWorkgroupsPerDimension = device.limits.maxComputeWorkgroupsPerDimension;
    this.#lostSignal = device.lost.then((info) => {
      this.#lost = info.message || String(info.reason);
      throw new Error(`WebGPU device lost: ${this.#lost}`);
    });
    // Keep the rejection from being reported as unhandled when nobody is reading.
    this.#lostSignal.catch(() => {});
    device.addEventListener("uncapturederror", (event) => {
      const message = (event as GPUUncapturedErrorEvent).error.message;
      this.#error ??= message;
    });
  }

  /** Throws if the device was lost or reported an error; every backend call starts here. */
  check(): void {
    if (this.#lost !== null) throw new Error(`WebGPU device lost: ${this.#lost}`);
    if (this.#error !== null) {
      const message = this.#error;
      this.#error = null;
      throw new Error(`WebGPU error: ${message}`);
    }
  }

  /** Whether the device was lost (tensors on it are gone). */
  get isLost(): boolean {
    return this.#lost !== null;
  }

  /** The compute pipeline for `key`, compiling `code()` the first time the key is seen. */
  pipeline(key: string, code: () => string): GPUComputePipeline {
    let pipeline = this.#pipelines.get(key);
    if (!pipeline) {
      const module = this.device.createShaderModule({ label: key, code: code() });
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
      this.#pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** Number of compiled pipelines (each distinct kernel variant compiles once). */
  get pipelineCount(): number {
    return this.#pipelines.size;
  }

  /**
   * Records one kernel launch of `workgroups` workgroups. Storage buffers are bound in order at
   * bindings 0, 1, ...; `params` (32-bit words) go to a uniform at the next binding. A count
   * above the per-dimension limit is spread over a 2-D grid: kernels compute their linear
   * workgroup index as `x + y * numWorkgroups.x` and skip indices past the end.
   */
  launch(
    pipeline: GPUComputePipeline,
    bindings: Binding[],
    params: Uint32Array,
    workgroups: number,
  ): void {
    this.check();
    if (workgroups === 0) return;
    const paramBytes = Math.max(16, Math.ceil(params.length / 4) * 16);
    const align = this.device.limits.minUniformBufferOffsetAlignment;
    const slot = Math.ceil(paramBytes / align) * align;
    if (this.#launches >= MAX_LAUNCHES_PER_BATCH || this.#arenaUsed + slot > PARAM_ARENA_BYTES) {
      this.flush();
    }
    const pass = this.#computePass();
    this.#arena ??= this.#uniforms.acquire(PARAM_ARENA_BYTES);
    const offset = this.#arenaUsed;
    this.#arenaWords.set(params, offset / 4);
    this.#arenaUsed += slot;
    this.#launches++;

    const entries: GPUBindGroupEntry[] = bindings.map((binding, i) => {
      binding.buffer.lastBatch = this.#batch;
      return {
        binding: i,
        resource: { buffer: binding.buffer.buffer, offset: 0, size: bindSize(binding.bytes) },
      };
    });
    entries.push({
      binding: bindings.length,
      resource: { buffer: this.#arena.buffer, offset, size: paramBytes },
    });
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries,
    });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y] = this.grid(workgroups);
    pass.dispatchWorkgroups(x, y);
    this.#scheduleFlush();
  }

  /** Spreads `workgroups` over a 2-D grid within the per-dimension limit. */
  grid(workgroups: number): [number, number] {
    const limit = this.maxWorkgroupsPerDimension;
    if (workgroups <= limit) return [workgroups, 1];
    const y = Math.ceil(workgroups / limit);
    if (y > limit) {
      throw new Error(
        `webgpu: ${workgroups} workgroups exceed what a dispatch can address (${limit} x ${limit})`,
      );
    }
    return [Math.ceil(workgroups / y), y];
  }

  /** Records a copy of `bytes` bytes between buffers (both offsets and the size multiples of 4). */
  copy(src: PooledBuffer, srcOffset: number, dst: PooledBuffer, dstOffset: number, bytes: number) {
    this.check();
    if (bytes === 0) return;
    const encoder = this.#plainEncoder();
    src.lastBatch = this.#batch;
    dst.lastBatch = this.#batch;
    encoder.copyBufferToBuffer(src.buffer, srcOffset, dst.buffer, dstOffset, bytes);
    this.#scheduleFlush();
  }

  /** Records zeroing the first `bytes` bytes of a buffer. */
  clear(dst: PooledBuffer, bytes: number): void {
    this.check();
    if (bytes === 0) return;
    const encoder = this.#plainEncoder();
    dst.lastBatch = this.#batch;
    encoder.clearBuffer(dst.buffer, 0, Math.ceil(bytes / 4) * 4);
    this.#scheduleFlush();
  }

  /** Writes host data into a buffer, after any recorded work that uses the buffer. */
  write(dst: PooledBuffer, data: ArrayBufferView): void {
    this.check();
    if (data.byteLength === 0) return;
    // queue.writeBuffer runs before commands that are recorded but not yet submitted.
    if (dst.lastBatch === this.#batch) this.flush();
    this.device.queue.writeBuffer(
      dst.buffer,
      0,
      data.buffer as ArrayBuffer,
      data.byteOffset,
      Math.ceil(data.byteLength / 4) * 4,
    );
  }

  /** Submits the recorded work. */
  flush(): void {
    if (!this.#encoder) return;
    this.#pass?.end();
    this.#pass = null;
    const commands = this.#encoder.finish();
    this.#encoder = null;
    if (this.#arena) {
      this.device.queue.writeBuffer(
        this.#arena.buffer,
        0,
        this.#arenaWords.buffer,
        0,
        this.#arenaUsed,
      );
    }
    this.device.queue.submit([commands]);
    // The arena can be reused by a later batch: its next write is queued after this submit.
    if (this.#arena) this.#uniforms.release(this.#arena);
    this.#arena = null;
    this.#arenaUsed = 0;
    this.#launches = 0;
    this.#batch++;
    this.storage.trim(KEEP_POOLED_BYTES, this.#batch);
  }

  /** Reads `bytes` bytes from the start of a buffer, after all recorded work. */
  async read(src: PooledBuffer, bytes: number): Promise<ArrayBuffer> {
    this.check();
    const size = Math.ceil(bytes / 4) * 4;
    if (size === 0) return new ArrayBuffer(0);
    const staging = this.#staging.acquire(size);
    this.copy(src, 0, staging, 0, size);
    this.flush();
    try {
      await Promise.race([staging.buffer.mapAsync(MAP_MODE_READ, 0, size), this.#lostSignal]);
    } catch (error) {
      this.check();
      throw error;
    }
    const copy = staging.buffer.getMappedRange(0, size).slice(0, bytes);
    staging.buffer.unmap();
    this.#staging.release(staging);
    this.check();
    return copy;
  }

  /** Buffer counts of the tensor pool. */
  stats(): PoolStats {
    return this.storage.stats();
  }

  #computePass(): GPUComputePassEncoder {
    if (!this.#pass) {
      this.#encoder ??= this.device.createCommandEncoder();
      this.#pass = this.#encoder.beginComputePass();
    }
    return this.#pass;
  }

  #plainEncoder(): GPUCommandEncoder {
    if (this.#pass) {
      this.#pass.end();
      this.#pass = null;
    }
    this.#encoder ??= this.device.createCommandEncoder();
    return this.#encoder;
  }

  // Submits once the current synchronous code is done (at its next await), so that recorded work
  // starts even if nothing reads.
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      if (!this.#lost) this.flush();
    });
  }
}

/** Bindings are whole 16-byte units (so a buffer can be read as vec4s) and never empty. */
export function bindSize(bytes: number): number {
  return Math.max(16, Math.ceil(bytes / 16) * 16);
}
