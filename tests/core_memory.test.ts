import { ok } from "node:assert/strict";
import { F, manualSeed, nn, optim, randint, randn, tensor } from "../mod.ts";
import { assertThrowsWith } from "./core_helpers.ts";

Deno.test("a layer's output handed to the user stays readable after backward()", async () => {
  manualSeed(0);
  const model = new nn.Sequential(new nn.Linear(4, 3), new nn.ReLU(), new nn.Linear(3, 2));
  const logits = model.forward(randn([5, 4]));
  F.crossEntropy(logits, randint(0, 2, [5])).backward();
  ok((await logits.data()).length === 10);
});

Deno.test("an intermediate released by backward() says how to keep it", () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  // A layer that hands its input out breaks the rule that only Sequential sees it.
  class Spy extends nn.Module {
    seen: unknown = null;
    forward(input: Parameters<nn.Module["forward"]>[0]) {
      this.seen = input;
      return input.mul(2);
    }
  }
  const spy = new Spy();
  const net = new nn.Sequential(new nn.ReLU(), spy, new nn.Sigmoid());
  net.forward(x.mul(1)).sum().backward();
  const seen = spy.seen as ReturnType<typeof tensor>;
  assertThrowsWith(() => seen.add(1), ["backward() released", "detach()", "retainGraph"]);
});

Deno.test("zeroGrad() releases the old gradients, and says so when one is used", () => {
  const w = tensor([1, 2], { requiresGrad: true });
  const optimizer = new optim.SGD([w], { lr: 0.1 });
  w.mul(w).sum().backward();
  const old = w.grad!;
  optimizer.zeroGrad();
  assertThrowsWith(() => old.add(1), ["zeroGrad() released", "clone()"]);
});

Deno.test("two leaves that receive one gradient tensor keep their own handles", async () => {
  const a = tensor([1, 2], { requiresGrad: true });
  const b = tensor([3, 4], { requiresGrad: true });
  a.add(b).sum().backward();
  new optim.SGD([a], { lr: 0.1 }).zeroGrad();
  ok(Array.from(await b.grad!.data()).every((v) => v === 1));
});
