/**
 * Lesson 5: transfer learning. A small CNN pretrained by the project on Fashion-MNIST classes
 * 0-4 (`deno task pretrain` writes it to `lessons/data/pretrained/`) is moved to classes 5-9 with
 * 50 labelled images a class, three ways with the same budget: from scratch, frozen features with
 * a new head, and fine-tuning with a smaller learning rate for the backbone.
 *
 * @module
 */
import { type ImageData2D, lesson, md, type TableRow } from "../format.ts";
import {
  data,
  fetchSafetensors,
  loadFashionMnist,
  nn,
  noGrad,
  optim,
  type Tensor,
  tensor,
} from "../../mod.ts";
import { SmallCnn } from "./network.ts";

const { step, show, quick, device, dataUrl } = await lesson(import.meta, {
  number: 5,
  title: "Transfer learning",
  description: "A network trained on five classes of clothes learns five new classes from 50 " +
    "images each: from scratch, with frozen features, and fine-tuned, on the same budget.",
});

step(
  "A pretrained network",
  md`
  Labelled data is expensive, and a network trained from scratch on a few hundred
  images has little to learn its features from. **Transfer learning** starts instead from a
  network trained on another task with plenty of data: its early layers have learned to detect
  edges, textures and shapes that are useful for many image tasks, and only the last layer is
  specific to the old classes.

  The course ships such a network, trained by \`deno task pretrain\`
  (\`lessons/05-transfer/pretrain.ts\`) on the 6,000 training images of Fashion-MNIST classes
  0-4 (T-shirt/top, Trouser, Pullover, Dress, Coat). It is a CNN in two parts, named as a PyTorch
  model would name them:

  - \`features\`, the **backbone**: two blocks of a $3 \times 3$ convolution, ReLU and
    $2 \times 2$ max pooling (16, then 32 channels), flattened to $32 \cdot 7 \cdot 7 = 1568$
    numbers per image;
  - \`head\`, a linear layer from those 1568 features to one logit per class.

  Its weights are a safetensors file: a small JSON header (names, dtypes, shapes) and the raw
  numbers. \`fetchSafetensors\` reads it into a state dict, and \`loadStateDict\` copies the
  values into a model with the same names and shapes.
`,
);
const weightsUrl = dataUrl("pretrained/fashion-mnist-classes-0-4.safetensors");
const pretrainedWeights = await fetchSafetensors(weightsUrl);
show.table(
  Object.entries(pretrainedWeights).map(([name, t]) => ({
    name,
    shape: `[${t.shape.join(", ")}]`,
    values: t.numel(),
  })),
  { title: "pretrained.safetensors" },
);
const values = Object.values(pretrainedWeights).reduce((sum, t) => sum + t.numel(), 0);
show.value("numbers in the file", `${values} (${(values * 4 / 1024).toFixed(0)} KiB)`);
const pretrained = new SmallCnn(5).to(device);
pretrained.loadStateDict(pretrainedWeights); // strict: every name and shape must match

step(
  "The old task and the new one",
  md`
  On its own task the pretrained network is good (the first number of this step). The **new
  task** is the other half of Fashion-MNIST: Sandal, Shirt, Sneaker, Bag and Ankle boot, classes
  the network has never seen, with only **50 labelled images a class**, 250 in all (the first 50
  of each class in the training file). The labels are renumbered 0-4. Test images of the new
  classes measure how well each approach does.

  Shown the new classes, the pretrained network can only answer with old ones: the table gives the
  old class it most often picks for each new one. Its head is useless for the new task; its
  features might not be.
`,
);
const folder = new URL(".", dataUrl("fashion-mnist/train-images-idx3-ubyte.gz"));
const train = await loadFashionMnist(folder, { train: true, limit: 5000 });
const test = await loadFashionMnist(folder, { train: false });
const [oldClasses, newClasses] = [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]];

/** Images and labels of one task. */
interface Task {
  images: Tensor;
  labels: Tensor;
}
/** The images of the given classes (at most `perClass` each), labels renumbered 0, 1, ... */
async function select(set: Task, classes: number[], perClass: number): Promise<Task> {
  const labels = await set.labels.data();
  const [indices, renumbered] = [[] as number[], [] as number[]];
  const taken = classes.map(() => 0);
  labels.forEach((label, i) => {
    const k = classes.indexOf(label);
    if (k >= 0 && taken[k] < perClass) {
      taken[k]++;
      indices.push(i);
      renumbered.push(k);
    }
  });
  const index = tensor(indices, { dtype: "int32" });
  return {
    images: set.images.indexSelect(0, index).to(device),
    labels: tensor(renumbered, { dtype: "int32", device }),
  };
}
const testPerClass = quick ? 100 : Infinity;
const oldTest = await select(test, oldClasses, testPerClass);
const newTrain = await select(train, newClasses, 50);
const newTest = await select(test, newClasses, testPerClass);
const newClassNames = newClasses.map((k) => train.classNames[k]);

pretrained.eval();
const oldAccuracy = await withoutGrad(() =>
  pretrained.forward(oldTest.images).argmax(1).eq(oldTest.labels).float().mean().item()
);
show.value(
  `pretrained network on its own classes (${oldTest.labels.shape[0]} test images)`,
  `${(100 * oldAccuracy).toFixed(1)}%`,
);
show.table([
  {
    task: "old (pretraining)",
    classes: oldClasses.map((k) => train.classNames[k]).join(", "),
    "training images": 6000,
    "test images": oldTest.labels.shape[0],
  },
  {
    task: "new",
    classes: newClassNames.join(", "),
    "training images": newTrain.labels.shape[0],
    "test images": newTest.labels.shape[0],
  },
]);
// What the pretrained network calls the new classes.
const predicted = await withoutGrad(() => pretrained.forward(newTest.images).argmax(1).data());
const truth = await newTest.labels.data();
show.table(
  newClassNames.map((name, k) => {
    const counts = oldClasses.map(() => 0);
    truth.forEach((label, i) => label === k && counts[predicted[i]]++);
    const total = counts.reduce((a, b) => a + b, 0);
    const top = counts.indexOf(Math.max(...counts));
    return {
      "new class": name,
      "most often called": train.classNames[oldClasses[top]],
      share: `${(100 * counts[top] / total).toFixed(0)}%`,
    };
  }),
  { title: "The pretrained network on the new classes" },
);
const pixels = await newTrain.images.data();
const newLabels = await newTrain.labels.data();
const examples: ImageData2D[] = [];
for (let k = 0; k < newClasses.length; k++) {
  const first = Array.from(newLabels.keys()).filter((i) => newLabels[i] === k).slice(0, 6);
  for (const i of first) {
    examples.push({
      label: newClassNames[k],
      width: 28,
      height: 28,
      values: Array.from(pixels.subarray(i * 784, (i + 1) * 784)),
    });
  }
}
show.images("Some of the 250 training images of the new task", examples, { columns: 6 });

/** Runs `compute` without building a graph (as `using _ = noGrad()` does for a block). */
async function withoutGrad<T>(compute: () => Promise<T>): Promise<T> {
  using _ = noGrad();
  return await compute();
}

step(
  "Three ways to start",
  md`
  Three networks of the same shape, each with a fresh head of 5 outputs for the new
  classes:

  1. **From scratch**: random weights everywhere, all trained with Adam at $10^{-3}$.
  2. **Frozen features**: the pretrained backbone, frozen with \`requiresGrad_(false)\` on its
     parameters, and a new head, the only part trained. Autograd stops at the backbone (no
     parameter there wants a gradient), so a step is also cheaper. This is logistic regression on
     the pretrained features.
  3. **Fine-tuning**: the pretrained backbone and a new head, all trained, with **parameter
     groups**: the optimizer gets two lists of parameters, each with its own learning rate, the
     head $10^{-3}$ and the backbone ten times less, $10^{-4}$, so that the features adapt to the
     new classes without being wiped out by the large, noisy gradients of a random head in the
     first steps.

  Replacing the head is an assignment: \`model.head = new nn.Linear(1568, 5)\`. A module finds its
  parameters by looking at its fields, so the old head's weights are gone from
  \`model.parameters()\` and the new ones are in.
`,
);
const lr = 1e-3;
const backboneLr = 1e-4;
// 1. From scratch: nothing loaded.
const scratch = new SmallCnn(5).to(device);
// 2. Frozen features: load, replace the head, freeze the backbone.
const frozen = new SmallCnn(5).to(device);
frozen.loadStateDict(pretrainedWeights);
frozen.head = new nn.Linear(32 * 7 * 7, 5).to(device);
frozen.features.requiresGrad_(false);
// 3. Fine-tuning: load, replace the head, two parameter groups.
const finetuned = new SmallCnn(5).to(device);
finetuned.loadStateDict(pretrainedWeights);
finetuned.head = new nn.Linear(32 * 7 * 7, 5).to(device);

const runs = [
  {
    name: "from scratch",
    model: scratch,
    optimizer: new optim.Adam(scratch.parameters(), { lr }),
  },
  {
    name: "frozen features",
    model: frozen,
    optimizer: new optim.Adam(frozen.head.parameters(), { lr }),
  },
  {
    name: "fine-tuned",
    model: finetuned,
    optimizer: new optim.Adam([
      { params: finetuned.features.parameters(), lr: backboneLr },
      { params: finetuned.head.parameters() }, // the default lr
    ], { lr }),
  },
];
const count = (tensors: Tensor[]) => tensors.reduce((sum, t) => sum + t.numel(), 0);
show.table(runs.map(({ name, model, optimizer }) => {
  const parameters = model.parameters();
  return {
    run: name,
    "trainable parameters": count(parameters.filter((p) => p.requiresGrad)),
    "frozen parameters": count(parameters.filter((p) => !p.requiresGrad)),
    "learning rates (per group)": optimizer.paramGroups.map((g) => g.lr).join(", "),
  };
}));

step(
  "Training with the same budget",
  md`
  Each network gets the same budget: the same 250 images, in batches of 25 (10 steps
  an epoch), for the same number of epochs: 20, or 3 in a quick run. The test accuracy is measured
  before training and after every epoch; the curves show how fast each approach learns, and their
  ends how far it gets. Epoch 0 is the starting point: chance (20%) for every run, since every
  head is new.
`,
);
const epochs = quick ? 3 : 20;
const batchSize = 25;
const lossFn = new nn.CrossEntropyLoss();
const trainLoader = new data.DataLoader(new data.TensorDataset(newTrain.images, newTrain.labels), {
  batchSize,
  shuffle: true,
});
/** Accuracy on a set of images, in evaluation mode and without building a graph. */
async function accuracy(model: nn.Module, { images, labels }: Task): Promise<number> {
  model.eval();
  using _ = noGrad();
  let correct = 0;
  for (let start = 0; start < images.shape[0]; start += 500) {
    const count = Math.min(500, images.shape[0] - start);
    const predicted = model.forward(images.narrow(0, start, count)).argmax(1);
    correct += await predicted.eq(labels.narrow(0, start, count)).sum().item();
  }
  model.train();
  return correct / images.shape[0];
}
const accuracyPlot = show.plot({
  title: "Test accuracy on the new classes",
  xLabel: "epoch",
  yLabel: "test accuracy",
});
/** Per run: test accuracy after each epoch (0: before training), training accuracy, time. */
const results = runs.map(() => ({ accuracies: [] as number[], trainAccuracy: 0, seconds: 0 }));
for (const [r, { name, model, optimizer }] of runs.entries()) {
  const result = results[r];
  result.accuracies.push(await accuracy(model, newTest));
  accuracyPlot.push(name, 0, result.accuracies[0]);
  const start = performance.now();
  const training = show.range(epochs, name);
  for (const epoch of training) {
    let lossSum = 0;
    for (const [X, y] of trainLoader) {
      optimizer.zeroGrad();
      const loss = lossFn.forward(model.forward(X), y);
      loss.backward();
      optimizer.step();
      lossSum += await loss.item();
    }
    const testAccuracy = await accuracy(model, newTest);
    result.accuracies.push(testAccuracy);
    accuracyPlot.push(name, epoch + 1, testAccuracy);
    training.note({
      loss: (lossSum / trainLoader.length).toFixed(3),
      "test accuracy": `${(100 * testAccuracy).toFixed(1)}%`,
    });
  }
  result.seconds = (performance.now() - start) / 1000;
  result.trainAccuracy = await accuracy(model, newTrain);
}

step(
  "What transfer bought",
  md`
  After a few epochs both pretrained starts are well ahead. The features learned on
  tops, trousers and coats (edges, outlines, areas of plain and of textured cloth) also separate
  sandals from sneakers and bags, so only a head has to be learned, and a linear layer on good
  features learns fast. From scratch, the network must first find its features in 250 images: the table gives
  the first epoch at which each run reaches 85% on the test images.

  Given a longer budget (the full run trains for 20 epochs), the network trained from scratch
  catches up, or nearly: these five classes are easy to tell apart, and 250 images go a long way
  for a network this small. Transfer bought speed here more than a better end point. Transfer pays most when labels are scarce, when training time is
  short, and when the pretraining data is far larger and more varied than the new task's (large
  image models are pretrained on millions of images). Between the two pretrained starts,
  fine-tuning can adapt the features to the new classes, while freezing trains far fewer
  parameters and so is the safer choice when labels are very few; here they end close together.

  If the backbone had batch norm layers (lesson 4), freezing it would also mean keeping them in
  evaluation mode (\`model.features.eval()\`): in training mode their running statistics would
  drift to the new data even though no weight is trained.
`,
);
const early = Math.min(3, epochs);
const checkpoints = [...new Set([1, early, epochs])];
const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
show.table(
  runs.map(({ name }, r) => {
    const { accuracies, trainAccuracy, seconds } = results[r];
    const row: TableRow = { run: name };
    for (const epoch of checkpoints) {
      row[`test accuracy, epoch ${epoch}`] = percent(accuracies[epoch]);
    }
    const reached = accuracies.findIndex((accuracy) => accuracy >= 0.85);
    row["first epoch at 85%"] = reached > 0 ? reached : "—";
    row["training accuracy"] = percent(trainAccuracy);
    row.time = `${seconds.toFixed(1)} s`;
    return row;
  }),
  { title: `The same budget: ${epochs} epochs over 250 images` },
);
/** The test accuracies after `epoch` epochs, and the lead of the better pretrained start. */
function after(epoch: number) {
  const [scratch, frozen, finetuned] = results.map((result) => result.accuracies[epoch]);
  const lead = Math.max(frozen, finetuned) - scratch;
  return {
    scratch,
    frozen,
    finetuned,
    lead,
    text: `from scratch ${percent(scratch)}, frozen features ${percent(frozen)}, ` +
      `fine-tuned ${percent(finetuned)} (transfer ${lead >= 0 ? "+" : ""}` +
      `${(100 * lead).toFixed(1)} points)`,
  };
}
const final = after(epochs);
show.value("pretrained network, accuracy on its own classes", percent(oldAccuracy));
show.value("test accuracy after the last epoch, from scratch", percent(final.scratch));
show.value("test accuracy after the last epoch, frozen features", percent(final.frozen));
show.value("test accuracy after the last epoch, fine-tuned", percent(final.finetuned));

const facts = [
  { label: "pretrained network on its own classes 0-4", value: percent(oldAccuracy) },
  {
    label: `new classes 5-9 from 50 images a class: test accuracy after ${early} epochs`,
    value: after(early).text,
  },
];
if (epochs > early) facts.push({ label: `... and after ${epochs} epochs`, value: final.text });
show.summary(facts);
