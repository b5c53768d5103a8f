/**
 * Gradient clipping (`nn.utils.clipGradNorm_`, `nn.utils.clipGradValue_`) against PyTorch 1.13,
 * on the CPU and on WebGPU, with its errors.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertClose, type Device, nn, type Tensor, tensor } from "../mod.ts";
import { gpuTest } from "./gpu_helpers.ts";

/**
 * Three parameters, two with a gradient, as the Python reference:
 *   a.grad = [[3, -4], [1, 2]]; b.grad = [0.5, -12]; c has no gradient
 *   total = torch.nn.utils.clip_grad_norm_([a, b, c], 5.0, norm_type=...)
 */
function parameters(device: Device = "cpu", dtype: "float32" | "float64" = "float64"): Tensor[] {
  const options = { dtype, device };
  const a = tensor([[3, -4], [1, 2]], { ...options, requiresGrad: true });
  const b = tensor([0.5, -12], { ...options, requiresGrad: true });
  const c = tensor([7], { ...options, requiresGrad: true });
  a.grad = tensor([[3, -4], [1, 2]], options);
  b.grad = tensor([0.5, -12], options);
  return [a, b, c];
}

/** PyTorch's total norm and clipped gradients of `a` and `b`, for maxNorm 5, by norm type. */
const CLIP_NORM_CASES: { normType: number; total: number; a: number[]; b: number[] }[] = [
  {
    normType: 2,
    total: 13.200378782444085,
    a: [1.1363309425346482, -1.5151079233795308, 0.3787769808448827, 0.7575539616897654],
    b: [0.18938849042244135, -4.545323770138593],
  },
  {
    normType: 1,
    total: 22.5,
    a: [0.6666666370370384, -0.8888888493827178, 0.22222221234567946, 0.4444444246913589],
    b: [0.11111110617283973, -2.6666665481481537],
  },
  {
    normType: Infinity,
    total: 12.0,
    a: [1.249999895833342, -1.6666665277777895, 0.41666663194444736, 0.8333332638888947],
    b: [0.20833331597222368, -4.999999583333368],
  },
  {
    normType: 3,
    total: 12.227433116271866,
    a: [1.2267496072653947, -1.6356661430205264, 0.4089165357551316, 0.8178330715102632],
    b: [0.2044582678775658, -4.906998429061579],
  },
];

Deno.test("clipGradNorm_ with norm types 2, 1, Infinity and 3 matches PyTorch", async () => {
  for (const { normType, total, a, b } of CLIP_NORM_CASES) {
    const params = parameters();
    const grads = params.map((p) => p.grad);
    const norm = nn.utils.clipGradNorm_(params, 5.0, { normType });
    const tol = { atol: 1e-12, rtol: 1e-10 };
    await assertClose(norm, total, tol, `total norm (normType ${normType})`);
    await assertClose(params[0].grad!.flatten(), a, tol, `a.grad (${normType})`);
    await assertClose(params[1].grad!, b, tol, `b.grad (normType ${normType})`);
    assert.equal(params[2].grad, null, "a parameter without a gradient is skipped");
    assert.ok(params.every((p, i) => p.grad === grads[i]), "gradients are changed in place");
  }
});

Deno.test("clipGradNorm_ leaves gradients below the limit unchanged and returns the norm", async () => {
  const params = parameters();
  const norm = nn.utils.clipGradNorm_(params, 100);
  await assertClose(norm, 13.200378782444085, { atol: 1e-12 });
  await assertClose(params[0].grad!.flatten(), [3, -4, 1, 2], { atol: 0 });
  await assertClose(params[1].grad!, [0.5, -12], { atol: 0 });
  // After clipping to 5, the joint norm is 5 (up to the 1e-6 guard).
  const clipped = parameters();
  nn.utils.clipGradNorm_(clipped, 5);
  await assertClose(nn.utils.clipGradNorm_(clipped, 100), 5, { atol: 1e-5 });
  // One tensor instead of a list; no gradients at all gives a norm of 0.
  const single = parameters()[1];
  await assertClose(nn.utils.clipGradNorm_(single, 1), Math.hypot(0.5, 12), { atol: 1e-12 });
  await assertClose(single.grad!.square().sum().sqrt(), 1, { atol: 1e-6 });
  await assertClose(nn.utils.clipGradNorm_([tensor([1], { requiresGrad: true })], 1), 0);
});

Deno.test("clipGradNorm_ on float32 CPU tensors matches PyTorch", async () => {
  const params = parameters("cpu", "float32");
  const { total, a, b } = CLIP_NORM_CASES[0];
  await assertClose(nn.utils.clipGradNorm_(params, 5.0), total, { atol: 1e-5 });
  await assertClose(params[0].grad!.flatten(), a, { atol: 1e-6 });
  await assertClose(params[1].grad!, b, { atol: 1e-6 });
});

gpuTest("clipGradNorm_ and clipGradValue_ on WebGPU match PyTorch, on the device", async () => {
  for (const { normType, total, a, b } of CLIP_NORM_CASES) {
    const params = parameters("webgpu", "float32");
    const norm = nn.utils.clipGradNorm_(params, 5.0, { normType });
    assert.equal(norm.device, "webgpu");
    await assertClose(norm, total, { atol: 1e-4, rtol: 1e-5 }, `total norm (${normType})`);
    await assertClose(params[0].grad!.flatten(), a, { atol: 1e-5 }, `a.grad (${normType})`);
    await assertClose(params[1].grad!, b, { atol: 1e-5 }, `b.grad (normType ${normType})`);
  }
  const params = parameters("webgpu", "float32");
  nn.utils.clipGradValue_(params, 2.5);
  assert.equal(params[0].grad!.device, "webgpu");
  await assertClose(params[0].grad!.flatten(), [2.5, -2.5, 1, 2], { atol: 0 });
  await assertClose(params[1].grad!, [0.5, -2.5], { atol: 0 });
});

Deno.test("clipGradValue_ clamps every entry as PyTorch does", async () => {
  // torch.nn.utils.clip_grad_value_([a, b, c], 2.5)
  const params = parameters();
  const grad = params[0].grad;
  nn.utils.clipGradValue_(params, 2.5);
  await assertClose(params[0].grad!.flatten(), [2.5, -2.5, 1, 2], { atol: 0 });
  await assertClose(params[1].grad!, [0.5, -2.5], { atol: 0 });
  assert.equal(params[0].grad, grad, "in place");
  assert.equal(params[2].grad, null);
});

Deno.test("clipping a gradient is not recorded by autograd", () => {
  const params = parameters();
  nn.utils.clipGradNorm_(params, 1);
  nn.utils.clipGradValue_(params, 0.1);
  assert.ok(params.every((p) => p.grad === null || !p.grad.requiresGrad));
});

Deno.test("gradient clipping rejects bad arguments with a message that names them", () => {
  const params = parameters();
  assert.throws(
    () => nn.utils.clipGradNorm_(params, 0),
    /clipGradNorm_: maxNorm must be a positive number, got 0/,
  );
  assert.throws(
    () => nn.utils.clipGradNorm_(params, { maxNorm: 1 } as never),
    /clipGradNorm_: maxNorm must be a positive number, got \[object Object\]/,
  );
  assert.throws(
    () => nn.utils.clipGradNorm_(params, 1, { normType: -2 }),
    /clipGradNorm_: normType must be a number >= 1 or Infinity, got -2/,
  );
  assert.throws(
    () => nn.utils.clipGradNorm_(params, 1, 2 as never),
    /clipGradNorm_: the third argument is an options object, got a number \(2\); .*\{ normType: 2 \}/,
  );
  assert.throws(
    () => nn.utils.clipGradNorm_(params, 1, { norm_type: 2 } as never),
    /clipGradNorm_: unknown option "norm_type"; did you mean "normType"\?/,
  );
  assert.throws(
    () => nn.utils.clipGradNorm_(5 as never, 1),
    /clipGradNorm_: expected the parameters \(model.parameters\(\)\) or one tensor, got number/,
  );
  assert.throws(
    () => nn.utils.clipGradNorm_([1, 2] as never, 1),
    /clipGradNorm_: parameter 0 is not a tensor/,
  );
  assert.throws(
    () => (nn.utils.clipGradValue_ as (...args: unknown[]) => void)(params, 1, true),
    /clipGradValue_: takes 2 arguments, got 3 \(third: a boolean \(true\)\)/,
  );
  assert.throws(
    () => nn.utils.clipGradValue_(params, -1),
    /clipGradValue_: clipValue must be a positive number, got -1/,
  );
});
