/**
 * Lesson 6: your own dataset. Iris from a CSV file through a Dataset class of our own, a
 * stratified train/validation/test split, standardization with training statistics only, seed
 * 004's training skeleton adapted to classification, validation every epoch with early stopping,
 * the test split used once with accuracy, confusion matrix, precision, recall and F1, and the
 * model saved and loaded back.
 *
 * @module
 */
import { lesson, md } from "../format.ts";
import {
  csvLabels,
  csvNumbers,
  data,
  fetchCsv,
  load,
  metrics,
  nn,
  noGrad,
  optim,
  save,
  stack,
  type Tensor,
  tensor,
  withNoGrad,
} from "../../mod.ts";

const { step, show, quick, device, dataUrl } = await lesson(import.meta, {
  number: 6,
  title: "Your own dataset: Iris",
  description: "From a CSV file to a tested classifier: a Dataset class, a stratified split, " +
    "standardization without leakage, early stopping, metrics, and a saved model.",
});

step(
  "The data: a CSV file",
  md`
  So far the data came ready-made. This time it is a plain CSV file, as your own data would be:
  **Iris**, 150 flowers of three species of iris, each measured four times (sepal length and
  width, petal length and width, in centimetres). The task: tell the species from the four
  measurements.

  \`fetchCsv\` reads the file (through \`fetch\`, so the same code runs in a browser), turning
  number-like fields into numbers. \`csvNumbers\` picks the measurement columns as one flat array,
  \`csvLabels\` turns the species names into class indices 0, 1, 2.
`,
);
const table = await fetchCsv(dataUrl("iris.csv"));
/** A number rounded to `digits` decimals, for display. */
const round = (value: number, digits: number) => Number(value.toFixed(digits));
const featureNames = ["sepal_length", "sepal_width", "petal_length", "petal_width"];
const { classes } = csvLabels(table, "species");
show.table(
  table.rows.filter((_, i) => i % 50 < 2).map((row) =>
    Object.fromEntries(
      table.columns.map((name, c) => [name, row[c]]),
    )
  ),
  { title: "Two rows of each species (of 150)" },
);
show.value("rows", table.rows.length);
show.value("classes", classes.join(", "));

step(
  "A Dataset class of our own",
  md`
  PyTorch reads any data through a \`Dataset\`: a class with \`__len__\` (how many samples) and
  \`__getitem__(index)\` (sample number \`index\`). Here the same two members are \`length\` and
  \`get(index)\`. The class this step defines holds the table's numbers and returns, for each
  index, the four measurements as a tensor and the class as a number. The \`DataLoader\` will
  stack such samples into batches, turning the numbers into an int32 tensor of labels.

  Where the samples come from is the class's business: rows of a CSV file here, image files in a
  folder or records in a database elsewhere. Everything after this step only sees \`length\` and
  \`get\`.
`,
);
class IrisDataset implements data.Dataset<[Tensor, number]> {
  /** The measurements, row after row (four numbers a flower). */
  readonly features: Float64Array;
  /** The class index of every flower. */
  readonly labels: number[];

  constructor(csv: typeof table) {
    this.features = csvNumbers(csv, featureNames);
    this.labels = Array.from(csvLabels(csv, "species").indices);
  }

  get length(): number {
    return this.labels.length;
  }

  get(index: number): [Tensor, number] {
    const row = this.features.subarray(index * 4, index * 4 + 4);
    return [tensor(Array.from(row)), this.labels[index]];
  }
}

const dataset = new IrisDataset(table);
const [firstFeatures, firstLabel] = dataset.get(0);
show.value("dataset.length", dataset.length);
const firstValues = Array.from(await firstFeatures.data(), (v) => v.toFixed(1));
show.value("dataset.get(0)", `[${firstValues.join(", ")}], class ${firstLabel}`);

step(
  "A stratified split: train, validation, test",
  md`
  Three disjoint parts, 70 / 15 / 15 percent, each with one job:

  - **training** (106 flowers): the optimizer fits the weights to it;
  - **validation** (22): measured after every epoch, to choose *when to stop* (and, in general,
    any setting: learning rate, size of the network). Choosing on it makes it optimistic;
  - **test** (22): measured **once**, at the very end, for the number you report. A test set that
    was looked at while choosing anything is a second validation set, and its score is no
    longer an honest estimate.

  A split does not *prevent* overfitting, as tutorials sometimes say: it *measures* it.

  With 22 flowers, luck matters: a plain random split may give the validation set 4 *setosa* and
  10 *virginica*. A **stratified** split draws each class separately, so that every part keeps
  the classes' proportions (here about a third each). \`data.randomSplit\` does it when given the
  labels as \`stratify\`, as scikit-learn's \`train_test_split(..., stratify=y)\`.
`,
);
const splitCounts = (subset: data.Subset) =>
  classes.map((_, c) => subset.indices.filter((i) => dataset.labels[i] === c).length).join(" / ");
const plainSplit = data.randomSplit(dataset, [0.7, 0.15, 0.15]);
const [trainSet, valSet, testSet] = data.randomSplit(dataset, [0.7, 0.15, 0.15], {
  stratify: dataset.labels,
});
show.table(
  ["train", "validation", "test"].map((part, k) => ({
    part,
    samples: [trainSet, valSet, testSet][k].length,
    "plain: setosa / versicolor / virginica": splitCounts(plainSplit[k]),
    "stratified: setosa / versicolor / virginica": splitCounts([trainSet, valSet, testSet][k]),
  })),
  { title: "Flowers of each class in each part" },
);

step(
  "Standardize with the training statistics only",
  md`
  The measurements have different scales (petal width 0.1 to 2.5 cm, sepal length 4.3 to 7.9),
  and a network trains faster when every input has mean 0 and standard deviation 1:
  $x' = (x - \mu) / \sigma$, per column.

  **Which** $\mu$ and $\sigma$? Those of the **training split only**, and the same numbers are
  then applied to validation and test. Computing them over all 150 flowers would let the
  validation and test flowers shape the preprocessing: information from the data we evaluate on
  would *leak* into the model, and its scores would be (slightly, here; badly, with a
  preprocessing fitted more closely, such as feature selection) optimistic. The rule: anything
  fitted to data (statistics, vocabularies, feature selection) is fitted on the training split,
  as if the other splits did not exist yet.

  \`TransformedDataset\` applies the standardization as each sample is read.
  The training loader **shuffles** every epoch. The training skeleton of lesson 1 (a typical
  PyTorch tutorial's) does not shuffle, which is harmless for its synthetic data but not here:
  the file is sorted by species, so unshuffled batches of 16 would each hold a single species,
  and every step would pull the network towards one class.
`,
);
const trainFeatures = stack(Array.from({ length: trainSet.length }, (_, i) => trainSet.get(i)[0]));
const mean = trainFeatures.mean(0);
const std = trainFeatures.std(0);
const allFeatures = tensor(Array.from(dataset.features), { shape: [dataset.length, 4] });
show.table(
  featureNames.map((name, c) => ({
    column: name,
    "training mean": mean.dataSync()[c].toFixed(3),
    "training std": std.dataSync()[c].toFixed(3),
    "mean of all 150 (leaks)": allFeatures.mean(0).dataSync()[c].toFixed(3),
    "std of all 150 (leaks)": allFeatures.std(0).dataSync()[c].toFixed(3),
  })),
  { title: "Standardization statistics" },
);

const standardize = (x: Tensor) => x.sub(mean).div(std);
const batchSize = 16;
const trainLoader = new data.DataLoader(new data.TransformedDataset(trainSet, standardize), {
  batchSize,
  shuffle: true,
});
const valLoader = new data.DataLoader(new data.TransformedDataset(valSet, standardize), {
  batchSize: valSet.length,
});
const testLoader = new data.DataLoader(new data.TransformedDataset(testSet, standardize), {
  batchSize: testSet.length,
});

step(
  "The model: lesson 1's skeleton, adapted",
  md`
  The skeleton of lesson 1 (a typical PyTorch tutorial's) trained a 10-128-128-1 network with
  sigmoid activations, Adam at $\eta = 10^{-3}$ and batches of 16 on a regression target. Its
  exercise is to train it on Iris. Two things change, and one of them is easy to get wrong:

  - 4 inputs instead of 10 (four measurements);
  - **3 outputs**, one score (*logit*) per class, with **cross entropy** as the loss, instead
    of 1 output with the squared error. A single output regressed onto the class numbers 0, 1, 2
    would claim that *versicolor* lies "between" *setosa* and *virginica*, and a prediction of
    1.5 would mean nothing. With one logit per class, softmax turns the logits into
    probabilities and the predicted class is the largest.
`,
);
const model = new nn.Sequential(
  new nn.Linear(4, 128),
  new nn.Sigmoid(),
  new nn.Linear(128, 128),
  new nn.Sigmoid(),
  new nn.Linear(128, 3),
).to(device);
const lr = 1e-3;
const optimizer = new optim.Adam(model.parameters(), { lr });
const lossFn = new nn.CrossEntropyLoss();
show.text("```\n" + model.toString() + "\n```");
show.value("parameters", model.parameters().reduce((n, p) => n + p.numel(), 0));

step(
  "Training with validation and early stopping",
  md`
  After every epoch the model is measured on the validation split (in evaluation mode, without
  recording gradients). Its loss falls while the network learns what generalizes; once it starts
  memorizing the training flowers, the validation loss stops falling and rises again.

  **Early stopping** watches for that: it keeps a copy of the weights of the best validation
  loss so far, and counts the epochs since. After \`patience\` epochs without an improvement it
  stops training and puts the best weights back. Patience matters because the validation loss
  is noisy on 22 flowers: stopping at the first bad epoch would stop too early.

  Note \`clone()\`: \`model.stateDict()\` gives the model's own tensors, which the next step of
  the optimizer changes in place; a copy is needed to keep a snapshot.
`,
);
class EarlyStopping {
  bestLoss = Infinity;
  bestEpoch = -1;
  epochsWithoutImprovement = 0;
  #bestWeights: Record<string, Tensor> = {};

  constructor(readonly patience: number, readonly minDelta = 0) {}

  /** Records this epoch's validation loss; true when training should stop. */
  step(valLoss: number, epoch: number, model: nn.Module): boolean {
    if (valLoss < this.bestLoss - this.minDelta) {
      this.bestLoss = valLoss;
      this.bestEpoch = epoch;
      this.epochsWithoutImprovement = 0;
      const weights = Object.entries(model.stateDict());
      this.#bestWeights = Object.fromEntries(weights.map(([name, t]) => [name, t.clone()]));
    } else {
      this.epochsWithoutImprovement++;
    }
    return this.epochsWithoutImprovement >= this.patience;
  }

  /** Puts the best weights back into the model. */
  restoreBest(model: nn.Module): void {
    model.loadStateDict(this.#bestWeights);
  }
}

/** Loss and accuracy of the model on one loader, in evaluation mode. */
async function evaluate(loader: data.DataLoader<[Tensor, number]>) {
  model.eval();
  using _ = noGrad();
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  for (const [X, y] of loader) {
    const logits = model.forward(X.to(device));
    const labels = y.to(device);
    lossSum += (await lossFn.forward(logits, labels).item()) * y.shape[0];
    correct += await logits.argmax(1).eq(labels).sum().item();
    count += y.shape[0];
  }
  return { loss: lossSum / count, accuracy: correct / count };
}

const maxEpochs = quick ? 300 : 500;
const patience = 20;
const stopper = new EarlyStopping(patience);
const lossPlot = show.plot({ title: "Loss per epoch", xLabel: "epoch", yLabel: "cross entropy" });
const accuracyPlot = show.plot({
  title: "Validation accuracy",
  xLabel: "epoch",
  yLabel: "accuracy",
});
let epochsRun = 0;
const epochs = show.range(maxEpochs, "epochs");
for (const epoch of epochs) {
  model.train();
  let trainLoss = 0;
  for (const [X, y] of trainLoader) {
    optimizer.zeroGrad();
    const loss = lossFn.forward(model.forward(X.to(device)), y.to(device));
    loss.backward();
    optimizer.step();
    trainLoss += (await loss.item()) * y.shape[0];
  }
  const val = await evaluate(valLoader);
  lossPlot.push("training", epoch + 1, trainLoss / trainSet.length);
  lossPlot.push("validation", epoch + 1, val.loss);
  accuracyPlot.push("validation", epoch + 1, val.accuracy);
  epochs.note({ "val loss": val.loss.toFixed(4), "val acc": val.accuracy.toFixed(3) });
  epochsRun = epoch + 1;
  if (stopper.step(val.loss, epoch + 1, model)) break;
}
stopper.restoreBest(model);
const bestVal = await evaluate(valLoader);
show.value("epochs run", epochsRun);
show.value("epoch chosen by early stopping", stopper.bestEpoch);
show.value("best validation loss", round(bestVal.loss, 4));
show.value("validation accuracy at that epoch", round(bestVal.accuracy, 3));

step(
  "The test split, once: accuracy, confusion matrix, precision, recall, F1",
  md`
  Now, and only now, the test split. Accuracy (the share of correct predictions) is one number;
  on a problem with several classes it hides *which* mistakes are made. The **confusion matrix**
  shows them: row $i$, column $j$ counts the flowers of species $i$ predicted as species $j$, so
  the diagonal holds the correct ones. From it, per class $c$:

  $$\text{precision}_c = \frac{TP_c}{TP_c + FP_c}, \quad
  \text{recall}_c = \frac{TP_c}{TP_c + FN_c}, \quad
  F_1 = \frac{2 \cdot \text{precision} \cdot \text{recall}}{\text{precision} + \text{recall}}$$

  Precision: of the flowers *called* $c$, the share that are $c$ (a column of the matrix).
  Recall: of the flowers that *are* $c$, the share found (a row). F1 is high only when both are.

  PyTorch has no \`nn.Accuracy\` (some tutorials use one that does not exist): the usual tools
  are scikit-learn's \`sklearn.metrics\` or \`torchmetrics\`. Here they are
  \`metrics.accuracy\`, \`metrics.confusionMatrix\` and \`metrics.precisionRecallF1\`, with
  scikit-learn's definitions.

  Mind the size of the test split: with 22 flowers, one flower is worth 4.5 points of accuracy.
  Run with other seeds (seeds 0 to 6 give between 91% and 100% here) and the number moves by a
  flower or two: on a small test set, report the accuracy with that grain in mind, never to the
  decimal.
`,
);
model.eval();
const [testX, testY] = [...testLoader][0];
const testLogits = withNoGrad(() => model.forward(testX.to(device)));
const testAccuracy = await metrics.accuracy(testLogits, testY);
const confusion = await metrics.confusionMatrix(testLogits, testY, { numClasses: 3 });
const scores = await metrics.precisionRecallF1(testLogits, testY, { numClasses: 3 });
show.value("test accuracy", round(testAccuracy, 3));
show.table(
  confusion.map((row, i) => ({
    "true \\ predicted": classes[i],
    ...Object.fromEntries(classes.map((name, j) => [name, row[j]])),
  })),
  { title: "Confusion matrix on the test split" },
);
show.table(
  classes.map((name, c) => ({
    class: name,
    precision: scores.precision[c].toFixed(3),
    recall: scores.recall[c].toFixed(3),
    f1: scores.f1[c].toFixed(3),
    support: scores.support[c],
  })),
  { title: "Per-class scores on the test split" },
);

step(
  "Save the model to a file and load it back",
  md`
  A trained model is worth keeping. \`save(stateDict, path)\` writes every weight, by name, to a
  file in the **safetensors** format in one call, as \`torch.save\` does; \`await load(path)\`
  reads it back, as \`torch.load\`. PyTorch reads the same file. Loaded into a fresh network of
  the same layers, the weights give exactly the predictions of the original: equal, not close.

  Keep the standardization statistics with the weights (here in the same file): the model
  expects inputs standardized with *those* numbers, and without them it is useless. A browser
  has no file system; there the round trip goes through the file's bytes (\`save\` without a
  path returns them, \`load\` takes them).
`,
);
const modelFile = "out/lesson-06/iris-mlp.safetensors";
const toSave = { ...model.stateDict(), "standardize.mean": mean, "standardize.std": std };
let restored: Record<string, Tensor>;
try {
  await save(toSave, modelFile);
  restored = await load(modelFile);
} catch {
  // No file system here (a browser): the same round trip through the bytes.
  restored = load(await save(toSave));
}
const loadedModel = new nn.Sequential(
  new nn.Linear(4, 128),
  new nn.Sigmoid(),
  new nn.Linear(128, 128),
  new nn.Sigmoid(),
  new nn.Linear(128, 3),
).to(device);
const { "standardize.mean": loadedMean, "standardize.std": loadedStd, ...weights } = restored;
loadedModel.loadStateDict(weights);
loadedModel.eval();
const reloadedLogits = withNoGrad(() =>
  loadedModel.forward(allFeatures.sub(loadedMean).div(loadedStd).to(device))
);
const originalLogits = withNoGrad(() => model.forward(allFeatures.sub(mean).div(std).to(device)));
const largestDifference = await reloadedLogits.sub(originalLogits).abs().max().item();
const samePredictions = await reloadedLogits.argmax(1).eq(originalLogits.argmax(1)).sum().item();
show.value("largest |logit difference| after loading", largestDifference);
show.value("same predicted class", `${samePredictions} of ${dataset.length} flowers`);

show.summary([
  { label: "test accuracy (22 flowers, measured once)", value: testAccuracy.toFixed(3) },
  { label: "epoch chosen by early stopping", value: String(stopper.bestEpoch) },
  { label: "epochs run before stopping", value: String(epochsRun) },
  { label: "reloaded model: largest logit difference", value: String(largestDifference) },
]);
