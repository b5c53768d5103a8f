/**
 * Lesson 5's exercises: every solution passes its check, every stub says it is not done, and
 * the likely wrong answers are named (`LESSON_EXERCISES=student` checks the student's file
 * instead).
 *
 * @module
 */
import { nn, noGrad, type Tensor } from "../../mod.ts";
import { testTasks } from "../tasks.ts";
import tasks from "./tasks.ts";
import * as exercises from "./exercises.ts";
import * as solutions from "./solutions.ts";

/** An SGD that ignores the groups' own learning rates. */
class OneLrSGD extends solutions.MySGD {
  constructor(groups: { params: Tensor[]; lr?: number }[], options: { lr: number }) {
    super(groups.map((group) => ({ params: group.params })), options);
  }
}

/** An SGD whose zeroGrad clears only the first group. */
class FirstGroupZeroGradSGD extends solutions.MySGD {
  override zeroGrad(): void {
    for (const p of this.groups[0].params) p.zeroGrad();
  }
}

/** An SGD whose groups without an lr do not move. */
class NoDefaultLrSGD extends solutions.MySGD {
  override step(): void {
    using _ = noGrad();
    for (const group of this.groups) {
      for (const p of group.params) {
        if (p.grad && group.lr !== 0.1) p.assign(p.sub(p.grad.mul(group.lr)));
      }
    }
  }
}

testTasks(tasks, solutions, exercises, {
  folder: new URL("./", import.meta.url),
  wrongAnswers: {
    "5.1": [
      {
        mistake: "detach instead of freezing",
        says: "left requiresGrad on for every backbone parameter",
        impl: {
          freeze: (module: nn.Module) => {
            for (const p of module.parameters()) p.detach();
          },
        },
      },
      {
        mistake: "only the weights frozen",
        says: "the biases too",
        impl: {
          freeze: (module: nn.Module) => {
            for (const p of module.parameters()) if (p.ndim > 1) p.requiresGrad_(false);
          },
        },
      },
    ],
    "5.2": [
      {
        mistake: "frozen parameters counted",
        says: "frozen parameters counted",
        impl: {
          countTrainable: (module: nn.Module) =>
            module.parameters().reduce((sum, p) => sum + p.numel(), 0),
        },
      },
      {
        mistake: "tensors counted",
        says: "counted tensors, not numbers",
        impl: { countTrainable: (module: nn.Module) => module.parameters().length },
      },
    ],
    "5.3": [
      {
        mistake: "new head not assigned",
        says: "model.head is still the old layer",
        impl: { replaceHead: (model, classes) => new nn.Linear(model.head.inFeatures, classes) },
      },
      {
        mistake: "in and out swapped",
        says: "inFeatures and outFeatures swapped",
        impl: {
          replaceHead: (model, classes) => {
            model.head = new nn.Linear(classes, model.head.inFeatures);
            return model.head;
          },
        },
      },
    ],
    "5.4": [
      {
        mistake: "learning rates swapped",
        says: "the learning rates are swapped",
        impl: {
          fineTuningGroups: (model, backboneLr, headLr) => [
            { params: model.features.parameters(), lr: headLr },
            { params: model.head.parameters(), lr: backboneLr },
          ],
        },
      },
      {
        mistake: "one group",
        says: "one group: the backbone and the head need a group each",
        impl: {
          fineTuningGroups: (model, _backboneLr, headLr) => [
            { params: model.parameters(), lr: headLr },
          ],
        },
      },
    ],
    "5.5": [
      {
        mistake: "the groups' lr ignored",
        says: "every group moved with options.lr",
        impl: { MySGD: OneLrSGD },
      },
      {
        mistake: "zeroGrad of one group",
        says: "zeroGrad() left gradients behind",
        impl: { MySGD: FirstGroupZeroGradSGD },
      },
      {
        mistake: "no default lr",
        says: "a group without its own lr did not move",
        impl: { MySGD: NoDefaultLrSGD },
      },
    ],
  },
});
