/**
 * Lesson 2: interpolation against extrapolation. The same network, trained twice on 80 of 100
 * noisy samples of one function: once on the first 80 (predicting the last 20 is extrapolation),
 * once on a random 80 (predicting the other 20 is interpolation).
 *
 * @module
 */
import { defineLesson, type Output } from "../format.ts";
import {
  F,
  linspace,
  manualSeed,
  nn,
  noGrad,
  optim,
  rand,
  randperm,
  type Tensor,
  tensor,
} from "../../mod.ts";

/** The 100 samples and the noise-free function, shared between the steps. */
interface Samples {
  f: (x: Tensor) => Tensor;
  X: Tensor;
  y: Tensor;
}

/** Indices of the training and held-out points of one split. */
interface Split {
  name: string;
  trainIdx: number[];
  testIdx: number[];
}

/** Trains a fresh network on the given points and returns it with its final training loss. */
type Fit = (
  out: Output,
  label: string,
  X: Tensor,
  y: Tensor,
  seed: number,
) => Promise<{ model: nn.Module; trainLoss: number }>;

/** Trains on a split's training points and measures the error on its held-out points. */
type TrainAndTest = (
  split: Split,
  X: Tensor,
  y: Tensor,
  seed: number,
  label?: string,
) => Promise<Result>;

/** What one trained split gives: the network and its errors on seen and unseen points. */
interface Result {
  trainLoss: number;
  heldOut: number;
  model: nn.Module;
}

export default defineLesson({
  number: 2,
  slug: "interpolation",
  title: "Interpolation vs extrapolation: what a network learns",
  description:
    "The same network trained twice on 80 of 100 samples of a curve: predicting points between " +
    "its training points is easy, predicting beyond them is not.",
  steps: [
    {
      title: "100 noisy samples of a curve",
      prose: `Our data are 100 samples of

$$f(x) = \\frac{\\ln x}{x} + 0.65 \\, \\bigl|\\ln\\bigl(x + x^2 - \\log_{10}(x + 1)\\bigr)\\bigr|
  + 0.05 \\, R, \\qquad R \\sim U[0, 1) .$$

Where is it defined? $\\ln x$ needs $x > 0$, and the inner logarithm needs
$x + x^2 - \\log_{10}(x+1) > 0$, which holds for every $x > 0$ because
$\\log_{10}(1 + x) < x$. We take 100 evenly spaced points of $[0.5, 10]$. Near $x = 0$ the term
$\\ln(x)/x$ plunges to $-\\infty$, so the curve starts steep; at $x \\approx 0.72$ the inner
argument crosses 1 and the absolute value makes a kink; after that the curve bends over and
rises ever more slowly, like a logarithm.

The noise term $0.05\\,R$ has variance $0.05^2/12 \\approx 0.0002$: no model can predict it, so
no mean squared error on fresh samples can go much below that.`,
      run: async (out, ctx) => {
        // f without the noise term; log10(t) = ln(t) / ln(10).
        const f = (x: Tensor): Tensor => {
          const log10 = x.add(1).log().div(Math.LN10);
          const inner = x.add(x.square()).sub(log10);
          return x.log().div(x).add(inner.log().abs().mul(0.65));
        };
        // 100 evenly spaced x in [0.5, 10], y = f(x) + 0.05 R with R uniform in [0, 1).
        const makeSamples = (): Samples => {
          const X = linspace(0.5, 10, 100, { device: ctx.device }).reshape([100, 1]);
          const y = f(X).add(rand([100, 1], { device: ctx.device }).mul(0.05));
          return { f, X, y };
        };
        const { X, y } = makeSamples();
        ctx.state.samples = { f, X, y };
        ctx.state.makeSamples = makeSamples;

        const curve = linspace(0.5, 10, 400, { device: ctx.device });
        out.plot({
          title: "The samples and the curve they come from",
          xLabel: "x",
          yLabel: "y",
          points: true,
          series: [
            {
              name: "f(x) without noise",
              x: [...await curve.data()],
              y: [...await f(curve).data()],
            },
            { name: "100 samples", x: [...await X.data()], y: [...await y.data()] },
          ],
        });
      },
    },
    {
      title: "Two ways to hold out 20 points",
      prose: `We keep 80 points to train on and hold out 20 to measure the error of the
predictions. Two ways of choosing them ask two different questions:

- **extrapolation**: train on the first 80 points (the smallest $x$) and predict the last 20,
  which lie *beyond* everything the network saw;
- **interpolation**: train on a random 80 and predict the other 20, which lie *between* points
  the network saw.

In the random split we keep the two end points among the training points: a held-out end point
would be a small extrapolation, and we want this split to be pure interpolation.`,
      run: async (out, ctx) => {
        const makeSplits = (n: number, trainCount: number): Split[] => {
          const all = Array.from({ length: n }, (_, i) => i);
          const extrapolation = {
            name: "extrapolation",
            trainIdx: all.slice(0, trainCount),
            testIdx: all.slice(trainCount),
          };
          // A random order of the inner points 1..n-2; the ends 0 and n-1 always train.
          const inner = randperm(n - 2).map((i) => i + 1);
          const interpolation = {
            name: "interpolation",
            trainIdx: [0, n - 1, ...inner.slice(0, trainCount - 2)].sort((a, b) => a - b),
            testIdx: inner.slice(trainCount - 2).sort((a, b) => a - b),
          };
          return [extrapolation, interpolation];
        };
        const { X } = ctx.state.samples as Samples;
        const [extrapolation, interpolation] = makeSplits(X.shape[0], 80);
        ctx.state.splits = [extrapolation, interpolation];
        ctx.state.makeSplits = makeSplits;

        const x = await X.data();
        const describeXs = (idx: number[]) => {
          const xs = idx.map((i) => x[i]);
          return `${xs.length} points in [${Math.min(...xs).toFixed(2)}, ` +
            `${Math.max(...xs).toFixed(2)}]`;
        };
        out.table([extrapolation, interpolation].map((split) => ({
          split: split.name,
          "training points": describeXs(split.trainIdx),
          "held-out points": describeXs(split.testIdx),
        })));
      },
    },
    {
      title: "One network, one training recipe",
      prose: `Both splits get exactly the same network and the same training: a multi-layer
perceptron $1 \\to 64 \\to 64 \\to 1$ with ReLU activations, $\\mathrm{ReLU}(t) = \\max(t, 0)$,
trained with Adam on all 80 training points at once (80 points are one small batch) to
minimize the mean squared error. Before building each network we reset the random generator
to the same seed, so both start from **the same initial weights**: any difference in the results
comes from the data alone.

The code below defines the two functions the next steps call: \`makeModel\` and \`fit\`.`,
      run: (out, ctx) => {
        const epochs = ctx.quick ? 600 : 1500;
        const lr = 1e-2;

        const makeModel = (seed: number): nn.Module => {
          manualSeed(seed); // same seed, same initial weights
          return new nn.Sequential(
            new nn.Linear(1, 64),
            new nn.ReLU(),
            new nn.Linear(64, 64),
            new nn.ReLU(),
            new nn.Linear(64, 1),
          ).to(ctx.device);
        };

        const fit: Fit = async (out, label, X, y, seed) => {
          const model = makeModel(seed);
          const optimizer = new optim.Adam(model.parameters(), { lr });
          const bar = out.progress(label, epochs);
          const start = performance.now();
          let trainLoss = NaN;
          for (let epoch = 1; epoch <= epochs && !ctx.signal?.aborted; epoch++) {
            optimizer.zeroGrad();
            const loss = F.mseLoss(model.forward(X), y);
            loss.backward();
            optimizer.step();
            if (epoch % 50 === 0 || epoch === epochs) {
              trainLoss = await loss.item();
              const stepsPerSecond = epoch / ((performance.now() - start) / 1000);
              bar.update(epoch, {
                loss: trainLoss.toFixed(5),
                "steps/s": Math.round(stepsPerSecond),
              });
            }
          }
          bar.end({ loss: trainLoss.toFixed(5) });
          return { model, trainLoss };
        };
        ctx.state.fit = fit;

        out.text(`\`fit\` trains for ${epochs} full-batch steps of Adam at lr = ${lr}.`);
        out.value(
          "parameters of the network",
          makeModel(0).parameters()
            .reduce((sum, p) => sum + p.numel(), 0),
        );
      },
    },
    {
      title: "Training on both splits",
      prose: `Now the experiment: for each split, train on its 80 points, then measure the
mean squared error on its 20 held-out points, under \`noGrad()\`. The training loss tells how
well the network fits the points it saw; the **held-out error** tells how well it predicts points
it did not see, which is what we care about.`,
      run: async (out, ctx) => {
        const { X, y } = ctx.state.samples as Samples;
        const splits = ctx.state.splits as Split[];
        const fit = ctx.state.fit as Fit;

        // Train on the split's training points, then measure the MSE on its held-out points.
        const trainAndTest: TrainAndTest = async (split, X, y, seed, label = split.name) => {
          const trainIdx = tensor(split.trainIdx, { dtype: "int32", device: X.device });
          const testIdx = tensor(split.testIdx, { dtype: "int32", device: X.device });
          const trainX = X.indexSelect(0, trainIdx);
          const trainY = y.indexSelect(0, trainIdx);
          const { model, trainLoss } = await fit(out, label, trainX, trainY, seed);
          using _ = noGrad();
          const yHat = model.forward(X.indexSelect(0, testIdx));
          const heldOut = await F.mseLoss(yHat, y.indexSelect(0, testIdx)).item();
          return { model, trainLoss, heldOut };
        };
        ctx.state.trainAndTest = trainAndTest;

        const results: Record<string, Result> = {};
        for (const split of splits) {
          results[split.name] = await trainAndTest(split, X, y, ctx.seed + 1);
        }
        ctx.state.results = results;

        out.table(splits.map((split) => ({
          split: split.name,
          "training MSE": results[split.name].trainLoss.toFixed(5),
          "held-out MSE": results[split.name].heldOut.toFixed(5),
        })));
        const { extrapolation, interpolation } = results;
        out.value(
          "held-out error, extrapolation / interpolation",
          `${(extrapolation.heldOut / interpolation.heldOut).toFixed(1)}x`,
        );
      },
    },
    {
      title: "Both fits over the true curve",
      prose: `Both networks fit their training points about equally well (their training losses
are close to the noise floor). Where they differ is away from the data. The plots show each
network's prediction over $[0.5, 12]$, past the end of the samples, against the true curve.

Between training points, the interpolating network follows the curve: every held-out point has
training neighbours on both sides, and a smooth fit through the neighbours passes close to it.
Beyond $x \\approx 8.1$, the extrapolating network has no data at all, and what it predicts there
is decided by its **architecture**, not by $f$: a ReLU network is piecewise linear, so past its
last kink it continues as a straight line, while $f$ keeps bending. The further from the data,
the larger the gap.`,
      run: async (out, ctx) => {
        const { f, X, y } = ctx.state.samples as Samples;
        const splits = ctx.state.splits as Split[];
        const results = ctx.state.results as Record<string, Result>;

        const grid = linspace(0.5, 12, 300, { device: ctx.device });
        const gridX = [...await grid.data()];
        const truth = [...await f(grid).data()];
        const x = await X.data();
        const yValues = await y.data();

        for (const split of splits) {
          let yHat: Tensor;
          {
            using _ = noGrad();
            yHat = results[split.name].model.forward(grid.reshape([-1, 1]));
          }
          out.plot({
            title: `${split.name}: the network's prediction`,
            xLabel: "x",
            yLabel: "y",
            points: true,
            series: [
              { name: "f(x)", x: gridX, y: truth },
              { name: "network", x: gridX, y: [...await yHat.data()] },
              {
                name: "held-out points",
                x: split.testIdx.map((i) => x[i]),
                y: split.testIdx.map((i) => yValues[i]),
              },
            ],
          });
        }
      },
    },
    {
      title: "Not a fluke: more seeds",
      prose: `One run could be lucky. We repeat the experiment with other seeds: each seed draws
new noise, a new random split and new initial weights. The ratio of the two held-out errors
varies a lot from seed to seed (it depends on the slope at which the extrapolating network
happens to leave its data), but extrapolation is the worse of the two in every run.`,
      run: async (out, ctx) => {
        const makeSamples = ctx.state.makeSamples as () => Samples;
        const makeSplits = ctx.state.makeSplits as (n: number, trainCount: number) => Split[];
        const trainAndTest = ctx.state.trainAndTest as TrainAndTest;
        const first = ctx.state.results as Record<string, Result>;
        const seeds = ctx.quick ? [ctx.seed + 100] : [100, 200, 300, 400].map((s) => ctx.seed + s);

        const ratios = [first.extrapolation.heldOut / first.interpolation.heldOut];
        const rows = [{ seed: ctx.seed, ...errorsRow(first) }];
        for (const seed of seeds) {
          manualSeed(seed); // new noise and a new random split
          const { X, y } = makeSamples();
          const results: Record<string, Result> = {};
          for (const split of makeSplits(100, 80)) {
            const label = `seed ${seed}: ${split.name}`;
            results[split.name] = await trainAndTest(split, X, y, seed + 1, label);
          }
          ratios.push(results.extrapolation.heldOut / results.interpolation.heldOut);
          rows.push({ seed, ...errorsRow(results) });
        }
        ctx.state.ratios = ratios;
        out.table(rows, { title: "Held-out MSE by seed" });

        function errorsRow({ extrapolation, interpolation }: Record<string, Result>) {
          return {
            extrapolation: extrapolation.heldOut.toFixed(5),
            interpolation: interpolation.heldOut.toFixed(5),
            ratio: `${(extrapolation.heldOut / interpolation.heldOut).toFixed(1)}x`,
          };
        }
      },
    },
    {
      title: "What this says about what networks learn",
      prose: `A network fitted to data learns the function **where the data are**. Between
training points it interpolates, and with enough points it does so well. Outside the data it
has learned nothing about $f$: its predictions there come from its architecture (straight lines
for ReLU, flat plateaus for sigmoid or tanh, which saturate), so extrapolation is only as good
as the luck of that shape matching the truth.

The same holds far beyond one-dimensional curves. An image classifier does well on test images
that resemble its training images, in between them, and can fail on images unlike any it saw
(another camera, lighting, style), however well it scored on its test set. Good training data
**cover** the inputs the model will meet; more data in the region that matters beats a cleverer
model asked to extrapolate.`,
      run: (out, ctx) => {
        const results = ctx.state.results as Record<string, Result>;
        const ratios = ctx.state.ratios as number[];
        const { extrapolation, interpolation } = results;
        const ratio = extrapolation.heldOut / interpolation.heldOut;
        ctx.state.outcome = {
          extrapolation: extrapolation.heldOut,
          interpolation: interpolation.heldOut,
          ratio,
          minRatio: Math.min(...ratios),
        };
        out.summary([
          {
            label: "held-out MSE",
            value: `interpolation ${interpolation.heldOut.toFixed(5)}, extrapolation ` +
              `${extrapolation.heldOut.toFixed(5)} (${ratio.toFixed(1)}x)`,
          },
          {
            label: "training MSE",
            value: `interpolation ${interpolation.trainLoss.toFixed(5)}, extrapolation ` +
              `${extrapolation.trainLoss.toFixed(5)} (noise floor 0.00021)`,
          },
          {
            label: `ratio over ${ratios.length} seeds`,
            value: `from ${Math.min(...ratios).toFixed(1)}x to ${Math.max(...ratios).toFixed(1)}x`,
          },
        ]);
      },
    },
  ],
});
