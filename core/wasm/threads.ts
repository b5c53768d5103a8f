/**
 * A second thread for large kernels: a worker that shares the wasm memory and takes part in a
 * matrix product (rows) or a direct convolution (images).
 *
 * A task is one kernel called chunk by chunk: `kernel(...args, scratch, start, end)` for chunks
 * `[start, end)` of its rows or images. Both threads claim the next chunk from a shared counter
 * until none is left, so a thread that the machine slows down simply does fewer chunks (with a
 * fixed half each, the other thread would wait for it). The two threads talk through a small
 * block of the shared memory (Atomics, no messages): the caller writes the task, flips the state
 * from IDLE to BUSY and wakes the worker; the worker flips it to RUNNING when it joins and back
 * to IDLE when the chunks are gone. A worker that has not joined by the time the caller has done
 * every chunk is not waited for. Waking a sleeping worker costs tens of microseconds, so after
 * each task the worker spins for a moment (a spinning worker answers in about a microsecond)
 * before it sleeps, and after a longer idle time it closes itself, so that a program whose work
 * is done can exit. The next large task starts a new worker.
 *
 * Only available where the memory is shared (`SharedArrayBuffer`) and workers exist; everything
 * else runs on one thread.
 *
 * @module
 */
import type { LoadedKernels } from "./loader.ts";

/** States of the control block. */
const STARTING = 0;
const IDLE = 1;
const BUSY = 2;
const CLOSED = 3;
const RUNNING = 4;

/**
 * Slots of the control block (int32): the state, the kernel, its argument count, the next chunk
 * to claim, the chunk count, the chunk size and the total, the worker's scratch, how many chunks
 * the worker ran, and the arguments.
 */
const STATE = 0;
const KERNEL = 1;
const COUNT = 2;
const NEXT = 3;
const CHUNKS = 4;
const UNIT = 5;
const TOTAL = 6;
const SCRATCH = 7;
const HELPED = 8;
const ARGS = 12;
const ARG_COUNT = 16;
export const CONTROL_BYTES = (ARGS + ARG_COUNT) * 4;

/** The kernels the worker can run, by their export names (the index is their code). */
export const HELPER_KERNELS = [
  "matmul",
  "conv2dDirectF32",
  "conv2dDirectBackwardInputF32",
  "conv2dDirectBackwardWeightF32",
] as const;

/** A kernel the worker can run. */
export type HelperKernel = typeof HELPER_KERNELS[number];

/**
 * One task: `kernel(...args, scratch, start, end)` for every chunk of `unit` of the `total` rows
 * or images; `helperScratch` is the worker's scratch memory.
 */
export interface ChunkedTask {
  kernel: HelperKernel;
  args: readonly number[];
  total: number;
  unit: number;
  helperScratch: number;
}

/** How long a worker spins after a task, then sleeps before closing itself (milliseconds). */
const SPIN_MS = 2;
const IDLE_MS = 500;
/** The longest the caller waits for the worker's half before giving up (milliseconds). */
const WAIT_LIMIT_MS = 60_000;

/**
 * The worker's whole program, as source text. It starts from a Blob URL, so that it needs no
 * separate file: that works in Deno, in a browser and inside a bundle alike.
 */
const WORKER_SOURCE = `
const STATE = ${STATE}, STARTING = ${STARTING}, IDLE = ${IDLE}, BUSY = ${BUSY};
const CLOSED = ${CLOSED}, RUNNING = ${RUNNING}, KERNEL = ${KERNEL}, COUNT = ${COUNT};
const NEXT = ${NEXT}, CHUNKS = ${CHUNKS}, UNIT = ${UNIT}, TOTAL = ${TOTAL};
const SCRATCH = ${SCRATCH}, HELPED = ${HELPED}, ARGS = ${ARGS};
self.onmessage = (event) => {
  const { module, memory, control } = event.data;
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const kernels = ${JSON.stringify(HELPER_KERNELS)}.map((name) => instance.exports[name]);
  const ctl = new Int32Array(memory.buffer, control, ${ARGS + ARG_COUNT});
  // The caller may have given up on this worker while it started.
  if (Atomics.compareExchange(ctl, STATE, STARTING, IDLE) !== STARTING) {
    self.close();
    return;
  }
  for (;;) {
    const spinEnd = performance.now() + ${SPIN_MS};
    while (Atomics.load(ctl, STATE) === IDLE && performance.now() < spinEnd) {}
    if (Atomics.load(ctl, STATE) === IDLE) {
      const woke = Atomics.wait(ctl, STATE, IDLE, ${IDLE_MS});
      if (woke === "timed-out" && Atomics.compareExchange(ctl, STATE, IDLE, CLOSED) === IDLE) {
        self.close();
        return;
      }
    }
    const state = Atomics.load(ctl, STATE);
    if (state === CLOSED) {
      self.close();
      return;
    }
    // Join the task, unless the caller has finished it alone in the meantime.
    if (state !== BUSY || Atomics.compareExchange(ctl, STATE, BUSY, RUNNING) !== BUSY) continue;
    const kernel = kernels[ctl[KERNEL]];
    const args = Array.from(ctl.subarray(ARGS, ARGS + ctl[COUNT]));
    const chunks = ctl[CHUNKS], unit = ctl[UNIT], total = ctl[TOTAL], scratch = ctl[SCRATCH];
    let helped = 0;
    for (;;) {
      const chunk = Atomics.add(ctl, NEXT, 1);
      if (chunk >= chunks) break;
      const start = chunk * unit;
      kernel(...args, scratch, start, Math.min(total, start + unit));
      helped++;
    }
    ctl[HELPED] = helped;
    Atomics.store(ctl, STATE, IDLE);
    Atomics.notify(ctl, STATE);
  }
};
`;

/** Whether this thread may block in `Atomics.wait` (not a browser page's main thread). */
function canBlock(control: Int32Array): boolean {
  try {
    Atomics.wait(control, STATE, -1, 0);
    return true;
  } catch {
    return false;
  }
}

/** The second thread of a kernel module with a shared memory. */
export class KernelHelper {
  readonly #kernels: LoadedKernels;
  readonly #control: Int32Array;
  readonly #controlAddress: number;
  readonly #scratch: number;
  readonly #blocking: boolean;
  #url: string | undefined;

  /**
   * `controlAddress` points to {@link CONTROL_BYTES} bytes of the shared memory, `scratch` to
   * the worker's own matmul scratch space (see {@link KernelHelper.scratch}).
   */
  constructor(kernels: LoadedKernels, controlAddress: number, scratch: number) {
    this.#kernels = kernels;
    this.#controlAddress = controlAddress;
    this.#scratch = scratch;
    // A view of a shared memory stays valid when the memory grows.
    this.#control = new Int32Array(kernels.memory.buffer, controlAddress, ARGS + ARG_COUNT);
    this.#control.fill(0);
    Atomics.store(this.#control, STATE, CLOSED);
    this.#blocking = canBlock(this.#control);
  }

  /** The worker's own scratch space for matrix products. */
  get scratch(): number {
    return this.#scratch;
  }

  /** Whether threads can run here at all: a shared memory and a Worker constructor. */
  static supported(kernels: LoadedKernels): boolean {
    return kernels.shared && typeof Worker !== "undefined" && typeof Blob !== "undefined" &&
      typeof URL.createObjectURL === "function";
  }

  /**
   * Runs every chunk of `task`, `own(args)` calling the kernel on this thread, with the worker
   * taking chunks too where it is ready (where it is not, this thread does them all, and a
   * worker is started for next time if none runs). Returns how many chunks the worker ran.
   */
  run(task: ChunkedTask, ownScratch: number, own: (args: number[]) => void): number {
    const begin = performance.now();
    this.ownMs = 0;
    this.waitedMs = 0;
    const { kernel, args, total, unit } = task;
    const chunks = Math.ceil(total / unit);
    const control = this.#control;
    const state = Atomics.load(control, STATE);
    if (state !== IDLE || args.length > ARG_COUNT) {
      if (state === CLOSED) this.#spawn();
      for (let start = 0; start < total; start += unit) {
        own([...args, ownScratch, start, Math.min(total, start + unit)]);
      }
      return 0;
    }
    control[KERNEL] = HELPER_KERNELS.indexOf(kernel);
    control[COUNT] = args.length;
    for (let i = 0; i < args.length; i++) control[ARGS + i] = args[i];
    control[CHUNKS] = chunks;
    control[UNIT] = unit;
    control[TOTAL] = total;
    control[SCRATCH] = task.helperScratch;
    control[HELPED] = 0;
    Atomics.store(control, NEXT, 0);
    const handedOver = Atomics.compareExchange(control, STATE, IDLE, BUSY) === IDLE;
    if (handedOver) Atomics.notify(control, STATE);
    else this.#spawn(); // The worker closed itself just now.
    for (;;) {
      const chunk = handedOver ? Atomics.add(control, NEXT, 1) : control[NEXT]++;
      if (chunk >= chunks) break;
      const start = chunk * unit;
      own([...args, ownScratch, start, Math.min(total, start + unit)]);
    }
    if (!handedOver) return 0;
    // Every chunk is claimed: take the task back if the worker never joined, else wait for it.
    if (Atomics.compareExchange(control, STATE, BUSY, IDLE) === BUSY) return 0;
    const waitFrom = performance.now();
    this.#waitWhileRunning();
    this.ownMs = waitFrom - begin;
    this.waitedMs = performance.now() - waitFrom;
    return control[HELPED];
  }

  /** For the last task the worker joined: this thread's time on its chunks, and its wait. */
  ownMs = 0;
  waitedMs = 0;

  /** Waits until the worker has finished its last chunk. */
  #waitWhileRunning(): void {
    const control = this.#control;
    const begin = performance.now();
    let spins = 0;
    while (Atomics.load(control, STATE) === RUNNING) {
      if (++spins < 2000 || !this.#blocking) continue;
      Atomics.wait(control, STATE, RUNNING, 5);
      if (performance.now() - begin > WAIT_LIMIT_MS) {
        throw new Error("the second thread stopped answering; call setCpuThreads(1)");
      }
    }
  }

  /** Stops the worker now (it would close itself after a while anyway). */
  stop(): void {
    const control = this.#control;
    // An idle worker wakes up, sees CLOSED and closes itself; a starting one closes as soon as
    // it has started. A running one cannot be seen here: the caller waits for it in run().
    Atomics.compareExchange(control, STATE, STARTING, CLOSED);
    Atomics.compareExchange(control, STATE, IDLE, CLOSED);
    Atomics.notify(control, STATE);
  }

  #spawn(): void {
    this.#url ??= URL.createObjectURL(
      new Blob([WORKER_SOURCE], { type: "application/javascript" }),
    );
    Atomics.store(this.#control, STATE, STARTING);
    const worker = new Worker(this.#url, { type: "module" });
    worker.onerror = (event) => {
      event.preventDefault();
      Atomics.store(this.#control, STATE, CLOSED);
    };
    worker.postMessage({
      module: this.#kernels.module,
      memory: this.#kernels.memory,
      control: this.#controlAddress,
    });
  }
}
