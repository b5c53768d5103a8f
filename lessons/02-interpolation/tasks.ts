/**
 * Lesson 2, how each exercise is checked. The framework is the oracle: `Math` for the curve,
 * `F.mseLoss` for the held-out error, `F.linear` and autograd for the layer of task 2.5.
 * `run` calls the student's code in the sandbox; `judge` recomputes the answer here and names
 * the likely mistakes.
 *
 * @module
 */
import { F, linspace, manualSeed, nn, noGrad, randn, tensor } from "../../mod.ts";
import { defineTasks, expectClose, expectEqual, type Received, Wrong } from "../tasks.ts";
import type * as Solutions from "./solutions.ts";

/** The curve computed number by number with `Math`, as the oracle of task 2.1. */
function curve(x: number, log10 = Math.log10, abs = Math.abs): number {
  return Math.log(x) / x + 0.65 * abs(Math.log(x + x * x - log10(x + 1)));
}

const CURVE_POINTS = [0.5, 0.7, 0.72, 1, 2.5, 10];

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

const ascending = (list: number[]) => list.every((v, i) => i === 0 || list[i - 1] < v);

/** The model and data of task 2.4, seeded. */
function heldOutSetup() {
  manualSeed(3);
  const model = new nn.Sequential(new nn.Linear(1, 8), new nn.ReLU(), new nn.Linear(8, 1));
  const X = linspace(0.5, 10, 30).reshape([30, 1]);
  const y = randn([30, 1]);
  return { model, X, y, testIdx: [2, 7, 11, 19, 25] };
}

/** The layer probes of task 2.5: a small layer and its gradients, and a wide one for its start. */
function layerInputs() {
  manualSeed(25);
  const x = randn([5, 6]).requiresGrad_(true);
  const gradOutput = randn([5, 4]);
  return { x, gradOutput };
}

/** What task 2.5 receives: the layer's parameters, output and gradients. */
async function judgeLayer(received: Received): Promise<void> {
  const { x, gradOutput } = layerInputs();
  const names = received.names as string[];
  const shapes = received.shapes as number[][];
  const has = (name: string) => names.includes(name);
  if (!has("weight") || !has("bias")) {
    throw new Wrong(
      `parameters() of MyLinear(6, 4) found [${names.join(", ")}]: weight and bias must be ` +
        `parameters (wrap each tensor in nn.Parameter), or the optimizer never sees them`,
    );
  }
  const shapeOf = (name: string) => shapes[names.indexOf(name)];
  expectEqual(
    "the shape of weight in MyLinear(6, 4)",
    shapeOf("weight"),
    [4, 6],
    shapeOf("weight")?.join() === "6,4"
      ? "the weight is [outFeatures, inFeatures], as in nn.Linear"
      : "",
  );
  expectEqual("the shape of bias in MyLinear(6, 4)", shapeOf("bias"), [4]);

  // The forward pass with the student's own parameters, through the framework.
  const weight = tensor(received.weight.values, { shape: [4, 6] }).requiresGrad_(true);
  const bias = tensor(received.bias.values, { shape: [4] }).requiresGrad_(true);
  const output = F.linear(x, weight, bias);
  output.mul(gradOutput).sum().backward();
  await expectClose("MyLinear(6, 4).forward(x) for x of shape [5, 6]", received.output, output, {
    mistakes: [
      { value: F.linear(x, weight), says: "the bias is missing: add it to every row" },
      {
        value: F.linear(x, weight).sub(bias),
        says: "the bias is subtracted; x W^T + b adds it",
      },
    ],
  });
  await expectClose("the weight's gradient after backward()", received.gradWeight, weight.grad!);
  await expectClose("the bias's gradient after backward()", received.gradBias, bias.grad!);

  // The start: uniform in ±1/sqrt(inFeatures), so a spread of bound / sqrt(3).
  const bound = 1 / Math.sqrt(400);
  const { largest, spread, mean } = received.wide as Record<string, number>;
  if (largest > bound * 1.0001) {
    const says = spread > 0.5
      ? "the weights start far too large (randn draws a spread of 1)"
      : "some weights start outside ±1/sqrt(inFeatures)";
    throw new Wrong(
      `MyLinear(400, 300): ${says}; expected every |w| <= ${bound}, received ${
        largest.toPrecision(3)
      }`,
    );
  }
  if (Math.abs(mean) > bound / 10 || Math.abs(spread - bound / Math.sqrt(3)) > bound / 20) {
    throw new Wrong(
      `MyLinear(400, 300): the weights should be spread evenly over [-${bound}, ${bound}] ` +
        `(mean 0, spread ${(bound / Math.sqrt(3)).toPrecision(3)}), received mean ${
          mean.toPrecision(3)
        } and spread ${spread.toPrecision(3)} (rand is uniform in [0, 1): stretch and shift it)`,
    );
  }
}

/** The seeded network of task 2.6: one input, eight ReLU units, one output. */
function kinkedNetwork() {
  manualSeed(26);
  return { hidden: new nn.Linear(1, 8), output: new nn.Linear(8, 1) };
}

/** f(x) of task 2.6's network, computed by the framework. */
async function networkAt(xs: number[]): Promise<number[]> {
  const { hidden, output } = kinkedNetwork();
  const x = tensor(xs, { shape: [xs.length, 1] });
  using _ = noGrad();
  const y = output.forward(hidden.forward(x).relu());
  return Array.from(await y.data());
}

/** Task 2.6's judge: kinks from the weights, slopes measured on the framework's network. */
async function judgeKinks(received: Received): Promise<void> {
  const { hidden, output } = kinkedNetwork();
  const w = await hidden.weight.data();
  const b = await hidden.bias!.data();
  const v = await output.weight.data();
  const units = Array.from(w, (wi, i) => ({ w: wi, b: b[i], v: v[i] }));
  const kinks = units.map((u) => -u.b / u.w).sort((a, c) => a - c);
  const got = received ?? {};
  await expectClose("reluKinks(hidden, output).kinks", got.kinks, kinks, {
    atol: 1e-5,
    mistakes: [
      {
        value: units.map((u) => u.b / u.w).sort((a, c) => a - c),
        says: "the sign: a unit switches where w x + b = 0, at x = -b / w",
      },
      {
        value: units.map((u) => -u.w / u.b).sort((a, c) => a - c),
        says: "w and b swapped: x = -b / w",
      },
    ],
  });
  // The oracle for the slopes: the network itself, well outside every kink.
  const far = 10 * Math.max(...kinks.map(Math.abs)) + 10;
  const [l2, l1, r1, r2] = await networkAt([-far - 1, -far, far, far + 1]);
  const measured = { right: r2 - r1, left: l1 - l2 };
  const all = units.reduce((sum, u) => sum + u.v * u.w, 0);
  for (const side of ["right", "left"] as const) {
    await expectClose(
      `reluKinks(hidden, output).${side}Slope`,
      got[`${side}Slope`],
      measured[side],
      {
        atol: 1e-4,
        rtol: 1e-3,
        mistakes: [
          {
            value: all,
            says: `every unit counted: far to the ${side} only the units with w ${
              side === "right" ? ">" : "<"
            } 0 are on`,
          },
          {
            value: units.filter((u) => side === "right" ? u.w < 0 : u.w > 0).reduce(
              (sum, u) => sum + u.v * u.w,
              0,
            ),
            says: `the other side's units: far to the ${side} the units with w ${
              side === "right" ? ">" : "<"
            } 0 are on`,
          },
        ],
      },
    );
  }
}

export default defineTasks<typeof Solutions>([
  {
    id: "2.1",
    title: "the curve f(x)",
    hints: [
      "build f(x) from tensor methods, one piece of the formula at a time",
      "there is no log10 method: log10(t) is the natural log of t divided by ln 10 " +
      "(Math.LN10); the absolute value wraps the outer logarithm only",
    ],
    run: (impl) => impl.targetFunction(tensor(CURVE_POINTS, { dtype: "float64" })),
    judge: async (received) => {
      const expected = tensor(CURVE_POINTS.map((x) => curve(x)), { dtype: "float64" });
      const wrong = (log10: (x: number) => number, abs: (x: number) => number) =>
        tensor(CURVE_POINTS.map((x) => curve(x, log10, abs)), { dtype: "float64" });
      await expectClose("targetFunction(x)", received, expected, {
        atol: 1e-9,
        rtol: 1e-9,
        mistakes: [
          {
            value: wrong(Math.log, Math.abs),
            says: "log() is the natural log; log10 is log / LN10",
          },
          { value: wrong(Math.log10, (v) => v), says: "the absolute value |...| is missing" },
        ],
      });
    },
  },
  {
    id: "2.2",
    title: "the extrapolation split",
    hints: [
      "the points on the left train; the ones on the right are held out",
      "indices 0 to trainCount - 1 train, trainCount to n - 1 are held out (slice does it)",
    ],
    run: (impl) => [impl.extrapolationSplit(100, 80), impl.extrapolationSplit(10, 7)],
    judge: (received) => {
      for (const [i, [n, count]] of [[100, 80], [10, 7]].entries()) {
        const split = received?.[i] ?? {};
        const what = `extrapolationSplit(${n}, ${count})`;
        const plusOne = split.trainIdx?.length === count + 1 ||
          split.testIdx?.length === n - count + 1;
        expectEqual(
          `${what}.trainIdx`,
          split.trainIdx,
          range(0, count),
          plusOne ? "one index too many: the last training index is trainCount - 1" : "",
        );
        const overlap = split.testIdx?.[0] === count - 1;
        expectEqual(
          `${what}.testIdx`,
          split.testIdx,
          range(count, n),
          overlap ? "the index trainCount - 1 is in both lists" : "",
        );
      }
    },
  },
  {
    id: "2.3",
    title: "the interpolation split",
    hints: [
      "hold out points chosen at random among the inner ones; the two ends always train",
      "shuffle the inner indices 1..n-2 (randperm(n - 2) shuffles 0..n-3), hold out the first " +
      "n - trainCount of them, train on the rest plus 0 and n - 1; sort both lists",
    ],
    run: (impl) => {
      manualSeed(1);
      const first = impl.interpolationSplit(100, 80);
      manualSeed(2);
      const second = impl.interpolationSplit(100, 80);
      return { first, second };
    },
    judge: (received) => {
      const { trainIdx, testIdx } = received.first ?? {};
      const what = "interpolationSplit(100, 80)";
      expectEqual(`${what}.trainIdx.length`, trainIdx?.length, 80);
      expectEqual(`${what}.testIdx.length`, testIdx?.length, 20);
      expectEqual(
        "the indices of both lists together, sorted",
        [...trainIdx, ...testIdx].sort((a: number, b: number) => a - b),
        range(0, 100),
        "every index once: no index in both lists, none missing",
      );
      if (testIdx.join() === range(80, 100).join()) {
        throw new Wrong(
          `${what}: the held-out points are the last 20, an extrapolation split; draw them at ` +
            `random with randperm`,
        );
      }
      expectEqual(
        "are 0 and 99 training points?",
        [trainIdx.includes(0), trainIdx.includes(99)],
        [true, true],
        "the end points must train, or the held-out points at the ends are extrapolated",
      );
      expectEqual(
        "are both lists ascending?",
        [ascending(trainIdx), ascending(testIdx)],
        [true, true],
        "sort both lists (numerically: sort((a, b) => a - b))",
      );
      if (received.second?.testIdx?.join() === testIdx.join()) {
        throw new Wrong(
          `${what}: the same split under two seeds; draw it with the seeded randperm from mod.ts`,
        );
      }
    },
  },
  {
    id: "2.4",
    title: "the held-out error",
    hints: [
      "predict only the held-out rows, then their mean squared error",
      "turn testIdx into an int32 tensor, pick those rows of X and y with indexSelect along " +
      "dimension 0, and compare with F.mseLoss under noGrad(); read the number with item()",
    ],
    run: async (impl) => {
      const { model, X, y, testIdx } = heldOutSetup();
      return await impl.heldOutError(model, X, y, testIdx);
    },
    judge: async (received) => {
      const { model, X, y, testIdx } = heldOutSetup();
      using _ = noGrad();
      const yHat = await model.forward(X).data();
      const targets = await y.data();
      const squared = testIdx.map((i) => (yHat[i] - targets[i]) ** 2);
      const sum = squared.reduce((a, b) => a + b, 0);
      const all = await F.mseLoss(model.forward(X), y).item();
      await expectClose(`heldOutError(model, X, y, [${testIdx.join(", ")}])`, received, sum / 5, {
        mistakes: [
          { value: all, says: "the error over every row: use only the rows in testIdx" },
          { value: sum, says: "a sum instead of a mean: divide by the number of rows" },
        ],
      });
    },
  },
  {
    id: "2.5",
    title: "a linear layer of your own",
    hints: [
      "two parameters, drawn small and uniform around 0; forward is a matrix product plus a bias",
      "nn.Parameter(rand(shape)) is uniform in [0, 1): scale it by 2 * bound and shift it by " +
      "-bound; x times the transposed weight gives [N, out], and the bias of shape [out] " +
      "broadcasts over the rows",
    ],
    run: async (impl) => {
      const { x, gradOutput } = layerInputs();
      const layer = new impl.MyLinear(6, 4);
      const named = layer.namedParameters();
      const output = layer.forward(x);
      output.mul(gradOutput).sum().backward();
      const wide = new impl.MyLinear(400, 300).weight;
      const values = await wide.data();
      let [largest, sum, squares] = [0, 0, 0];
      for (const value of values) {
        largest = Math.max(largest, Math.abs(value));
        sum += value;
        squares += value * value;
      }
      const mean = sum / values.length;
      return {
        names: named.map(([name]) => name),
        shapes: named.map(([, p]) => p.shape),
        weight: layer.weight,
        bias: layer.bias,
        output,
        gradWeight: layer.weight.grad,
        gradBias: layer.bias.grad,
        wide: { largest, mean, spread: Math.sqrt(squares / values.length - mean * mean) },
      };
    },
    judge: judgeLayer,
  },
  {
    id: "2.6",
    title: "where a ReLU network bends, and how it extrapolates",
    hints: [
      "a ReLU unit bends the line where its input crosses zero; far out, each unit is either " +
      "always on or always off",
      "unit i bends at x = -b[i] / w[i]; far to the right the units with w[i] > 0 are on and " +
      "each adds v[i] * w[i] to the slope; far to the left, those with w[i] < 0",
    ],
    run: async (impl) => {
      const { hidden, output } = kinkedNetwork();
      return await impl.reluKinks(hidden, output);
    },
    judge: judgeKinks,
  },
]);
