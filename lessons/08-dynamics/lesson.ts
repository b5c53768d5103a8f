/**
 * Lesson 8: training dynamics. Learning-rate schedules and warm-up, initialization of a deep
 * plain network (vanishing and exploding signals), optimizers side by side, gradient clipping,
 * and a hyper-parameter search chosen on validation and tested once.
 *
 * @module
 */
import { lesson, md } from "../format.ts";
import {
  data,
  F,
  loadFashionMnist,
  manualSeed,
  nn,
  noGrad,
  optim,
  rand,
  randperm,
  type Tensor,
  tensor,
} from "../../mod.ts";

const { step, show, quick, device, seed, dataUrl } = await lesson(import.meta, {
  number: 8,
  title: "Training dynamics: schedules, initialization, optimizers, clipping, search",
  description: "How the learning rate, the starting weights and the optimizer decide whether " +
    "and how fast a network learns, measured on Fashion-MNIST.",
});

step(
  "Data: training, validation and test",
  md`
  Every experiment of this lesson trains small networks on Fashion-MNIST images, flattened to
  784 numbers. Three disjoint parts, each with its own job:

  - the **training** set, which the optimizer sees;
  - the **validation** set, on which we compare runs and pick settings (a schedule, a learning
    rate, a batch size);
  - the **test** set, used **once**, at the very end, for the run we picked.

  Many PyTorch tutorials blur the last two: they compute "validation" accuracy on the test
  loader and choose by it. A test score that was used to choose is no longer an estimate of how
  the model does on new data, since the choice favours whatever happened to fit the test images.
  Here the validation images come out of the training file; the test file is read only in the
  last step.

  The pixels are standardized with the mean and standard deviation of the **training** images
  only, so that nothing about the other two sets leaks into training.
`,
);
// Any file of the folder tells where the folder is (the shipped subset, or --data).
const folder = new URL(".", dataUrl("fashion-mnist/train-images-idx3-ubyte.gz"));
const trainFile = await loadFashionMnist(folder, { train: true, limit: quick ? 3000 : 12000 });
const testFile = await loadFashionMnist(folder, { train: false, limit: quick ? 1000 : 2000 });

const trainSize = quick ? 2000 : 10000;
const valSize = quick ? 1000 : 2000;
const order = randperm(trainSize + valSize);
const trainIndex = tensor(order.slice(0, trainSize), { dtype: "int32" });
const valIndex = tensor(order.slice(trainSize), { dtype: "int32" });

// Images as rows of 784 pixels; the statistics come from the training rows only.
const allImages = trainFile.images.flatten(1);
const trainPixels = allImages.indexSelect(0, trainIndex);
const pixelMean = await trainPixels.mean().item();
const pixelStd = await trainPixels.std().item();
const standardize = (images: Tensor) => images.sub(pixelMean).div(pixelStd);

const trainX = standardize(trainPixels).to(device);
const trainY = trainFile.labels.indexSelect(0, trainIndex).to(device);
const valX = standardize(allImages.indexSelect(0, valIndex)).to(device);
const valY = trainFile.labels.indexSelect(0, valIndex).to(device);
const testX = standardize(testFile.images.flatten(1)).to(device);
const testY = testFile.labels.to(device);

show.table([
  { split: "training", images: trainX.shape[0], "used for": "the optimizer's steps" },
  { split: "validation", images: valX.shape[0], "used for": "comparing runs, choosing" },
  { split: "test", images: testX.shape[0], "used for": "one final measurement" },
]);
show.value("training pixel mean", pixelMean);
show.value("training pixel standard deviation", pixelStd);

step(
  "The tools every experiment shares",
  md`
  Three small functions, the same as in earlier lessons: a network, one epoch of training that
  returns each step's loss, and an evaluation under \`noGrad()\` that returns the loss and the
  accuracy over a whole set.

  The evaluation computes the loss over all images at once. A common tutorial loop adds up the
  mean loss of each batch and divides by the number of batches, which weighs the images of a
  smaller last batch more than the others; over all images at once (or summing
  \`loss * batchSize\` and dividing by the number of images) every image counts the same.

  \`trainEpoch\` takes an optional \`maxNorm\` for the gradient clipping of a later step.
`,
);
/** A one-hidden-layer network for flattened images: 784 -> hidden -> 10. */
function makeMlp(hidden = 128) {
  return new nn.Sequential(
    new nn.Linear(784, hidden),
    new nn.ReLU(),
    new nn.Linear(hidden, 10),
  ).to(device);
}

/** One epoch; returns the loss of every step (NaN and Infinity included, to be seen). */
async function trainEpoch(
  model: nn.Module,
  trainLoader: Iterable<Tensor[]>,
  optimizer: optim.Optimizer,
  maxNorm = 0,
) {
  const losses: number[] = [];
  for (const [X, y] of trainLoader) {
    optimizer.zeroGrad();
    const loss = F.crossEntropy(model.forward(X), y);
    loss.backward();
    if (maxNorm > 0) nn.utils.clipGradNorm_(model.parameters(), maxNorm);
    optimizer.step();
    losses.push(await loss.item());
  }
  return losses;
}

/** Loss and accuracy over a whole set, without building a graph. */
async function evaluate(model: nn.Module, X: Tensor, y: Tensor) {
  using _ = noGrad();
  const logits = model.forward(X);
  const loss = await F.crossEntropy(logits, y).item();
  const accuracy = await logits.argmax(1).eq(y).float().mean().item();
  return { loss, accuracy };
}

/** The mean of the last `window` values at each position (a readable loss curve). */
function smooth(values: number[], window = 10) {
  return values.map((_, i) => {
    const recent = values.slice(Math.max(0, i - window + 1), i + 1);
    return recent.reduce((sum, v) => sum + v, 0) / recent.length;
  });
}

const trainLoader = new data.DataLoader(new data.TensorDataset(trainX, trainY), {
  batchSize: 64,
  shuffle: true,
});
show.value("batches of 64 per epoch", trainLoader.length);

step(
  "Learning-rate schedules",
  md`
  The learning rate $\eta$ sets the size of each step, $w \leftarrow w - \eta\, g$. Large steps
  make fast progress while the loss is far from a minimum, but near one they bounce around it:
  with a constant rate the loss stops falling at a level set by the noise of the mini-batch
  gradients. A **schedule** lowers $\eta$ as training goes on:

  - \`StepLR\`: multiply by \`gamma\` every \`stepSize\` epochs, $\eta_t = \eta_0 \gamma^{\lfloor t / s \rfloor}$;
  - \`CosineAnnealingLR\`: half a cosine from $\eta_0$ down to $\eta_{min}$ over \`tMax\` epochs,
    $\eta_t = \eta_{min} + \tfrac{1}{2}(\eta_0 - \eta_{min})(1 + \cos(\pi t / T))$;
  - \`ReduceLROnPlateau\`: multiply by \`factor\` when the validation loss has not improved for
    \`patience\` epochs. It reads a measurement, so its \`step\` takes one: \`scheduler.step(valLoss)\`.

  All four runs below start from the same weights (the same seed) with SGD, momentum 0.9 and
  $\eta_0 = 0.1$, and differ only in the schedule. Call \`scheduler.step()\` once per epoch,
  **after** the epoch's \`optimizer.step()\` calls (PyTorch's order since version 1.1; the other
  order skips the first rate).

  Read the plots together: the learning rate of each epoch, and the validation loss after it
  (the third plot puts both of the StepLR run on one logarithmic axis). Each drop of the rate is
  followed by a drop of the loss.
`,
);
const scheduleEpochs = quick ? 6 : 15;
const { StepLR, CosineAnnealingLR, ReduceLROnPlateau, LinearLR, SequentialLR } = optim.lrScheduler;
const schedules = {
  "constant": (_optimizer: optim.SGD) => null,
  "StepLR": (optimizer: optim.SGD) =>
    new StepLR(optimizer, { stepSize: Math.ceil(scheduleEpochs / 3), gamma: 0.3 }),
  "CosineAnnealingLR": (optimizer: optim.SGD) =>
    new CosineAnnealingLR(optimizer, { tMax: scheduleEpochs }),
  "ReduceLROnPlateau": (optimizer: optim.SGD) =>
    new ReduceLROnPlateau(optimizer, { factor: 0.3, patience: 0 }),
};
const lrSeries = [];
const valLossSeries = [];
const scheduleRows = [];
const scheduleValLoss: Record<string, number> = {};
const stepLrTrace = { lrs: [] as number[], valLosses: [] as number[] };
for (const [name, makeScheduler] of Object.entries(schedules)) {
  manualSeed(seed);
  const model = makeMlp();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const scheduler = makeScheduler(optimizer);
  const lrs: number[] = [];
  const valLosses: number[] = [];
  let val = { loss: 0, accuracy: 0 };
  let trainLoss = 0;
  for (const _epoch of show.range(scheduleEpochs, name)) {
    lrs.push(optimizer.paramGroups[0].lr);
    const losses = await trainEpoch(model, trainLoader, optimizer);
    trainLoss = losses.reduce((sum, v) => sum + v, 0) / losses.length;
    val = await evaluate(model, valX, valY);
    valLosses.push(val.loss);
    if (scheduler instanceof ReduceLROnPlateau) scheduler.step(val.loss);
    else scheduler?.step();
  }
  const epochNumbers = lrs.map((_, i) => i + 1);
  lrSeries.push({ name, x: epochNumbers, y: lrs });
  valLossSeries.push({ name, x: epochNumbers, y: valLosses });
  scheduleValLoss[name] = val.loss;
  if (name === "StepLR") Object.assign(stepLrTrace, { lrs, valLosses });
  scheduleRows.push({
    schedule: name,
    "last learning rate": optimizer.paramGroups[0].lr.toPrecision(3),
    "training loss (last epoch)": trainLoss.toFixed(3),
    "validation loss": val.loss.toFixed(3),
    "validation accuracy": `${(100 * val.accuracy).toFixed(1)}%`,
  });
}
show.plot({
  title: "Learning rate of each epoch",
  xLabel: "epoch",
  yLabel: "learning rate",
  logY: true,
  series: lrSeries,
});
show.plot({
  title: "Validation loss after each epoch",
  xLabel: "epoch",
  yLabel: "cross-entropy",
  series: valLossSeries,
});
// The rate and the loss of one run on one (logarithmic) axis.
show.plot({
  title: "StepLR: the learning rate and the validation loss together",
  xLabel: "epoch",
  yLabel: "learning rate / cross-entropy",
  logY: true,
  series: [
    { name: "learning rate", x: stepLrTrace.lrs.map((_, i) => i + 1), y: stepLrTrace.lrs },
    {
      name: "validation loss",
      x: stepLrTrace.valLosses.map((_, i) => i + 1),
      y: stepLrTrace.valLosses,
    },
  ],
});
show.table(scheduleRows, { title: `After ${scheduleEpochs} epochs` });
const bestDecayed = Math.min(
  scheduleValLoss.StepLR,
  scheduleValLoss.CosineAnnealingLR,
  scheduleValLoss.ReduceLROnPlateau,
);
show.value("validation loss, constant rate", scheduleValLoss.constant);
show.value(
  "validation loss, worst decaying schedule",
  Math.max(
    scheduleValLoss.StepLR,
    scheduleValLoss.CosineAnnealingLR,
    scheduleValLoss.ReduceLROnPlateau,
  ),
);
show.value("validation loss, best decaying schedule", bestDecayed);

step(
  "Warm-up",
  md`
  At the start of training the weights are random, the loss is high and the gradients are large
  and point in inconsistent directions; with momentum (or Adam's running averages) those first
  steps also add up. A rate that is fine later can throw the network, in its first few steps, to
  a place it never recovers from: ReLU units pushed to where they output 0 for every image
  ("dead" units) stay dead, since their gradient is 0 too.

  A **warm-up** starts with a small rate and raises it linearly over the first epochs (or steps):
  \`LinearLR(optimizer, { startFactor: 0.1, totalIters: 2 })\` runs epoch 0 at $0.1\, \eta_0$
  and reaches $\eta_0$ at epoch 2. \`SequentialLR\` hands over to a cosine decay there.

  Both runs use three times the rate of the previous step, $\eta_0 = 0.3$: one with the cosine
  alone, one with the warm-up first. The plot shows the loss of each training step (mean of the
  last 5) over the whole run. Without warm-up the loss shoots far above its starting value
  $\ln 10 \approx 2.3$ within the first epoch; with it, it never does.

  A warm-up only gets a run through its start. Whether the spike does lasting harm varies with
  the network and the run (units that died in it stay dead; the rest may recover): compare the
  validation losses in the table. Nor does a warm-up make a rate that is too high for the rest of
  training any better: 0.3 is more than this network likes either way, and the previous step's
  runs at 0.1 end far lower. Deep networks, and large models trained with Adam, are less
  forgiving of a bad start, which is why a few epochs (or a few thousand steps) of warm-up are
  the usual start for them.
`,
);
const warmupEpochs = 2;
const warmupRuns = {
  "cosine, no warm-up": (optimizer: optim.SGD) =>
    new CosineAnnealingLR(optimizer, { tMax: scheduleEpochs }),
  "linear warm-up, then cosine": (optimizer: optim.SGD) =>
    new SequentialLR(optimizer, {
      schedulers: [
        new LinearLR(optimizer, { startFactor: 0.1, totalIters: warmupEpochs }),
        new CosineAnnealingLR(optimizer, { tMax: scheduleEpochs - warmupEpochs }),
      ],
      milestones: [warmupEpochs],
    }),
};
const warmupSeries = [];
const warmupRows = [];
const warmupResults: Record<string, { firstEpochMax: number; valLoss: number }> = {};
for (const [name, makeScheduler] of Object.entries(warmupRuns)) {
  manualSeed(seed);
  const model = makeMlp();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.3, momentum: 0.9 });
  const scheduler = makeScheduler(optimizer);
  const losses: number[] = [];
  const lrs: number[] = [];
  for (const _epoch of show.range(scheduleEpochs, name)) {
    lrs.push(optimizer.paramGroups[0].lr);
    losses.push(...await trainEpoch(model, trainLoader, optimizer));
    scheduler.step();
  }
  warmupSeries.push({ name, x: losses.map((_, i) => i + 1), y: smooth(losses, 5) });
  const val = await evaluate(model, valX, valY);
  const firstEpochMax = Math.max(...losses.slice(0, trainLoader.length));
  warmupResults[name] = { firstEpochMax, valLoss: val.loss };
  warmupRows.push({
    run: name,
    "learning rates by epoch": lrs.map((lr) => lr.toFixed(3)).join(" "),
    "largest loss, first epoch": firstEpochMax.toFixed(2),
    "validation loss": val.loss.toFixed(3),
    "validation accuracy": `${(100 * val.accuracy).toFixed(1)}%`,
  });
}
show.plot({
  title: "Training loss at a high learning rate (0.3)",
  xLabel: "step",
  yLabel: "cross-entropy (mean of 5 steps)",
  logY: true,
  series: warmupSeries,
});
show.table(warmupRows);
show.value(
  "largest first-epoch loss without warm-up",
  warmupResults["cosine, no warm-up"].firstEpochMax,
);
show.value(
  "largest first-epoch loss with warm-up",
  warmupResults["linear warm-up, then cosine"].firstEpochMax,
);

step(
  "Initialization: a signal through twelve layers",
  md`
  A plain network of 12 linear layers (11 hidden layers of 128 units, each followed by a ReLU)
  and no normalization. Each layer computes $h_{l} = \mathrm{ReLU}(W_l h_{l-1} + b_l)$. If the
  weights of a layer have variance $\sigma^2$ and it has $n$ inputs, the variance of its output
  is about $n \sigma^2$ times that of its input, halved by the ReLU (which zeroes half of the
  values). Over 11 layers that factor is raised to the 11th power: a little below 1 and the
  signal **vanishes**, a little above and it **explodes**. Five ways to draw the weights:

  - **PyTorch's default** for \`nn.Linear\`, uniform in $\pm 1/\sqrt{n}$: variance
    $\sigma^2 = 1/(3n)$, so the factor per layer is $\tfrac{1}{2} n \sigma^2 = 1/6$;
  - **too small**, normal with standard deviation 0.01: factor $0.0064$ (with $n = 128$);
  - **too large**, standard normal: factor $64$;
  - **Xavier** (Glorot) uniform, $\sigma^2 = 2 / (n_{in} + n_{out}) = 1/n$ here: factor $1/2$;
  - **Kaiming** (He) normal, $\sigma^2 = 2/n$: factor $1$.

  (The factors are for the variance; the standard deviation changes by their square root.)

  Xavier's rule keeps the variance for activations that are symmetric around 0 (tanh): it was
  derived without the ReLU's halving. Kaiming's doubles it back for ReLU. Tutorials often say to
  "choose Xavier or Kaiming according to the situation"; the situation is the activation: Kaiming
  for ReLU, Xavier for tanh and sigmoid. Nor is PyTorch's default the Kaiming rule for ReLU,
  despite its name (\`kaiming_uniform_\` with \`a = sqrt(5)\`): it is three times smaller.

  Below, one batch of 256 training images goes through each network; the plots show the
  standard deviation of each hidden layer's output, and the norm of the gradient of each
  layer's weights after one backward pass. The biases start at 0, except in the default, which
  draws them like the weights.
`,
);
const depth = 12;
const width = 128;
/** A plain deep network: `depth` linear layers, a ReLU after each but the last. */
function makeDeepMlp() {
  const layers: nn.Module[] = [];
  for (let i = 0; i < depth - 1; i++) {
    layers.push(new nn.Linear(i === 0 ? 784 : width, width), new nn.ReLU());
  }
  layers.push(new nn.Linear(width, 10));
  return new nn.Sequential(...layers).to(device);
}
const initSchemes = {
  "PyTorch default": (_layer: nn.Linear) => {},
  "too small": (layer: nn.Linear) => nn.init.normal(layer.weight, 0, 0.01),
  "too large": (layer: nn.Linear) => nn.init.normal(layer.weight, 0, 1),
  "Xavier": (layer: nn.Linear) => nn.init.xavierUniform(layer.weight),
  "Kaiming": (layer: nn.Linear) => nn.init.kaimingNormal(layer.weight, { nonlinearity: "relu" }),
};
/** A deep network initialized with one of the schemes (biases 0 except for the default). */
function initializedDeepMlp(scheme: keyof typeof initSchemes) {
  const model = makeDeepMlp();
  for (const layer of model) {
    if (!(layer instanceof nn.Linear)) continue;
    initSchemes[scheme](layer);
    if (scheme !== "PyTorch default") nn.init.zeros(layer.bias!);
  }
  return model;
}

const probeX = trainX.narrow(0, 0, 256);
const probeY = trainY.narrow(0, 0, 256);
const initRows = [];
const activationStds: Record<string, number[]> = {};
const gradientNorms: Record<string, number[]> = {};
for (const scheme of Object.keys(initSchemes) as (keyof typeof initSchemes)[]) {
  manualSeed(seed);
  const model = initializedDeepMlp(scheme);
  // Layer by layer, to look at each hidden layer's output.
  let h = probeX;
  const stds: number[] = [];
  for (const layer of model) {
    h = layer.forward(h);
    if (layer instanceof nn.ReLU) stds.push(await h.detach().std().item());
  }
  F.crossEntropy(h, probeY).backward();
  const norms: number[] = [];
  for (const layer of model) {
    if (layer instanceof nn.Linear) norms.push(await layer.weight.grad!.norm().item());
  }
  activationStds[scheme] = stds;
  gradientNorms[scheme] = norms;
  initRows.push({
    scheme,
    "std, layer 1": stds[0].toExponential(1),
    "std, layer 11": stds.at(-1)!.toExponential(1),
    "grad norm, layer 1": norms[0].toExponential(1),
    "grad norm, layer 12": norms.at(-1)!.toExponential(1),
  });
}
const layerSeries = (values: Record<string, number[]>) =>
  Object.entries(values).map(([name, y]) => ({ name, x: y.map((_, i) => i + 1), y }));
show.plot({
  title: "Standard deviation of each hidden layer's output",
  xLabel: "hidden layer",
  yLabel: "std of the activations",
  logY: true,
  series: layerSeries(activationStds),
});
show.plot({
  title: "Norm of each layer's weight gradient",
  xLabel: "layer",
  yLabel: "gradient norm",
  logY: true,
  series: layerSeries(gradientNorms),
});
show.table(initRows);
const stdRatio = (scheme: string) => activationStds[scheme].at(-1)! / activationStds[scheme][0];
const gradRatio = (scheme: string) => gradientNorms[scheme][0] / gradientNorms[scheme].at(-1)!;
show.value("Kaiming: std of layer 11 / std of layer 1", stdRatio("Kaiming"));
show.value("Xavier: std of layer 11 / std of layer 1", stdRatio("Xavier"));
show.value("too small: std of layer 11", activationStds["too small"].at(-1)!.toExponential(1));
show.value("too large: std of layer 11", activationStds["too large"].at(-1)!.toExponential(1));
show.value("default: grad norm of layer 1 / layer 12", gradRatio("PyTorch default"));
show.value("Kaiming: grad norm of layer 1 / layer 12", gradRatio("Kaiming"));

step(
  "Initialization: training the deep network",
  md`
  What the plots mean for learning: each network (but the exploding one, whose outputs are
  already of the order of $10^{10}$, so that its first steps end in NaN) trains for one epoch
  with SGD, momentum 0.9 and learning rate 0.01.

  With PyTorch's default the activations shrink until the biases dominate them: the last layers
  see nearly the same input whatever the image, and the first layers get gradients a hundred
  times smaller than the last. The loss sits at $\ln 10 \approx 2.30$, the loss of a uniform
  guess over 10 classes. Too small is the same, worse. Xavier starts to learn after a while;
  Kaiming learns from the first steps. Given more steps Xavier catches up at this depth: the
  difference is how soon learning starts.

  Batch normalization (lesson 4) and residual connections (lesson 9) are the other cures: they
  make deep networks far less sensitive to the starting scale.
`,
);
const initTrainSeries = [];
const initTrainRows = [];
const initTrainLoss: Record<string, number> = {};
for (const scheme of ["PyTorch default", "too small", "Xavier", "Kaiming"] as const) {
  manualSeed(seed);
  const model = initializedDeepMlp(scheme);
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const losses = await trainEpoch(model, trainLoader, optimizer);
  const smoothed = smooth(losses);
  initTrainSeries.push({ name: scheme, x: smoothed.map((_, i) => i + 1), y: smoothed });
  const val = await evaluate(model, valX, valY);
  initTrainLoss[scheme] = smoothed.at(-1)!;
  initTrainRows.push({
    scheme,
    "training loss (last 10 steps)": smoothed.at(-1)!.toFixed(3),
    "validation accuracy": `${(100 * val.accuracy).toFixed(1)}%`,
  });
}
show.plot({
  title: "Training loss of the 12-layer network",
  xLabel: "step",
  yLabel: "cross-entropy (mean of 10 steps)",
  series: initTrainSeries,
});
show.table(initTrainRows, { title: "After one epoch" });
show.value("training loss after one epoch, default init", initTrainLoss["PyTorch default"]);
show.value("training loss after one epoch, Xavier", initTrainLoss.Xavier);
show.value("training loss after one epoch, Kaiming", initTrainLoss.Kaiming);

step(
  "Optimizers side by side",
  md`
  The same network (784-128-10), the same starting weights and the same batches, five update
  rules. With gradient $g$ of the current batch:

  - **SGD**: $w \leftarrow w - \eta g$.
  - **Momentum**: a velocity $v \leftarrow \mu v + g$, and $w \leftarrow w - \eta v$. Steps
    along a direction the gradients agree on add up (up to $1/(1-\mu) = 10$ times for
    $\mu = 0.9$); directions where they flip sign cancel out.
  - **Nesterov**: momentum that looks ahead, $w \leftarrow w - \eta (g + \mu v)$: the step uses
    the velocity it is about to have.
  - **RMSprop**: divides each weight's step by the root of a running average of its squared
    gradient, $s \leftarrow \alpha s + (1-\alpha) g^2$, $w \leftarrow w - \eta\, g / (\sqrt{s} + \epsilon)$.
    Weights with small gradients get larger steps: one $\eta$ fits all of them.
  - **Adam**: RMSprop's scaling plus momentum on $g$, with a correction of the two running
    averages for starting at 0.

  SGD, momentum and Nesterov use $\eta = 0.01$ (a typical tutorial's SGD settings are
  $\eta = 0.001$ with momentum 0.9); RMSprop and Adam $\eta = 0.001$, their usual value.
  Momentum at $\eta = 0.01$ is roughly SGD at $\eta = 0.1$: comparing optimizers at one shared
  $\eta$ says little, each has its own good range (the search at the end of this lesson looks for
  it).
`,
);
const optimizerEpochs = quick ? 2 : 4;
const optimizers = {
  "SGD": (params: Tensor[]) => new optim.SGD(params, { lr: 0.01 }),
  "momentum": (params: Tensor[]) => new optim.SGD(params, { lr: 0.01, momentum: 0.9 }),
  "Nesterov": (params: Tensor[]) =>
    new optim.SGD(params, { lr: 0.01, momentum: 0.9, nesterov: true }),
  "RMSprop": (params: Tensor[]) => new optim.RMSprop(params, { lr: 1e-3 }),
  "Adam": (params: Tensor[]) => new optim.Adam(params, { lr: 1e-3 }),
};
const optimizerSeries = [];
const optimizerRows = [];
const optimizerLoss: Record<string, { firstEpoch: number; last: number }> = {};
for (const [name, makeOptimizer] of Object.entries(optimizers)) {
  manualSeed(seed);
  const model = makeMlp();
  const optimizer = makeOptimizer(model.parameters());
  const losses: number[] = [];
  for (const _epoch of show.range(optimizerEpochs, name)) {
    losses.push(...await trainEpoch(model, trainLoader, optimizer));
  }
  const smoothed = smooth(losses);
  optimizerSeries.push({ name, x: smoothed.map((_, i) => i + 1), y: smoothed });
  const firstEpoch = losses.slice(0, trainLoader.length);
  optimizerLoss[name] = {
    firstEpoch: firstEpoch.reduce((sum, v) => sum + v, 0) / firstEpoch.length,
    last: smoothed.at(-1)!,
  };
  const val = await evaluate(model, valX, valY);
  optimizerRows.push({
    optimizer: name,
    "mean loss, first epoch": optimizerLoss[name].firstEpoch.toFixed(3),
    "training loss (last 10 steps)": smoothed.at(-1)!.toFixed(3),
    "validation accuracy": `${(100 * val.accuracy).toFixed(1)}%`,
  });
}
show.plot({
  title: "Training loss, five optimizers",
  xLabel: "step",
  yLabel: "cross-entropy (mean of 10 steps)",
  logY: true,
  series: optimizerSeries,
});
show.table(optimizerRows, { title: `After ${optimizerEpochs} epochs` });
for (const name of Object.keys(optimizers)) {
  show.value(`${name}: training loss at the end`, optimizerLoss[name].last);
  show.value(`${name}: mean loss of the first epoch`, optimizerLoss[name].firstEpoch);
}

step(
  "Gradient clipping",
  md`
  The 12-layer network with Kaiming's initialization again, now with SGD, momentum 0.9 and a
  learning rate of 0.2. A few steps in, one batch gives a gradient much larger than the others;
  the step along it, amplified by the momentum, sends the weights where the next gradients are
  larger still, and within a few steps the loss is NaN. Nothing after that can recover.

  \`nn.utils.clipGradNorm_(model.parameters(), maxNorm)\`, called between \`backward()\` and
  \`optimizer.step()\`, measures the norm of all gradients together,
  $\lVert g \rVert = \sqrt{\sum_i g_i^2}$ over every weight of every layer, and when it is
  above \`maxNorm\` scales them all by $\text{maxNorm} / \lVert g \rVert$: the direction is
  kept, only the length is bounded, so no single step can be longer than $\eta \cdot
  \text{maxNorm}$ (times what the momentum adds). It returns the norm before clipping, which is
  worth logging: a limit far below the usual norm turns every step into one of the same length.
  (\`clipGradValue_\` clamps each entry instead, which changes the direction.)
`,
);
const clipSeries = [];
const clipRuns = { "no clipping": 0, "clipGradNorm_ at 1": 1 };
const clipRows = [];
const clipResults: Record<string, { firstBad: number; accuracy: number }> = {};
for (const [name, maxNorm] of Object.entries(clipRuns)) {
  manualSeed(seed);
  const model = initializedDeepMlp("Kaiming");
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.2, momentum: 0.9 });
  const losses: number[] = [];
  for (const _epoch of show.range(quick ? 1 : 2, name)) {
    losses.push(...await trainEpoch(model, trainLoader, optimizer, maxNorm));
    if (!losses.every(Number.isFinite)) break;
  }
  const firstBad = losses.findIndex((loss) => !Number.isFinite(loss));
  const finite = firstBad < 0 ? losses : losses.slice(0, firstBad);
  clipSeries.push({ name, x: finite.map((_, i) => i + 1), y: finite });
  const val = await evaluate(model, valX, valY);
  clipResults[name] = { firstBad: firstBad < 0 ? -1 : firstBad + 1, accuracy: val.accuracy };
  clipRows.push({
    run: name,
    "first step with a NaN loss": firstBad < 0 ? "none" : firstBad + 1,
    "validation accuracy": `${(100 * val.accuracy).toFixed(1)}%`,
  });
}
show.plot({
  title: "Training loss at learning rate 0.2 (until it is NaN)",
  xLabel: "step",
  yLabel: "cross-entropy",
  logY: true,
  series: clipSeries,
});
show.table(clipRows);
show.value("first NaN step without clipping", clipResults["no clipping"].firstBad);
/** A share (0 to 1) as the tables write it: "40.7%". */
const percentOf = (share: number) => `${(100 * share).toFixed(1)}%`;
show.value(
  "validation accuracy without clipping",
  percentOf(clipResults["no clipping"].accuracy),
);
show.value(
  "validation accuracy with clipping",
  percentOf(clipResults["clipGradNorm_ at 1"].accuracy),
);

step(
  "Hyper-parameter search: sampling the learning rate",
  md`
  Settings the optimizer does not learn (learning rate, batch size, the optimizer itself) are
  **hyper-parameters**, chosen by training with several and comparing on the validation set.
  Typical ranges: learning rate from $10^{-4}$ to $10^{-1}$, batch size from 16 to 128, SGD or
  Adam.

  A range over three powers of ten must be searched on a **logarithmic** scale. Drawn uniformly
  between $10^{-4}$ and $10^{-1}$, 90% of the rates land above $10^{-2}$, and $10^{-4}$ to
  $10^{-3}$ gets 0.9% of them; drawn as $10^{u}$ with $u$ uniform in $[-4, -1]$, each power of
  ten gets a third. The same holds for the batch size (16, 32, 64, 128: a power of two, drawn
  uniformly).
`,
);
const draws = await rand([10000]).data();
const uniformRates = Array.from(draws, (u) => 1e-4 + u * (1e-1 - 1e-4));
const logUniformRates = Array.from(draws, (u) => 10 ** (-4 + 3 * u));
const shareBelow = (rates: number[], limit: number) =>
  rates.filter((lr) => lr < limit).length / rates.length;
show.table([
  {
    sampling: "uniform in [1e-4, 1e-1]",
    "below 1e-3": `${(100 * shareBelow(uniformRates, 1e-3)).toFixed(1)}%`,
    "below 1e-2": `${(100 * shareBelow(uniformRates, 1e-2)).toFixed(1)}%`,
  },
  {
    sampling: "log-uniform: 10^u, u in [-4, -1]",
    "below 1e-3": `${(100 * shareBelow(logUniformRates, 1e-3)).toFixed(1)}%`,
    "below 1e-2": `${(100 * shareBelow(logUniformRates, 1e-2)).toFixed(1)}%`,
  },
], { title: "Where 10,000 sampled learning rates land" });
show.value("share of uniform draws below 1e-2", percentOf(shareBelow(uniformRates, 1e-2)));
show.value(
  "share of log-uniform draws below 1e-2",
  percentOf(shareBelow(logUniformRates, 1e-2)),
);

step(
  "Hyper-parameter search: grid and random search",
  md`
  Each trial trains the 784-128-10 network from the same starting weights for a fixed number of
  epochs with its settings (SGD with momentum 0.9, or Adam) and is scored by its **validation**
  accuracy. To keep 32 trials short, each trains on the first 5,000 training images for 2 epochs
  (1,000 images for 1 epoch in a quick run).

  - The **grid** tries every combination of a few values: 4 learning rates $\times$ 2 batch sizes
    $\times$ 2 optimizers = 16 trials.
  - The **random search** draws each trial's settings from the ranges (log-uniform). With the
    same number of trials it tries 16 different learning rates instead of 4: when one
    hyper-parameter matters much more than the others (the learning rate, usually), random
    search explores it more finely.

  Note how the batch size and the learning rate interact: at a fixed number of epochs a batch of
  16 takes 8 times as many steps as a batch of 128, and each step is noisier. Tutorials often
  list the number of epochs (10 to 50) as one more hyper-parameter; early stopping on the
  validation loss (lesson 6) chooses it for free.

  The winner of both searches is measured **once** on the test set.
`,
);
const searchX = trainX.narrow(0, 0, quick ? 1000 : 5000);
const searchY = trainY.narrow(0, 0, quick ? 1000 : 5000);
const searchEpochs = quick ? 1 : 2;
interface Trial {
  lr: number;
  batchSize: number;
  optimizer: "SGD" | "Adam";
}
/** Trains one trial's network; returns it with its validation score. */
async function runTrial(trial: Trial) {
  manualSeed(seed);
  const model = makeMlp();
  const optimizer = trial.optimizer === "SGD"
    ? new optim.SGD(model.parameters(), { lr: trial.lr, momentum: 0.9 })
    : new optim.Adam(model.parameters(), { lr: trial.lr });
  const loader = new data.DataLoader(new data.TensorDataset(searchX, searchY), {
    batchSize: trial.batchSize,
    shuffle: true,
  });
  for (let epoch = 0; epoch < searchEpochs; epoch++) await trainEpoch(model, loader, optimizer);
  return { ...trial, model, val: await evaluate(model, valX, valY) };
}

const gridTrials: Trial[] = [];
for (const optimizer of ["SGD", "Adam"] as const) {
  for (const lr of [1e-4, 1e-3, 1e-2, 1e-1]) {
    for (const batchSize of [16, 128]) gridTrials.push({ lr, batchSize, optimizer });
  }
}
manualSeed(seed + 1);
const randomTrials: Trial[] = [];
for (let i = 0; i < gridTrials.length; i++) {
  const [u, v, w] = await rand([3]).data();
  randomTrials.push({
    lr: 10 ** (-4 + 3 * u),
    batchSize: 2 ** (4 + Math.floor(4 * v)),
    optimizer: w < 0.5 ? "SGD" : "Adam",
  });
}

const searches = { grid: gridTrials, random: randomTrials };
const searchRows = [];
const winners = [];
for (const [search, trials] of Object.entries(searches)) {
  const results = [];
  for (const trial of show.progress(trials, `${search} search`)) {
    results.push(await runTrial(trial));
  }
  results.sort((a, b) => b.val.accuracy - a.val.accuracy);
  winners.push({ search, ...results[0] });
  for (const result of results.slice(0, 4)) {
    searchRows.push({
      search,
      optimizer: result.optimizer,
      lr: result.lr.toExponential(1),
      "batch size": result.batchSize,
      "validation accuracy": `${(100 * result.val.accuracy).toFixed(1)}%`,
    });
  }
  const worst = results.at(-1)!;
  searchRows.push({
    search,
    optimizer: `(worst) ${worst.optimizer}`,
    lr: worst.lr.toExponential(1),
    "batch size": worst.batchSize,
    "validation accuracy": `${(100 * worst.val.accuracy).toFixed(1)}%`,
  });
}
show.table(searchRows, { title: "Best four trials and the worst, by validation accuracy" });

const chosen = winners[0].val.accuracy >= winners[1].val.accuracy ? winners[0] : winners[1];
const testResult = await evaluate(chosen.model, testX, testY);
show.table(winners.map((winner) => ({
  search: winner.search,
  settings: `${winner.optimizer}, lr ${winner.lr.toExponential(1)}, batch ${winner.batchSize}`,
  "validation accuracy": `${(100 * winner.val.accuracy).toFixed(1)}%`,
})));
show.value(
  "chosen on validation",
  `${chosen.search} search: ${chosen.optimizer}, lr ${
    chosen.lr.toExponential(1)
  }, batch ${chosen.batchSize}`,
);
show.value("validation accuracy of the chosen run", percentOf(chosen.val.accuracy));
show.value(
  "test accuracy of the chosen run (measured once)",
  percentOf(testResult.accuracy),
);

show.summary([
  {
    label: "decaying schedules vs a constant rate (validation loss)",
    value: `${bestDecayed.toFixed(3)} (best decaying) vs ${
      scheduleValLoss.constant.toFixed(3)
    } (constant)`,
  },
  {
    label: "lr 0.3: largest loss of the first epoch",
    value: `${warmupResults["cosine, no warm-up"].firstEpochMax.toFixed(2)} without warm-up, ${
      warmupResults["linear warm-up, then cosine"].firstEpochMax.toFixed(2)
    } with`,
  },
  {
    label: "12 layers: std of the last hidden layer / the first",
    value: `Kaiming ${stdRatio("Kaiming").toFixed(2)}, Xavier ${
      stdRatio("Xavier").toExponential(1)
    }, too small ${stdRatio("too small").toExponential(1)}`,
  },
  {
    label: "12 layers, default init: gradient norm of layer 1 / layer 12",
    value: gradRatio("PyTorch default").toExponential(1),
  },
  {
    label: "12 layers, one epoch: training loss",
    value: `default ${initTrainLoss["PyTorch default"].toFixed(2)}, Xavier ${
      initTrainLoss.Xavier.toFixed(2)
    }, Kaiming ${initTrainLoss.Kaiming.toFixed(2)}`,
  },
  {
    label: "optimizers: training loss at the end",
    value: Object.entries(optimizerLoss).map(([name, { last }]) => `${name} ${last.toFixed(2)}`)
      .join(", "),
  },
  {
    label: "lr 0.2, 12 layers: without clipping / with clipGradNorm_(1)",
    value: `NaN at step ${clipResults["no clipping"].firstBad} / ${
      (100 * clipResults["clipGradNorm_ at 1"].accuracy).toFixed(1)
    }% validation accuracy`,
  },
  {
    label: "search winner (validation, then test once)",
    value: `${(100 * chosen.val.accuracy).toFixed(1)}% / ${
      (100 * testResult.accuracy).toFixed(1)
    }%`,
  },
]);
