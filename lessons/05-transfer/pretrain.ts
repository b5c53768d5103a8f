/**
 * Trains the network that lesson 5 starts from, and writes its weights to
 * `lessons/data/pretrained/fashion-mnist-classes-0-4.safetensors` (committed, so that the lesson runs offline).
 *
 * ```sh
 * deno task pretrain
 * ```
 *
 * The network is the lesson's small CNN: two blocks of a 3x3 convolution, ReLU and 2x2 max
 * pooling (16 then 32 channels) as `features`, and a linear `head` from the 32 * 7 * 7 = 1568
 * features to 5 classes. It is trained on the images of classes 0-4 (T-shirt/top, Trouser,
 * Pullover, Dress, Coat) of the shipped Fashion-MNIST subset, 6,000 images, with Adam at
 * learning rate 1e-3, batches of 64, for 8 epochs, from seed 0. The lesson then moves it to
 * classes 5-9 (Sandal, Shirt, Sneaker, Bag, Ankle boot), which it has never seen.
 *
 * The state dict keeps PyTorch's names (`features.0.weight`, `head.bias`, ...), so the file
 * loads into the same network written in PyTorch.
 *
 * @module
 */
import {
  data,
  loadFashionMnist,
  manualSeed,
  nn,
  noGrad,
  optim,
  save,
  type Tensor,
  tensor,
} from "../../mod.ts";
import { SmallCnn } from "./network.ts";

/** Settings of the pretraining; written into the file's metadata too. */
const SETTINGS = {
  seed: 0,
  classes: [0, 1, 2, 3, 4],
  epochs: 8,
  batchSize: 64,
  lr: 1e-3,
};

/** Where the weights go. */
const OUTPUT = new URL("../data/pretrained/fashion-mnist-classes-0-4.safetensors", import.meta.url);
/** The shipped Fashion-MNIST subset. */
const DATA = new URL("../data/fashion-mnist/", import.meta.url);

/** The images and labels of the given classes, labels renumbered 0, 1, ... in that order. */
async function selectClasses(
  images: Tensor,
  labels: Tensor,
  classes: number[],
): Promise<[Tensor, Tensor]> {
  const all = await labels.data();
  const indices: number[] = [];
  const newLabels: number[] = [];
  all.forEach((label, i) => {
    const k = classes.indexOf(label);
    if (k >= 0) {
      indices.push(i);
      newLabels.push(k);
    }
  });
  const picked = images.indexSelect(0, tensor(indices, { dtype: "int32" }));
  return [picked, tensor(newLabels, { dtype: "int32" })];
}

/** Accuracy of `model` on the given images, in evaluation mode. */
async function accuracy(model: nn.Module, images: Tensor, labels: Tensor): Promise<number> {
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

/** Trains the network and writes the file; returns the test accuracy on classes 0-4. */
export async function pretrain(log: (line: string) => void = console.log): Promise<number> {
  manualSeed(SETTINGS.seed);
  const train = await loadFashionMnist(DATA, { train: true });
  const test = await loadFashionMnist(DATA, { train: false });
  const [trainImages, trainLabels] = await selectClasses(
    train.images,
    train.labels,
    SETTINGS.classes,
  );
  const [testImages, testLabels] = await selectClasses(test.images, test.labels, SETTINGS.classes);
  const names = SETTINGS.classes.map((k) => train.classNames[k]).join(", ");
  log(`pretraining on ${trainImages.shape[0]} images of classes ${names}`);

  const model = new SmallCnn(SETTINGS.classes.length);
  const optimizer = new optim.Adam(model.parameters(), { lr: SETTINGS.lr });
  const lossFn = new nn.CrossEntropyLoss();
  const trainLoader = new data.DataLoader(new data.TensorDataset(trainImages, trainLabels), {
    batchSize: SETTINGS.batchSize,
    shuffle: true,
  });
  const start = performance.now();
  for (let epoch = 1; epoch <= SETTINGS.epochs; epoch++) {
    let [lossSum, seen] = [0, 0];
    for (const [X, y] of trainLoader) {
      optimizer.zeroGrad();
      const loss = lossFn.forward(model.forward(X), y);
      loss.backward();
      optimizer.step();
      lossSum += (await loss.item()) * y.shape[0];
      seen += y.shape[0];
    }
    const testAccuracy = await accuracy(model, testImages, testLabels);
    const seconds = (performance.now() - start) / 1000;
    log(
      `epoch ${epoch}/${SETTINGS.epochs}: training loss ${(lossSum / seen).toFixed(4)}, ` +
        `test accuracy ${(100 * testAccuracy).toFixed(1)}% (${seconds.toFixed(0)} s)`,
    );
  }

  const testAccuracy = await accuracy(model, testImages, testLabels);
  const bytes = await save(model.stateDict(), {
    format: "pt",
    description: "Small CNN pretrained on Fashion-MNIST classes 0-4 (lesson 5)",
    classes: SETTINGS.classes.join(","),
    epochs: String(SETTINGS.epochs),
    seed: String(SETTINGS.seed),
    test_accuracy: testAccuracy.toFixed(4),
  });
  await Deno.writeFile(OUTPUT, bytes);
  log(`wrote ${OUTPUT.pathname} (${(bytes.length / 1024).toFixed(1)} KiB)`);
  return testAccuracy;
}

if (import.meta.main) await pretrain();
