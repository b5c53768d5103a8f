/**
 * Run-time checks of options objects, the last argument of most of the API.
 *
 * Students type PyTorch habits, and much of the API runs without a type checker (lessons, the
 * browser), so an options object is checked when it arrives: an unknown key is an error with a
 * suggestion (`weight_decay` -> `weightDecay`), and a number or an array where the options
 * object belongs (PyTorch's positional keyword arguments, `F.maxPool2d(x, 3, 2)`) is an error
 * that shows the options form (`{ stride: 2 }`).
 *
 * How to use it: call {@link checkOptions} first thing in the function (or constructor), with
 * the user-facing name of the op, its `arguments`, the position of the options argument and the
 * keys it accepts, in PyTorch's positional order (so that a positional number maps to the key
 * PyTorch would give it):
 *
 * ```ts ignore
 * export function maxPool2d(x: Tensor, kernelSize: Pair, options: PoolOptions = {}): Tensor {
 *   checkOptions("maxPool2d", arguments, 2, ["stride", "padding", "dilation"]);
 *   ...
 * }
 * ```
 *
 * `arguments` (not the `options` parameter) lets it see extra positional arguments too, which
 * JavaScript would otherwise drop without a word. Arrow functions have no `arguments`: pass an
 * array of the arguments instead (`[x, kernelSize, options, ...rest]`).
 *
 * @example
 * ```ts
 * import { checkOptions } from "./options.ts";
 * function scale(x: number, options: { factor?: number } = {}) {
 *   checkOptions("scale", arguments, 1, ["factor"]);
 *   return x * (options.factor ?? 2);
 * }
 * let message = "";
 * try {
 *   scale(1, { fator: 3 } as never);
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * console.assert(message.includes('did you mean "factor"'));
 * ```
 * @module
 */
import { checkDevice } from "./dtype.ts";

/**
 * Keys of PyTorch (or of other libraries) that are spelled differently here, and the key they
 * mean. Used only when the suggested key is one the op accepts.
 */
const KNOWN_ALIASES: Record<string, string[]> = {
  learningRate: ["lr"],
  learning_rate: ["lr"],
  reduce: ["reduction"],
  size_average: ["reduction"],
  sizeAverage: ["reduction"],
  keepdims: ["keepdim"],
  keepDims: ["keepdim"],
  axis: ["dim"],
  unbiased: ["correction"],
  ddof: ["correction"],
  decay: ["weightDecay"],
  l2: ["weightDecay"],
  shuffled: ["shuffle"],
  batch: ["batchSize"],
  drop_last: ["dropLast"],
  beta1: ["betas"],
  beta2: ["betas"],
  epsilon: ["eps"],
  requires_grad: ["requiresGrad"],
  grad: ["requiresGrad"],
  type: ["dtype"],
  stride_size: ["stride"],
  pad: ["padding"],
  step_size: ["stepSize"],
  T_max: ["tMax"],
  eta_min: ["etaMin"],
  min_lr: ["minLr"],
  approx: ["approximate"],
  negative_slope: ["negativeSlope"],
  slope: ["negativeSlope"],
  label_smoothing: ["labelSmoothing"],
  pos_weight: ["posWeight"],
  ignore_index: ["ignoreIndex"],
  ceil_mode: ["ceilMode"],
};

/** Ordinal words for the position of an argument ("the third argument"). */
const ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"];

/** "the third argument" for index 2. */
export function ordinal(index: number): string {
  return ORDINALS[index] ?? `${index + 1}th`;
}

function snakeToCamel(key: string): string {
  return key.replace(/_([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The number of single-letter edits (insert, delete, replace, or swap two neighbours) that turn
 * `a` into `b`: the Damerau-Levenshtein distance, in its "optimal string alignment" form.
 */
function editDistance(a: string, b: string): number {
  const rows = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
      }
    }
  }
  return rows[a.length][b.length];
}

/** How many letters two words share at their start. */
function commonPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/** The accepted key that an unknown key most likely meant, or undefined. */
export function suggestKey(unknown: string, keys: readonly string[]): string | undefined {
  for (const alias of KNOWN_ALIASES[unknown] ?? []) if (keys.includes(alias)) return alias;
  const camel = snakeToCamel(unknown);
  if (keys.includes(camel)) return camel;
  const lower = unknown.toLowerCase().replace(/_/g, "");
  const sameLetters = keys.find((k) => k.toLowerCase() === lower);
  if (sameLetters) return sameLetters;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const key of keys) {
    const distance = editDistance(lower, key.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [key, distance];
  }
  // One typo in a short key, two in a longer one (a swap of two letters counts as two).
  if (best !== undefined && bestDistance <= (best.length >= 5 ? 2 : 1)) return best;
  // Another form of the same word: "reduce" for "reduction", "stratified" for "stratify".
  return keys.find((key) => {
    const shared = commonPrefix(lower, key.toLowerCase());
    return shared >= 4 && shared >= Math.min(lower.length, key.length) - 3;
  });
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `an array (${JSON.stringify(value)})`;
  if (value === null) return "null";
  if (typeof value === "object") {
    const name = (value as object).constructor?.name;
    return name && name !== "Object" ? `a ${name}` : "an object";
  }
  if (typeof value === "string") return `a string ("${value}")`;
  return `a ${typeof value} (${String(value)})`;
}

function showValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return JSON.stringify(value);
  return String(value);
}

/** Whether `value` can be an options object: a plain object (or one without a prototype). */
function isOptionsObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks the options argument of an op and returns it (an empty object when it was left out).
 *
 * @param op the name the user called, as it should appear in the error: `"F.maxPool2d"`,
 *   `"Adam"`, `"DataLoader"`
 * @param args the call's `arguments` (or an array of every argument it was given)
 * @param index the position of the options object among the arguments
 * @param keys the keys the options object accepts, in PyTorch's positional order
 * @throws an Error naming the op, the unknown key and the key it probably meant; or, for a
 *   number, string, boolean or array in the options position, the options form to write
 *   instead; or for more arguments than the op takes
 */
export function checkOptions<T extends object = Record<string, unknown>>(
  op: string,
  args: ArrayLike<unknown>,
  index: number,
  keys: readonly string[],
): T {
  const value = args[index];
  if (value === undefined || value === null) {
    if (args.length > index + 1) tooMany(op, args, index);
    return {} as T;
  }
  if (!isOptionsObject(value)) {
    const positional = Array.from(args).slice(index);
    const named = positional.map((v, k) => (keys[k] ? `${keys[k]}: ${showValue(v)}` : null));
    const form = named.every((n) => n !== null) && keys.length > 0
      ? `; for PyTorch's positional ${keys.slice(0, positional.length).join(", ")} write ` +
        `{ ${named.join(", ")} }`
      : "";
    throw new TypeError(
      `${op}: the ${ordinal(index)} argument is an options object, got ` +
        `${describe(value)}${form} (options: ${listKeys(keys)})`,
    );
  }
  if (args.length > index + 1) tooMany(op, args, index);
  if (keys.includes("device")) checkDevice(op, value.device);
  for (const key of Object.keys(value)) {
    if (keys.includes(key)) continue;
    const suggestion = suggestKey(key, keys);
    throw new TypeError(
      `${op}: unknown option "${key}"` +
        (suggestion ? `; did you mean "${suggestion}"?` : "") +
        ` (options: ${listKeys(keys)})`,
    );
  }
  return value as T;
}

function listKeys(keys: readonly string[]): string {
  return keys.length === 0 ? "none" : keys.join(", ");
}

function tooMany(op: string, args: ArrayLike<unknown>, index: number): never {
  throw new TypeError(
    `${op}: takes at most ${index + 1} arguments (the last one an options object), got ` +
      `${args.length}: ${describe(args[index + 1])} after the options`,
  );
}

/**
 * Checks that no argument was given past the last one an op takes (JavaScript would drop it
 * without a word): `F.relu(x, true)` for PyTorch's `inplace`.
 *
 * @param op the user-facing name
 * @param args the call's `arguments`
 * @param count how many arguments the op takes
 * @param hint what to do instead, appended to the message
 */
export function checkArgCount(
  op: string,
  args: ArrayLike<unknown>,
  count: number,
  hint = "",
): void {
  let last = args.length;
  while (last > count && args[last - 1] === undefined) last--;
  // As a callback of map or forEach (tensors.map(F.relu)) it also gets an index and the array.
  if (last === count + 2 && typeof args[count] === "number" && Array.isArray(args[count + 1])) {
    return;
  }
  if (last > count) {
    throw new TypeError(
      `${op}: takes ${count} argument${count === 1 ? "" : "s"}, got ${last}` +
        ` (${ordinal(count)}: ${describe(args[count])})` + (hint ? `; ${hint}` : ""),
    );
  }
}

/**
 * Throws when an options object arrives where positional arguments belong: PyTorch's keywords
 * `nn.Conv2d(in_channels=3, ...)` typed as `new nn.Conv2d({ in_channels: 3, ... })`, or
 * `F.maxPool2d(x, { kernel_size: 2, stride: 2 })`. The error says what belongs there and shows
 * the call written positionally, with the values the object held (snake_case or camelCase).
 *
 * @param op the user-facing name
 * @param value the argument where the first positional one belongs
 * @param what what belongs there: "the kernel size is the second argument (a number or [h, w])"
 * @param call how the call starts: "F.maxPool2d(x, " or "new nn.Conv2d("
 * @param positional the positional arguments from there on, each `[camelCase name, example]`
 * @param keys the keys the options object after them accepts
 */
export function checkNotOptionsFirst(
  op: string,
  value: unknown,
  what: string,
  call: string,
  positional: readonly [string, string][],
  keys: readonly string[],
): void {
  if (!isOptionsObject(value)) return;
  const names = new Set(positional.map(([name]) => name));
  const given = (name: string) =>
    Object.entries(value).find(([k]) => snakeToCamel(k) === name)?.[1];
  const args = positional.map(([name, example]) => {
    const v = given(name);
    return v === undefined ? example : showValue(v);
  });
  const rest = Object.entries(value)
    .filter(([k]) => !names.has(snakeToCamel(k)))
    .map(([k, v]) => `${snakeToCamel(k)}: ${showValue(v)}`);
  const them = positional.length === 1 ? "it" : "them";
  throw new TypeError(
    `${op}: ${what}, not an options object (got { ${Object.keys(value).join(", ")} }); ` +
      (keys.length > 0
        ? `options like ${keys.slice(0, 2).join(", ")} go in the object after ${them}: `
        : "write: ") +
      `${call}${args.join(", ")}${rest.length > 0 ? `, { ${rest.join(", ")} }` : ""})`,
  );
}
