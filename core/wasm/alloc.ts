/**
 * A memory allocator over the wasm memory, with free lists by size class.
 *
 * A training step allocates the same sizes in the same order every time (activations, their
 * gradients, temporaries). So freed blocks go onto a free list for their size class and the next
 * request of that class takes one back: after the first step, memory stops growing. Sizes are
 * rounded up to a class (four classes per power of two, so at most 25% is wasted); a request
 * with an empty free list takes the next bytes above the highest block, growing the wasm memory
 * when they run out.
 *
 * @module
 */

/** Every block starts on a 64-byte boundary (a cache line; SIMD loads need 16). */
const ALIGN = 64;
const PAGE = 65536;

/** Memory use of an allocator, in bytes. */
export interface AllocatorStats {
  /** Bytes in blocks handed out and not yet freed. */
  inUse: number;
  /** Bytes in freed blocks kept for reuse. */
  cached: number;
  /** The highest address handed out so far. */
  top: number;
  /** The size of the wasm memory. */
  memory: number;
  /** How many times the memory had to grow. */
  grows: number;
}

/** The size class of a request: the request rounded up to a quarter of its power of two. */
export function sizeClass(bytes: number): number {
  if (bytes <= ALIGN) return ALIGN;
  const power = 2 ** Math.floor(Math.log2(bytes - 1));
  const step = Math.max(ALIGN, power / 4);
  return Math.ceil(bytes / step) * step;
}

/** Hands out blocks of a WebAssembly memory and takes them back. */
export class WasmAllocator {
  readonly memory: WebAssembly.Memory;
  #top: number;
  /** Size class of every live or cached block, by address. */
  #sizes = new Map<number, number>();
  /** Free blocks by size class. */
  #free = new Map<number, number[]>();
  #inUse = 0;
  #cached = 0;
  #grows = 0;

  /** Allocates from `base` (the end of the module's static data) upwards. */
  constructor(memory: WebAssembly.Memory, base: number) {
    this.memory = memory;
    this.#top = Math.ceil(base / ALIGN) * ALIGN;
  }

  /** A block of at least `bytes` bytes; its contents are undefined. Returns its address. */
  alloc(bytes: number): number {
    const size = sizeClass(bytes);
    const reused = this.#take(size);
    if (reused !== undefined) return reused;
    const address = this.#top;
    const end = address + size;
    if (end > this.memory.buffer.byteLength) {
      // Before growing, a cached block of a larger class (up to twice the size) will do.
      const larger = this.#takeLarger(size);
      if (larger !== undefined) return larger;
      if (!this.#tryGrow(end)) {
        // The memory cannot grow (wasm32 stops at 4 GiB): merge neighbouring cached blocks, of
        // whatever class, and cut the request out of one of them.
        this.#compact();
        const fit = this.#takeSplit(size);
        if (fit !== undefined) return fit;
        return this.#allocAtTop(size, true);
      }
    }
    return this.#allocAtTop(size, false);
  }

  /** A new block of `size` bytes above the highest one, growing the memory if `grow`. */
  #allocAtTop(size: number, grow: boolean): number {
    const address = this.#top;
    const end = address + size;
    if (grow && end > this.memory.buffer.byteLength) this.#grow(end);
    this.#top = end;
    this.#sizes.set(address, size);
    this.#inUse += size;
    return address;
  }

  /** Gives a block back for reuse. */
  free(address: number): void {
    const size = this.#sizes.get(address);
    if (size === undefined) {
      throw new Error(`wasm allocator: free(${address}) of an address it did not hand out`);
    }
    let list = this.#free.get(size);
    if (!list) this.#free.set(size, list = []);
    list.push(address);
    this.#inUse -= size;
    this.#cached += size;
  }

  /** The usable size of a live block (its size class). */
  sizeOf(address: number): number {
    return this.#sizes.get(address) ?? 0;
  }

  /** Current memory use. */
  stats(): AllocatorStats {
    return {
      inUse: this.#inUse,
      cached: this.#cached,
      top: this.#top,
      memory: this.memory.buffer.byteLength,
      grows: this.#grows,
    };
  }

  #take(size: number): number | undefined {
    const address = this.#free.get(size)?.pop();
    if (address === undefined) return undefined;
    this.#inUse += size;
    this.#cached -= size;
    return address;
  }

  #takeLarger(size: number): number | undefined {
    let best: number | undefined;
    for (const [classSize, list] of this.#free) {
      if (list.length > 0 && classSize > size && classSize <= 2 * size) {
        if (best === undefined || classSize < best) best = classSize;
      }
    }
    return best === undefined ? undefined : this.#take(best);
  }

  /** Grows the memory as {@link #grow} does; false instead of an error when it cannot. */
  #tryGrow(end: number): boolean {
    try {
      this.#grow(end);
      return true;
    } catch {
      return false;
    }
  }

  /** Merges cached blocks that touch into one; a cached run that ends at the top lowers it. */
  #compact(): void {
    const blocks: [number, number][] = [];
    for (const [size, list] of this.#free) for (const address of list) blocks.push([address, size]);
    blocks.sort((a, b) => a[0] - b[0]);
    this.#free.clear();
    this.#cached = 0;
    for (const [address] of blocks) this.#sizes.delete(address);
    const merged: [number, number][] = [];
    for (const [address, size] of blocks) {
      const last = merged[merged.length - 1];
      if (last && last[0] + last[1] === address) last[1] += size;
      else merged.push([address, size]);
    }
    const last = merged[merged.length - 1];
    if (last && last[0] + last[1] === this.#top) {
      this.#top = last[0];
      merged.pop();
    }
    for (const [address, size] of merged) this.#putFree(address, size);
  }

  /** The smallest cached block of at least `size` bytes, cut to `size` (the rest stays cached). */
  #takeSplit(size: number): number | undefined {
    let best: number | undefined;
    for (const [classSize, list] of this.#free) {
      if (list.length > 0 && classSize >= size && (best === undefined || classSize < best)) {
        best = classSize;
      }
    }
    if (best === undefined) return undefined;
    const address = this.#free.get(best)!.pop()!;
    this.#cached -= best;
    this.#sizes.set(address, size);
    this.#inUse += size;
    if (best > size) {
      this.#sizes.set(address + size, best - size);
      this.#putFree(address + size, best - size);
    }
    return address;
  }

  /** Files a block (its size already recorded in the caller's bookkeeping) as cached. */
  #putFree(address: number, size: number): void {
    this.#sizes.set(address, size);
    let list = this.#free.get(size);
    if (!list) this.#free.set(size, list = []);
    list.push(address);
    this.#cached += size;
  }

  /** Grows the memory to hold `end` bytes, by at least an eighth of its size when it can. */
  #grow(end: number): void {
    const current = this.memory.buffer.byteLength;
    const wanted = Math.max(end, current + current / 8);
    let pages = Math.ceil((wanted - current) / PAGE);
    try {
      try {
        this.memory.grow(pages);
      } catch {
        // Near the limit an eighth more may not fit where the request itself does.
        pages = Math.ceil((end - current) / PAGE);
        this.memory.grow(pages);
      }
    } catch {
      throw new RangeError(
        `wasm allocator: out of memory growing from ${current} to ${current + pages * PAGE} ` +
          `bytes (in use ${this.#inUse}, cached ${this.#cached}). Tensors that are no longer ` +
          `used give their memory back when the event loop runs: a training loop that never ` +
          `awaits keeps every step's tensors. Await something each step (await loss.item()), ` +
          `call t.dispose() on tensors you are done with, or use smaller batches`,
      );
    }
    this.#grows++;
  }
}
