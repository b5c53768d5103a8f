/**
 * NaN and infinity in, the same answer out, on every kernel set: the readable reference, the
 * WebAssembly kernels and WebGPU. As in PyTorch: relu(NaN) is NaN; maximum and minimum give NaN
 * when either side is NaN; max and argmax agree (argmax points at the first NaN); a pooling
 * window holding a NaN gives NaN; logsumexp([inf, 1]) is inf.
 * @module
 */
import assert from "node:assert/strict";
import { F, setCpuKernels, type Tensor, tensor } from "../mod.ts";
import { gpuTest, onGpu } from "./gpu_helpers.ts";

type Place = { name: string; on: (t: Tensor) => Tensor; before?: () => void };

const places: Place[] = [
  { name: "reference kernels", on: (t) => t, before: () => setCpuKernels("reference") },
  { name: "wasm kernels", on: (t) => t, before: () => setCpuKernels("wasm") },
];

/** Values compared as PyTorch prints them: NaN equals NaN here. */
async function same(what: string, t: Tensor, expected: number[]) {
  const got = Array.from(await t.data());
  assert.equal(
    got.length,
    expected.length,
    `${what}: ${got.length} values, expected ${expected.length}`,
  );
  got.forEach((v, i) => {
    const ok = Number.isNaN(expected[i]) ? Number.isNaN(v) : v === expected[i];
    assert.ok(ok, `${what}: element ${i} is ${v}, expected ${expected[i]} (all: [${got}])`);
  });
}

async function checkAll(place: Place) {
  const on = place.on;
  // 9 values, so that the four-lane loops and their scalar tails both meet a NaN.
  const x = on(tensor([NaN, -1, 2, 0, NaN, 3, -2, 5, NaN]));
  await same(`relu on ${place.name}`, x.relu(), [NaN, 0, 2, 0, NaN, 3, 0, 5, NaN]);
  const a = on(tensor([NaN, 1, 2, -1, 4, NaN, 0, 7, 1]));
  const b = on(tensor([1, NaN, 0, NaN, 5, NaN, 0, 6, 2]));
  await same(`maximum on ${place.name}`, a.maximum(b), [NaN, NaN, 2, NaN, 5, NaN, 0, 7, 2]);
  await same(`minimum on ${place.name}`, a.minimum(b), [NaN, NaN, 0, NaN, 4, NaN, 0, 6, 1]);

  // Columns of [3, 6]: a NaN in the middle of column 0, at the end of column 1, two NaNs in
  // column 2 (argmax points at the first), none elsewhere.
  const grid = on(tensor([
    [1, 2, NaN, 4, 0, 1],
    [NaN, 9, 3, 1, 8, 1],
    [2, NaN, NaN, 5, 1, 1],
  ]));
  await same(`max(0) on ${place.name}`, grid.max(0), [NaN, NaN, NaN, 5, 8, 1]);
  await same(`argmax(0) on ${place.name}`, grid.argmax(0), [1, 2, 0, 2, 1, 0]);
  await same(`max(1) on ${place.name}`, grid.max(1), [NaN, NaN, NaN]);
  await same(`argmax(1) on ${place.name}`, grid.argmax(1), [2, 0, 1]);
  await same(`min(1) on ${place.name}`, grid.min(1), [NaN, NaN, NaN]);

  const image = on(tensor([[[[1, NaN, 3, 4], [5, 6, 7, 8], [1, 2, 3, 4], [5, 6, 7, NaN]]]]));
  await same(`maxPool2d on ${place.name}`, F.maxPool2d(image, 2), [NaN, 8, 6, NaN]);

  await same(`logsumexp([inf, 1]) on ${place.name}`, on(tensor([Infinity, 1])).logsumexp(0), [
    Infinity,
  ]);
  await same(
    `logsumexp([-inf, -inf]) on ${place.name}`,
    on(tensor([-Infinity, -Infinity]))
      .logsumexp(0),
    [-Infinity],
  );
}

for (const place of places) {
  Deno.test(`NaN and infinity propagate as in PyTorch on the ${place.name}`, async () => {
    place.before?.();
    try {
      await checkAll(place);
    } finally {
      setCpuKernels("wasm");
    }
  });
}

Deno.test("max pooling sends the gradient of a NaN window to its first NaN (reference and wasm)", async () => {
  for (const kernels of ["reference", "wasm"] as const) {
    setCpuKernels(kernels);
    try {
      const image = tensor([[[[1, NaN, NaN, 4], [5, 6, 7, 8]]]], { requiresGrad: true });
      F.maxPool2d(image, 2).sum().backward();
      await same(`maxPool2d gradient on ${kernels}`, image.grad!, [0, 1, 1, 0, 0, 0, 0, 0]);
    } finally {
      setCpuKernels("wasm");
    }
  }
});

gpuTest("NaN and infinity propagate as in PyTorch on WebGPU", async () => {
  await checkAll({ name: "WebGPU", on: onGpu });
});
