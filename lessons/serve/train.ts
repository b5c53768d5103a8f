/**
 * Trains the model that `deno task serve` serves by default, and writes its two files (committed,
 * so that the server runs offline and without training first):
 *
 * - `lessons/data/serve/fashion-cnn.json`: the config (layers, input shape, class names, test
 *   accuracy);
 * - `lessons/data/serve/fashion-cnn.safetensors`: the weights.
 *
 * ```sh
 * deno run --allow-read=. --allow-write=lessons/data/serve lessons/serve/train.ts
 * ```
 *
 * The network is a small CNN: two blocks of a 3x3 convolution, batch norm, ReLU and 2x2 max
 * pooling (16 then 32 channels), dropout, and a linear layer from 32 * 7 * 7 features to the 10
 * classes. It is trained on the shipped Fashion-MNIST subset (12,000 images) with Adam at
 * learning rate 1e-3, batches of 64, for 4 epochs, from seed 0, and tested on the subset's
 * 2,000 test images.
 *
 * @module
 */
import {
  data,
  FASHION_MNIST_CLASSES,
  loadFashionMnist,
  manualSeed,
  noGrad,
  optim,
  save,
  type Tensor,
} from "../../mod.ts";
import { F } from "../../mod.ts";
import { buildModel, type LayerSpec, type ModelConfig } from "./model.ts";

/** The served network's layers (see model.ts for the format). */
export const FASHION_CNN_LAYERS: LayerSpec[] = [
  ["Conv2d", 1, 16, 3, { padding: 1 }],
  ["BatchNorm2d", 16],
  ["ReLU"],
  ["MaxPool2d", 2],
  ["Conv2d", 16, 32, 3, { padding: 1 }],
  ["BatchNorm2d", 32],
  ["ReLU"],
  ["MaxPool2d", 2],
  ["Flatten"],
  ["Dropout", 0.25],
  ["Linear", 32 * 7 * 7, 10],
];

const SETTINGS = { seed: 0, epochs: 4, batchSize: 64, lr: 1e-3 };
const OUTPUT = new URL("../data/serve/", import.meta.url);
const DATA = new URL("../data/fashion-mnist/", import.meta.url);

async function accuracy(model: ReturnType<typeof buildModel>, images: Tensor, labels: Tensor) {
  using _ = noGrad();
  model.eval();
  const predictions = await model.forward(images).argmax(1).data();
  const truth = await labels.data();
  let correct = 0;
  for (let i = 0; i < truth.length; i++) if (predictions[i] === truth[i]) correct++;
  model.train();
  return correct / truth.length;
}

if (import.meta.main) {
  manualSeed(SETTINGS.seed);
  const train = await loadFashionMnist(DATA, { train: true });
  const test = await loadFashionMnist(DATA, { train: false });
  const model = buildModel(FASHION_CNN_LAYERS);
  const optimizer = new optim.Adam(model.parameters(), { lr: SETTINGS.lr });
  const loader = new data.DataLoader(new data.TensorDataset(train.images, train.labels), {
    batchSize: SETTINGS.batchSize,
    shuffle: true,
  });
  const started = performance.now();
  for (let epoch = 1; epoch <= SETTINGS.epochs; epoch++) {
    let total = 0;
    let batches = 0;
    for (const [images, labels] of loader) {
      const loss = F.crossEntropy(model.forward(images), labels);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      total += await loss.item();
      batches++;
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    console.log(`epoch ${epoch}: mean loss ${(total / batches).toFixed(4)} (${seconds} s)`);
  }
  const testAccuracy = Math.round((await accuracy(model, test.images, test.labels)) * 1e4) / 1e4;
  console.log(`test accuracy: ${(testAccuracy * 100).toFixed(2)}%`);

  const config: ModelConfig = {
    name: "fashion-cnn",
    description: "A small CNN for 28x28 grey Fashion-MNIST images, trained by " +
      "lessons/serve/train.ts on the shipped subset",
    weights: "fashion-cnn.safetensors",
    input: [1, 28, 28],
    classes: [...FASHION_MNIST_CLASSES],
    layers: FASHION_CNN_LAYERS,
    testAccuracy,
  };
  await Deno.mkdir(OUTPUT, { recursive: true });
  const metadata = { format: "pt", settings: JSON.stringify(SETTINGS) };
  await Deno.writeFile(
    new URL(config.weights, OUTPUT),
    await save(model.stateDict(), metadata),
  );
  await Deno.writeTextFile(
    new URL("fashion-cnn.json", OUTPUT),
    JSON.stringify(config, null, 2) + "\n",
  );
  console.log(`wrote ${new URL("fashion-cnn.json", OUTPUT).pathname} and its weights`);
}
