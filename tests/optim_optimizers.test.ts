import assert from "node:assert/strict";
import { assertClose, nn, ones, optim, type Tensor, tensor, zeros } from "../mod.ts";

const f64 = { dtype: "float64" as const };
const START = [[1.0, -2.0, 3.0], [0.5, 0.0, -1.5]];
const GRADS = [
  [[0.1, -0.2, 0.3], [1.0, 0.0, -0.5]],
  [[-0.3, 0.4, 0.2], [0.1, 0.7, 0.25]],
];

/**
 * Runs `steps` optimizer steps on one float64 parameter with the fixed gradients above and
 * returns the parameter, as the Python reference does:
 *   p = torch.tensor(START, dtype=torch.float64, requires_grad=True); opt = make([p])
 *   for g in GRADS[:steps]: p.grad = g.clone(); opt.step()
 */
function run(make: (params: Tensor[]) => optim.Optimizer, steps: number): Tensor {
  const p = tensor(START, { ...f64, requiresGrad: true });
  const optimizer = make([p]);
  for (const g of GRADS.slice(0, steps)) {
    p.grad = tensor(g, f64);
    optimizer.step();
  }
  return p;
}

const tight = { atol: 1e-12, rtol: 1e-10 };

Deno.test("SGD with momentum: two steps match PyTorch", async () => {
  // torch.optim.SGD([p], lr=0.1, momentum=0.9)
  const p = run((ps) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9 }), 2);
  await assertClose(p, [1.011, -2.002, 2.923, 0.3, -0.07, -1.43], tight);
  // By hand for the first entry: buf = 0.1, p = 1 - 0.01 = 0.99; then buf = 0.9 * 0.1 - 0.3
  // = -0.21 and p = 0.99 + 0.021 = 1.011.
});

Deno.test("SGD with dampening and weight decay, and with Nesterov, match PyTorch", async () => {
  // torch.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.01)
  const damped = run(
    (ps) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, dampening: 0.2, weightDecay: 0.01 }),
    2,
  );
  await assertClose(damped, [
    1.0023088,
    -1.9886176,
    2.9189264,
    0.3007304,
    -0.056,
    -1.4209912,
  ], tight);
  // torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)
  const nesterov = run(
    (ps) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.05 }),
    2,
  );
  await assertClose(nesterov, [
    1.00712075,
    -1.9762415,
    2.81236225,
    0.200325125,
    -0.133,
    -1.378462875,
  ], tight);
});

Deno.test("Adam: one step moves each weight by lr against the gradient's sign", async () => {
  // torch.optim.Adam([p], lr=0.01), one step: m_hat / sqrt(v_hat) = sign(g), so p -= 0.01 * sign
  const p = run((ps) => new optim.Adam(ps, { lr: 0.01 }), 1);
  await assertClose(p, [
    0.9900000009999999,
    -1.9900000005,
    2.990000000333333,
    0.4900000001,
    0.0,
    -1.4900000002,
  ], tight);
});

Deno.test("Adam with betas, eps and weight decay, and AdamW: two steps match PyTorch", async () => {
  // torch.optim.Adam([p], lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)
  const adam = run(
    (ps) => new optim.Adam(ps, { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1 }),
    2,
  );
  await assertClose(adam, [
    0.9911360752081507,
    -1.9879083685777763,
    2.9801391662543457,
    0.4826553728949301,
    -0.007837059750639861,
    -1.4849834800989197,
  ], tight);
  // torch.optim.AdamW([p], lr=0.01) (weight_decay 0.01 by default, decoupled)
  const adamw = run((ps) => new optim.AdamW(ps, { lr: 0.01 }), 2);
  await assertClose(adamw, [
    0.9947429091119065,
    -1.993262055654554,
    2.979697509432977,
    0.4824928987760866,
    -0.007441368085369073,
    -1.4870376448707645,
  ], tight);
  assert.equal(new optim.AdamW([tensor([1], { requiresGrad: true })]).defaults.weightDecay, 0.01);
});

Deno.test("parameter groups use their own learning rates, defaults for the rest", async () => {
  const backbone = tensor([1, 1], { requiresGrad: true });
  const head = tensor([1, 1], { requiresGrad: true });
  const optimizer = new optim.SGD([
    { params: [backbone], lr: 1e-4 },
    { params: [head], momentum: 0.5 },
  ], { lr: 1e-2 });
  assert.equal(optimizer.paramGroups[0].lr, 1e-4);
  assert.equal(optimizer.paramGroups[0].momentum, 0);
  assert.equal(optimizer.paramGroups[1].lr, 1e-2);
  assert.equal(optimizer.paramGroups[1].momentum, 0.5);
  backbone.grad = ones([2]);
  head.grad = ones([2]);
  optimizer.step();
  await assertClose(backbone, [1 - 1e-4, 1 - 1e-4], { atol: 1e-7 });
  await assertClose(head, [0.99, 0.99], { atol: 1e-7 });
  optimizer.zeroGrad();
  assert.equal(backbone.grad, null);
  assert.equal(head.grad, null);
});

Deno.test("step skips parameters without a gradient and updates in place", async () => {
  const model = new nn.Linear(2, 1);
  const optimizer = new optim.Adam(model.parameters(), { lr: 0.1 });
  const weight = model.weight;
  const storage = weight.storage;
  const bias = await model.bias!.data();
  model.weight.grad = ones([1, 2]);
  optimizer.step();
  assert.equal(model.weight, weight);
  assert.equal(model.weight.storage, storage, "the update happens in the same memory");
  assert.deepEqual(await model.bias!.data(), bias, "no gradient, no update");
  assert.equal(optimizer.state.has(model.bias!), false);
  assert.equal(optimizer.state.get(model.weight)!.step, 1);
});

Deno.test("a training loop with the optimizer decreases the loss", async () => {
  const x = tensor([[0, 1], [1, 0], [1, 1], [2, 1]]);
  const y = tensor([[1], [2], [3], [5]]);
  const model = new nn.Linear(2, 1);
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const lossAt = () => model.forward(x).sub(y).square().mean();
  const first = await lossAt().item();
  for (let i = 0; i < 100; i++) {
    optimizer.zeroGrad();
    lossAt().backward();
    optimizer.step();
  }
  const last = await lossAt().item();
  assert.ok(last < first / 100, `loss went from ${first} to ${last}`);
});

Deno.test("optimizer stateDict and loadStateDict resume training exactly", async () => {
  const make = () => tensor(START, { ...f64, requiresGrad: true });
  const a = make();
  const optimizerA = new optim.Adam([a], { lr: 0.01 });
  a.grad = tensor(GRADS[0], f64);
  optimizerA.step();
  const state = optimizerA.stateDict();
  assert.deepEqual(state.paramGroups[0].params, [0]);
  assert.equal(state.state[0].step, 1);
  assert.deepEqual(Object.keys(state.state[0].buffers), ["expAvg", "expAvgSq"]);

  // A fresh parameter with the same values and an optimizer loaded from the state.
  const b = a.detach().clone().requiresGrad_(true);
  const optimizerB = new optim.Adam([b], { lr: 0.5 });
  optimizerB.loadStateDict(state);
  assert.equal(optimizerB.paramGroups[0].lr, 0.01, "hyper-parameters are restored");
  for (const [p, optimizer] of [[a, optimizerA], [b, optimizerB]] as const) {
    p.grad = tensor(GRADS[1], f64);
    optimizer.step();
  }
  await assertClose(b, a, { atol: 0, rtol: 0 });
  // Two uninterrupted steps of torch.optim.Adam([p], lr=0.01) with GRADS.
  await assertClose(a, [
    0.9949418991120065,
    -1.9936610356546038,
    2.9802964794330102,
    0.48259189377609657,
    -0.007441368085369073,
    -1.4873366298707846,
  ], tight);
  assert.throws(
    () => new optim.Adam([make(), make()]).loadStateDict(state),
    /loadStateDict: group 0 of the state has 1 parameters, this optimizer's has 2/,
  );
});

Deno.test("optimizers reject bad parameters and hyper-parameters", () => {
  const p = zeros([2], { requiresGrad: true });
  assert.throws(() => new optim.SGD([], { lr: 0.1 }), /SGD: got an empty parameter list/);
  assert.throws(
    () => new optim.SGD([p], {} as { lr: number }),
    /SGD: a learning rate is required/,
  );
  assert.throws(() => new optim.SGD([p], { lr: -1 }), /SGD: invalid learning rate -1/);
  assert.throws(
    () => new optim.SGD([p], { lr: 0.1, nesterov: true }),
    /Nesterov momentum requires a momentum > 0 and zero dampening/,
  );
  assert.throws(() => new optim.Adam([p], { betas: [1, 0.9] }), /Adam: betas must be in \[0, 1\)/);
  assert.throws(() => new optim.Adam([p.mul(2)]), /can't optimize a non-leaf tensor/);
  assert.throws(
    () => new optim.SGD([{ params: [p] }, { params: [p] }], { lr: 0.1 }),
    /some parameters appear in more than one parameter group/,
  );
});
