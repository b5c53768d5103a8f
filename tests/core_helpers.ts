/**
 * Small helpers shared by the core test files: float64 inputs for gradient checks, and an
 * assertion that a function throws an error whose message contains given pieces of text.
 * @module
 */
import assert from "node:assert/strict";
import { manualSeed, rand, randn, type Tensor } from "../mod.ts";

/** A float64 leaf of standard normal values that requires a gradient (seeded). */
export function normal(shape: number[], seed = 1): Tensor {
  manualSeed(seed);
  return randn(shape, { dtype: "float64", requiresGrad: true });
}

/** A float64 leaf of values in `[low, high)` that requires a gradient (seeded). */
export function uniform(shape: number[], low: number, high: number, seed = 1): Tensor {
  manualSeed(seed);
  const values = rand(shape, { dtype: "float64" }).mul(high - low).add(low);
  return values.requiresGrad_();
}

/**
 * Asserts that `fn` throws, and that the message contains every piece of `parts` (plain
 * substrings, so a failing test prints the message it got and the piece it missed).
 */
export function assertThrowsWith(fn: () => unknown, parts: string[]): void {
  let message: string | null = null;
  try {
    fn();
  } catch (error) {
    message = error instanceof Error ? error.message : String(error);
  }
  assert.ok(message !== null, `expected an error mentioning ${JSON.stringify(parts)}`);
  for (const part of parts) {
    assert.ok(
      message.includes(part),
      `the error message ${JSON.stringify(message)} does not mention ${JSON.stringify(part)}`,
    );
  }
}

/** The async twin of {@link assertThrowsWith}, for functions that reject. */
export async function assertRejectsWith(fn: () => Promise<unknown>, parts: string[]) {
  let message: string | null = null;
  try {
    await fn();
  } catch (error) {
    message = error instanceof Error ? error.message : String(error);
  }
  assert.ok(message !== null, `expected an error mentioning ${JSON.stringify(parts)}`);
  for (const part of parts) {
    assert.ok(
      message.includes(part),
      `the error message ${JSON.stringify(message)} does not mention ${JSON.stringify(part)}`,
    );
  }
}
