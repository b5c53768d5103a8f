/**
 * RMSprop: two steps against PyTorch 1.13 for every variant (plain, weight decay, momentum,
 * centered), on the reference kernels (float64), the WebAssembly CPU backend (float32) and
 * WebGPU; state dicts; errors for bad options.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertClose, type DType, nn, optim, type Tensor, tensor, zeros } from "../mod.ts";
import { gpuTest } from "./gpu_helpers.ts";

const START = [[1.0, -2.0, 3.0], [0.5, 0.0, -1.5]];
const GRADS = [
  [[0.1, -0.2, 0.3], [1.0, 0.0, -0.5]],
  [[-0.3, 0.4, 0.2], [0.1, 0.7, 0.25]],
];

/**
 * Two steps of RMSprop on one parameter with the fixed gradients above, as the Python
 * reference does:
 *   p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
 *   opt = torch.optim.RMSprop([p], **options)
 *   for g in GRADS: p.grad = torch.tensor(g, dtype=torch.float64); opt.step()
 */
function run(
  options: Partial<optim.RMSpropOptions>,
  dtype: DType = "float64",
  device: "cpu" | "webgpu" = "cpu",
): Tensor {
  const p = tensor(START, { dtype, device, requiresGrad: true });
  const optimizer = new optim.RMSprop([p], options);
  for (const g of GRADS) {
    p.grad = tensor(g, { dtype, device });
    optimizer.step();
  }
  return p;
}

/** Each variant with its options and PyTorch's parameter after two steps. */
const CASES: { name: string; options: Partial<optim.RMSpropOptions>; expected: number[] }[] = [
  {
    name: "lr=0.01",
    options: { lr: 0.01 },
    expected: [
      0.9949158695451293,
      -1.9895323261670683,
      2.844337014826047,
      0.390000010999999,
      -0.09999998571428773,
      -1.444901337442175,
    ],
  },
  {
    name: "lr=0.01, alpha=0.9, eps=1e-3, weight_decay=0.1",
    options: { lr: 0.01, alpha: 0.9, eps: 1e-3, weightDecay: 0.1 },
    expected: [
      0.9917181467179821,
      -1.9834407007212604,
      2.9478345105378243,
      0.4638746439189441,
      -0.03148056191927399,
      -1.473721174703667,
    ],
  },
  {
    name: "lr=0.01, momentum=0.9",
    options: { lr: 0.01, momentum: 0.9 },
    expected: [
      0.9049159595450394,
      -1.8995323711670458,
      2.754337044826037,
      0.30000001999999804,
      -0.09999998571428773,
      -1.3549013554421714,
    ],
  },
  {
    name: "lr=0.01, centered=True",
    options: { lr: 0.01, centered: true },
    expected: [
      0.9946045995978066,
      -1.9891202005820048,
      2.8432929639958866,
      0.38943628994799695,
      -0.10050376709590882,
      -1.444441090335049,
    ],
  },
  {
    name: "lr=0.01, momentum=0.5, centered=True, weight_decay=0.05",
    options: { lr: 0.01, momentum: 0.5, centered: true, weightDecay: 0.05 },
    expected: [
      0.9356071371459385,
      -1.9207159391982813,
      2.7876057593960093,
      0.33748909176572683,
      -0.10050376709590882,
      -1.3793233001407046,
    ],
  },
];

Deno.test("RMSprop: two steps of every variant match PyTorch (float64, reference kernels)", async () => {
  for (const { name, options, expected } of CASES) {
    await assertClose(run(options), expected, { atol: 1e-12, rtol: 1e-10 }, `RMSprop(${name})`);
  }
});

Deno.test("RMSprop on float32 CPU tensors (WebAssembly storage) matches PyTorch", async () => {
  for (const { name, options, expected } of CASES) {
    await assertClose(run(options, "float32"), expected, { atol: 2e-6 }, `RMSprop(${name})`);
  }
});

gpuTest("RMSprop steps on WebGPU match PyTorch and keep the state on the device", async () => {
  for (const { name, options, expected } of CASES) {
    const p = run(options, "float32", "webgpu");
    assert.equal(p.device, "webgpu");
    await assertClose(p, expected, { atol: 2e-6 }, `RMSprop(${name}) on WebGPU`);
  }
  const p = tensor(START, { device: "webgpu", requiresGrad: true });
  const optimizer = new optim.RMSprop([p], { momentum: 0.9, centered: true });
  p.grad = tensor(GRADS[0], { device: "webgpu" });
  optimizer.step();
  const buffers = optimizer.state.get(p)!.buffers;
  assert.deepEqual(Object.keys(buffers), ["squareAvg", "momentumBuffer", "gradAvg"]);
  for (const [key, buffer] of Object.entries(buffers)) assert.equal(buffer.device, "webgpu", key);
});

Deno.test("RMSprop: one step by hand, defaults, and state buffers", async () => {
  // Defaults lr = 0.01, alpha = 0.99: after one step squareAvg = 0.01 g^2, so the step is
  // lr * g / (0.1 |g|) = 0.1 * sign(g), ten times the learning rate.
  const p = tensor([1, -1, 2], { dtype: "float64", requiresGrad: true });
  const optimizer = new optim.RMSprop([p]);
  assert.deepEqual(
    { ...optimizer.defaults },
    { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false },
  );
  p.grad = tensor([0.5, -3, 0], { dtype: "float64" });
  optimizer.step();
  await assertClose(p, [0.9, -0.9, 2], { atol: 1e-7 });
  const state = optimizer.state.get(p)!;
  assert.deepEqual(Object.keys(state.buffers), ["squareAvg"]);
  await assertClose(state.buffers.squareAvg, [0.0025, 0.09, 0], { atol: 1e-15 });
});

Deno.test("RMSprop stateDict and loadStateDict resume training exactly", async () => {
  const make = () => tensor(START, { dtype: "float64", requiresGrad: true });
  const a = make();
  const optimizerA = new optim.RMSprop([a], { lr: 0.01, momentum: 0.9 });
  a.grad = tensor(GRADS[0], { dtype: "float64" });
  optimizerA.step();
  const b = a.detach().clone().requiresGrad_(true);
  const optimizerB = new optim.RMSprop([b], { lr: 0.5 });
  optimizerB.loadStateDict(optimizerA.stateDict());
  assert.equal(optimizerB.paramGroups[0].momentum, 0.9, "hyper-parameters are restored");
  for (const [p, optimizer] of [[a, optimizerA], [b, optimizerB]] as const) {
    p.grad = tensor(GRADS[1], { dtype: "float64" });
    optimizer.step();
  }
  await assertClose(b, a, { atol: 0, rtol: 0 });
  await assertClose(a, CASES[2].expected, { atol: 1e-12 }, "RMSprop(lr=0.01, momentum=0.9)");
});

Deno.test("RMSprop trains a small model (loss falls)", async () => {
  const x = tensor([[0, 1], [1, 0], [1, 1], [2, 1]]);
  const y = tensor([[1], [2], [3], [5]]);
  const model = new nn.Linear(2, 1);
  const optimizer = new optim.RMSprop(model.parameters(), { lr: 0.05 });
  const lossAt = () => model.forward(x).sub(y).square().mean();
  const first = await lossAt().item();
  for (let i = 0; i < 200; i++) {
    optimizer.zeroGrad();
    lossAt().backward();
    optimizer.step();
  }
  const last = await lossAt().item();
  assert.ok(last < first / 50, `loss went from ${first} to ${last}`);
});

Deno.test("RMSprop rejects bad options with a message that names them", () => {
  const p = zeros([2], { requiresGrad: true });
  assert.throws(() => new optim.RMSprop([p], { lr: -1 }), /RMSprop: invalid learning rate -1/);
  assert.throws(() => new optim.RMSprop([p], { alpha: 1.5 }), /RMSprop: invalid alpha 1.5/);
  assert.throws(() => new optim.RMSprop([p], { eps: -1e-8 }), /RMSprop: invalid eps/);
  assert.throws(() => new optim.RMSprop([p], { momentum: -0.9 }), /RMSprop: invalid momentum/);
  assert.throws(
    () => new optim.RMSprop([p], { weightDecay: -1 }),
    /RMSprop: invalid weightDecay -1/,
  );
  assert.throws(
    () => new optim.RMSprop([p], { centered: 1 as unknown as boolean }),
    /RMSprop: invalid centered 1 \(true or false\)/,
  );
  assert.throws(
    () => new optim.RMSprop([p], { weight_decay: 0.1 } as never),
    /RMSprop: unknown option "weight_decay"; did you mean "weightDecay"\?/,
  );
  assert.throws(
    () => new optim.RMSprop([p], 0.01 as never),
    /RMSprop: the second argument is an options object, got a number \(0.01\); .*\{ lr: 0.01 \}/,
  );
  assert.throws(() => new optim.RMSprop([]), /RMSprop: got an empty parameter list/);
});
