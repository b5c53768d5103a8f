import assert from "node:assert/strict";
import { F, manualSeed, nn, noGrad, optim, randperm, type Tensor, tensor } from "../mod.ts";
import { nextFloat, nextInt } from "../core/random.ts";

/**
 * A synthetic 28x28 task: a bright 6x6 blob sits somewhere in one quadrant of a noisy image;
 * the class (0..3) is the quadrant. Solving it needs spatial features, which is what the
 * convolutions and pooling of the network are for.
 */
function makeBlobs(count: number): { images: Tensor; labels: Tensor } {
  const pixels = new Float32Array(count * 28 * 28);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const quadrant = nextInt(0, 4);
    labels[n] = quadrant;
    const top = (quadrant >> 1) * 14 + nextInt(0, 9);
    const left = (quadrant & 1) * 14 + nextInt(0, 9);
    const image = pixels.subarray(n * 784, (n + 1) * 784);
    for (let i = 0; i < 784; i++) image[i] = nextFloat() * 0.5;
    for (let y = top; y < top + 6; y++) {
      for (let x = left; x < left + 6; x++) image[y * 28 + x] += 1;
    }
  }
  return {
    images: tensor(pixels, { shape: [count, 1, 28, 28] }),
    labels: tensor(labels, { dtype: "int32" }),
  };
}

/** The CNN of the design's benchmark workloads. */
function makeCnn(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(8, 16, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(16 * 7 * 7, 10),
  );
}

async function accuracy(model: nn.Module, images: Tensor, labels: Tensor): Promise<number> {
  using _ = noGrad();
  model.eval();
  const predicted = await model.forward(images).argmax(1).data();
  const truth = await labels.data();
  model.train();
  let correct = 0;
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) correct++;
  return correct / truth.length;
}

Deno.test("the small CNN learns where a blob is to over 90% in one epoch with Adam", async () => {
  manualSeed(1);
  const train = makeBlobs(640);
  const test = makeBlobs(200);
  const model = makeCnn();
  const optimizer = new optim.Adam(model.parameters(), { lr: 3e-3 });
  const batchSize = 32;
  const before = await accuracy(model, test.images, test.labels);
  const start = performance.now();
  for (let epoch = 0; epoch < 1; epoch++) {
    const order = tensor(randperm(640), { dtype: "int32" });
    for (let first = 0; first < 640; first += batchSize) {
      const index = order.slice(0, first, first + batchSize);
      const images = train.images.indexSelect(0, index);
      const labels = train.labels.indexSelect(0, index);
      optimizer.zeroGrad();
      const loss = F.crossEntropy(model.forward(images), labels);
      loss.backward();
      optimizer.step();
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const after = await accuracy(model, test.images, test.labels);
  assert.ok(before < 0.5, `an untrained network should be near chance (25%), got ${before}`);
  assert.ok(
    after > 0.9,
    `test accuracy after 1 epoch is ${(after * 100).toFixed(1)}% (expected > 90%), ` +
      `trained in ${seconds.toFixed(1)} s`,
  );
});
