/**
 * Lesson 5, how each exercise is checked, on a network shaped like the lesson's but small: a
 * backbone (`features`) and a linear head, applied to 8x8 images.
 *
 * @module
 */
import assert from "node:assert/strict";
import { F, manualSeed, nn, optim, randint, randn, type Tensor } from "../../mod.ts";
import { defineTasks, expectEqual } from "../tasks.ts";
import type * as Solutions from "./solutions.ts";

/** A small two-part network: conv(1 -> 4, 3x3) + ReLU + flatten, then linear(144 -> 3). */
class TinyNet extends nn.Module {
  features = new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.ReLU(), new nn.Flatten());
  head = new nn.Linear(4 * 6 * 6, 3);

  forward(images: Tensor): Tensor {
    return this.head.forward(this.features.forward(images));
  }
}

const BACKBONE_SIZE = 4 * 1 * 3 * 3 + 4;
const HEAD_SIZE = 4 * 6 * 6 * 3 + 3;

/** One backward pass of a cross-entropy loss through `model` on a random batch. */
function backwardOnce(model: nn.Module, classes = 3): void {
  const images = randn([5, 1, 8, 8]);
  const labels = randint(0, classes, [5]);
  F.crossEntropy(model.forward(images), labels).backward();
}

/** The largest absolute change between two lists of tensors. */
async function largestChange(before: Tensor[], after: Tensor[]): Promise<number> {
  let largest = 0;
  for (const [i, b] of before.entries()) {
    const change = await after[i].sub(b).abs().max().item();
    largest = Math.max(largest, change);
  }
  return largest;
}

export default defineTasks<typeof Solutions>([
  {
    id: "5.1",
    title: "freezing a backbone",
    hint: "p.requiresGrad_(false) for every parameter p of the module",
    check: (impl) => {
      manualSeed(51);
      const model = new TinyNet();
      impl.freeze(model.features);
      expectEqual(
        "requiresGrad of the backbone's parameters after freeze(model.features)",
        model.features.parameters().map((p) => p.requiresGrad),
        [false, false],
      );
      expectEqual(
        "requiresGrad of the head's parameters (freeze(model.features) must leave them alone)",
        model.head.parameters().map((p) => p.requiresGrad),
        [true, true],
      );
      backwardOnce(model);
      expectEqual(
        "gradients of the frozen backbone after backward() (should be none)",
        model.features.parameters().map((p) => p.grad === null),
        [true, true],
      );
      assert.ok(
        model.head.parameters().every((p) => p.grad !== null),
        "the head should still get gradients after freeze(model.features)",
      );
    },
  },
  {
    id: "5.2",
    title: "counting trainable parameters",
    hint: "the sum of p.numel() over model.parameters() that have p.requiresGrad",
    check: (impl) => {
      manualSeed(52);
      const model = new TinyNet();
      expectEqual(
        "countTrainable(model) with nothing frozen",
        impl.countTrainable(model),
        BACKBONE_SIZE + HEAD_SIZE,
      );
      model.features.requiresGrad_(false);
      expectEqual(
        "countTrainable(model) with the backbone frozen",
        impl.countTrainable(model),
        HEAD_SIZE,
      );
      expectEqual(
        "countTrainable(model.features) when frozen",
        impl.countTrainable(model.features),
        0,
      );
    },
  },
  {
    id: "5.3",
    title: "replacing the head",
    hint: "model.head = new nn.Linear(model.head.inFeatures, classes); return model.head",
    check: (impl) => {
      manualSeed(53);
      const model = new TinyNet();
      const oldHead = model.head;
      const backbone = model.features.parameters();
      const head = impl.replaceHead(model, 7);
      assert.ok(head instanceof nn.Linear, "replaceHead should return an nn.Linear");
      assert.ok(model.head === head, "replaceHead should put the new layer in model.head");
      assert.ok(head !== oldHead, "replaceHead should make a new layer, not reuse the old one");
      expectEqual("the new head's weight shape", head.weight.shape, [7, 4 * 6 * 6]);
      const parameters = model.parameters();
      assert.ok(
        parameters.includes(head.weight) && !parameters.includes(oldHead.weight),
        "model.parameters() should list the new head's weight instead of the old one's",
      );
      expectEqual(
        "the backbone's parameters are the same tensors after replaceHead",
        model.features.parameters().every((p, i) => p === backbone[i]),
        true,
      );
      const logits = model.forward(randn([2, 1, 8, 8]));
      expectEqual("output shape of the model with the new head", logits.shape, [2, 7]);
    },
  },
  {
    id: "5.4",
    title: "parameter groups for fine-tuning",
    hint:
      "[{ params: model.features.parameters(), lr: backboneLr }, { params: head's, lr: headLr }]",
    check: async (impl) => {
      manualSeed(54);
      const model = new TinyNet();
      const groups = impl.fineTuningGroups(model, 1e-4, 1e-2);
      expectEqual("number of groups", groups.length, 2);
      const names = new Map(model.namedParameters().map(([name, p]) => [p, name]));
      const namesOf = (params: Tensor[]) => params.map((p) => names.get(p) ?? "(not in model)");
      expectEqual("parameters of group 0", namesOf(groups[0].params), [
        "features.0.weight",
        "features.0.bias",
      ]);
      expectEqual("parameters of group 1", namesOf(groups[1].params), ["head.weight", "head.bias"]);
      expectEqual("learning rates of the groups", groups.map((g) => g.lr), [1e-4, 1e-2]);

      // Adam's first step moves every parameter by about its group's learning rate.
      const optimizer = new optim.Adam(groups, { lr: 1 });
      const [backboneBefore, headBefore] = [
        model.features.parameters().map((p) => p.clone()),
        model.head.parameters().map((p) => p.clone()),
      ];
      backwardOnce(model);
      optimizer.step();
      const backboneStep = await largestChange(backboneBefore, model.features.parameters());
      const headStep = await largestChange(headBefore, model.head.parameters());
      assert.ok(
        Math.abs(backboneStep - 1e-4) < 2e-5 && Math.abs(headStep - 1e-2) < 2e-3,
        `after one Adam step the backbone should move by about 1e-4 and the head by 1e-2, ` +
          `got ${backboneStep.toExponential(2)} and ${headStep.toExponential(2)}`,
      );
    },
  },
]);
