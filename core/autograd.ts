/**
 * Reverse-mode automatic differentiation.
 *
 * Every op that produces a tensor from tensors that require gradients records a {@link GradNode}
 * on its output: which op made it, from which inputs, and a `backward` function that turns the
 * gradient of the output into gradients of the inputs. `backward()` visits the recorded graph in
 * reverse topological order (outputs before the inputs they came from), with an explicit stack
 * instead of recursion, so a chain of 10,000 ops does not overflow the call stack.
 *
 * @module
 */
import type { Tensor } from "./tensor.ts";
import { fmtShape } from "./shape.ts";

/** How a tensor was made: the op, its inputs, and the rule for its gradient. */
export interface GradNode {
  op: string;
  inputs: Tensor[];
  /**
   * Gradients of the inputs given the gradient of the output (null for an input that needs
   * none). Set to null once used, which frees what it captured.
   */
  backward: ((grad: Tensor) => (Tensor | null)[]) | null;
  /**
   * The tensors whose values the backward rule reads, each with the storage and version it had
   * when the op ran (see {@link bumpVersion}): backward() refuses to run the rule if one of them
   * was changed in place since, because the gradient would silently be wrong.
   */
  saved?: SavedTensor[];
  /**
   * Tensors the op made for its backward pass alone (where max pooling's maxima were, a batch's
   * statistics): released by `backward()` with the rest of the graph (see {@link ownedByGraph}).
   */
  temporaries?: Tensor[];
}

/**
 * Where the tensors made while `backward()` runs are listed (the tensor constructor adds each
 * one), so that the temporaries of backward rules are released when it ends, not by the GC.
 */
export const madeInBackward: { list: Tensor[] | null } = { list: null };

/** Intermediate results that no caller can hold (see {@link markInternal}). */
const internalTensors = new WeakSet<Tensor>();

/**
 * Marks results that only a function's own code holds (the output of one layer of a
 * `Sequential` fed to the next, the product inside a convolution before its bias is added):
 * `backward()` releases their values once its walk has passed them. A tensor handed to the user
 * is never marked: its values stay readable after backward().
 */
export function markInternal(...tensors: Tensor[]): void {
  for (const t of tensors) if (t.node) internalTensors.add(t);
}

/**
 * Hands tensors that an op made for its backward rule alone to the graph of `out`, which
 * releases them when backward() has used them. Where no graph was recorded (under noGrad(), or
 * when no input needs a gradient) nothing will read them again, and they are released at once:
 * an evaluation loop then reuses their memory instead of waiting for the garbage collector.
 * Returns `out`.
 */
export function ownedByGraph(out: Tensor, ...temporaries: Tensor[]): Tensor {
  // (A temporary may be a node of the graph too, a reshaped view for instance, as long as the
  // backward rule of its own node does not read its values. A view shares its storage, which is
  // counted: releasing the view leaves the values to the tensors that still hold them.)
  const owned = temporaries.filter((t) => t !== out);
  if (!out.node) { for (const t of owned) t.dispose(); }
  else if (owned.length > 0) (out.node.temporaries ??= []).push(...owned);
  return out;
}

/** A tensor saved for a backward pass, as it was when the op ran. */
export interface SavedTensor {
  tensor: Tensor;
  storage: object;
  version: number;
}

// ---- version counters --------------------------------------------------------------------------
//
// As in PyTorch, each storage has a version that every in-place write increments (an optimizer
// step, or an in-place kernel). An op records the versions of the tensors its backward reads; a
// tensor whose storage was replaced (`assign`) or written since fails the check in backward().

const storageVersions = new WeakMap<object, number>();

/** The number of in-place writes to `storage` so far. */
export function versionOf(storage: object): number {
  return storageVersions.get(storage) ?? 0;
}

/**
 * Marks `tensor`'s values as changed in place (call it from every in-place write: an optimizer
 * step, an in-place kernel), so that a backward pass that saved them throws instead of using the
 * new values.
 */
export function bumpVersion(tensor: Tensor): void {
  const storage = tensor.storage;
  storageVersions.set(storage, versionOf(storage) + 1);
}

/**
 * Throws PyTorch's error for an in-place change of a leaf that requires a gradient while the
 * graph is being recorded (it would be invisible to autograd). Call it from every in-place op.
 */
export function checkInPlace(op: string, tensor: Tensor): void {
  if (!gradEnabled) return;
  if (tensor.requiresGrad && tensor.node === null) {
    throw new Error(
      `${op}: a leaf tensor that requires grad (shape ${fmtShape(tensor.shape)}) is being ` +
        `changed in place outside noGrad(); autograd cannot see the change. Do it inside ` +
        `{ using _ = noGrad(); ... } (as an optimizer step does), or work on t.detach()`,
    );
  }
  if (tensor.requiresGrad) {
    throw new Error(
      `${op}: this tensor of shape ${fmtShape(tensor.shape)} was computed by ` +
        `"${tensor.node!.op}" and is part of the graph; an in-place change would not be ` +
        `recorded. Make a new tensor instead (y = ...), or change t.detach()`,
    );
  }
}

function snapshot(tensors: Tensor[]): SavedTensor[] {
  return tensors.map((tensor) => {
    const storage = tensor.storage;
    return { tensor, storage, version: versionOf(storage) };
  });
}

/** Throws if a tensor saved by `node` was changed in place after the op ran. */
function checkSaved(node: GradNode): void {
  for (const [k, saved] of (node.saved ?? []).entries()) {
    const { tensor } = saved;
    if (tensor.isDisposed) continue;
    const storage = tensor.storage;
    const now = versionOf(storage);
    if (storage === saved.storage && now === saved.version) continue;
    const what = tensor.node
      ? `the output of "${tensor.node.op}"`
      : tensor.requiresGrad
      ? "a leaf that requires grad (a parameter?)"
      : "a tensor";
    const index = node.inputs.indexOf(tensor);
    throw new Error(
      `backward: a tensor needed for the gradient of "${node.op}" has been modified in place ` +
        `since "${node.op}" used it: ${index >= 0 ? `input ${index}` : `saved tensor ${k}`} of ` +
        `shape ${fmtShape(tensor.shape)}, ${what}` +
        (storage === saved.storage
          ? ` (version ${now}, expected ${saved.version})`
          : ` (its values were replaced by assign or loadStateDict)`) +
        `. Change it only after backward() (zeroGrad, backward, step), or compute the loss ` +
        `again after the change`,
    );
  }
}

let gradEnabled = true;

/** Whether ops currently record the graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Turns graph recording off until the returned handle is disposed, like PyTorch's
 * `with torch.no_grad():`. Use it for evaluation and for optimizer updates.
 *
 * @example
 * ```ts
 * import { noGrad, tensor } from "../mod.ts";
 * const w = tensor([1, 2], { requiresGrad: true });
 * {
 *   using _ = noGrad();
 *   const y = w.mul(2); // not recorded
 *   console.assert(!y.requiresGrad);
 * }
 * ```
 */
export function noGrad(): Disposable & { restore(): void } {
  const previous = gradEnabled;
  gradEnabled = false;
  // Where it was made, for the error of a backward() while it is still active (the stack is
  // formatted only then).
  const guard = { made: new Error() };
  openGuards.push(guard);
  if (openGuards.length > 100) openGuards.shift(); // bare noGrad() calls in a loop
  const restore = () => {
    gradEnabled = previous;
    const index = openGuards.lastIndexOf(guard);
    if (index >= 0) openGuards.splice(index, 1);
  };
  return { restore, [Symbol.dispose]: restore };
}

/** The noGrad() guards not yet disposed. */
const openGuards: { made: Error }[] = [];

/**
 * Why graph recording is off, for the error of an op that found no graph: the noGrad() guard
 * still active and where it was made (a bare `noGrad();`, PyTorch's `torch.no_grad()` without
 * `with`, turns recording off for the rest of the program), or withNoGrad(). Empty when
 * recording is on.
 */
export function noGradReason(): string {
  if (gradEnabled) return "";
  const guard = openGuards[openGuards.length - 1];
  if (!guard) return "gradient recording is off here: this runs inside withNoGrad()";
  const line = guard.made.stack?.split("\n")[2]?.trim().replace(/^at /, "");
  return `a noGrad() guard${line ? ` made at ${line}` : ""} is still active, so no op ` +
    `records the graph (a bare "noGrad();" turns gradients off for the rest of the program). ` +
    `Hold the guard inside a block, { using _ = noGrad(); ... }, or dispose it when done ` +
    `(guard[Symbol.dispose]() or guard.restore())`;
}

/** Runs `fn` with graph recording off and returns its result. */
export function withNoGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/**
 * Records how `out` was made, when any input requires a gradient and recording is on. Each op
 * calls this right after computing its forward result, with its backward rule beside it.
 * `saved` lists the tensors whose values the backward rule reads (all inputs unless the op says
 * otherwise: `add` reads none), checked against in-place changes when backward() runs.
 */
export function record(
  op: string,
  out: Tensor,
  inputs: Tensor[],
  backward: (grad: Tensor) => (Tensor | null)[],
  saved: Tensor[] = inputs,
): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward, saved: snapshot(saved) };
  }
  return out;
}

/** Options of {@link runBackward}. */
export interface BackwardOptions {
  /** Keep the graph so that backward can run through it again. */
  retainGraph?: boolean;
}

/**
 * Computes the gradient of `root` with respect to every leaf tensor that requires one, adding
 * it to the leaf's `grad` (gradients accumulate until `zeroGrad`).
 */
export function runBackward(root: Tensor, gradient: Tensor, options: BackwardOptions = {}): void {
  // 1. Topological order by an iterative depth-first search: a tensor is placed after every
  //    tensor that was computed from it has been placed, i.e. `order` lists inputs first.
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [tensor, next] = top;
    const inputs = tensor.node?.inputs ?? [];
    if (next < inputs.length) {
      top[1]++;
      const input = inputs[next];
      if (input.requiresGrad && !visited.has(input)) {
        visited.add(input);
        stack.push([input, 0]);
      }
    } else {
      stack.pop();
      order.push(tensor);
    }
  }

  // 2. Walk from the root back to the leaves, summing the gradient contributions of every use.
  //    Memory is given back as the walk goes, without waiting for the garbage collector: the
  //    values of an intermediate tensor are released once its own backward rule has run (every
  //    rule that reads it ran before: they come later in `order`), unless the graph is retained,
  //    and every tensor made by the backward rules is released at the end but the gradients.
  const previous = gradEnabled;
  const previousList = madeInBackward.list;
  const made: Tensor[] = [];
  gradEnabled = false;
  madeInBackward.list = made;
  try {
    const grads = new Map<Tensor, Tensor>([[root, gradient]]);
    // Intermediate gradients are needed only until they have been passed on. Their storage is
    // given back as soon as nothing holds them any more (a GPU or wasm memory does not wait for
    // the garbage collector then). `holders` counts the entries of `grads` that hold a tensor;
    // `kept` are those the user can see: the root's gradient and every `.grad`.
    const holders = new Map<Tensor, number>([[gradient, 1]]);
    const kept = new Set<Tensor>([gradient]);
    const hold = (t: Tensor, change: number) => holders.set(t, (holders.get(t) ?? 0) + change);
    const release = (t: Tensor) => {
      if (!kept.has(t) && !(holders.get(t)! > 0)) t.dispose();
    };
    for (let i = order.length - 1; i >= 0; i--) {
      const tensor = order[i];
      const grad = grads.get(tensor);
      if (!grad) continue;
      grads.delete(tensor);
      hold(grad, -1);
      const node = tensor.node;
      if (!node || tensor.retainsGrad) {
        const previousGrad = tensor.grad;
        // A gradient already kept elsewhere (add's backward hands one tensor to both inputs)
        // gets a handle of its own, so that releasing one `.grad` leaves the other intact.
        const own = kept.has(grad) ? grad.detach() : grad;
        tensor.grad = previousGrad ? previousGrad.add(grad) : own;
        kept.add(tensor.grad);
      }
      if (!node) {
        release(grad);
        continue;
      }
      if (!node.backward) {
        throw new Error(
          `backward: trying to go backward through the graph a second time (through ` +
            `"${node.op}"); its saved values were freed after the first backward. Pass ` +
            `{ retainGraph: true } to the first backward() if you need to go back twice.`,
        );
      }
      checkSaved(node);
      const inputGrads = node.backward(grad);
      if (!options.retainGraph) {
        node.backward = null;
        if (tensor !== root && !tensor.retainsGrad && internalTensors.has(tensor)) {
          tensor.releaseBy("backward");
        }
        for (const temporary of node.temporaries ?? []) temporary.releaseBy("backward");
      }
      // Gradients that were computed but not kept as they are: released once all are placed.
      const spent: Tensor[] = [grad];
      node.inputs.forEach((input, k) => {
        let g = inputGrads[k];
        if (!g) return;
        if (!input.requiresGrad) {
          spent.push(g);
          return;
        }
        // An op that promoted this input (float32 * float64) computed its gradient in the wider
        // dtype: bring it back to the input's own dtype, as PyTorch does.
        if (g.dtype !== input.dtype) g = g.to(input.dtype);
        if (g.shape.length !== input.shape.length || g.shape.some((d, j) => d !== input.shape[j])) {
          throw new Error(
            `backward of "${node.op}" produced a gradient of shape ${fmtShape(g.shape)} ` +
              `for an input of shape ${fmtShape(input.shape)} (a bug in that op)`,
          );
        }
        const sum = grads.get(input);
        const total = sum ? sum.add(g) : g;
        grads.set(input, total);
        hold(total, 1);
        if (sum) {
          hold(sum, -1);
          spent.push(sum, g);
        }
      });
      for (const t of spent) release(t);
    }
    for (const t of made) if (!kept.has(t)) t.dispose();
  } finally {
    gradEnabled = previous;
    madeInBackward.list = previousList;
  }
}
