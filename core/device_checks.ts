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
import { cat, reshape, to } from "./ops/shape.ts";

/** A check waiting for the next read back: scalars computed on the device, and their verdict. */
interface PendingCheck {
  scalars: Tensor[];
  /** The error message for the values of the scalars, or undefined when they are fine. */
  verdict: (values: number[]) => string | undefined;
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
  const scalars = withNoGrad(() => [index.min(), index.max()]);
  pending.push({
    scalars,
    verdict: ([smallest, largest]) =>
      smallest < 0 ? message(smallest) : largest >= size ? message(largest) : undefined,
  });
}

/**
 * Records that every value of the float tensor `x` must be finite and within int32's range
 * (before a cast to int32); the next read back throws `message` otherwise.
 */
export function checkIntegerRangeOnDevice(x: Tensor, message: string): void {
  if (x.numel() === 0) return;
  // 1 where the value is a number (NaN != NaN) inside int32's range, else 0; its minimum is 0
  // exactly when some value is not.
  const scalars = withNoGrad(() => [x.eq(x).mul(x.abs().lt(2147483648)).min()]);
  pending.push({ scalars, verdict: ([allFine]) => (allFine === 1 ? undefined : message) });
}

/**
 * Reads the pending checks and throws the first failure. All their scalars come back in one
 * read (a GPU read back waits for the queue, so one is much cheaper than several).
 */
export async function runDeviceChecks(): Promise<void> {
  if (pending.length === 0) return;
  const checks = pending;
  pending = [];
  const scalars = checks.flatMap((check) => check.scalars);
  const joined = withNoGrad(() => cat(scalars.map((t) => reshape(to(t, "float32"), [1]))));
  const values = await getBackend(joined.device).read(joined.storage, joined.dtype);
  joined.dispose();
  for (const t of scalars) t.dispose();
  let offset = 0;
  for (const check of checks) {
    const count = check.scalars.length;
    const failure = check.verdict(Array.from(values.subarray(offset, offset + count)));
    offset += count;
    if (failure !== undefined) throw new RangeError(failure);
  }
}
