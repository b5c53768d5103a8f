/**
 * The kernel registry: which provider answers for each fused kernel, the fallback to the
 * reference loops, and the optimizer steps as registered kernels (the same update from every
 * provider, and parameters made under one kernel set stepped under the other).
 * @module
 */
import { ok, strictEqual } from "node:assert/strict";
import { findKernel, type KernelName } from "../core/backend.ts";
import { referenceStep } from "../core/cpu/fused.ts";
import { manualSeed, optim, randn, setCpuKernels, tensor } from "../mod.ts";
import { assertAllClose } from "./wasm_helpers.ts";

const FUSED: KernelName[] = [
  "maxPool2d",
  "maxPool2dBackward",
  "batchNormTrain",
  "batchNormTrainBackward",
  "linear",
  "conv2d",
  "conv2dBackward",
  "sgdStep",
  "adamStep",
];

Deno.test("float32 on the CPU finds the wasm kernels; float64 and RMSprop find the reference", () => {
  setCpuKernels("wasm");
  for (const name of FUSED) {
    const wasm = findKernel(name, "cpu", "float32");
    const reference = findKernel(name, "cpu", "float64");
    ok(wasm && reference, `${name}: registered for float32 and float64`);
    ok(wasm !== reference, `${name}: float32 should run the wasm kernel, not the reference`);
  }
  // RMSprop has no wasm kernel: the registry falls back to the reference loop.
  strictEqual(findKernel("rmspropStep", "cpu", "float32"), referenceStep);
  setCpuKernels("reference");
  try {
    for (const name of FUSED) {
      strictEqual(
        findKernel(name, "cpu", "float32"),
        findKernel(name, "cpu", "float64"),
        `${name}: the reference kernel set runs the reference kernel for float32 too`,
      );
    }
  } finally {
    setCpuKernels("wasm");
  }
});

/** Ten steps of an optimizer on a fixed quadratic loss; returns the final parameter. */
async function train(
  make: (p: ReturnType<typeof tensor>) => optim.Optimizer,
  dtype: "float32" | "float64",
) {
  manualSeed(5);
  const target = randn([37], { dtype });
  const p = randn([37], { dtype }).requiresGrad_();
  const optimizer = make(p);
  for (let i = 0; i < 10; i++) {
    optimizer.zeroGrad();
    p.sub(target).pow(2).mul(tensor(Array.from({ length: 37 }, (_, k) => 1 + k / 37), { dtype }))
      .sum().backward();
    optimizer.step();
  }
  return Float64Array.from(await p.data());
}

Deno.test("every optimizer step gives the same parameters from wasm as from the reference", async () => {
  const optimizers: [string, (p: ReturnType<typeof tensor>) => optim.Optimizer][] = [
    ["SGD", (p) => new optim.SGD([p], { lr: 0.05 })],
    ["SGD, Nesterov", (p) => new optim.SGD([p], { lr: 0.05, momentum: 0.9, nesterov: true })],
    ["Adam", (p) => new optim.Adam([p], { lr: 0.1, weightDecay: 0.01 })],
    ["AdamW", (p) => new optim.AdamW([p], { lr: 0.1 })],
    [
      "RMSprop, centered",
      (p) => new optim.RMSprop([p], { lr: 0.01, momentum: 0.5, centered: true }),
    ],
  ];
  for (const [name, make] of optimizers) {
    const wasm = await train(make, "float32");
    const reference = await train(make, "float64");
    assertAllClose(`${name}: float32 (wasm) vs float64 (reference)`, wasm, reference, 1e-4, 1e-5);
  }
});

Deno.test("a parameter made under the reference kernels steps in place under the wasm kernels", async () => {
  setCpuKernels("reference");
  const p = tensor([1, 2, 3]).requiresGrad_();
  const optimizer = new optim.Adam([p], { lr: 0.5 });
  p.mul(p).sum().backward();
  setCpuKernels("wasm");
  optimizer.step();
  const stepped = await p.data();
  // Adam's first step moves each value by lr against the gradient's sign.
  assertAllClose("after one Adam step", stepped, [0.5, 1.5, 2.5], 1e-6, 1e-6);
});
