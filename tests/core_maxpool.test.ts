/**
 * Max pooling has two paths: the composed one (unfold, then a max per window) that float64 and
 * WebGPU use, and a backend's fused kernel (the WebAssembly CPU kernels, float32). Both must give
 * the same values and send each gradient to the same pixel, ties and padding included.
 */
import "../mod.ts";
import { F, manualSeed, randint, randn, type Tensor } from "../mod.ts";
import { assertClose } from "../core/testing.ts";

const cases: {
  name: string;
  shape: number[];
  kernel: number;
  stride?: number;
  padding?: number;
}[] = [
  { name: "2x2 windows", shape: [2, 3, 8, 8], kernel: 2 },
  {
    name: "overlapping 3x3 windows, stride 2, padding 1",
    shape: [2, 2, 7, 9],
    kernel: 3,
    stride: 2,
    padding: 1,
  },
  { name: "an odd size that leaves a border", shape: [1, 4, 5, 5], kernel: 2 },
];

for (const c of cases) {
  for (const ties of [false, true]) {
    Deno.test(`maxPool2d: fused float32 and composed float64 agree (${c.name}${ties ? ", ties" : ""})`, async () => {
      manualSeed(7);
      // Small integers make many ties inside a window.
      const base = ties ? randint(0, 3, c.shape).float() : randn(c.shape);
      const options = { stride: c.stride, padding: c.padding };
      const run = (x: Tensor) => {
        const input = x.detach().requiresGrad_();
        const out = F.maxPool2d(input, c.kernel, options);
        out.mul(randnLike(out)).sum().backward();
        return { out, grad: input.grad! };
      };
      manualSeed(1);
      const fused = run(base);
      manualSeed(1);
      const composed = run(base.double());
      await assertClose(fused.out, await composed.out.float(), { atol: 0, rtol: 0 }, "values");
      await assertClose(fused.grad, await composed.grad.float(), { atol: 1e-6 }, "gradients");
    });
  }
}

function randnLike(t: Tensor): Tensor {
  return randn(t.shape, { dtype: t.dtype });
}
