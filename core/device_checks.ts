/**
 * Range checks of indices on devices that cannot read values synchronously (WebGPU).
 *
 * On the CPU an op reads its int32 indices and throws before any work when one is out of range.
 * A GPU would need a read back to do that, which is asynchronous and would stall the queue. So
 * there, as CUDA's device-side asserts do, the op records a check instead: the smallest and the
 * largest index, computed on the device without a read back. The next read back of any value
 * (`await t.data()`, `item()`, `toArray()`) first reads those two numbers, and throws the same
 * error the CPU gives if one is out of range, so a result computed from a bad index is never
 * seen.
 *
 * @module
 */
import { getBackend } from "./backend.ts";
import { withNoGrad } from "./autograd.ts";
import type { Tensor } from "./tensor.ts";

/** A check waiting for the next read back. */
interface PendingCheck {
  smallest: Tensor;
  largest: Tensor;
  size: number;
  /** The error for an out-of-range `value`, as the CPU words it. */
  message: (value: number) => string;
}

let pending: PendingCheck[] = [];

/**
 * Records that every value of the int32 tensor `index` must lie in `[0, size)`; the next read
 * back throws `message(value)` for a value outside.
 */
export function checkIndicesOnDevice(
  index: Tensor,
  size: number,
  message: (value: number) => string,
): void {
  if (index.numel() === 0) return;
  const [smallest, largest] = withNoGrad(() => [index.min(), index.max()]);
  pending.push({ smallest, largest, size, message });
}

/** Reads the pending checks (a few bytes each) and throws the first failure. */
export async function runDeviceChecks(): Promise<void> {
  if (pending.length === 0) return;
  const checks = pending;
  pending = [];
  let failure: string | undefined;
  for (const check of checks) {
    if (failure === undefined) {
      const read = (t: Tensor) => getBackend(t.device).read(t.storage, t.dtype);
      const [smallest] = await read(check.smallest);
      const [largest] = await read(check.largest);
      if (smallest < 0) failure = check.message(smallest);
      else if (largest >= check.size) failure = check.message(largest);
    }
    check.smallest.dispose();
    check.largest.dispose();
  }
  if (failure !== undefined) throw new RangeError(failure);
}
