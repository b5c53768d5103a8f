/**
 * Lesson 1: regression. Tensors and autograd on the smallest case, a line fitted by hand-written
 * gradient descent, the same fit with the framework's building blocks, and the standard training
 * skeleton on a small regression problem.
 *
 * @module
 */
import { lesson, md } from "../format.ts";
import { data, F, linspace, nn, noGrad, optim, rand, randn, tensor, zeros } from "../../mod.ts";

const { step, show, quick, device } = await lesson(import.meta, {
  number: 1,
  title: "Regression: tensors, gradients and a first training loop",
  description: "From one gradient computed by hand to a multi-layer network trained with Adam: " +
    "the loop that every later lesson reuses.",
});

step(
  "Tensors",
  md`
  A **tensor** is an array of numbers with a *shape*: a scalar has shape $[\,]$, a vector of 3
  numbers $[3]$, a matrix of 2 rows and 3 columns $[2, 3]$. Every value a network reads, computes
  or learns is a tensor, and every operation on tensors (add, multiply, matrix product, sum over an
  axis, ...) makes a new tensor.

  Reading values back is asynchronous (\`await t.toArray()\`), because on a GPU the numbers live in
  the GPU's memory and the CPU has to wait for them.
`,
);
const X = tensor([[1, 2, 3], [4, 5, 6]]);
const examples = {
  "X": X,
  "X.sum(1)": X.sum(1), // sum over dimension 1: one sum per row
  "X.mean()": X.mean(), // no dimension: over everything, a scalar
  "X.T": X.T, // transpose
  "X.matmul(X.T)": X.matmul(X.T), // matrix product [2, 3] x [3, 2]
  "X.mul(10).add(1)": X.mul(10).add(1), // elementwise, with scalars
};
const rows = [];
for (const [expression, t] of Object.entries(examples)) {
  const values = JSON.stringify(await t.toArray());
  rows.push({ expression, shape: `[${t.shape.join(", ")}]`, dtype: t.dtype, values });
}
show.table(rows, { title: "A few operations on X" });

step(
  "One gradient, by hand and by backward()",
  md`
  Training a network means changing its parameters so that a *loss* goes down, and for that we
  need the derivative of the loss with respect to each parameter. Take the smallest case: one
  parameter $w$, one input $x$, one target $y$, and the squared error

  $$L(w) = (w x - y)^2 .$$

  With $w = 3$, $x = 2$, $y = 5$ the prediction is $w x = 6$, the error $w x - y = 1$ and the loss
  $L = 1$. The chain rule gives the derivative:

  $$\frac{dL}{dw} = 2 (w x - y) \cdot x = 2 \cdot 1 \cdot 2 = 4 .$$

  A tensor created with \`requiresGrad: true\` records every operation applied to it. Calling
  \`loss.backward()\` walks that record backwards, applies the same chain rule step by step, and
  stores $dL/dw$ in \`w.grad\`.

  Look at the last number: gradients **accumulate**. A second \`backward()\` *adds* its gradient to
  \`w.grad\` instead of replacing it. This is on purpose (a parameter used in two places gets the
  sum of both contributions), and it is why every training loop clears the gradients before the
  next step.
`,
);
const w = tensor(3, { requiresGrad: true });
const x = tensor(2);
const y = tensor(5);

const loss = w.mul(x).sub(y).pow(2); // (w*x - y)^2
loss.backward();

show.value("loss (w*x - y)^2", await loss.item());
show.value("dL/dw by hand, 2(w*x - y)*x", 2 * (3 * 2 - 5) * 2);
show.value("dL/dw by backward()", await w.grad!.item());

// The same computation and backward() again, without clearing w.grad first.
w.mul(x).sub(y).pow(2).backward();
show.value("w.grad after a second backward()", await w.grad!.item());

step(
  "A line fitted by hand-written gradient descent",
  md`
  Now 100 noisy points on the line $y = 2x + 1$, and a model with two parameters,
  $\hat y = w x + b$. The loss is the **mean squared error** over the $N$ points,

  $$L(w, b) = \frac{1}{N} \sum_{i=1}^{N} (\hat y_i - y_i)^2 ,$$

  and **gradient descent** repeats one step: compute $L$, get $\partial L / \partial w$ and
  $\partial L / \partial b$ from \`backward()\`, and move each parameter a little against its
  gradient, $w \leftarrow w - \eta \, \partial L / \partial w$, with the *learning rate* $\eta$
  (\`lr\`).

  Two details matter:

  - the update runs under \`noGrad()\`. Changing a parameter in place is not part of the model,
    and the framework refuses to do it while it records: \`assign\` on a tensor that requires
    grad throws outside \`noGrad()\`, as PyTorch's in-place operations on such a tensor do. Under
    \`noGrad()\` nothing is recorded, and the next \`backward()\` sees only the next forward pass;
  - after the update the gradients are cleared with \`zeroGrad()\`: without it, each step would use
    the sum of all gradients so far (see the previous step) and the fit would overshoot.
`,
);
// 100 points on y = 2x + 1 with a little Gaussian noise, on the run's device.
const lineX = linspace(-1, 1, 100, { device }).reshape([100, 1]);
const lineY = lineX.mul(2).add(1).add(randn([100, 1], { device }).mul(0.1));

// The parameters start at zero and record the operations applied to them.
const weight = zeros([1], { requiresGrad: true, device });
const bias = zeros([1], { requiresGrad: true, device });
const lr = 0.1;

const descentPlot = show.plot({
  title: "Gradient descent by hand",
  xLabel: "step",
  yLabel: "MSE loss",
  logY: true,
});
for (let epoch = 0; epoch < 100; epoch++) {
  const yHat = lineX.mul(weight).add(bias);
  const loss = yHat.sub(lineY).square().mean();
  loss.backward();
  {
    // Change the parameters in place, outside the graph.
    using _ = noGrad();
    weight.assign(weight.sub(weight.grad!.mul(lr)));
    bias.assign(bias.sub(bias.grad!.mul(lr)));
  }
  // backward() adds into .grad: clear it before the next step.
  weight.zeroGrad();
  bias.zeroGrad();
  descentPlot.push("training loss", epoch, await loss.item());
}

const byHand = { w: await weight.item(), b: await bias.item() };
show.value("w found by hand", byHand.w);
show.value("b found by hand", byHand.b);
const xs = Array.from(await lineX.data());
show.plot({
  title: "The points and the fitted line",
  xLabel: "x",
  yLabel: "y",
  points: true,
  series: [
    { name: "data", x: xs, y: Array.from(await lineY.data()) },
    { name: "w x + b", x: xs, y: xs.map((x) => byHand.w * x + byHand.b) },
  ],
});

step(
  "The same fit with nn.Linear, F.mseLoss and optim.SGD",
  md`
  The three pieces of the hand-written loop all exist as building blocks:

  - \`nn.Linear(1, 1)\` holds $w$ and $b$ (as \`weight\` and \`bias\`) and computes $x w^T + b$;
    \`model.parameters()\` lists them;
  - \`F.mseLoss(yHat, y)\` is the mean squared error;
  - \`optim.SGD(parameters, { lr })\` does the update: \`optimizer.step()\` is the
    $w \leftarrow w - \eta \, \nabla_w L$ of the last step (under \`noGrad\`), and
    \`optimizer.zeroGrad()\` clears every parameter's gradient.

  The loop shrinks to four lines that stay the same for every model in this course:
  *zero the gradients, compute the loss, backward, step*. The layer starts from small random
  values rather than zeros, yet lands on the same line.
`,
);
const line = new nn.Linear(1, 1).to(device);
const sgd = new optim.SGD(line.parameters(), { lr: 0.1 });

for (let epoch = 0; epoch < 100; epoch++) {
  sgd.zeroGrad();
  const loss = F.mseLoss(line.forward(lineX), lineY);
  loss.backward();
  sgd.step();
}

const learned = { w: await line.weight.item(), b: await line.bias!.item() };
show.table([
  { parameter: "w", true: 2, "by hand": byHand.w.toFixed(4), "nn.Linear": learned.w.toFixed(4) },
  { parameter: "b", true: 1, "by hand": byHand.b.toFixed(4), "nn.Linear": learned.b.toFixed(4) },
]);

step(
  "The training skeleton: data",
  md`
  Every training script from here on has the same parts: **data**, a **model**, an
  **optimizer**, a **loss**, the **loop**, and an **evaluation**. We build them one by one on a
  problem small enough to train in seconds.

  The data: 10,000 evenly spaced numbers in $[0, 1]$, cut into 1,000 samples of 10 features each
  ($X$ has shape $[1000, 10]$). The target of a sample is the mean of the sigmoid of its features
  plus uniform noise:

  $$y = \frac{1}{10} \sum_{j=1}^{10} \sigma(x_j) + 0.05\, R, \qquad
  \sigma(t) = \frac{1}{1 + e^{-t}}, \quad R \sim U[0, 1) .$$

  A \`TensorDataset\` pairs row $i$ of $X$ with row $i$ of $y$; a \`DataLoader\` hands them out in
  **mini-batches** of 16, in a new random order each epoch (\`shuffle: true\`), so that each step
  sees a small, different slice of the data. The noise sets a floor: no model can predict
  $0.05 R$, whose variance is $0.05^2 / 12 \approx 0.00021$, so the mean squared error cannot go
  much below that.
`,
);
const batchSize = 16;
const inputs = linspace(0, 1, 10000, { device }).reshape([1000, 10]);
const targets = inputs.sigmoid().mean(1, true).add(rand([1000, 1], { device }).mul(0.05));

const dataset = new data.TensorDataset(inputs, targets);
const trainLoader = new data.DataLoader(dataset, { batchSize, shuffle: true });

show.table([
  {
    tensor: "inputs",
    shape: `[${inputs.shape.join(", ")}]`,
    meaning: "1000 samples of 10 features",
  },
  { tensor: "targets", shape: `[${targets.shape.join(", ")}]`, meaning: "one target per sample" },
]);
show.value("samples in the dataset", dataset.length);
show.value("batches per epoch", trainLoader.length);

step(
  "The training skeleton: model, optimizer, loss",
  md`
  The model is a **multi-layer perceptron**: a linear layer from 10 features to 128, a sigmoid,
  another linear layer 128 to 128, a sigmoid, and a last linear layer down to one output,

  $$\hat y = W_3\, \sigma(W_2\, \sigma(W_1 x + b_1) + b_2) + b_3 .$$

  \`nn.Sequential\` chains the layers; its parameters are those of its layers. The optimizer is
  **Adam** with learning rate $10^{-3}$: like SGD it moves against the gradient, but it scales
  each parameter's step by running averages of that parameter's past gradients, which makes one
  learning rate work for most problems. The loss is the mean squared error again.
`,
);
const model = new nn.Sequential(
  new nn.Linear(10, 128),
  new nn.Sigmoid(),
  new nn.Linear(128, 128),
  new nn.Sigmoid(),
  new nn.Linear(128, 1),
).to(device);
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
const lossFn = new nn.MSELoss();

const parameterRows = model.namedParameters().map(([name, p]) => ({
  parameter: name,
  shape: `[${p.shape.join(", ")}]`,
  count: p.numel(),
}));
show.table(parameterRows, { title: "Parameters" });
show.value("parameters in total", parameterRows.reduce((sum, row) => sum + row.count, 0));

step(
  "The training skeleton: the loop",
  md`
  One **epoch** is one pass over the training data; each **step** takes one batch through the
  four lines of the previous section. The progress bar shows the mean loss of the epoch as it
  trains, and the plot the mean loss of each epoch on a logarithmic scale.
`,
);
const epochs = quick ? 20 : 100;
const lossPlot = show.plot({
  title: "Training loss",
  xLabel: "epoch",
  yLabel: "mean MSE of the epoch",
  logY: true,
});
const training = show.range(epochs, "epochs");
for (const epoch of training) {
  let lossSum = 0;
  for (const [X, y] of trainLoader) {
    optimizer.zeroGrad();
    const yHat = model.forward(X);
    const loss = lossFn.forward(yHat, y);
    loss.backward();
    optimizer.step();
    lossSum += await loss.item();
  }
  const epochLoss = lossSum / trainLoader.length;
  lossPlot.push("training loss", epoch + 1, epochLoss);
  training.note({ loss: epochLoss.toFixed(5) });
}

step(
  "The training skeleton: evaluation",
  md`
  Evaluation runs the model on all the data under \`noGrad()\` (no graph is needed, which saves
  time and memory) and reports the **total loss**, the mean squared error over all 1,000 samples.
  The plot shows, for each sample, the target, the prediction drawn over it, and the absolute
  error $|\hat y - y|$: the predictions run through the middle of the band of noisy targets, so
  the error is at most about half the width of the band ($0.025$), plus what the model misses.

  Here the model is evaluated on the data it was trained on, to show the skeleton. Whether a
  model does well on data it has **not** seen is the question of the next lesson.
`,
);
let predictions;
{
  using _ = noGrad();
  predictions = model.forward(inputs);
}
const totalLoss = await lossFn.forward(predictions, targets).item();
const noiseFloor = 0.05 ** 2 / 12;
show.value("total loss (MSE over 1000 samples)", totalLoss);
show.value("noise floor 0.05^2 / 12", noiseFloor);

const absError = Array.from(await predictions.sub(targets).abs().data());
show.value("largest absolute error", Math.max(...absError));
const index = absError.map((_, i) => i);
show.plot({
  title: "Target, prediction and absolute error",
  xLabel: "sample",
  yLabel: "value",
  // The noisy targets first, so that the smooth prediction is drawn over them.
  series: [
    { name: "target", x: index, y: Array.from(await targets.data()) },
    { name: "prediction", x: index, y: Array.from(await predictions.data()) },
    { name: "absolute error", x: index, y: absError },
  ],
});

show.summary([
  {
    label: "line fitted by hand (true w = 2, b = 1)",
    value: `w = ${byHand.w.toFixed(3)}, b = ${byHand.b.toFixed(3)}`,
  },
  {
    label: "MLP total loss (MSE)",
    value: `${totalLoss.toFixed(6)} (noise floor ${noiseFloor.toFixed(6)})`,
  },
]);
