/**
 * F.klDiv as PyTorch defines it (input log-probabilities, target probabilities or
 * log-probabilities): values against PyTorch 1.13 for every reduction, the 0 * log 0 = 0 rule,
 * gradients (float64 central differences), CPU / WebGPU parity and errors.
 *
 * The PyTorch numbers were produced once by this script:
 *
 * ```python
 * import torch, torch.nn.functional as F
 * def seq(n, f, scale): return f(scale * torch.arange(n, dtype=torch.float64))
 * def show(name, t): print(name, list(t.shape), [float('%.10g' % v) for v in t.flatten().tolist()])
 * logits = seq(12, torch.sin, 0.8).reshape(3, 4) * 2
 * inp = F.log_softmax(logits, 1)
 * tgt = F.softmax(seq(12, torch.cos, 0.5).reshape(3, 4) * 3, 1)
 * tgt0 = tgt.clone(); tgt0[0, 1] = 0.0
 * for red in ["mean", "batchmean", "sum", "none"]:
 *     show("kl_" + red, F.kl_div(inp, tgt, reduction=red))
 * show("kl_zero_sum", F.kl_div(inp, tgt0, reduction="sum"))
 * show("kl_log_batchmean", F.kl_div(inp, tgt.log(), reduction="batchmean", log_target=True))
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertClose, F, gradcheck, type Tensor, tensor } from "../mod.ts";
import { assertThrowsWith, normal } from "./core_helpers.ts";
import { checkParity, gpuTest, input } from "./gpu_helpers.ts";

function seq(shape: number[], f: (x: number) => number, scale: number): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return tensor(Float64Array.from({ length: n }, (_, i) => f(scale * i)), {
    shape,
    dtype: "float64",
  });
}

const logProbs = () => F.logSoftmax(seq([3, 4], Math.sin, 0.8).mul(2), 1);
const probs = () => F.softmax(seq([3, 4], Math.cos, 0.5).mul(3), 1);
const TIGHT = { atol: 1e-9, rtol: 1e-8 };

Deno.test("klDiv matches PyTorch for every reduction", async () => {
  await assertClose(F.klDiv(logProbs(), probs()), [0.1388711485], TIGHT, "klDiv mean");
  await assertClose(
    F.klDiv(logProbs(), probs(), { reduction: "batchmean" }),
    [0.5554845942],
    TIGHT,
    "klDiv batchmean",
  );
  await assertClose(
    F.klDiv(logProbs(), probs(), { reduction: "sum" }),
    [1.666453783],
    TIGHT,
    "klDiv sum",
  );
  const none = F.klDiv(logProbs(), probs(), { reduction: "none" });
  assert.deepEqual(none.shape, [3, 4]);
  await assertClose(
    none,
    [
      1.048708825,
      0.1041867858,
      -0.1599879932,
      -0.06244733312,
      0.005083448681,
      0.04632685041,
      0.01707380909,
      -0.05008677066,
      -0.02244334765,
      -0.08593376641,
      -0.154353461,
      0.9803267359,
    ],
    TIGHT,
    "klDiv none",
  );
});

Deno.test("klDiv counts a zero target probability as 0 * log 0 = 0, as PyTorch", async () => {
  const target = probs().mul(tensor([[1, 0, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]], {
    dtype: "float64",
  }));
  const loss = F.klDiv(logProbs(), target, { reduction: "sum" });
  await assertClose(loss, [1.562266997], TIGHT, "klDiv with a zero target");
});

Deno.test("klDiv with logTarget equals klDiv of the probabilities", async () => {
  const loss = F.klDiv(logProbs(), probs().log(), { reduction: "batchmean", logTarget: true });
  await assertClose(loss, [0.5554845942], TIGHT, "klDiv logTarget batchmean");
});

Deno.test("gradient of klDiv with respect to the input and the target", async () => {
  for (const reduction of ["batchmean", "mean", "sum"] as const) {
    const name = `klDiv ${reduction}`;
    const checked = await gradcheck(
      (x, t) => F.klDiv(x.logSoftmax(1), t.softmax(1), { reduction }),
      [normal([3, 4], 1), normal([3, 4], 2)],
      { name },
    );
    assert.ok(checked > 0, `${name}: nothing checked`);
  }
  const checked = await gradcheck(
    (x, t) => F.klDiv(x.logSoftmax(1), t.logSoftmax(1), { logTarget: true }),
    [normal([2, 5], 3), normal([2, 5], 4)],
    { name: "klDiv logTarget" },
  );
  assert.ok(checked > 0);
});

Deno.test("klDiv with a bad reduction, shapes or options says what was expected", () => {
  const x = tensor([[0.1, 0.9]]).log();
  assertThrowsWith(() => F.klDiv(x, tensor([[0.5, 0.5]]), { reduction: "avg" as never }), [
    "klDiv",
    '"batchmean"',
    '"avg"',
  ]);
  assertThrowsWith(() => F.klDiv(x, tensor([0.5, 0.5])), ["klDiv", "[1, 2]", "[2]"]);
  assertThrowsWith(() => F.klDiv(x, tensor([[0.5, 0.5]]), { log_target: true } as never), [
    "klDiv",
    'did you mean "logTarget"',
  ]);
  assertThrowsWith(() => F.klDiv(x, tensor([[0.5, 0.5]]), "batchmean" as never), [
    "klDiv",
    "{ reduction:",
  ]);
});

gpuTest("parity: klDiv, forward and gradient", async (t) => {
  for (const reduction of ["batchmean", "none"] as const) {
    await t.step(reduction, () =>
      checkParity(
        `klDiv ${reduction}`,
        [input([5, 10], 1), input([5, 10], 2)],
        (x, y) => F.klDiv(x.logSoftmax(1), y.softmax(1), { reduction }),
      ));
  }
});
