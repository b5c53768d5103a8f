/**
 * Lesson 3: a convolutional network, forward and backward. A convolution by hand against
 * `F.conv2d`, pooling and the linear head, the shapes through a 28x28 network, the backward pass
 * of a convolution derived and checked against autograd, and the network trained on
 * Fashion-MNIST.
 *
 * @module
 */
import { type ImageData2D, lesson, md, type TableRow } from "../format.ts";
import {
  data,
  F,
  gradcheck,
  loadFashionMnist,
  nn,
  noGrad,
  optim,
  randn,
  type Tensor,
  tensor,
  withNoGrad,
  zeros,
} from "../../mod.ts";

const { step, show, quick, device, dataUrl } = await lesson(import.meta, {
  number: 3,
  title: "CNN forward and backward",
  description: "A convolution computed by hand and its gradients derived, then a small " +
    "convolutional network trained on Fashion-MNIST: accuracy, confusions, and what its filters " +
    "learned.",
});

step(
  "A convolution by hand",
  md`
  A **convolution** slides a small grid of weights, the *kernel*, over an image. At
  each position it multiplies the kernel with the pixels under it and adds the products up. For
  one input channel and a $k \times k$ kernel $w$ with bias $b$, with stride $s$ (the step between
  positions) and padding $p$ (a border of zeros added around the image):

  $$y_{ij} = b + \sum_{u=0}^{k-1} \sum_{v=0}^{k-1} w_{uv}\, x_{\,is + u - p,\; js + v - p} .$$

  (Strictly this is a *cross-correlation*; deep learning libraries all compute it and call it
  convolution.) The kernel fits $\lfloor (H + 2p - k) / s \rfloor + 1$ times along an image of
  height $H$, which is the **output size**:

  $$H_{out} = \left\lfloor \frac{H + 2p - k}{s} \right\rfloor + 1 .$$

  Here a $12 \times 12$ image of a bright square is convolved by loops with a kernel that
  subtracts the pixels on the right from those on the left: it answers strongly at vertical
  edges, with opposite signs on the two sides of the square, and not at all on flat areas. The
  same result comes from \`F.conv2d\`.
`,
);
// A 12x12 image, dark with a bright 6x6 square, as [batch, channels, height, width].
const size = 12;
const pixels: number[] = [];
for (let r = 0; r < size; r++) {
  for (let c = 0; c < size; c++) pixels.push(r >= 3 && r < 9 && c >= 3 && c < 9 ? 1 : 0);
}
const image = tensor(pixels, { shape: [1, 1, size, size] });
// A vertical edge detector: left column minus right column.
const kernel = tensor([[1, 0, -1], [1, 0, -1], [1, 0, -1]]).reshape([1, 1, 3, 3]);
const [k, stride, padding] = [3, 1, 1];

// The loops: one output pixel per window position.
const x = await image.data();
const w = await kernel.data();
const outSize = Math.floor((size + 2 * padding - k) / stride) + 1;
const byLoops = new Array(outSize * outSize).fill(0);
for (let i = 0; i < outSize; i++) {
  for (let j = 0; j < outSize; j++) {
    let sum = 0;
    for (let u = 0; u < k; u++) {
      for (let v = 0; v < k; v++) {
        const row = i * stride + u - padding;
        const col = j * stride + v - padding;
        // Outside the image the padding holds zeros: nothing to add.
        if (row < 0 || row >= size || col < 0 || col >= size) continue;
        sum += w[u * k + v] * x[row * size + col];
      }
    }
    byLoops[i * outSize + j] = sum;
  }
}

const byFramework = F.conv2d(image, kernel, null, { stride, padding });
const frameworkValues = await byFramework.data();
const loopsMaxDiff = Math.max(...byLoops.map((value, i) => Math.abs(value - frameworkValues[i])));
show.value("output size by the formula", `${outSize} x ${outSize}`);
show.value("output shape of F.conv2d", `[${byFramework.shape.join(", ")}]`);
show.value("largest difference, loops vs F.conv2d", loopsMaxDiff);
show.images("The image, the kernel, and the convolution", [
  { label: "image", width: size, height: size, values: pixels },
  { label: "kernel", width: k, height: k, values: Array.from(w) },
  { label: "by loops", width: outSize, height: outSize, values: byLoops },
  { label: "F.conv2d", width: outSize, height: outSize, values: Array.from(frameworkValues) },
], { colormap: "diverging" });

// The formula for a few settings on a 28x28 image.
const settings = [[3, 1, 0], [3, 1, 1], [5, 1, 2], [3, 2, 1], [2, 2, 0]];
show.table(
  settings.map(([k, s, p]) => ({
    kernel: k,
    stride: s,
    padding: p,
    "output size": Math.floor((28 + 2 * p - k) / s) + 1,
    "F.conv2d shape": `[${
      F.conv2d(zeros([1, 1, 28, 28]), zeros([1, 1, k, k]), null, { stride: s, padding: p })
        .shape.join(", ")
    }]`,
  })),
  { title: "Output sizes on a 28x28 input" },
);

step(
  "Pooling, flattening and a linear head",
  md`
  With several input channels, each output channel has one $k \times k$ kernel per
  input channel, and sums over all of them: a weight of shape
  $[C_{out}, C_{in}, k, k]$ turns $C_{in}$ channels into $C_{out}$.

  **Max pooling** keeps the largest value of each window (here $2 \times 2$ windows, stride 2):
  it halves height and width, and a feature found anywhere in a window survives a small shift.
  **Average pooling** keeps the mean instead.

  At the end of a convolutional network, **flattening** turns the $[N, C, H, W]$ maps of each image
  into one vector of $C \cdot H \cdot W$ numbers, and a **linear head** maps it to one score per
  class, the *logits*. A softmax turns logits into probabilities,
  $p_k = e^{z_k} / \sum_j e^{z_j}$, but training with \`F.crossEntropy\` takes the logits
  directly (it computes the softmax inside, in a numerically safe way).
`,
);
const small = tensor([
  [1, 3, 2, 0],
  [4, 2, 1, 1],
  [0, 1, 5, 7],
  [2, 2, 6, 1],
]).reshape([1, 1, 4, 4]);
show.table([
  { operation: "input", values: JSON.stringify(await small.reshape([4, 4]).toArray()) },
  {
    operation: "F.maxPool2d(x, 2)",
    values: JSON.stringify(await F.maxPool2d(small, 2).reshape([2, 2]).toArray()),
  },
  {
    operation: "F.avgPool2d(x, 2)",
    values: JSON.stringify(await F.avgPool2d(small, 2).reshape([2, 2]).toArray()),
  },
]);

// Flatten 16 maps of 7x7 per image, then a linear head to 10 class scores.
const maps = randn([2, 16, 7, 7]);
const flat = maps.flatten(1);
const head = new nn.Linear(16 * 7 * 7, 10);
const logits = head.forward(flat);
const probabilities = logits.softmax(1);
show.table([
  { tensor: "maps", shape: `[${maps.shape.join(", ")}]` },
  { tensor: "maps.flatten(1)", shape: `[${flat.shape.join(", ")}]` },
  { tensor: "head.forward(flat)", shape: `[${logits.shape.join(", ")}]` },
  { tensor: "logits.softmax(1)", shape: `[${probabilities.shape.join(", ")}]` },
]);
const rowSums = await probabilities.sum(1).data();
show.value(
  "each row of probabilities sums to",
  Array.from(rowSums, (s) => s.toFixed(4)).join(", "),
);

step(
  "The shapes through a 28x28 network",
  md`
  Our network for $28 \times 28$ grey images (one channel) has two blocks of
  *convolution, ReLU, max pooling*, then the flattening and the linear head:

  - a $3 \times 3$ convolution with padding 1 keeps the size (by the formula,
    $\lfloor (28 + 2 - 3) / 1 \rfloor + 1 = 28$) and turns 1 channel into 8;
  - pooling halves it to $14 \times 14$; the second block gives 16 channels of $7 \times 7$;
  - $16 \cdot 7 \cdot 7 = 784$ numbers go into the linear head, which gives 10 logits.

  The table follows one batch of 64 images through the layers. Almost all the parameters sit in
  the linear head; a convolution's are few, because it reuses one small kernel at every position.
`,
);
const model = new nn.Sequential(
  new nn.Conv2d(1, 8, 3, { padding: 1 }),
  new nn.ReLU(),
  new nn.MaxPool2d(2),
  new nn.Conv2d(8, 16, 3, { padding: 1 }),
  new nn.ReLU(),
  new nn.MaxPool2d(2),
  new nn.Flatten(),
  new nn.Linear(16 * 7 * 7, 10),
).to(device);

let activations = zeros([64, 1, 28, 28], { device });
const layerRows: TableRow[] = [{
  layer: "input",
  "output shape": `[${activations.shape.join(", ")}]`,
}];
for (const [name, layer] of model.namedChildren()) {
  activations = layer.forward(activations);
  layerRows.push({
    layer: `${name}: ${layer.constructor.name}`,
    "output shape": `[${activations.shape.join(", ")}]`,
    parameters: layer.parameters().reduce((sum, p) => sum + p.numel(), 0),
  });
}
show.table(layerRows, { columns: ["layer", "output shape", "parameters"] });
show.value("parameters in total", model.parameters().reduce((sum, p) => sum + p.numel(), 0));

step(
  "The backward pass of a convolution",
  md`
  Take stride 1, no padding (padding is zeros added to $x$ first) and write the
  convolution with a batch index $n$ and channels: output channel $o$ at position $(i, j)$ is

  $$y_{n,o,i,j} = b_o + \sum_{c} \sum_{u,v} w_{o,c,u,v}\; x_{n,c,\,i+u,\,j+v} .$$

  Let $g = \partial L / \partial y$ be the gradient that reaches the output. Each weight is used
  at every output position, so its gradient sums over them:

  $$\frac{\partial L}{\partial w_{o,c,u,v}}
    = \sum_{n,i,j} g_{n,o,i,j}\; x_{n,c,\,i+u,\,j+v} ,$$

  which is a **correlation of the input with the output gradient**: the same sliding-window sum as
  the forward pass, with $g$ in the role of the kernel (and the batch in the role of the channels).
  The bias gradient is $\sum_{n,i,j} g_{n,o,i,j}$.

  An input pixel $x_{n,c,r,t}$ was used by every output position whose window covers it, that is
  by $(i, j) = (r - u, t - v)$ for each kernel offset $(u, v)$:

  $$\frac{\partial L}{\partial x_{n,c,r,t}}
    = \sum_{o} \sum_{u,v} g_{n,o,\,r-u,\,t-v}\; w_{o,c,u,v} .$$

  The indices run *backwards* through the kernel ($r - u$ instead of $i + u$): this is a
  correlation of $g$ with the kernel **flipped** by 180 degrees, input and output channels
  swapped, over $g$ padded by $k - 1$ zeros on each side (a "full" convolution, because near the
  border only part of the kernel overlaps $g$).

  This step computes the three formulas with \`F.conv2d\` itself and compares them with what
  autograd stored in \`.grad\`, in float64 so that only rounding can differ. Finally
  \`gradcheck\` compares autograd with finite differences, $(L(w + \epsilon) - L(w - \epsilon)) /
  2\epsilon$, entry by entry.
`,
);
const options = { dtype: "float64", requiresGrad: true } as const;
const input = randn([2, 3, 6, 6], options);
const weight = randn([4, 3, 3, 3], options);
const bias = randn([4], options);
const output = F.conv2d(input, weight, bias);
// A random upstream gradient g: with L = sum(y * g), dL/dy is exactly g.
const g = randn(output.shape as number[], { dtype: "float64" });
output.mul(g).sum().backward();

// Weight gradient: correlate the input with g, batch taking the place of channels.
// input^T is [3 channels, 2 images, 6, 6]; g^T is [4, 2 images, 4, 4] used as the kernel.
const gradWeight = F.conv2d(input.transpose(0, 1), g.transpose(0, 1)).transpose(0, 1);
// Input gradient: g padded by k - 1 = 2, correlated with the flipped kernel whose
// input and output channels are swapped ([3, 4, 3, 3]).
const reversed = tensor([2, 1, 0], { dtype: "int32" });
const flipped = weight.detach().indexSelect(2, reversed).indexSelect(3, reversed);
const gradInput = F.conv2d(g, flipped.transpose(0, 1), null, { padding: 2 });
const gradBias = g.sum([0, 2, 3]);

const gradients = [
  { gradient: "dL/dweight", shape: weight.shape, formula: gradWeight, autograd: weight.grad! },
  { gradient: "dL/dinput", shape: input.shape, formula: gradInput, autograd: input.grad! },
  { gradient: "dL/dbias", shape: bias.shape, formula: gradBias, autograd: bias.grad! },
];
const gradientRows: TableRow[] = [];
let backwardMaxDiff = 0;
for (const { gradient, shape, formula, autograd } of gradients) {
  const diff = Math.max(...Array.from(await formula.sub(autograd).abs().data()));
  backwardMaxDiff = Math.max(backwardMaxDiff, diff);
  gradientRows.push({
    gradient,
    shape: `[${shape.join(", ")}]`,
    "largest |formula - autograd|": diff.toExponential(2),
  });
}
show.table(gradientRows);
show.value("largest difference, formulas vs autograd", backwardMaxDiff);

// Autograd against finite differences, on a smaller convolution with stride and padding.
const checked = await gradcheck(
  (input, w) => F.conv2d(input, w, null, { stride: 2, padding: 1 }),
  [randn([1, 2, 5, 5], options), randn([3, 2, 3, 3], options)],
);
show.value("gradcheck (stride 2, padding 1): entries checked", checked);

step(
  "Fashion-MNIST",
  md`
  Fashion-MNIST holds $28 \times 28$ grey pictures of clothes in 10 classes, with
  60,000 training and 10,000 test images. The course ships a balanced subset (12,000 training and
  2,000 test images) in the original IDX files; \`--data\` points the lesson at the full set.
  Pixels are scaled to $[0, 1]$; labels are class indices $0..9$.
`,
);
// Any file of the folder tells where the folder is (the shipped subset, or --data).
const folder = new URL(".", dataUrl("fashion-mnist/train-images-idx3-ubyte.gz"));
// Quick runs train on at most 12,000 images (the whole shipped subset), for one epoch.
const train = await loadFashionMnist(folder, { train: true, limit: quick ? 12000 : undefined });
const test = await loadFashionMnist(folder, { train: false });
const classNames = train.classNames;
// The images and labels go where the network computes: the CPU or the GPU.
const trainImages = train.images.to(device);
const trainLabels = train.labels.to(device);
const testImages = test.images.to(device);
const testLabels = test.labels.to(device);

show.table([
  {
    set: "training",
    images: `[${train.images.shape.join(", ")}]`,
    labels: `[${train.labels.shape.join(", ")}]`,
  },
  {
    set: "test",
    images: `[${test.images.shape.join(", ")}]`,
    labels: `[${test.labels.shape.join(", ")}]`,
  },
]);
const firstPixels = await train.images.narrow(0, 0, 20).data();
const firstLabels = await train.labels.narrow(0, 0, 20).data();
show.images(
  "The first 20 training images",
  Array.from(firstLabels, (label, i) => ({
    label: classNames[label],
    width: 28,
    height: 28,
    values: Array.from(firstPixels.subarray(i * 784, (i + 1) * 784)),
  })),
  { columns: 10 },
);

step(
  "Training the network",
  md`
  The training loop is the skeleton of lesson 1, with two changes for
  classification: the loss is the **cross-entropy** of the logits against the true class,
  $L = -\log p_{\text{true class}}$, and we also count how often the largest logit is the right
  class (the **accuracy**). Adam at learning rate $2 \cdot 10^{-3}$, batches of 64, a new
  random order each epoch.
`,
);
const epochs = quick ? 1 : 3;
const batchSize = 64;
const lr = 2e-3;
const optimizer = new optim.Adam(model.parameters(), { lr });
const lossFn = new nn.CrossEntropyLoss();
const trainLoader = new data.DataLoader(new data.TensorDataset(trainImages, trainLabels), {
  batchSize,
  shuffle: true,
});

const lossPlot = show.plot({ title: "Training loss", xLabel: "step", yLabel: "cross-entropy" });
const start = performance.now();
let steps = 0;
for (let epoch = 1; epoch <= epochs; epoch++) {
  const batches = show.progress(trainLoader, `epoch ${epoch}/${epochs}`);
  let [lossSum, correct, seen] = [0, 0, 0];
  for (const [X, y] of batches) {
    optimizer.zeroGrad();
    const logits = model.forward(X);
    const loss = lossFn.forward(logits, y);
    loss.backward();
    optimizer.step();

    // Running totals for the progress bar: the loss is a mean over the batch.
    const lossValue = await loss.item();
    lossSum += lossValue * y.shape[0];
    correct += await logits.argmax(1).eq(y).sum().item(); // right answers in the batch
    seen += y.shape[0];
    steps++;
    if (steps % 10 === 0) lossPlot.push("training loss", steps, lossValue);
    batches.note({
      loss: (lossSum / seen).toFixed(3),
      accuracy: `${(100 * correct / seen).toFixed(1)}%`,
    });
  }
}
const trainSeconds = (performance.now() - start) / 1000;

step(
  "Test accuracy and the confusion matrix",
  md`
  The test images were never used for training, so the accuracy on them estimates
  how the network does on new pictures. The **confusion matrix** counts, for each true class (row),
  how often each class was predicted (column): the diagonal holds the correct answers, and the
  large numbers off the diagonal show which classes the network mixes up. On Fashion-MNIST the
  usual suspects are the upper-body garments: shirt, T-shirt, pullover and coat.
`,
);
model.eval(); // evaluation mode (matters for layers such as dropout and batch norm)

// Predict batch by batch under noGrad: no graph is needed to evaluate.
const testLoader = new data.DataLoader(new data.TensorDataset(testImages, testLabels), {
  batchSize: 64,
});
const predicted: number[] = [];
const actual: number[] = [];
for (const [X, y] of testLoader) {
  using _ = noGrad();
  predicted.push(...await model.forward(X).argmax(1).data());
  actual.push(...await y.data());
}
const confusion = classNames.map(() => classNames.map(() => 0));
actual.forEach((label, i) => confusion[label][predicted[i]]++);
const rightAnswers = actual.filter((label, i) => label === predicted[i]).length;
const accuracy = rightAnswers / actual.length;

show.value(
  "test accuracy",
  `${(100 * accuracy).toFixed(1)}% (${rightAnswers} of ${actual.length})`,
);
const short = classNames.map((name) => name.split("/")[0].replace("Ankle boot", "Boot"));
show.table(
  confusion.map((row, k) => {
    const cells: TableRow = { "true \\ predicted": short[k] };
    row.forEach((count, j) => (cells[short[j]] = count));
    cells.recall = `${(100 * row[k] / row.reduce((a, b) => a + b, 0)).toFixed(0)}%`;
    return cells;
  }),
  { title: "Confusion matrix (rows: true class, columns: predicted class)" },
);

step(
  "What the network learned to see",
  md`
  The 8 kernels of the first convolution are $3 \times 3$ pictures (blue negative, red
  positive). Many look like the edge detector of the first step, at various angles: the network
  found edges useful without being told. The feature maps are what those kernels (after ReLU)
  make of one test image: each first-layer channel lights up on its own kind of edge or area;
  the 16 second-layer channels, at half the resolution, combine them into larger parts.
`,
);
/** The maps of a [count, height, width] tensor as labelled pictures. */
async function toImages(maps: Tensor, label: (i: number) => string): Promise<ImageData2D[]> {
  const [count, height, width] = maps.shape;
  const values = await maps.data();
  const images: ImageData2D[] = [];
  for (let i = 0; i < count; i++) {
    const size = height * width;
    images.push({
      label: label(i),
      width,
      height,
      values: Array.from(values.subarray(i * size, (i + 1) * size)),
    });
  }
  return images;
}

const conv1 = model.at(0) as nn.Conv2d;
show.images(
  "First-layer kernels",
  await toImages(conv1.weight.reshape([8, 3, 3]), (i) => `kernel ${i}`),
  { colormap: "diverging", columns: 8 },
);

// Run one test image through the layers, keeping what comes out of each ReLU.
const sample = testImages.narrow(0, 0, 1);
const sampleLabel = classNames[(await testLabels.data())[0]];
const afterReLU: Tensor[] = withNoGrad(() => {
  const kept: Tensor[] = [];
  let features = sample;
  for (const layer of model.children()) {
    features = layer.forward(features);
    if (layer instanceof nn.ReLU) kept.push(features);
  }
  return kept;
});
const [afterBlock1, afterBlock2] = afterReLU; // [1, 8, 28, 28] and [1, 16, 14, 14]
show.images("The test image", await toImages(sample.reshape([1, 28, 28]), () => sampleLabel));
show.images(
  "Feature maps after the first convolution and ReLU",
  await toImages(afterBlock1.reshape([8, 28, 28]), (i) => `channel ${i}`),
  { columns: 8 },
);
show.images(
  "Feature maps after the second convolution and ReLU",
  await toImages(afterBlock2.reshape([16, 14, 14]), (i) => `channel ${i}`),
  { columns: 8 },
);

show.summary([
  { label: "convolution by loops vs F.conv2d", value: `largest difference ${loopsMaxDiff}` },
  {
    label: "conv backward by formula vs autograd",
    value: `largest difference ${backwardMaxDiff.toExponential(1)}`,
  },
  {
    label: "test accuracy",
    value: `${(100 * accuracy).toFixed(1)}% on ${testImages.shape[0]} test images ` +
      `(trained ${trainSeconds.toFixed(0)} s)`,
  },
]);
