import { F, manualSeed, randn, setCpuKernels, type Tensor } from "../mod.ts";
import { assertClose } from "../core/testing.ts";

for (const kernels of ["wasm", "reference"] as const) {
  Deno.test(`linear: the fused kernel (${kernels}) agrees with a product plus bias, forward and backward`, async () => {
    setCpuKernels(kernels);
    try {
      manualSeed(3);
      const leaves = () => {
        manualSeed(3);
        return [randn([2, 5, 7]), randn([4, 7]), randn([4])].map((t) => t.requiresGrad_());
      };
      const [x1, w1, b1] = leaves();
      const fused = F.linear(x1, w1, b1);
      fused.mul(fused).sum().backward();
      const [x2, w2, b2] = leaves();
      const composed = x2.matmul(w2.T).add(b2);
      composed.mul(composed).sum().backward();
      const tolerance = { atol: 1e-5, rtol: 1e-5 };
      await assertClose(fused, composed, tolerance, "linear values");
      const pairs: [Tensor, Tensor, string][] = [[x1, x2, "input"], [w1, w2, "weight"], [
        b1,
        b2,
        "bias",
      ]];
      for (const [a, b, name] of pairs) {
        await assertClose(a.grad!, b.grad!, tolerance, `linear gradient of the ${name}`);
      }
    } finally {
      setCpuKernels("wasm");
    }
  });
}
