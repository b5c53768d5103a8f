/**
 * Training-mode batch norm has two paths: the composed one (means, variances, sub, div, mul and
 * add, with autograd deriving the backward) that float64 and WebGPU use, and a backend's fused
 * kernels (the WebAssembly CPU kernels, float32; reference loops when the reference kernel set
 * is chosen). Both must give the same outputs, running statistics and gradients.
 */
import "../mod.ts";
import { F, getCpuKernels, manualSeed, randn, setCpuKernels, type Tensor, zeros } from "../mod.ts";
import { assertClose } from "../core/testing.ts";
import assert from "node:assert/strict";

const shapes = [[16, 5], [4, 3, 6, 7], [3, 4, 9]];

/** One training step of batch norm on a copy of `base` (cast by `cast`), with a random loss. */
function run(base: Tensor, affine: boolean, cast: (t: Tensor) => Tensor) {
  const channels = base.shape[1];
  manualSeed(3);
  const input = cast(base).detach().requiresGrad_();
  const weight = affine ? cast(randn([channels]).add(1)).requiresGrad_() : null;
  const bias = affine ? cast(randn([channels])).requiresGrad_() : null;
  const runningMean = cast(zeros([channels]).add(0.5));
  const runningVar = cast(zeros([channels]).add(2));
  const out = F.batchNorm(input, runningMean, runningVar, {
    weight,
    bias,
    training: true,
    momentum: 0.2,
  });
  const op = out.node?.op;
  out.mul(cast(randn(out.shape))).sum().backward();
  return { out, op, input, weight, bias, runningMean, runningVar };
}

for (const kernels of ["wasm", "reference"] as const) {
  for (const shape of shapes) {
    for (const affine of [true, false]) {
      const name = `[${shape}]${affine ? ", affine" : ""}, ${kernels} kernels`;
      Deno.test(`batchNorm: fused float32 and composed float64 agree (${name})`, async () => {
        const previous = getCpuKernels();
        setCpuKernels(kernels);
        try {
          manualSeed(11);
          // An offset mean and a spread other than 1, so that both statistics matter.
          const base = randn(shape).mul(3).add(2);
          const fused = run(base, affine, (t) => t.float());
          const composed = run(base, affine, (t) => t.double());
          assert.equal(fused.op, "batchNorm", "float32 should take the fused path");
          const close = async (a: Tensor, b: Tensor, what: string) => {
            await assertClose(a, await b.float(), { atol: 1e-4, rtol: 1e-4 }, what);
          };
          await close(fused.out, composed.out, "outputs");
          await close(fused.runningMean, composed.runningMean, "running means");
          await close(fused.runningVar, composed.runningVar, "running variances");
          await close(fused.input.grad!, composed.input.grad!, "input gradients");
          if (affine) {
            await close(fused.weight!.grad!, composed.weight!.grad!, "weight gradients");
            await close(fused.bias!.grad!, composed.bias!.grad!, "bias gradients");
          }
        } finally {
          setCpuKernels(previous);
        }
      });
    }
  }
}

Deno.test("batchNorm: the fused path gives gradients only to what requires them", async () => {
  manualSeed(5);
  const input = randn([8, 3, 2, 2]);
  const weight = randn([3]).requiresGrad_();
  const bias = randn([3]);
  F.batchNorm(input, null, null, { weight, bias, training: true }).square().sum().backward();
  assert.equal(input.grad, null);
  assert.equal(bias.grad, null);
  assert.deepEqual(weight.grad?.shape, [3]);

  const x = randn([8, 3]).requiresGrad_();
  const frozen = randn([3]);
  F.batchNorm(x, null, null, { weight: frozen, training: true }).square().sum().backward();
  assert.equal(frozen.grad, null);
  assert.deepEqual(x.grad?.shape, [8, 3]);
  await x.grad!.data();
});
