/**
 * Lesson 2, how each exercise is checked.
 *
 * @module
 */
import assert from "node:assert/strict";
import { F, linspace, manualSeed, nn, noGrad, randn, tensor } from "../../mod.ts";
import { defineTasks, expectClose, expectEqual } from "../tasks.ts";
import type * as Solutions from "./solutions.ts";

/** The curve computed number by number with `Math`, as the oracle of task 2.1. */
function curve(x: number): number {
  return Math.log(x) / x + 0.65 * Math.abs(Math.log(x + x * x - Math.log10(x + 1)));
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

export default defineTasks<typeof Solutions>([
  {
    id: "2.1",
    title: "the curve f(x)",
    hint: "f(x) = ln(x)/x + 0.65 * |ln(x + x^2 - log10(x + 1))|",
    check: async (impl) => {
      const xs = [0.5, 0.7, 0.72, 1, 2.5, 10];
      const x = tensor(xs, { dtype: "float64" });
      await expectClose("targetFunction(x)", impl.targetFunction(x), xs.map(curve), {
        atol: 1e-9,
        rtol: 1e-9,
      });
    },
  },
  {
    id: "2.2",
    title: "the extrapolation split",
    hint: "the first trainCount indices train, the rest are held out",
    check: (impl) => {
      const split = impl.extrapolationSplit(100, 80);
      expectEqual("extrapolationSplit(100, 80).trainIdx", split?.trainIdx, range(0, 80));
      expectEqual("extrapolationSplit(100, 80).testIdx", split?.testIdx, range(80, 100));
      expectEqual("extrapolationSplit(10, 7).testIdx", impl.extrapolationSplit(10, 7).testIdx, [
        7,
        8,
        9,
      ]);
    },
  },
  {
    id: "2.3",
    title: "the interpolation split",
    hint: "shuffle the inner points with randperm, keep both ends in training, sort both lists",
    check: (impl) => {
      manualSeed(1);
      const first = impl.interpolationSplit(100, 80);
      const { trainIdx, testIdx } = first ?? {};
      expectEqual("interpolationSplit(100, 80).trainIdx.length", trainIdx?.length, 80);
      expectEqual("interpolationSplit(100, 80).testIdx.length", testIdx?.length, 20);
      expectEqual(
        "the indices of both lists together, sorted",
        [...trainIdx, ...testIdx].sort((a, b) => a - b),
        range(0, 100),
      );
      expectEqual("0 and 99 are training points", [trainIdx.includes(0), trainIdx.includes(99)], [
        true,
        true,
      ]);
      const ascending = (list: number[]) => list.every((v, i) => i === 0 || list[i - 1] < v);
      expectEqual("both lists are ascending", [ascending(trainIdx), ascending(testIdx)], [
        true,
        true,
      ]);
      assert.notDeepEqual(
        testIdx,
        range(80, 100),
        "the held-out points must be drawn at random, not the last 20",
      );
      manualSeed(2);
      assert.notDeepEqual(
        impl.interpolationSplit(100, 80).testIdx,
        testIdx,
        "another seed must give another split (use randperm from mod.ts)",
      );
    },
  },
  {
    id: "2.4",
    title: "the held-out error",
    hint: "select the held-out rows with indexSelect, predict under noGrad, F.mseLoss",
    check: async (impl) => {
      manualSeed(3);
      const model = new nn.Sequential(new nn.Linear(1, 8), new nn.ReLU(), new nn.Linear(8, 1));
      const X = linspace(0.5, 10, 30).reshape([30, 1]);
      const y = randn([30, 1]);
      const testIdx = [2, 7, 11, 19, 25];

      // The oracle: the squared errors of the five rows, one by one.
      let sum = 0;
      {
        using _ = noGrad();
        const yHat = await model.forward(X).data();
        const targets = await y.data();
        for (const i of testIdx) sum += (yHat[i] - targets[i]) ** 2;
      }
      const received = await impl.heldOutError(model, X, y, testIdx);
      await expectClose("heldOutError(model, X, y, [2, 7, 11, 19, 25])", received, sum / 5);
      const all = await F.mseLoss(model.forward(X), y).item();
      assert.notEqual(received, all, "heldOutError must use only the rows in testIdx");
    },
  },
]);
