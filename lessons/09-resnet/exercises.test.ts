/**
 * Lesson 9's exercises: every solution passes its check, every stub says it is not done, and
 * the likely wrong answers are named (`LESSON_EXERCISES=student` checks the student's file
 * instead).
 *
 * @module
 */
import { F, nn, type Tensor } from "../../mod.ts";
import { testTasks } from "../tasks.ts";
import tasks from "./tasks.ts";
import * as exercises from "./exercises.ts";
import * as solutions from "./solutions.ts";

/** The solution's block with its forward written with one mistake. */
function mistakenBlock(mistake: "no final relu" | "no shortcut" | "conv bias") {
  class Block extends solutions.ResidualBlock {
    constructor(inChannels: number, outChannels: number, stride = 1) {
      super(inChannels, outChannels, stride);
      if (mistake === "conv bias") {
        this.conv1 = new nn.Conv2d(inChannels, outChannels, 3, { stride, padding: 1 });
      }
    }
    override forward(x: Tensor): Tensor {
      const hidden = this.bn1.forward(this.conv1.forward(x)).relu();
      const out = this.bn2.forward(this.conv2.forward(hidden));
      const identity = this.downsample ? this.downsample.forward(x) : x;
      if (mistake === "no final relu") return out.add(identity);
      if (mistake === "no shortcut") return out.relu();
      return out.add(identity).relu();
    }
  }
  return { ResidualBlock: Block };
}

type ConvOptions = { stride: number; padding: number; groups: number; size: number };

testTasks(tasks, solutions, exercises, {
  folder: new URL("./", import.meta.url),
  wrongAnswers: {
    "9.1": [
      {
        mistake: "no ReLU after the sum",
        says: "the ReLU after the sum is missing",
        impl: mistakenBlock("no final relu"),
      },
      {
        mistake: "no shortcut",
        says: "the shortcut is missing",
        impl: mistakenBlock("no shortcut"),
      },
      {
        mistake: "a bias in the convolutions",
        says: "the 3x3 convolutions have no bias",
        impl: mistakenBlock("conv bias"),
      },
    ],
    "9.2": [
      {
        mistake: "groups ignored",
        says: "each filter sees only inChannels / groups input channels",
        impl: {
          convCost: (inChannels: number, outChannels: number, k: number, o: ConvOptions) =>
            solutions.convCost(inChannels * o.groups, outChannels, k, o),
        },
      },
      {
        mistake: "the input size for the output size",
        says: "per OUTPUT position",
        impl: {
          convCost: (inChannels: number, outChannels: number, k: number, o: ConvOptions) => {
            const { params } = solutions.convCost(inChannels, outChannels, k, o);
            return { params, multAdds: params * o.size * o.size };
          },
        },
      },
    ],
    "9.3": [
      {
        mistake: "no zeroGrad",
        says: "clear them with model.zeroGrad()",
        impl: {
          convGradNorms: async (model: nn.Module, X: Tensor, y: Tensor) => {
            F.crossEntropy(model.forward(X), y).backward();
            const convs = model.parameters().filter((p) => p.ndim === 4);
            return await Promise.all(convs.map((p) => p.grad!.norm().item()));
          },
        },
      },
      {
        mistake: "the squared norm",
        says: "square root of the sum of squares",
        impl: {
          convGradNorms: async (model: nn.Module, X: Tensor, y: Tensor) => {
            model.zeroGrad();
            F.crossEntropy(model.forward(X), y).backward();
            const convs = model.parameters().filter((p) => p.ndim === 4);
            return await Promise.all(convs.map((p) => p.grad!.pow(2).sum().item()));
          },
        },
      },
    ],
    "9.4": [
      {
        mistake: "the mean of the two losses",
        says: "the sum of the two losses, not their mean",
        impl: {
          twoHeadLoss: (logits: Tensor, labels: Tensor) =>
            solutions.twoHeadLoss(logits, labels).div(2),
        },
      },
      {
        mistake: "the second head read from the first columns",
        says: "the LAST 2 columns",
        impl: {
          twoHeadLoss: (logits: Tensor, labels: Tensor) => {
            const upper = labels.eq(0).add(labels.eq(2)).add(labels.eq(4)).add(labels.eq(6))
              .int();
            return F.crossEntropy(logits.narrow(1, 0, 10), labels).add(
              F.crossEntropy(logits.narrow(1, 0, 2), upper),
            );
          },
        },
      },
    ],
  },
});
