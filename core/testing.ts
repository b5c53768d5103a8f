/**
 * Testing helpers: `assertClose` for numbers and tensors, and `gradcheck`, which compares the
 * gradients computed by autograd with central differences.
 *
 * @module
 */
import type { TypedArray } from "./dtype.ts";
import { fmtShape } from "./shape.ts";
import { Tensor } from "./tensor.ts";
import { getBackend } from "./backend.ts";

/** Tolerances: `|actual - expected| <= atol + rtol * |expected|`. */
export interface Tolerance {
  atol?: number;
  rtol?: number;
}

async function valuesOf(x: Tensor | ArrayLike<number> | number): Promise<ArrayLike<number>> {
  if (x instanceof Tensor) return await x.data();
  if (typeof x === "number") return [x];
  return x;
}

/**
 * Asserts that two tensors (or arrays, or numbers) hold the same values within a tolerance.
 * The failure message names the first index that differs, both values, and the tolerance.
 */
export async function assertClose(
  actual: Tensor | ArrayLike<number> | number,
  expected: Tensor | ArrayLike<number> | number,
  { atol = 1e-5, rtol = 1e-4 }: Tolerance = {},
  what = "values",
): Promise<void> {
  if (actual instanceof Tensor && expected instanceof Tensor) {
    const a = actual.shape, e = expected.shape;
    if (a.length !== e.length || a.some((d, i) => d !== e[i])) {
      throw new Error(`${what}: shape ${fmtShape(a)} differs from the expected ${fmtShape(e)}`);
    }
  }
  const a = await valuesOf(actual);
  const e = await valuesOf(expected);
  if (a.length !== e.length) {
    throw new Error(`${what}: ${a.length} values, expected ${e.length}`);
  }
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - e[i]);
    const bound = atol + rtol * Math.abs(e[i]);
    const bad = Number.isNaN(a[i]) !== Number.isNaN(e[i]) || diff > bound ||
      (!Number.isFinite(e[i]) && a[i] !== e[i] && !Number.isNaN(e[i]));
    if (bad && (worst < 0 || diff - bound > worstExcess)) {
      worst = i;
      worstExcess = diff - bound;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${what}: mismatch at flat index ${worst}: got ${a[worst]}, expected ${e[worst]} ` +
        `(difference ${Math.abs(a[worst] - e[worst])}, tolerance atol=${atol} rtol=${rtol})`,
    );
  }
}

/** Options of {@link gradcheck}. */
export interface GradcheckOptions extends Tolerance {
  /** Step of the central differences. */
  eps?: number;
  /** Name of the op in failure messages. */
  name?: string;
}

/**
 * Checks autograd against numerical differentiation. `fn` maps the inputs to a tensor; each
 * input that requires a gradient must be float64 on the CPU. The scalar checked is
 * `sum(fn(inputs) * probe)` for a fixed random `probe`, so every output element matters and
 * errors cannot cancel. For every element `i` of every input,
 * `(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)` must match the gradient from `backward()`.
 * Throws naming the op, the input, the index and both numbers; returns the number of entries
 * checked.
 */
export async function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  { eps = 1e-6, atol = 1e-5, rtol = 1e-3, name = "fn" }: GradcheckOptions = {},
): Promise<number> {
  const cpu = getBackend("cpu");
  for (const [k, t] of inputs.entries()) {
    if (t.requiresGrad && (t.dtype !== "float64" || t.device !== "cpu")) {
      throw new Error(
        `gradcheck(${name}): input ${k} must be a float64 CPU tensor, got ${t.dtype} on ` +
          `${t.device} (float32 differences are too coarse for a gradient check)`,
      );
    }
  }
  // A fixed pseudo-random probe, so that the check does not consume the seeded generator.
  const first = fn(...inputs);
  const probeValues = new Float64Array((await first.data()).length);
  for (let i = 0; i < probeValues.length; i++) probeValues[i] = 0.5 + ((i * 7919) % 13) / 13;
  const probe = new Tensor(cpu.upload(probeValues), first.shape, "float64");
  const objective = (): number => {
    const out = fn(...inputs);
    const values = out.dataSync();
    let total = 0;
    for (let i = 0; i < values.length; i++) total += values[i] * probeValues[i];
    return total;
  };
  for (const t of inputs) t.grad = null;
  fn(...inputs).mul(probe).sum().backward();
  let checked = 0;
  for (const [k, t] of inputs.entries()) {
    if (!t.requiresGrad) continue;
    const analytic = t.grad ? t.grad.dataSync() : new Float64Array(t.numel());
    const values = t.storage as unknown as { data: TypedArray };
    for (let i = 0; i < t.numel(); i++) {
      const original = values.data[i];
      values.data[i] = original + eps;
      const plus = objective();
      values.data[i] = original - eps;
      const minus = objective();
      values.data[i] = original;
      const numeric = (plus - minus) / (2 * eps);
      const diff = Math.abs(numeric - analytic[i]);
      if (!(diff <= atol + rtol * Math.abs(numeric))) {
        throw new Error(
          `gradcheck(${name}): gradient mismatch for input ${k} of shape ${fmtShape(t.shape)} ` +
            `at flat index ${i}: autograd ${analytic[i]}, numerical ${numeric} ` +
            `(difference ${diff}, tolerance atol=${atol} rtol=${rtol})`,
        );
      }
      checked++;
    }
  }
  return checked;
}
