/**
 * A second thread for large kernels: a worker that shares the wasm memory and computes the lower
 * rows of a matrix product, or the second half of a batch of images of a direct convolution,
 * while the calling thread computes the rest.
 *
 * The two threads talk through a small block of the shared memory (Atomics, no messages): the
 * caller writes the arguments, flips the state from IDLE to BUSY and wakes the worker; the worker
 * runs the kernel and flips the state back. Waking a sleeping worker costs tens of microseconds,
 * so after each task the worker spins for a moment (a spinning worker answers in about a
 * microsecond) before it sleeps, and after a longer idle time it closes itself, so that a
 * program whose work is done can exit. The next large product starts a new worker.
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

/** Slots of the control block (int32): the state, which kernel, how many arguments, and them. */
const STATE = 0;
const KERNEL = 1;
const COUNT = 2;
const ARGS = 4;
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
const CLOSED = ${CLOSED}, KERNEL = ${KERNEL}, COUNT = ${COUNT}, ARGS = ${ARGS};
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
    if (state !== BUSY) continue;
    kernels[ctl[KERNEL]](...ctl.subarray(ARGS, ARGS + ctl[COUNT]));
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
   * Hands one call of `kernel` to the worker (its share of the work: rows of a product, images
   * of a convolution). Returns false (and starts a worker for next time, if none runs) when no
   * worker is ready; the caller then does that share itself.
   */
  start(kernel: HelperKernel, args: readonly number[]): boolean {
    const control = this.#control;
    const state = Atomics.load(control, STATE);
    if (state !== IDLE) {
      if (state === CLOSED) this.#spawn();
      return false;
    }
    if (args.length > ARG_COUNT) throw new Error(`${kernel}: too many arguments for the helper`);
    control[KERNEL] = HELPER_KERNELS.indexOf(kernel);
    control[COUNT] = args.length;
    for (let i = 0; i < args.length; i++) control[ARGS + i] = args[i];
    if (Atomics.compareExchange(control, STATE, IDLE, BUSY) !== IDLE) {
      // The worker closed itself just now.
      this.#spawn();
      return false;
    }
    Atomics.notify(control, STATE);
    return true;
  }

  /** Waits until the worker has finished the call handed over by {@link start}. */
  finish(): void {
    const control = this.#control;
    const begin = performance.now();
    let spins = 0;
    while (Atomics.load(control, STATE) === BUSY) {
      if (++spins < 2000 || !this.#blocking) continue;
      Atomics.wait(control, STATE, BUSY, 5);
      if (performance.now() - begin > WAIT_LIMIT_MS) {
        throw new Error("the second thread stopped answering; call setCpuThreads(1)");
      }
    }
  }

  /** Stops the worker now (it would close itself after a while anyway). */
  stop(): void {
    const control = this.#control;
    // An idle worker wakes up, sees CLOSED and closes itself; a starting one closes as soon as
    // it has started. A busy one cannot be seen here: the caller waits for it in finish().
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
