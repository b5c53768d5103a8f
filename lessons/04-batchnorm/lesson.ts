/**
 * Lesson 4: batch normalization. The formula checked against `nn.BatchNorm2d`, the running
 * statistics and the two modes of the layer, the same CNN trained with and without batch norm
 * at a learning rate where the difference shows, what happens to the activations inside, and the
 * classic bug of evaluating a batch-norm network without `model.eval()`.
 *
 * @module
 */
import { lesson, md, type TableRow } from "../format.ts";
import {
  data,
  F,
  gradcheck,
  loadFashionMnist,
  manualSeed,
  nn,
  noGrad,
  optim,
  randn,
  type Tensor,
  tensor,
} from "../../mod.ts";

const { step, show, quick, device, seed, dataUrl } = await lesson(import.meta, {
  number: 4,
  title: "Batch normalization",
  description: "What a batch norm layer computes, why it has a training and an evaluation " +
    "mode, how it speeds up training, and the bug of forgetting model.eval().",
});

step(
  "The formula",
  md`
  **Batch normalization** standardizes each channel of its input over the batch. For
  a batch of feature maps $x$ of shape $[N, C, H, W]$, channel $c$ has $m = N \cdot H \cdot W$
  values; their mean and (biased) variance are

  $$\mu_c = \frac{1}{m} \sum_{n,i,j} x_{n,c,i,j}, \qquad
  \sigma_c^2 = \frac{1}{m} \sum_{n,i,j} (x_{n,c,i,j} - \mu_c)^2 .$$

  Each value is shifted and scaled to mean 0 and variance 1, then given a learned scale
  $\gamma_c$ and shift $\beta_c$ (\`weight\` and \`bias\`, starting at 1 and 0):

  $$\hat x_{n,c,i,j} = \frac{x_{n,c,i,j} - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}}, \qquad
  y_{n,c,i,j} = \gamma_c\, \hat x_{n,c,i,j} + \beta_c .$$

  The small $\epsilon = 10^{-5}$ keeps a constant channel from dividing by zero. $\gamma$ and
  $\beta$ let the network undo the normalization where that helps: with
  $\gamma_c = \sigma_c$ and $\beta_c = \mu_c$ the layer passes its input through.

  Here a batch of 4 maps with 3 channels of very different scales goes through the formula
  written with tensor ops and through \`nn.BatchNorm2d(3)\`: the same numbers come out, and every
  channel leaves with mean 0 and standard deviation 1. The gradient of the layer flows through
  $\mu$ and $\sigma$ too (every output depends on every input of its channel); \`gradcheck\`
  confirms that autograd gets it right.
`,
);
// 4 maps of 3 channels, 5x5 each, with means 5, -2, 0.5 and standard deviations 3, 0.5, 1.
const channelMean = tensor([5, -2, 0.5]).reshape([1, 3, 1, 1]);
const channelStd = tensor([3, 0.5, 1]).reshape([1, 3, 1, 1]);
const X = randn([4, 3, 5, 5]).mul(channelStd).add(channelMean);
// The formula: statistics over the batch and the pixels (dimensions 0, 2, 3).
const eps = 1e-5;
const mean = X.mean([0, 2, 3], true);
const variance = X.var([0, 2, 3], { keepdim: true, correction: 0 }); // biased: / m
const byHand = X.sub(mean).div(variance.add(eps).sqrt());
const norm = new nn.BatchNorm2d(3); // gamma = 1, beta = 0 at the start
const byLayer = norm.forward(X);
async function perChannel(t: Tensor) {
  return {
    mean: await t.mean([0, 2, 3]).data(),
    std: await t.std([0, 2, 3], { correction: 0 }).data(),
  };
}
const [before, after] = [await perChannel(X), await perChannel(byLayer)];
show.table(
  [0, 1, 2].map((c) => ({
    channel: c,
    "mean before": before.mean[c].toFixed(3),
    "std before": before.std[c].toFixed(3),
    "mean after": after.mean[c].toFixed(3),
    "std after": after.std[c].toFixed(3),
  })),
  { title: "Each channel before and after nn.BatchNorm2d" },
);
const difference = await byHand.sub(byLayer).abs().max().item();
show.value("largest |formula - nn.BatchNorm2d|", difference.toExponential(2));
// Autograd through the batch statistics, against finite differences (float64).
const options = { dtype: "float64", requiresGrad: true } as const;
const checked = await gradcheck(
  (input, gamma, beta) =>
    F.batchNorm(input, null, null, { weight: gamma, bias: beta, training: true }),
  [randn([3, 2, 4, 4], options), randn([2], options), randn([2], options)],
);
show.value("gradcheck of F.batchNorm: entries checked", checked);

step(
  "Running statistics: training mode and evaluation mode",
  md`
  A trained network must answer for a single image, and its answer should not depend
  on which other images happen to share the batch. So the layer has two modes:

  - in **training mode** (\`model.train()\`, the default) it normalizes with the statistics of
    the current batch, and updates *running* averages of them;
  - in **evaluation mode** (\`model.eval()\`) it normalizes with the running averages: a fixed
    per-channel affine map, the same for every input.

  After each training batch, with momentum $\alpha = 0.1$:

  $$\hat\mu \leftarrow (1 - \alpha)\, \hat\mu + \alpha\, \mu_{\text{batch}}, \qquad
  \hat\sigma^2 \leftarrow (1 - \alpha)\, \hat\sigma^2 + \alpha\, \frac{m}{m - 1}\,
  \sigma^2_{\text{batch}} .$$

  The running variance uses the *unbiased* estimate (divided by $m - 1$), because it estimates
  the variance of the whole data set, while the normalization of a batch uses the biased one,
  which describes that batch exactly. They start at $\hat\mu = 0$ and $\hat\sigma^2 = 1$.

  Here a one-channel layer sees 40 batches whose values have mean 3 and variance 4: the running
  averages climb towards them, each batch closing 10% of the remaining gap.
`,
);
const layer = new nn.BatchNorm2d(1); // momentum 0.1
const runningPlot = show.plot({
  title: "Running statistics of a BatchNorm2d layer",
  xLabel: "training batches seen",
  yLabel: "value",
});
runningPlot.push("running mean", 0, await layer.runningMean!.item());
runningPlot.push("running variance", 0, await layer.runningVar!.item());
for (let batch = 1; batch <= 40; batch++) {
  layer.forward(randn([16, 1, 4, 4]).mul(2).add(3)); // mean 3, std 2
  runningPlot.push("running mean", batch, await layer.runningMean!.item());
  runningPlot.push("running variance", batch, await layer.runningVar!.item());
}
show.value("running mean after 40 batches (data: 3)", await layer.runningMean!.item());
show.value("running variance after 40 batches (data: 4)", await layer.runningVar!.item());
// The same batch in both modes: batch statistics against the running averages.
const batch = randn([16, 1, 4, 4]).mul(2).add(3);
const trainOut = layer.forward(batch); // training mode (this also updates the averages)
layer.eval();
const evalOut = layer.forward(batch);
show.table([
  {
    mode: "train(): batch statistics",
    "output mean": (await trainOut.mean().item()).toFixed(3),
    "output std": (await trainOut.std().item()).toFixed(3),
  },
  {
    mode: "eval(): running statistics",
    "output mean": (await evalOut.mean().item()).toFixed(3),
    "output std": (await evalOut.std().item()).toFixed(3),
  },
], { title: "One batch of mean 3, std 2 through the layer in each mode" });

step(
  "Two networks, the same but for batch norm",
  md`
  The network is the CNN of lesson 3: two blocks of a $3 \times 3$ convolution,
  ReLU and $2 \times 2$ max pooling (8 then 16 channels), and a linear head from the
  $16 \cdot 7 \cdot 7 = 784$ features to 10 classes. Its twin gets a \`BatchNorm2d\` between each
  convolution and its ReLU, where it is usually put: it normalizes what the convolution computed
  before the non-linearity cuts it.

  Both train on 12,000 Fashion-MNIST training images (6,400 in a quick run) and are tested on
  2,000 test images (1,000).

  Batch norm adds $2 \cdot (8 + 16) = 48$ parameters ($\gamma$ and $\beta$), and 48 running
  statistics plus a batch counter per layer (buffers: saved with the model, not trained). Both
  networks are made right after \`manualSeed\` with the same seed; batch norm layers draw no random
  numbers, so the two start from the very same convolution and linear weights.
`,
);
// Any file of the folder tells where the folder is (the shipped subset, or --data).
const folder = new URL(".", dataUrl("fashion-mnist/train-images-idx3-ubyte.gz"));
const train = await loadFashionMnist(folder, { train: true, limit: quick ? 6400 : 12000 });
const test = await loadFashionMnist(folder, { train: false, limit: quick ? 1000 : 2000 });
const trainImages = train.images.to(device);
const trainLabels = train.labels.to(device);
const testImages = test.images.to(device);
const testLabels = test.labels.to(device);

function makeCnn(batchNorm: boolean): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1 }),
    ...(batchNorm ? [new nn.BatchNorm2d(8)] : []),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(8, 16, 3, { padding: 1 }),
    ...(batchNorm ? [new nn.BatchNorm2d(16)] : []),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(16 * 7 * 7, 10),
  ).to(device);
}
manualSeed(seed);
const plain = makeCnn(false);
manualSeed(seed);
const normalized = makeCnn(true);
const models = { "without batch norm": plain, "with batch norm": normalized };
type RunName = keyof typeof models;
const names = Object.keys(models) as RunName[];

const count = (tensors: Tensor[]) => tensors.reduce((sum, t) => sum + t.numel(), 0);
show.table(names.map((name) => ({
  network: name,
  layers: models[name].length,
  parameters: count(models[name].parameters()),
  buffers: count(models[name].buffers()),
})));
show.text("```\n" + normalized.toString() + "\n```");
const sameStart = await (plain.at(0) as nn.Conv2d).weight
  .sub((normalized.at(0) as nn.Conv2d).weight).abs().max().item();
show.value("largest difference of the first convolutions' initial weights", sameStart);
show.value("training images", train.images.shape[0]);

step(
  "Training both at a high learning rate",
  md`
  Both networks train side by side on the same batches, with plain SGD (no momentum)
  at learning rate $0.1$, large for this network. Without batch norm the activations of the second
  block start small (see the next step): the head sees faint features, the first convolution gets
  tiny gradients, and the loss stays near its starting value $\ln 10 \approx 2.3$ for a while
  before it creeps down. With batch norm every block hands on activations of a fixed scale,
  whatever the weights are, and the same learning rate makes quick progress.

  Not at once, though: in the first steps the network with batch norm overshoots. Its features are
  large from the start, so the head's first updates are large too, and for a few steps it is
  confidently wrong (the loss jumps well above 2.3). It recovers within about ten steps, and from
  then on its loss falls much faster. (PyTorch's network does the same at this learning rate.)

  The curves show the cross-entropy of each step, averaged over the last 10 steps; the table
  counts the steps each network needs to bring that average below a few levels. At a few steps the
  loop also records the mean and standard deviation of each block's output (after the ReLU) and of
  the logits, by running the layers one by one.
`,
);
const lr = 0.1;
const batchSize = 64;
const epochs = quick ? 1 : 2;
const lossFn = new nn.CrossEntropyLoss();
const optimizers = names.map((name) => new optim.SGD(models[name].parameters(), { lr }));
const trainLoader = new data.DataLoader(new data.TensorDataset(trainImages, trainLabels), {
  batchSize,
  shuffle: true,
  dropLast: true,
});
const totalSteps = epochs * trainLoader.length;
const watchSteps = [1, 10, 25, 50, 100, 200, 300].filter((s) => s <= totalSteps);
const losses: Record<RunName, number[]> = { "without batch norm": [], "with batch norm": [] };
/** Mean and standard deviation after each block, at a few steps, per network. */
const activations: { step: number; run: RunName; stats: number[] }[] = [];
const lossPlot = show.plot({
  title: `Training loss, SGD at lr ${lr}`,
  xLabel: "step",
  yLabel: "cross-entropy (mean of 10 steps)",
});
const start = performance.now();
let steps = 0;
for (const epoch of show.range(epochs, "epochs")) {
  const batches = show.progress(trainLoader, `epoch ${epoch + 1}: both networks`);
  for (const [X, y] of batches) {
    steps++;
    const watch = watchSteps.includes(steps);
    for (const [i, name] of names.entries()) {
      optimizers[i].zeroGrad();
      // models[name].forward(X), one layer at a time, to look at the blocks' outputs.
      let h = X;
      const stats: number[] = [];
      for (const layer of models[name]) {
        h = layer.forward(h);
        if (watch && (layer instanceof nn.ReLU || layer instanceof nn.Linear)) {
          stats.push(await h.mean().item(), await h.std().item());
        }
      }
      if (watch) activations.push({ step: steps, run: name, stats });
      const loss = lossFn.forward(h, y);
      loss.backward();
      optimizers[i].step();
      losses[name].push(await loss.item());
      const recent = losses[name].slice(-10);
      lossPlot.push(name, steps, recent.reduce((a, b) => a + b, 0) / recent.length);
    }
    batches.note({
      "loss without": losses["without batch norm"].at(-1)!.toFixed(3),
      "loss with": losses["with batch norm"].at(-1)!.toFixed(3),
    });
  }
}
const seconds = (performance.now() - start) / 1000;

// How soon each network's loss (mean of 10 steps) first went below a few thresholds.
function firstBelow(values: number[], threshold: number): number | undefined {
  for (let s = 10; s <= values.length; s++) {
    const recent = values.slice(s - 10, s);
    if (recent.reduce((a, b) => a + b, 0) / 10 < threshold) return s;
  }
  return undefined;
}
const lastMean = (values: number[]) => values.slice(-20).reduce((a, b) => a + b, 0) / 20;
show.table(
  names.map((name) => {
    const row: TableRow = { network: name };
    for (const threshold of [1.5, 1.0, 0.8]) {
      row[`steps to loss < ${threshold}`] = firstBelow(losses[name], threshold) ?? "—";
    }
    row[`mean loss, last 20 steps`] = lastMean(losses[name]).toFixed(3);
    return row;
  }),
);
const plainLoss = lastMean(losses["without batch norm"]);
const bnLoss = lastMean(losses["with batch norm"]);
show.value("training loss without batch norm, mean of the last 20 steps", plainLoss);
show.value("training loss with batch norm, mean of the last 20 steps", bnLoss);

step(
  "What batch norm does to the activations",
  md`
  Why the slow start without batch norm? The table gives the mean and standard
  deviation of each block's output (after the ReLU) and of the logits, on the training batch of a
  few steps. The layers start with PyTorch's default initialization, uniform in
  $\pm 1/\sqrt{\text{fan-in}}$, which makes each layer's output *smaller* than its input; two
  blocks later the features are faint, the logits are nearly 0 (so every class gets about 10% and
  the loss sits near $\ln 10 \approx 2.30$), and the gradients reaching the first convolution are
  small as well. Training has to grow the weights before it can do much else.

  With batch norm, whatever scale the convolutions have, each block's output is normalized before
  the ReLU: about half the values are cut to 0 and the rest keep a spread of order 1 from the very
  first step (the ReLU of a standard normal variable has mean 0.40 and standard deviation 0.58).
  The scale of the weights no longer sets the scale of the signal, and the gradient of a layer no
  longer depends on how large the layers before it happen to be.
`,
);
const meanStd = (stats: number[], i: number) =>
  `${stats[2 * i].toFixed(2)} ± ${stats[2 * i + 1].toFixed(2)}`;
show.table(
  activations.map(({ step, run, stats }) => ({
    step,
    network: run,
    "block 1 (mean ± std)": meanStd(stats, 0),
    "block 2 (mean ± std)": meanStd(stats, 1),
    "logits (mean ± std)": meanStd(stats, 2),
  })),
  { title: "Activations on the training batch (after each block's ReLU, and the logits)" },
);
const spreadPlot = show.plot({
  title: "Spread of the second block's output",
  xLabel: "step",
  yLabel: "standard deviation after block 2",
  logY: true,
});
for (const { step, run, stats } of activations) spreadPlot.push(run, step, stats[3]);
const block2Std = Object.fromEntries(
  activations.filter((a) => a.step === 1).map((a) => [a.run, a.stats[3]]),
) as Record<RunName, number>;
show.value("spread after block 2 at step 1, without batch norm", block2Std["without batch norm"]);
show.value("spread after block 2 at step 1, with batch norm", block2Std["with batch norm"]);

step(
  "Test accuracy, and forgetting model.eval()",
  md`
  To evaluate, call \`model.eval()\`: batch norm then uses its running statistics,
  and each image gets the same answer whatever else is in its batch. Forgetting it is a classic
  bug, because nothing fails: the network still runs, in training mode, normalizing each batch
  with that batch's own statistics. The answers then depend on the batch:

  - a **mixed batch** of test images has about the statistics of the training data, and the
    answers barely change;
  - a **batch of one image** is normalized with the statistics of that image alone (its own
    brightness and size are taken out);
  - a **batch of one class** (test data sorted by label, as files often are) is shifted as a
    whole: what makes sandals different from coats is partly normalized away.

  It also quietly rewrites the running statistics with test data, since every forward pass in
  training mode updates them. In this network each channel's statistics average over many pixels,
  which softens the effect; after a linear layer (\`BatchNorm1d\`) a batch of one would normalize
  every feature to exactly 0, and the network would give every image the same answer.
`,
);
const model = models["with batch norm"];
const labels = Array.from(await testLabels.data());
/** Predicted classes of the test images, in batches of `batchSize` in the given order. */
async function predict(net: nn.Module, order: number[], batchSize: number) {
  using _ = noGrad();
  const predictions = new Array<number>(order.length);
  for (let start = 0; start < order.length; start += batchSize) {
    const indices = order.slice(start, start + batchSize);
    const index = tensor(indices, { dtype: "int32", device });
    const classes = await net.forward(testImages.indexSelect(0, index)).argmax(1).data();
    indices.forEach((index, k) => (predictions[index] = classes[k]));
  }
  return predictions;
}
const accuracy = (predictions: number[]) =>
  predictions.filter((p, i) => p === labels[i]).length / labels.length;
const fileOrder = labels.map((_, i) => i); // classes are mixed in the file
const byClass = [...fileOrder].sort((a, b) => labels[a] - labels[b]);
models["without batch norm"].eval();
const plainPredictions = await predict(models["without batch norm"], fileOrder, 100);
model.eval();
const evalPredictions = await predict(model, fileOrder, 100);
const runningMeanBefore = await (model.at(1) as nn.BatchNorm2d).runningMean!.data();
model.train(); // the bug: evaluating in training mode
const cases = [
  { mode: "train() (the bug)", batches: "mixed, 100 images", order: fileOrder, size: 100 },
  { mode: "train() (the bug)", batches: "one image each", order: fileOrder, size: 1 },
  { mode: "train() (the bug)", batches: "one class each, 100", order: byClass, size: 100 },
];
const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
const accuracyRows: TableRow[] = [{
  network: "with batch norm",
  mode: "eval()",
  batches: "any",
  accuracy: percent(accuracy(evalPredictions)),
  "answers that differ from eval()": "—",
}];
const results: Record<string, number> = { eval: accuracy(evalPredictions) };
for (const { mode, batches, order, size } of cases) {
  const predictions = await predict(model, order, size);
  const changed = predictions.filter((p, i) => p !== evalPredictions[i]).length;
  results[batches] = accuracy(predictions);
  accuracyRows.push({
    network: "with batch norm",
    mode,
    batches,
    accuracy: percent(accuracy(predictions)),
    "answers that differ from eval()": `${(100 * changed / labels.length).toFixed(1)}%`,
  });
}
accuracyRows.push({
  network: "without batch norm",
  mode: "either (no batch norm)",
  batches: "any",
  accuracy: percent(accuracy(plainPredictions)),
  "answers that differ from eval()": "—",
});
show.table(accuracyRows, { title: `Test accuracy on ${labels.length} images` });
const runningMeanAfter = await (model.at(1) as nn.BatchNorm2d).runningMean!.data();
show.value(
  "first batch norm's running mean, channel 0: before / after the train() passes",
  `${runningMeanBefore[0].toFixed(4)} / ${runningMeanAfter[0].toFixed(4)}`,
);
model.eval();
show.value("test accuracy without batch norm", percent(accuracy(plainPredictions)));
show.value("test accuracy with batch norm", percent(results.eval));

show.summary([
  {
    label: `training loss after ${steps} steps of SGD at lr ${lr} (mean of last 20)`,
    value: `without batch norm ${plainLoss.toFixed(3)}, with ${bnLoss.toFixed(3)} ` +
      `(${(plainLoss / bnLoss).toFixed(1)}x lower with it)`,
  },
  {
    label: "spread (std) of block 2's output at step 1",
    value: `without batch norm ${block2Std["without batch norm"].toFixed(3)}, ` +
      `with ${block2Std["with batch norm"].toFixed(3)}`,
  },
  {
    label: "test accuracy in eval()",
    value: `without batch norm ${percent(accuracy(plainPredictions))}, ` +
      `with ${percent(results.eval)}`,
  },
  {
    label: "batch-norm network evaluated in train() (forgot model.eval())",
    value: `${percent(results["one image each"])} with batches of one image, ` +
      `${percent(results["one class each, 100"])} with batches of one class`,
  },
  { label: "training time, both networks", value: `${seconds.toFixed(1)} s` },
]);
