/**
 * Lesson 5, how each exercise is checked, on a network shaped like the lesson's but small: a
 * backbone (`features`) and a linear head, applied to 8x8 images. The framework is the oracle:
 * its own `requiresGrad_`, `numel()`, `nn.Linear`, `optim.Adam` and `optim.SGD` with groups.
 * `run` calls the student's code in the sandbox; `judge` recomputes the answer here and names
 * the likely mistakes.
 *
 * @module
 */
import { F, manualSeed, nn, optim, randint, randn, type Tensor } from "../../mod.ts";
import { defineTasks, expectClose, expectEqual, Wrong } from "../tasks.ts";
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

/** Which parameters require grad, and which got a gradient from one backward pass. */
function freezingRecord(model: TinyNet) {
  backwardOnce(model);
  const names = model.namedParameters().map(([name]) => name);
  return {
    names,
    requiresGrad: model.parameters().map((p) => p.requiresGrad),
    hasGrad: model.parameters().map((p) => p.grad !== null),
  };
}

/** The largest absolute change between two lists of tensors. */
async function largestChange(before: Tensor[], after: Tensor[]): Promise<number> {
  let largest = 0;
  for (const [i, b] of before.entries()) {
    largest = Math.max(largest, await after[i].sub(b).abs().max().item());
  }
  return largest;
}

/** Two training steps with parameter groups, one parameter frozen: the parameters after. */
function twoSteps(
  makeOptimizer: (groups: { params: Tensor[]; lr?: number }[]) => {
    step(): void;
    zeroGrad(): void;
  },
) {
  manualSeed(55);
  const model = new TinyNet();
  const [weight, bias] = model.features.parameters();
  bias.requiresGrad_(false); // frozen: it gets no gradient and must not move
  const optimizer = makeOptimizer([
    { params: [weight, bias], lr: 0.01 },
    { params: model.head.parameters() }, // takes the default lr
  ]);
  for (let step = 0; step < 2; step++) {
    backwardOnce(model);
    optimizer.step();
    optimizer.zeroGrad();
  }
  return {
    parameters: model.parameters(),
    gradsLeft: model.parameters().map((p) => p.grad !== null),
  };
}

export default defineTasks<typeof Solutions>([
  {
    id: "5.1",
    title: "freezing a backbone",
    hints: [
      "a frozen parameter is one autograd computes no gradient for; freeze each one of the module",
      "loop over module.parameters() and turn requiresGrad off on each with requiresGrad_(false)",
    ],
    run: (impl) => {
      manualSeed(51);
      const model = new TinyNet();
      impl.freeze(model.features);
      return freezingRecord(model);
    },
    judge: (received) => {
      manualSeed(51);
      const model = new TinyNet();
      model.features.requiresGrad_(false);
      const expected = freezingRecord(model);
      const got = received.requiresGrad as boolean[];
      const frozen = expected.names.filter((_, i) => !expected.requiresGrad[i]);
      const stillTrained = frozen.filter((name) => got[expected.names.indexOf(name)]);
      if (stillTrained.length === frozen.length) {
        throw new Wrong(
          `freeze(model.features) left requiresGrad on for every backbone parameter ` +
            `(${frozen.join(", ")}): turn it off with requiresGrad_(false); detach() or ` +
            `zeroGrad() do not freeze`,
        );
      }
      if (stillTrained.length > 0) {
        throw new Wrong(
          `freeze(model.features) missed ${stillTrained.join(", ")}: every parameter of the ` +
            `module, the biases too`,
        );
      }
      expectEqual(
        "requiresGrad of every parameter after freeze(model.features)",
        got,
        expected.requiresGrad,
        "the head must stay trainable: freeze only the module given",
      );
      expectEqual("which parameters got a gradient", received.hasGrad, expected.hasGrad);
    },
  },
  {
    id: "5.2",
    title: "counting trainable parameters",
    hints: [
      "count numbers, not tensors, and only the ones still trained",
      "sum p.numel() over the parameters whose requiresGrad is true",
    ],
    run: (impl) => {
      manualSeed(52);
      const model = new TinyNet();
      const all = impl.countTrainable(model);
      model.features.requiresGrad_(false);
      return [all, impl.countTrainable(model), impl.countTrainable(model.features)];
    },
    judge: (received) => {
      const cases = [
        ["countTrainable(model) with nothing frozen", BACKBONE_SIZE + HEAD_SIZE, 4],
        ["countTrainable(model) with the backbone frozen", HEAD_SIZE, 4],
        ["countTrainable(model.features) when frozen", 0, 2],
      ] as const;
      for (const [i, [what, expected, tensors]] of cases.entries()) {
        const got = received?.[i];
        const says = got === tensors
          ? "counted tensors, not numbers: p.numel() is the size of p"
          : i > 0 && got === [BACKBONE_SIZE + HEAD_SIZE, BACKBONE_SIZE][i - 1]
          ? "frozen parameters counted: keep only those with requiresGrad"
          : "";
        expectEqual(what, got, expected, says);
      }
    },
  },
  {
    id: "5.3",
    title: "replacing the head",
    hints: [
      "a new layer, put where the model looks for its head",
      "make an nn.Linear from the old head's inFeatures to classes, assign it to model.head, and " +
      "return it",
    ],
    run: (impl) => {
      manualSeed(53);
      const model = new TinyNet();
      const oldHead = model.head;
      const backbone = model.features.parameters();
      const head = impl.replaceHead(model, 7);
      const parameters = model.parameters();
      let logitsShape: number[] | string;
      try {
        logitsShape = [...model.forward(randn([2, 1, 8, 8])).shape];
      } catch (error) {
        logitsShape = (error as Error).message.split("\n")[0];
      }
      return {
        isLinear: head instanceof nn.Linear,
        inModel: model.head === head,
        fresh: head !== oldHead,
        weightShape: head?.weight?.shape,
        listsNew: parameters.includes(head?.weight),
        listsOld: parameters.includes(oldHead.weight),
        backboneKept: model.features.parameters().every((p, i) => p === backbone[i]),
        logitsShape,
      };
    },
    judge: (received) => {
      if (!received.isLinear) throw new Wrong("replaceHead should return the new nn.Linear");
      if (!received.fresh) {
        throw new Wrong("replaceHead returned the old head: make a new layer with new weights");
      }
      if (!received.inModel || received.listsOld) {
        throw new Wrong(
          "model.head is still the old layer: assign the new one to model.head, or the model " +
            "keeps predicting the old classes",
        );
      }
      expectEqual(
        "the new head's weight shape ([outFeatures, inFeatures])",
        received.weightShape,
        [7, 4 * 6 * 6],
        received.weightShape?.join() === `${4 * 6 * 6},7`
          ? "inFeatures and outFeatures swapped: nn.Linear(inFeatures, classes)"
          : "",
      );
      expectEqual("model.parameters() lists the new head's weight", received.listsNew, true);
      expectEqual("the backbone keeps its parameters", received.backboneKept, true);
      expectEqual("output shape of the model with the new head", received.logitsShape, [2, 7]);
    },
  },
  {
    id: "5.4",
    title: "parameter groups for fine-tuning",
    hints: [
      "one group for each part of the network, each with its own learning rate",
      "a list of two objects { params, lr }: the backbone's parameters() with backboneLr, then " +
      "the head's with headLr",
    ],
    run: async (impl) => {
      manualSeed(54);
      const model = new TinyNet();
      const groups = impl.fineTuningGroups(model, 1e-4, 1e-2);
      const names = new Map(model.namedParameters().map(([name, p]) => [p, name]));
      const described = (groups ?? []).map((group) => ({
        params: (group.params ?? []).map((p) => names.get(p) ?? "(not in model)"),
        lr: group.lr,
      }));
      // Adam's first step moves every parameter by about its group's learning rate.
      const optimizer = new optim.Adam(groups, { lr: 1 });
      const backboneBefore = model.features.parameters().map((p) => p.clone());
      const headBefore = model.head.parameters().map((p) => p.clone());
      backwardOnce(model);
      optimizer.step();
      return {
        groups: described,
        backboneStep: await largestChange(backboneBefore, model.features.parameters()),
        headStep: await largestChange(headBefore, model.head.parameters()),
      };
    },
    judge: (received) => {
      const groups = received.groups as { params: string[]; lr: number }[];
      const backbone = ["features.0.weight", "features.0.bias"];
      const head = ["head.weight", "head.bias"];
      if (groups.length === 1) {
        throw new Wrong(
          "one group: the backbone and the head need a group each, so that each has its own lr",
        );
      }
      expectEqual("number of groups", groups.length, 2);
      expectEqual("parameters of group 0", groups[0].params, backbone);
      expectEqual("parameters of group 1", groups[1].params, head);
      expectEqual(
        "learning rates of the groups",
        groups.map((g) => g.lr),
        [1e-4, 1e-2],
        groups[0].lr === 1e-2 && groups[1].lr === 1e-4
          ? "the learning rates are swapped: the pretrained backbone moves slowly (backboneLr)"
          : "",
      );
      const { backboneStep, headStep } = received;
      if (Math.abs(backboneStep - 1e-4) > 2e-5 || Math.abs(headStep - 1e-2) > 2e-3) {
        throw new Wrong(
          `after one Adam step the backbone should move by about 1e-4 and the head by 1e-2, ` +
            `received ${backboneStep.toExponential(2)} and ${headStep.toExponential(2)}`,
        );
      }
    },
  },
  {
    id: "5.5",
    title: "gradient descent with parameter groups",
    hints: [
      "keep each group with the learning rate it will use; step and zeroGrad visit every group",
      "in the constructor, give each group group.lr ?? options.lr; in step(), under noGrad(), " +
      "skip parameters whose grad is null and assign p minus its group's lr times its grad; " +
      "zeroGrad() calls zeroGrad on every parameter of every group",
    ],
    run: (impl) => twoSteps((groups) => new impl.MySGD(groups, { lr: 0.1 })),
    judge: async (received) => {
      const expected = twoSteps((groups) => new optim.SGD(groups, { lr: 0.1 }));
      const oneLr = twoSteps((groups) =>
        new optim.SGD(groups.map((g) => ({ params: g.params })), { lr: 0.1 })
      );
      const defaultOnly = twoSteps((groups) =>
        new optim.SGD(groups.map((g) => ({ params: g.params, lr: g.lr ?? 0 })), { lr: 0.1 })
      );
      if ((received.gradsLeft as boolean[]).some(Boolean)) {
        throw new Wrong("zeroGrad() left gradients behind: clear every parameter of every group");
      }
      const names = ["features.0.weight", "features.0.bias", "head.weight", "head.bias"];
      for (const [i, p] of expected.parameters.entries()) {
        await expectClose(`${names[i]} after two steps`, received.parameters?.[i], p, {
          mistakes: [
            {
              value: oneLr.parameters[i],
              says: "every group moved with options.lr: a group's own lr comes first",
            },
            {
              value: defaultOnly.parameters[i],
              says: "a group without its own lr did not move: it takes options.lr",
            },
          ],
        });
      }
    },
  },
]);
