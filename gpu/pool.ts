/**
 * The buffer pool: GPU buffers are expensive to create, so a buffer whose tensor is gone goes
 * back to a free list and is handed out again to the next tensor of a similar size.
 *
 * Buffers are grouped by size class. Small sizes round up to a power of two; above 4 KiB each
 * power of two is split into four classes, so a buffer wastes at most a quarter of its bytes.
 * The pool counts the buffers in use ("live") and the buffers waiting for reuse ("pooled"): a
 * training loop whose live count keeps growing leaks tensors.
 *
 * @module
 */

/** A GPU buffer with the bookkeeping that the pool and the command batcher need. */
export interface PooledBuffer {
  readonly buffer: GPUBuffer;
  /** The buffer's capacity in bytes (its size class). */
  readonly bytes: number;
  /**
   * The id of the last command batch that used this buffer. While that batch is still being
   * recorded, a direct write to the buffer (`queue.writeBuffer`) would run before the recorded
   * commands that read it, so the batcher submits the batch first.
   */
  lastBatch: number;
}

/** Counts of buffers, for tests and for finding leaks. */
export interface PoolStats {
  /** Buffers handed out and not yet released. */
  live: number;
  /** Released buffers waiting for reuse. */
  pooled: number;
  /** Bytes held by live buffers (by capacity). */
  liveBytes: number;
  /** Bytes held by pooled buffers. */
  pooledBytes: number;
  /** Buffers created since the start (a pool that works creates few). */
  created: number;
}

/** The capacity a request of `bytes` bytes is rounded up to (always a multiple of 16). */
export function sizeClass(bytes: number): number {
  if (bytes <= 16) return 16;
  const power = 2 ** Math.ceil(Math.log2(bytes));
  if (power <= 4096) return power;
  // Four classes between power / 2 and power: power * 5/8, 6/8, 7/8 and 8/8.
  const step = power / 8;
  return Math.ceil(bytes / step) * step;
}

/** A pool of buffers with one usage (storage, uniform or staging). */
export class BufferPool {
  readonly #free = new Map<number, PooledBuffer[]>();
  #live = 0;
  #liveBytes = 0;
  #pooled = 0;
  #pooledBytes = 0;
  #created = 0;

  /**
   * @param device the device that creates the buffers
   * @param usage the `GPUBufferUsage` flags of every buffer of this pool
   * @param label a name shown in the browser's GPU debugging tools
   * @param maxBytes the largest buffer the device can create (`maxBufferSize`)
   */
  constructor(
    readonly device: GPUDevice,
    readonly usage: number,
    readonly label: string,
    readonly maxBytes: number,
  ) {}

  /** A buffer of at least `bytes` bytes, reused when one of the same size class is free. */
  acquire(bytes: number): PooledBuffer {
    let capacity = sizeClass(bytes);
    if (capacity > this.maxBytes) capacity = Math.ceil(bytes / 16) * 16;
    const list = this.#free.get(capacity);
    let pooled = list?.pop();
    if (pooled) {
      this.#pooled--;
      this.#pooledBytes -= capacity;
    } else {
      const buffer = this.device.createBuffer({
        label: `${this.label} ${capacity}B`,
        size: capacity,
        usage: this.usage,
      });
      pooled = { buffer, bytes: capacity, lastBatch: 0 };
      this.#created++;
    }
    this.#live++;
    this.#liveBytes += capacity;
    return pooled;
  }

  /** Gives a buffer back for reuse. */
  release(pooled: PooledBuffer): void {
    this.#live--;
    this.#liveBytes -= pooled.bytes;
    let list = this.#free.get(pooled.bytes);
    if (!list) {
      list = [];
      this.#free.set(pooled.bytes, list);
    }
    list.push(pooled);
    this.#pooled++;
    this.#pooledBytes += pooled.bytes;
  }

  /**
   * Destroys pooled buffers until at most `keepBytes` bytes stay pooled. Buffers used by the
   * batch still being recorded (`pendingBatch`) are kept: destroying them would invalidate it.
   */
  trim(keepBytes: number, pendingBatch: number): void {
    if (this.#pooledBytes <= keepBytes) return;
    // Largest classes first: they free the most memory for the fewest buffers.
    const classes = [...this.#free.keys()].sort((a, b) => b - a);
    for (const capacity of classes) {
      const list = this.#free.get(capacity)!;
      for (let i = list.length - 1; i >= 0 && this.#pooledBytes > keepBytes; i--) {
        if (list[i].lastBatch === pendingBatch) continue;
        const [pooled] = list.splice(i, 1);
        pooled.buffer.destroy();
        this.#pooled--;
        this.#pooledBytes -= capacity;
      }
    }
  }

  /** Current counts. */
  stats(): PoolStats {
    return {
      live: this.#live,
      pooled: this.#pooled,
      liveBytes: this.#liveBytes,
      pooledBytes: this.#pooledBytes,
      created: this.#created,
    };
  }
}
