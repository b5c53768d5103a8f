/**
 * Lesson 1, how each exercise is checked. The framework is the oracle: autograd for the
 * gradients, `optim.SGD` for the update, a reference loop for the epoch.
 *
 * @module
 */
import { data, F, manualSeed, nn, optim, randn, type Tensor, tensor } from "../../mod.ts";
import { defineTasks, expectClose, expectEqual } from "../tasks.ts";
import type * as Solutions from "./solutions.ts";

/** The gradient of `(w*x - y)^2` with respect to `w`, from autograd. */
async function autogradOfSquaredError(w: number, x: number, y: number): Promise<number> {
  const wt = tensor(w, { dtype: "float64", requiresGrad: true });
  wt.mul(x).sub(y).pow(2).backward();
  return await wt.grad!.item();
}

/** Fresh copies of the parameters of a seeded linear model, with a gradient from one batch. */
function parametersWithGrads(seed: number): Tensor[] {
  manualSeed(seed);
  const model = new nn.Linear(3, 2);
  F.mseLoss(model.forward(randn([8, 3])), randn([8, 2])).backward();
  return model.parameters();
}

export default defineTasks<typeof Solutions>([
  {
    id: "1.1",
    title: "the gradient of (w*x - y)^2 by hand",
    hint: "d/dw (w*x - y)^2 = 2 (w*x - y) * x",
    check: async (impl) => {
      for (const [w, x, y] of [[3, 2, 5], [0.5, -1.5, 2], [-2, 4, 1]]) {
        await expectClose(
          `squaredErrorGrad(${w}, ${x}, ${y})`,
          impl.squaredErrorGrad(w, x, y),
          await autogradOfSquaredError(w, x, y),
        );
      }
    },
  },
  {
    id: "1.2",
    title: "the MSE gradients of a line by hand",
    hint: "with r = w*x + b - y: dL/dw = 2 * mean(r * x), dL/db = 2 * mean(r)",
    check: async (impl) => {
      manualSeed(12);
      const X = randn([20, 1], { dtype: "float64" });
      const y = X.mul(2).add(1).add(randn([20, 1], { dtype: "float64" }).mul(0.1));
      const [w, b] = [0.3, -0.7];
      const received = await impl.mseLineGrads(X, y, w, b);

      // The same loss through autograd.
      const wt = tensor(w, { dtype: "float64", requiresGrad: true });
      const bt = tensor(b, { dtype: "float64", requiresGrad: true });
      F.mseLoss(X.mul(wt).add(bt), y).backward();
      await expectClose("mseLineGrads(X, y, 0.3, -0.7).dw", received?.dw, wt.grad!);
      await expectClose("mseLineGrads(X, y, 0.3, -0.7).db", received?.db, bt.grad!);
    },
  },
  {
    id: "1.3",
    title: "one SGD step by hand",
    hint: "p.assign(p.sub(p.grad.mul(lr))) under noGrad(), then p.zeroGrad()",
    check: async (impl) => {
      const lr = 0.1;
      const expected = parametersWithGrads(3);
      new optim.SGD(expected, { lr }).step();

      const received = parametersWithGrads(3);
      impl.sgdStep(received, lr);
      const names = ["weight", "bias"];
      for (const [i, p] of received.entries()) {
        await expectClose(`${names[i]} after sgdStep(parameters, ${lr})`, p, expected[i]);
        expectEqual(`${names[i]}.grad after sgdStep (cleared)`, p.grad, null);
        expectEqual(`${names[i]} still a leaf (updated outside the graph)`, p.isLeaf, true);
      }
    },
  },
  {
    id: "1.4",
    title: "one epoch of the training skeleton",
    hint: "for (const [X, y] of trainLoader) { zeroGrad; loss = lossFn(model.forward(X), y); " +
      "backward; step }",
    check: async (impl) => {
      // The same seeded setup twice: once for the reference loop, once for the answer.
      const setup = () => {
        manualSeed(5);
        const X = randn([40, 4]);
        const y = X.sum(1, true).mul(0.5);
        const model = new nn.Sequential(new nn.Linear(4, 8), new nn.Sigmoid(), new nn.Linear(8, 1));
        const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
        const dataset = new data.TensorDataset(X, y);
        const trainLoader = new data.DataLoader({ dataset, batchSize: 8, shuffle: true });
        return { model, optimizer, trainLoader };
      };

      const reference = setup();
      let lossSum = 0;
      for (const [X, y] of reference.trainLoader) {
        reference.optimizer.zeroGrad();
        const loss = F.mseLoss(reference.model.forward(X), y);
        loss.backward();
        reference.optimizer.step();
        lossSum += await loss.item();
      }

      const answer = setup();
      const meanLoss = await impl.trainEpoch(
        answer.model,
        answer.trainLoader,
        answer.optimizer,
        F.mseLoss,
      );
      await expectClose("trainEpoch(...) (the mean batch loss)", meanLoss, lossSum / 5);
      const expected = reference.model.namedParameters();
      for (const [i, [name, p]] of answer.model.namedParameters().entries()) {
        await expectClose(`parameter ${name} after trainEpoch`, p, expected[i][1]);
      }
    },
  },
]);
