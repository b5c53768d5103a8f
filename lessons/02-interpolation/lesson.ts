/**
 * Lesson 2: interpolation against extrapolation. The same network, trained twice on 80 of 100
 * noisy samples of one function: once on the first 80 (predicting the last 20 is extrapolation),
 * once on a random 80 (predicting the other 20 is interpolation).
 *
 * @module
 */
import { lesson, md } from "../format.ts";
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

const { step, show, quick, device, seed } = await lesson(import.meta, {
  number: 2,
  title: "Interpolation vs extrapolation: what a network learns",
  description: "The same network trained twice on 80 of 100 samples of a curve: predicting " +
    "points between its training points is easy, predicting beyond them is not.",
});

step(
  "100 noisy samples of a curve",
  md`
  Our data are 100 samples of

  $$f(x) = \frac{\ln x}{x} + 0.65 \, \bigl|\ln\bigl(x + x^2 - \log_{10}(x + 1)\bigr)\bigr|
    + 0.05 \, R, \qquad R \sim U[0, 1) .$$

  Where is it defined? $\ln x$ needs $x > 0$, and the inner logarithm needs
  $x + x^2 - \log_{10}(x+1) > 0$, which holds for every $x > 0$ because
  $\log_{10}(1 + x) < x$. We take 100 evenly spaced points of $[0.5, 10]$. Near $x = 0$ the term
  $\ln(x)/x$ plunges to $-\infty$, so the curve starts steep; at $x \approx 0.72$ the inner
  argument crosses 1 and the absolute value makes a kink; after that the curve bends over and
  rises ever more slowly, like a logarithm.

  The noise term $0.05\,R$ has variance $0.05^2/12 \approx 0.0002$: no model can predict it, so
  no mean squared error on fresh samples can go much below that.
`,
);
// f without the noise term; log10(t) = ln(t) / ln(10).
function f(x: Tensor): Tensor {
  const log10 = x.add(1).log().div(Math.LN10);
  const inner = x.add(x.square()).sub(log10);
  return x.log().div(x).add(inner.log().abs().mul(0.65));
}
// 100 evenly spaced x in [0.5, 10], y = f(x) + 0.05 R with R uniform in [0, 1).
function makeSamples() {
  const X = linspace(0.5, 10, 100, { device }).reshape([100, 1]);
  const y = f(X).add(rand([100, 1], { device }).mul(0.05));
  return { X, y };
}
const { X, y } = makeSamples();

const curve = linspace(0.5, 10, 400, { device });
show.plot({
  title: "The samples and the curve they come from",
  xLabel: "x",
  yLabel: "y",
  points: true,
  series: [
    { name: "f(x) without noise", x: [...await curve.data()], y: [...await f(curve).data()] },
    { name: "100 samples", x: [...await X.data()], y: [...await y.data()] },
  ],
});

step(
  "Two ways to hold out 20 points",
  md`
  We keep 80 points to train on and hold out 20 to measure the error of the
  predictions. Two ways of choosing them ask two different questions:

  - **extrapolation**: train on the first 80 points (the smallest $x$) and predict the last 20,
    which lie *beyond* everything the network saw;
  - **interpolation**: train on a random 80 and predict the other 20, which lie *between* points
    the network saw.

  In the random split we keep the two end points among the training points: a held-out end point
  would be a small extrapolation, and we want this split to be pure interpolation.
`,
);
/** Indices of the training and held-out points of one split. */
interface Split {
  name: string;
  trainIdx: number[];
  testIdx: number[];
}
function makeSplits(n: number, trainCount: number): Split[] {
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
}
const splits = makeSplits(X.shape[0], 80);

const xValues = await X.data();
function describeXs(idx: number[]): string {
  const xs = idx.map((i) => xValues[i]);
  return `${xs.length} points in [${Math.min(...xs).toFixed(2)}, ${Math.max(...xs).toFixed(2)}]`;
}
show.table(splits.map((split) => ({
  split: split.name,
  "training points": describeXs(split.trainIdx),
  "held-out points": describeXs(split.testIdx),
})));

step(
  "One network, one training recipe",
  md`
  Both splits get exactly the same network and the same training: a multi-layer
  perceptron $1 \to 64 \to 64 \to 1$ with ReLU activations, $\mathrm{ReLU}(t) = \max(t, 0)$,
  trained with Adam on all 80 training points at once (80 points are one small batch) to
  minimize the mean squared error. Before building each network we reset the random generator
  to the same seed, so both start from **the same initial weights**: any difference in the results
  comes from the data alone.

  The code of this step defines two functions that the next steps call: \`makeModel\`, which
  builds the network from a seed, and \`fit\`, which trains it.
`,
);
const epochs = quick ? 600 : 1500;
const lr = 1e-2;

function makeModel(seed: number): nn.Module {
  manualSeed(seed); // same seed, same initial weights
  return new nn.Sequential(
    new nn.Linear(1, 64),
    new nn.ReLU(),
    new nn.Linear(64, 64),
    new nn.ReLU(),
    new nn.Linear(64, 1),
  ).to(device);
}

/** Trains a fresh network on the given points; returns it with its final training loss. */
async function fit(label: string, X: Tensor, y: Tensor, seed: number) {
  const model = makeModel(seed);
  const optimizer = new optim.Adam(model.parameters(), { lr });
  let trainLoss = NaN;
  const training = show.range(epochs, label);
  for (const epoch of training) {
    optimizer.zeroGrad();
    const loss = F.mseLoss(model.forward(X), y);
    loss.backward();
    optimizer.step();
    if ((epoch + 1) % 50 === 0 || epoch + 1 === epochs) {
      trainLoss = await loss.item();
      training.note({ loss: trainLoss.toFixed(5) });
    }
  }
  return { model, trainLoss };
}

show.text(`\`fit\` trains for ${epochs} full-batch steps of Adam at lr = ${lr}.`);
show.value(
  "parameters of the network",
  makeModel(0).parameters().reduce((sum, p) => sum + p.numel(), 0),
);

step(
  "Training on both splits",
  md`
  Now the experiment: for each split, train on its 80 points, then measure the
  mean squared error on its 20 held-out points, under \`noGrad()\`. The training loss tells how
  well the network fits the points it saw; the **held-out error** tells how well it predicts points
  it did not see, which is what we care about.
`,
);
/** Trains on a split's training points, then measures the MSE on its held-out points. */
async function trainAndTest(split: Split, X: Tensor, y: Tensor, seed: number, label = split.name) {
  const trainIdx = tensor(split.trainIdx, { dtype: "int32", device: X.device });
  const testIdx = tensor(split.testIdx, { dtype: "int32", device: X.device });
  const { model, trainLoss } = await fit(
    label,
    X.indexSelect(0, trainIdx),
    y.indexSelect(0, trainIdx),
    seed,
  );
  using _ = noGrad();
  const yHat = model.forward(X.indexSelect(0, testIdx));
  const heldOut = await F.mseLoss(yHat, y.indexSelect(0, testIdx)).item();
  return { model, trainLoss, heldOut };
}

const [extrapolation, interpolation] = [
  await trainAndTest(splits[0], X, y, seed + 1),
  await trainAndTest(splits[1], X, y, seed + 1),
];

show.table([
  { split: "extrapolation", ...errors(extrapolation) },
  { split: "interpolation", ...errors(interpolation) },
]);
function errors(result: { trainLoss: number; heldOut: number }) {
  return {
    "training MSE": result.trainLoss.toFixed(5),
    "held-out MSE": result.heldOut.toFixed(5),
  };
}
const ratio = extrapolation.heldOut / interpolation.heldOut;
show.value("held-out error, extrapolation / interpolation", ratio, "times");

step(
  "Both fits over the true curve",
  md`
  Both networks fit their training points about equally well (their training losses
  are close to the noise floor). Where they differ is away from the data. The plots show each
  network's prediction over $[0.5, 12]$, past the end of the samples, against the true curve.

  Between training points, the interpolating network follows the curve: every held-out point has
  training neighbours on both sides, and a smooth fit through the neighbours passes close to it.
  Beyond $x \approx 8.1$, the extrapolating network has no data at all, and what it predicts there
  is decided by its **architecture**, not by $f$: a ReLU network is piecewise linear, so past its
  last kink it continues as a straight line, while $f$ keeps bending. The further from the data,
  the larger the gap.
`,
);
const grid = linspace(0.5, 12, 300, { device });
const gridX = [...await grid.data()];
const truth = [...await f(grid).data()];
const yValues = await y.data();

for (const [split, result] of [[splits[0], extrapolation], [splits[1], interpolation]] as const) {
  let yHat: Tensor;
  {
    using _ = noGrad();
    yHat = result.model.forward(grid.reshape([-1, 1]));
  }
  show.plot({
    title: `${split.name}: the network's prediction`,
    xLabel: "x",
    yLabel: "y",
    points: true,
    series: [
      { name: "f(x)", x: gridX, y: truth },
      { name: "network", x: gridX, y: [...await yHat.data()] },
      {
        name: "held-out points",
        x: split.testIdx.map((i) => xValues[i]),
        y: split.testIdx.map((i) => yValues[i]),
      },
    ],
  });
}

step(
  "Not a fluke: more seeds",
  md`
  One run could be lucky. We repeat the experiment with other seeds: each seed draws
  new noise, a new random split and new initial weights. The ratio of the two held-out errors
  varies a lot from seed to seed (it depends on the slope at which the extrapolating network
  happens to leave its data), but extrapolation is the worse of the two in every run.
`,
);
const moreSeeds = quick ? [seed + 100] : [100, 200, 300, 400].map((s) => seed + s);
const ratios = [ratio];
const seedRows = [{ seed, ...ratioRow(extrapolation.heldOut, interpolation.heldOut) }];
for (const other of moreSeeds) {
  manualSeed(other); // new noise and a new random split
  const { X, y } = makeSamples();
  const [extrapolation, interpolation] = makeSplits(100, 80);
  const extrapolated = await trainAndTest(
    extrapolation,
    X,
    y,
    other + 1,
    `seed ${other}: ${extrapolation.name}`,
  );
  const interpolated = await trainAndTest(
    interpolation,
    X,
    y,
    other + 1,
    `seed ${other}: ${interpolation.name}`,
  );
  ratios.push(extrapolated.heldOut / interpolated.heldOut);
  seedRows.push({ seed: other, ...ratioRow(extrapolated.heldOut, interpolated.heldOut) });
}
show.table(seedRows, { title: "Held-out MSE by seed" });
show.value("smallest ratio over the seeds", Math.min(...ratios), "times");

function ratioRow(extrapolated: number, interpolated: number) {
  return {
    extrapolation: extrapolated.toFixed(5),
    interpolation: interpolated.toFixed(5),
    ratio: `${(extrapolated / interpolated).toFixed(1)}x`,
  };
}

step(
  "What this says about what networks learn",
  md`
  A network fitted to data learns the function **where the data are**. Between
  training points it interpolates, and with enough points it does so well. Outside the data it
  has learned nothing about $f$: its predictions there come from its architecture (straight lines
  for ReLU, flat plateaus for sigmoid or tanh, which saturate), so extrapolation is only as good
  as the luck of that shape matching the truth.

  The same holds far beyond one-dimensional curves. An image classifier does well on test images
  that resemble its training images, in between them, and can fail on images unlike any it saw
  (another camera, lighting, style), however well it scored on its test set. Good training data
  **cover** the inputs the model will meet; more data in the region that matters beats a cleverer
  model asked to extrapolate.
`,
);
show.summary([
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
