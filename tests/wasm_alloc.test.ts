/**
 * The wasm memory allocator: blocks are reused by size class, and a training-like pattern of
 * allocations does not grow the memory after its first round.
 * @module
 */
import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { sizeClass, WasmAllocator } from "../core/wasm/alloc.ts";

function freshAllocator(): WasmAllocator {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  return new WasmAllocator(memory, 1000);
}

Deno.test("size classes round up to multiples of 64 bytes, wasting at most a quarter", () => {
  for (const bytes of [1, 63, 64, 65, 100, 1000, 4096, 4097, 50_000, 1_605_632, 3e7]) {
    const size = sizeClass(bytes);
    ok(size >= bytes, `sizeClass(${bytes}) = ${size} is too small`);
    ok(size % 64 === 0, `sizeClass(${bytes}) = ${size} is not a multiple of 64`);
    const limit = Math.max(bytes + 63, bytes * 1.25);
    ok(size <= limit, `sizeClass(${bytes}) = ${size} wastes more than 63 bytes and 25%`);
  }
});

Deno.test("a freed block is handed out again for a request of its size class", () => {
  const allocator = freshAllocator();
  const first = allocator.alloc(1000);
  ok(first >= 1000 && first % 64 === 0, `block at ${first}: not aligned above the base`);
  allocator.free(first);
  strictEqual(allocator.alloc(990), first);
  const other = allocator.alloc(1000);
  ok(other !== first, "two live blocks share an address");
});

Deno.test("freeing an address the allocator never handed out is an error", () => {
  const allocator = freshAllocator();
  throws(() => allocator.free(12345), /did not hand out/);
});

Deno.test("the memory grows on demand and views see the new size", () => {
  const allocator = freshAllocator();
  const big = allocator.alloc(10 * 65536);
  ok(allocator.memory.buffer.byteLength >= big + 10 * 65536, "memory did not grow enough");
  new Float32Array(allocator.memory.buffer, big, 10 * 16384).fill(1);
});

Deno.test("500 training-like rounds of alloc and free do not grow the memory", () => {
  const allocator = freshAllocator();
  // Per round: the activations, gradients and temporaries of a small CNN step at batch 64
  // (bytes of float32 tensors), allocated in order and freed in a different order.
  const sizes = [
    64 * 784,
    64 * 9 * 784,
    8 * 9,
    64 * 8 * 784,
    64 * 8 * 784,
    64 * 8 * 196,
    64 * 72 * 196,
    16 * 72,
    64 * 16 * 196,
    64 * 16 * 49,
    64 * 784,
    784 * 10,
    64 * 10,
    64,
    1,
    10,
    8,
    16,
  ].map((elements) => elements * 4);
  let memoryAfterFirstRound = 0;
  let growsAfterFirstRound = 0;
  for (let round = 0; round < 500; round++) {
    const live = sizes.map((bytes) => allocator.alloc(bytes));
    // Some blocks die early (temporaries), the rest at the end of the step.
    for (let i = 0; i < live.length; i += 3) allocator.free(live[i]);
    const extra = allocator.alloc(sizes[round % sizes.length]);
    for (let i = 0; i < live.length; i++) if (i % 3 !== 0) allocator.free(live[i]);
    allocator.free(extra);
    if (round === 0) {
      memoryAfterFirstRound = allocator.stats().memory;
      growsAfterFirstRound = allocator.stats().grows;
    }
  }
  const stats = allocator.stats();
  deepStrictEqual(
    { memory: stats.memory, grows: stats.grows, inUse: stats.inUse },
    { memory: memoryAfterFirstRound, grows: growsAfterFirstRound, inUse: 0 },
    "the memory grew after the first round",
  );
});

Deno.test("at the memory's limit, cached blocks of other sizes are merged and cut to fit", () => {
  // A memory that may not grow past 16 pages (1 MiB), filled with small blocks that are then
  // freed: none is of the class a large request needs, yet together they hold it.
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 16 });
  const allocator = new WasmAllocator(memory, 1000);
  const small: number[] = [];
  for (let i = 0; i < 100; i++) small.push(allocator.alloc(9000));
  const keep = allocator.alloc(9000); // above the small ones, so they cannot lower the top
  for (const address of small) allocator.free(address);
  const big = allocator.alloc(600_000);
  ok(big >= small[0] && big + 600_000 <= keep, `block at ${big} not within the freed ones`);
  strictEqual(memory.buffer.byteLength, 16 * 65536);
  // The rest of the merged run stays available, and freeing the big block returns its bytes.
  const after = allocator.stats();
  ok(after.cached > 0 && after.cached < 100 * 9216, `cached after the cut: ${after.cached}`);
  allocator.free(big);
  ok(allocator.stats().cached > after.cached);
  // A request that no merge can satisfy still gets the out-of-memory error with its advice.
  throws(() => allocator.alloc(2_000_000), /out of memory.*Await something each step/s);
});
