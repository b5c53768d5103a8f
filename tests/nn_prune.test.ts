/**
 * nn.utils.prune: masks and state dict names against PyTorch 1.13, masks combining when a
 * parameter is pruned again, global pruning, masks that hold through training, remove, errors
 * and CPU / WebGPU parity.
 *
 * The PyTorch masks and names were produced once by this script:
 *
 * ```python
 * import torch, torch.nn as nn, torch.nn.utils.prune as prune
 * def seq(n, f, scale): return f(scale * torch.arange(n, dtype=torch.float32))
 * a = nn.Linear(5, 4); b = nn.Linear(4, 3)
 * with torch.no_grad():
 *     a.weight.copy_(seq(20, torch.sin, 1.3).reshape(4, 5)); a.bias.zero_()
 *     b.weight.copy_(seq(12, torch.cos, 0.7).reshape(3, 4) * 0.5); b.bias.zero_()
 * prune.l1_unstructured(a, "weight", amount=0.3)         # a_mask1, a_keys
 * prune.l1_unstructured(a, "weight", amount=0.5)         # a_mask2
 * prune.l1_unstructured(a, "weight", amount=2)           # a_mask3
 * prune.global_unstructured([(a, "weight"), (b, "weight")],
 *                           pruning_method=prune.L1Unstructured, amount=0.4)  # g_a, g_b
 * prune.remove(a, "weight")                              # a_keys_removed
 * bn = nn.BatchNorm2d(3); prune.l1_unstructured(bn, "weight", amount=1)        # bn_keys
 * c = nn.Conv2d(2, 3, 3); prune.l1_unstructured(c, "bias", amount=1)           # c_keys
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import { F, manualSeed, nn, optim, randn, type Tensor, tensor, withNoGrad } from "../mod.ts";
import { assertThrowsWith } from "./core_helpers.ts";

const prune = nn.utils.prune;
import { gpuTest, onGpu } from "./gpu_helpers.ts";

const seq = (n: number, f: (x: number) => number, scale: number) =>
  Array.from({ length: n }, (_, i) => f(scale * i));

/** The two layers of the script, with its weights. */
function layers() {
  const a = new nn.Linear(5, 4);
  const b = new nn.Linear(4, 3);
  withNoGrad(() => {
    a.weight.assign(tensor(seq(20, Math.sin, 1.3), { shape: [4, 5] }));
    b.weight.assign(tensor(seq(12, Math.cos, 0.7).map((v) => v * 0.5), { shape: [3, 4] }));
    a.bias!.assign(a.bias!.mul(0));
    b.bias!.assign(b.bias!.mul(0));
  });
  return { a, b };
}

const maskOf = (module: nn.Module) => [...module.stateDict()["weight_mask"].dataSync()];
const keys = (module: nn.Module) => Object.keys(module.stateDict());

Deno.test("l1Unstructured prunes the smallest weights, with PyTorch's mask and names", () => {
  const { a } = layers();
  prune.l1Unstructured(a, "weight", { amount: 0.3 });
  assert.deepEqual(maskOf(a), [0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 0]);
  assert.deepEqual(keys(a), ["bias", "weight_orig", "weight_mask"]);
  assert.deepEqual(a.namedParameters().map(([n]) => n), ["bias", "weight_orig"]);
  assert.deepEqual(a.namedBuffers().map(([n]) => n), ["weight_mask"]);
  // The weight is the original times the mask: exactly 0 where pruned, unchanged elsewhere.
  const weight = a.weight.dataSync();
  const original = seq(20, Math.sin, 1.3);
  maskOf(a).forEach((m, i) => {
    const want = m === 0 ? 0 : Math.fround(original[i]);
    assert.ok(weight[i] === want, `weight entry ${i}: ${weight[i]}, expected ${want}`);
  });
});

Deno.test("pruning again prunes a share of what is left; the masks combine as PyTorch's", () => {
  const { a } = layers();
  prune.l1Unstructured(a, "weight", { amount: 0.3 });
  prune.l1Unstructured(a, "weight", { amount: 0.5 });
  assert.deepEqual(maskOf(a), [0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0]);
  prune.l1Unstructured(a, "weight", { amount: 2 }); // a whole number: two more weights
  assert.deepEqual(maskOf(a), [0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0]);
});

Deno.test("globalUnstructured ranks the weights of all layers together, as PyTorch", () => {
  const { a, b } = layers();
  prune.l1Unstructured(a, "weight", { amount: 0.3 });
  prune.l1Unstructured(a, "weight", { amount: 0.5 });
  prune.l1Unstructured(a, "weight", { amount: 2 });
  prune.globalUnstructured([[a, "weight"], [b, "weight"]], {
    pruningMethod: prune.L1Unstructured,
    amount: 0.4,
  });
  assert.deepEqual(maskOf(a), [0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0]);
  assert.deepEqual(maskOf(b), [1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]);
  assert.deepEqual(keys(b), ["bias", "weight_orig", "weight_mask"]);
});

Deno.test("remove makes the pruning permanent with PyTorch's names, on the same tensor", () => {
  const { a } = layers();
  prune.l1Unstructured(a, "weight", { amount: 0.3 });
  const orig = (a as unknown as { weightOrig: Tensor }).weightOrig;
  const masked = [...a.weight.dataSync()];
  assert.ok(prune.isPruned(new nn.Sequential(a)));
  prune.remove(a, "weight");
  assert.deepEqual(keys(a), ["bias", "weight"]);
  assert.equal(a.weight, orig, "the parameter keeps its identity (an optimizer still holds it)");
  assert.deepEqual([...a.weight.dataSync()], masked);
  assert.ok(!prune.isPruned(a));
});

Deno.test("pruning a batch norm's weight or a conv's bias names them as PyTorch", () => {
  const bn = new nn.BatchNorm2d(3);
  prune.l1Unstructured(bn, "weight", { amount: 1 });
  assert.deepEqual(keys(bn), [
    "bias",
    "weight_orig",
    "running_mean",
    "running_var",
    "num_batches_tracked",
    "weight_mask",
  ]);
  const conv = new nn.Conv2d(2, 3, 3);
  prune.l1Unstructured(conv, "bias", { amount: 1 });
  assert.deepEqual(keys(conv), ["weight", "bias_orig", "bias_mask"]);
});

Deno.test("pruned weights stay 0 through training, and their gradient is 0", async () => {
  manualSeed(4);
  const model = new nn.Sequential(new nn.Linear(6, 8), new nn.ReLU(), new nn.Linear(8, 3));
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.5, momentum: 0.9 }); // made before
  prune.globalUnstructured([[model.at(0), "weight"], [model.at(2), "weight"]], { amount: 0.5 });
  const first = model.at(0) as nn.Linear;
  const mask = [...first.stateDict()["weight_mask"].dataSync()];
  const x = randn([16, 6]);
  const y = tensor(Array.from({ length: 16 }, (_, i) => i % 3), { dtype: "int32" });
  let lossBefore = 0;
  let lossAfter = 0;
  for (let step = 0; step < 20; step++) {
    optimizer.zeroGrad();
    const loss = F.crossEntropy(model.forward(x), y);
    loss.backward();
    const grad = (first as unknown as { weightOrig: Tensor }).weightOrig.grad!;
    if (step === 0) {
      lossBefore = await loss.item();
      grad.dataSync().forEach((g, i) => {
        if (mask[i] === 0) assert.ok(g === 0, `gradient of pruned weight ${i}: ${g}`);
      });
    }
    lossAfter = await loss.item();
    optimizer.step();
  }
  assert.ok(lossAfter < lossBefore, `training lowered the loss (${lossBefore} -> ${lossAfter})`);
  first.weight.dataSync().forEach((w, i) => {
    if (mask[i] === 0) assert.ok(w === 0, `pruned weight ${i} after training: ${w}`);
  });
});

Deno.test("pruning with bad arguments says what was expected", () => {
  const { a, b } = layers();
  assertThrowsWith(() => prune.l1Unstructured(a, "weight", { amount: 21 }), [
    "l1Unstructured",
    "amount 21",
    "20 weights",
  ]);
  assertThrowsWith(() => prune.l1Unstructured(a, "weight", { amount: -0.1 }), ["amount"]);
  assertThrowsWith(() => prune.l1Unstructured(a, "weight", { amount: 30.5 }), ["pass 0.305"]);
  assertThrowsWith(() => prune.l1Unstructured(a, "weights", { amount: 0.2 }), [
    'no parameter "weights"',
    "weight, bias",
  ]);
  assertThrowsWith(() => prune.l1Unstructured(a, "weight", 0.2 as never), ["{ amount: 0.2 }"]);
  assertThrowsWith(() => prune.remove(b, "weight"), ["has to be pruned before"]);
  assertThrowsWith(() => prune.globalUnstructured([], { amount: 0.2 }), ["[module, name]"]);
  prune.l1Unstructured(a, "weight", { amount: 0.2 });
  assertThrowsWith(() => {
    a.weight = tensor([1]);
  }, ["is pruned", "weightOrig", "prune.remove"]);
});

gpuTest("parity: l1Unstructured and globalUnstructured give the same masks on WebGPU", () => {
  const cpu = layers();
  const gpu = layers();
  gpu.a.to("webgpu");
  gpu.b.to("webgpu");
  prune.l1Unstructured(cpu.a, "weight", { amount: 0.3 });
  prune.l1Unstructured(gpu.a, "weight", { amount: 0.3 });
  prune.globalUnstructured([[cpu.b, "weight"]], { amount: 0.5 });
  prune.globalUnstructured([[gpu.b, "weight"]], { amount: 0.5 });
  return Promise.all([
    (async () => {
      const want = cpu.a.stateDict()["weight_mask"].dataSync();
      const got = await gpu.a.stateDict()["weight_mask"].data();
      assert.deepEqual([...got], [...want], "l1Unstructured mask on WebGPU");
      const x = randn([2, 5]);
      const out = await gpu.a.forward(onGpu(x)).data();
      const expected = cpu.a.forward(x).dataSync();
      out.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5, `output ${i}`));
    })(),
    (async () => {
      const want = cpu.b.stateDict()["weight_mask"].dataSync();
      const got = await gpu.b.stateDict()["weight_mask"].data();
      assert.deepEqual([...got], [...want], "globalUnstructured mask on WebGPU");
    })(),
  ]).then(() => {
    // Pruning again needs the count of weights left, a read of the mask: said, not a crash.
    assertThrowsWith(() => prune.l1Unstructured(gpu.a, "weight", { amount: 0.2 }), [
      "l1Unstructured",
      "prune on the CPU",
    ]);
  });
});
