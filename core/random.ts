/**
 * The one seeded random generator behind every random choice: initialization, dropout,
 * shuffling, augmentation, data splits. `manualSeed(42)` makes every run print the same numbers,
 * on every device, because random values are always drawn here, on the CPU, and then uploaded.
 *
 * The generator is xoshiro128**: small, fast, and good enough for machine learning (not for
 * cryptography).
 * @module
 */

const state = new Uint32Array(4);

/** splitmix32 spreads one seed over the four words of state (so that seed 0 works too). */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * Seeds the generator, like `torch.manual_seed`.
 * @example
 * ```ts
 * import { manualSeed, rand } from "../mod.ts";
 * manualSeed(0);
 * const first = await rand([3]).data();
 * manualSeed(0);
 * const again = await rand([3]).data();
 * console.assert(first[0] === again[0]);
 * ```
 */
export function manualSeed(seed: number): void {
  if (!Number.isFinite(seed)) throw new TypeError(`manualSeed: seed must be a number, got ${seed}`);
  const next = splitmix32(Math.floor(seed));
  for (let i = 0; i < 4; i++) state[i] = next();
}
manualSeed(0);

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The next 32 random bits as an unsigned integer. */
export function nextUint32(): number {
  const result = Math.imul(rotl(Math.imul(state[1], 5), 7), 9) >>> 0;
  const t = state[1] << 9;
  state[2] ^= state[0];
  state[3] ^= state[1];
  state[1] ^= state[2];
  state[0] ^= state[3];
  state[2] ^= t;
  state[3] = rotl(state[3], 11);
  return result;
}

/** A uniform number in [0, 1). */
export function nextFloat(): number {
  return nextUint32() / 4294967296;
}

/** A standard normal number (Box-Muller transform). */
export function nextNormal(): number {
  // 1 - u is in (0, 1], so the logarithm is finite.
  const u = 1 - nextFloat();
  const v = nextFloat();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A uniform integer in [low, high). */
export function nextInt(low: number, high: number): number {
  return low + Math.floor(nextFloat() * (high - low));
}

/** A random permutation of 0 .. n-1 (Fisher-Yates shuffle), like `torch.randperm`. */
export function randperm(n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = nextInt(0, i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Saves the generator's state (to restore it later with {@link setRngState}). */
export function getRngState(): Uint32Array {
  return state.slice();
}

/** Restores a state saved with {@link getRngState}. */
export function setRngState(saved: Uint32Array): void {
  state.set(saved);
}
