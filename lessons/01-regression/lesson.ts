/**
 * Lesson 1: regression. Tensors and autograd on the smallest case, a line fitted by hand-written
 * gradient descent, the same fit with the framework's building blocks, and the standard training
 * skeleton on a small regression problem.
 *
 * @module
 */
import { defineLesson } from "../format.ts";
import {
  data,
  F,
  linspace,
  nn,
  noGrad,
  optim,
  rand,
  randn,
  type Tensor,
  tensor,
  zeros,
} from "../../mod.ts";

export default defineLesson({
  number: 1,
  slug: "regression",
  title: "Regression: tensors, gradients and a first training loop",
  description:
    "From one gradient computed by hand to a multi-layer network trained with Adam: the loop " +
    "that every later lesson reuses.",
  steps: [
    {
      title: "Tensors",
      prose: `A **tensor** is an array of numbers with a *shape*: a scalar has shape $[\\,]$, a
vector of 3 numbers $[3]$, a matrix of 2 rows and 3 columns $[2, 3]$. Every value a network
reads, computes or learns is a tensor, and every operation on tensors (add, multiply, matrix
product, sum over an axis, ...) makes a new tensor.

Reading values back is asynchronous (\`await t.toArray()\`), because on a GPU the numbers live
in the GPU's memory and the CPU has to wait for them.`,
      run: async (out) => {
        const X = tensor([[1, 2, 3], [4, 5, 6]]);
        const examples: [string, Tensor][] = [
          ["X", X],
          ["X.sum(1)", X.sum(1)], // sum over dimension 1: one sum per row
          ["X.mean()", X.mean()], // no dimension: over everything, a scalar
          ["X.T", X.T], // transpose
          ["X.matmul(X.T)", X.matmul(X.T)], // matrix product [2, 3] x [3, 2]
          ["X.mul(10).add(1)", X.mul(10).add(1)], // elementwise, with scalars
        ];
        const rows = [];
        for (const [expression, t] of examples) {
          const values = JSON.stringify(await t.toArray());
          rows.push({ expression, shape: `[${t.shape.join(", ")}]`, dtype: t.dtype, values });
        }
        out.table(rows, { title: "A few operations on X" });
      },
    },
    {
      title: "One gradient, by hand and by backward()",
      prose: `Training a network means changing its parameters so that a *loss* goes down, and
for that we need the derivative of the loss with respect to each parameter. Take the smallest
case: one parameter $w$, one input $x$, one target $y$, and the squared error

$$L(w) = (w x - y)^2 .$$

With $w = 3$, $x = 2$, $y = 5$ the prediction is $w x = 6$, the error $w x - y = 1$ and the loss
$L = 1$. The chain rule gives the derivative:

$$\\frac{dL}{dw} = 2 (w x - y) \\cdot x = 2 \\cdot 1 \\cdot 2 = 4 .$$

A tensor created with \`requiresGrad: true\` records every operation applied to it. Calling
\`loss.backward()\` walks that record backwards, applies the same chain rule step by step, and
stores $dL/dw$ in \`w.grad\`.

Note the last line of output: gradients **accumulate**. A second \`backward()\` *adds* its
gradient to \`w.grad\` instead of replacing it. This is on purpose (a parameter used in two places
gets the sum of both contributions), and it is why every training loop clears the gradients
before the next step.`,
      run: async (out) => {
        const w = tensor(3, { requiresGrad: true });
        const x = tensor(2);
        const y = tensor(5);

        const loss = w.mul(x).sub(y).pow(2); // (w*x - y)^2
        loss.backward();

        out.value("loss (w*x - y)^2", await loss.item());
        out.value("dL/dw by hand, 2(w*x - y)*x", 2 * (3 * 2 - 5) * 2);
        out.value("dL/dw by backward()", await w.grad!.item());

        // The same computation and backward() again, without clearing w.grad first.
        w.mul(x).sub(y).pow(2).backward();
        out.value("w.grad after a second backward()", await w.grad!.item());
      },
    },
    {
      title: "A line fitted by hand-written gradient descent",
      prose: `Now 100 noisy points on the line $y = 2x + 1$, and a model with two parameters,
$\\hat y = w x + b$. The loss is the **mean squared error** over the $N$ points,

$$L(w, b) = \\frac{1}{N} \\sum_{i=1}^{N} (\\hat y_i - y_i)^2 ,$$

and **gradient descent** repeats one step: compute $L$, get $\\partial L / \\partial w$ and
$\\partial L / \\partial b$ from \`backward()\`, and move each parameter a little against its
gradient, $w \\leftarrow w - \\eta \\, \\partial L / \\partial w$, with the *learning rate*
$\\eta$ (\`lr\`).

Two details matter:

- the update runs under \`noGrad()\`: it changes the parameters, it is not part of the model, and
  recording it would make the next \`backward()\` differentiate through every past update;
- after the update the gradients are cleared with \`zeroGrad()\`: without it, each step would use
  the sum of all gradients so far (see the previous step) and the fit would overshoot.`,
      run: async (out, ctx) => {
        // 100 points on y = 2x + 1 with a little Gaussian noise, on the run's device.
        const device = ctx.device;
        const X = linspace(-1, 1, 100, { device }).reshape([100, 1]);
        const y = X.mul(2).add(1).add(randn([100, 1], { device }).mul(0.1));
        ctx.state.line = { X, y };

        // The parameters start at zero and record the operations applied to them.
        const w = zeros([1], { requiresGrad: true, device });
        const b = zeros([1], { requiresGrad: true, device });
        const lr = 0.1;
        const epochs = 100;

        const lossPlot = out.plot({
          title: "Gradient descent by hand",
          xLabel: "step",
          yLabel: "MSE loss",
          logY: true,
        });
        for (let epoch = 0; epoch < epochs; epoch++) {
          const yHat = X.mul(w).add(b);
          const loss = yHat.sub(y).square().mean();
          loss.backward();
          {
            // Change the parameters in place, outside the graph.
            using _ = noGrad();
            w.assign(w.sub(w.grad!.mul(lr)));
            b.assign(b.sub(b.grad!.mul(lr)));
          }
          // backward() adds into .grad: clear it before the next step.
          w.zeroGrad();
          b.zeroGrad();
          lossPlot.push("training loss", epoch, await loss.item());
        }

        const learned = { w: await w.item(), b: await b.item() };
        ctx.state.lineByHand = learned;
        out.table([
          { parameter: "w", true: 2, learned: learned.w.toFixed(4) },
          { parameter: "b", true: 1, learned: learned.b.toFixed(4) },
        ]);
        const xs = Array.from(await X.data());
        out.plot({
          title: "The points and the fitted line",
          xLabel: "x",
          yLabel: "y",
          points: true,
          series: [
            { name: "data", x: xs, y: Array.from(await y.data()) },
            { name: "w x + b", x: xs, y: xs.map((x) => learned.w * x + learned.b) },
          ],
        });
      },
    },
    {
      title: "The same fit with nn.Linear, F.mseLoss and optim.SGD",
      prose: `The three pieces of the hand-written loop all exist as building blocks:

- \`nn.Linear(1, 1)\` holds $w$ and $b$ (as \`weight\` and \`bias\`) and computes $x w^T + b$;
  \`model.parameters()\` lists them;
- \`F.mseLoss(yHat, y)\` is the mean squared error;
- \`optim.SGD(parameters, { lr })\` does the update: \`optimizer.step()\` is the
  $w \\leftarrow w - \\eta \\, \\nabla_w L$ of the last step (under \`noGrad\`), and
  \`optimizer.zeroGrad()\` clears every parameter's gradient.

The loop shrinks to four lines that stay the same for every model in this course:
*zero the gradients, compute the loss, backward, step*. The layer starts from small random
values rather than zeros, yet lands on the same line.`,
      run: async (out, ctx) => {
        const { X, y } = ctx.state.line as { X: Tensor; y: Tensor };
        const model = new nn.Linear(1, 1).to(ctx.device);
        const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
        const epochs = 100;

        for (let epoch = 0; epoch < epochs; epoch++) {
          optimizer.zeroGrad();
          const loss = F.mseLoss(model.forward(X), y);
          loss.backward();
          optimizer.step();
        }

        const byHand = ctx.state.lineByHand as { w: number; b: number };
        const w = await model.weight.item();
        const b = await model.bias!.item();
        out.table([
          { parameter: "w", true: 2, "by hand": byHand.w.toFixed(4), "nn.Linear": w.toFixed(4) },
          { parameter: "b", true: 1, "by hand": byHand.b.toFixed(4), "nn.Linear": b.toFixed(4) },
        ]);
      },
    },
    {
      title: "The training skeleton: data",
      prose: `Every training script from here on has the same parts: **data**, a **model**, an
**optimizer**, a **loss**, the **loop**, and an **evaluation**. We build them one by one on a
problem small enough to train in seconds.

The data: 10,000 evenly spaced numbers in $[0, 1]$, cut into 1,000 samples of 10 features each
($X$ has shape $[1000, 10]$). The target of a sample is the mean of the sigmoid of its features
plus uniform noise:

$$y = \\frac{1}{10} \\sum_{j=1}^{10} \\sigma(x_j) + 0.05\\, R, \\qquad
\\sigma(t) = \\frac{1}{1 + e^{-t}}, \\quad R \\sim U[0, 1) .$$

A \`TensorDataset\` pairs row $i$ of $X$ with row $i$ of $y$; a \`DataLoader\` hands them out in
**mini-batches** of 16, in a new random order each epoch (\`shuffle: true\`), so that each step
sees a small, different slice of the data. The noise sets a floor: no model can predict
$0.05 R$, whose variance is $0.05^2 / 12 \\approx 0.00021$, so the mean squared error cannot go
much below that.`,
      run: (out, ctx) => {
        const batchSize = 16;
        const device = ctx.device;
        const X = linspace(0, 1, 10000, { device }).reshape([1000, 10]);
        const y = X.sigmoid().mean(1, true).add(rand([1000, 1], { device }).mul(0.05));

        const dataset = new data.TensorDataset(X, y);
        const trainLoader = new data.DataLoader({ dataset, batchSize, shuffle: true });
        ctx.state.skeleton = { X, y, trainLoader };

        out.table([
          { tensor: "X", shape: `[${X.shape.join(", ")}]`, meaning: "1000 samples of 10 features" },
          { tensor: "y", shape: `[${y.shape.join(", ")}]`, meaning: "one target per sample" },
        ]);
        out.value("samples in the dataset", dataset.length);
        out.value("batches per epoch", trainLoader.length);
      },
    },
    {
      title: "The training skeleton: model, optimizer, loss",
      prose: `The model is a **multi-layer perceptron**: a linear layer from 10 features to
128, a sigmoid, another linear layer 128 to 128, a sigmoid, and a last linear layer down to one
output,

$$\\hat y = W_3\\, \\sigma(W_2\\, \\sigma(W_1 x + b_1) + b_2) + b_3 .$$

\`nn.Sequential\` chains the layers; its parameters are those of its layers. The optimizer is
**Adam** with learning rate $10^{-3}$: like SGD it moves against the gradient, but it scales
each parameter's step by running averages of that parameter's past gradients, which makes one
learning rate work for most problems. The loss is the mean squared error again.`,
      run: (out, ctx) => {
        const lr = 1e-3;
        const model = new nn.Sequential(
          new nn.Linear(10, 128),
          new nn.Sigmoid(),
          new nn.Linear(128, 128),
          new nn.Sigmoid(),
          new nn.Linear(128, 1),
        ).to(ctx.device);
        const optimizer = new optim.Adam(model.parameters(), { lr });
        const lossFn = new nn.MSELoss();
        ctx.state.model = model;
        ctx.state.optimizer = optimizer;
        ctx.state.lossFn = lossFn;

        const rows = model.namedParameters().map(([name, p]) => ({
          parameter: name,
          shape: `[${p.shape.join(", ")}]`,
          count: p.size,
        }));
        out.table(rows, { title: "Parameters" });
        out.value("parameters in total", rows.reduce((sum, r) => sum + r.count, 0));
      },
    },
    {
      title: "The training skeleton: the loop",
      prose: `One **epoch** is one pass over the training data; each **step** takes one batch
through the four lines of the previous section. The progress bar shows the mean loss of the
epoch and the speed in steps per second; the curve below it is the mean loss of each epoch on a
logarithmic scale.`,
      run: async (out, ctx) => {
        const { trainLoader } = ctx.state.skeleton as { trainLoader: data.DataLoader<Tensor[]> };
        const model = ctx.state.model as nn.Module;
        const optimizer = ctx.state.optimizer as optim.Optimizer;
        const lossFn = ctx.state.lossFn as nn.MSELoss;
        const epochs = ctx.quick ? 20 : 100;

        const lossPlot = out.plot({
          title: "Training loss",
          xLabel: "epoch",
          yLabel: "mean MSE of the epoch",
          logY: true,
        });
        const bar = out.progress("training", epochs);
        const start = performance.now();
        let steps = 0;
        let epochLoss = 0;
        for (let epoch = 1; epoch <= epochs && !ctx.signal?.aborted; epoch++) {
          let lossSum = 0;
          for (const [X, y] of trainLoader) {
            optimizer.zeroGrad();
            const yHat = model.forward(X);
            const loss = lossFn.forward(yHat, y);
            loss.backward();
            optimizer.step();
            lossSum += await loss.item();
            steps++;
          }
          epochLoss = lossSum / trainLoader.length;
          lossPlot.push("training loss", epoch, epochLoss);
          const seconds = (performance.now() - start) / 1000;
          bar.update(epoch, { loss: epochLoss.toFixed(5), "steps/s": Math.round(steps / seconds) });
        }
        bar.end({ loss: epochLoss.toFixed(5), steps });
      },
    },
    {
      title: "The training skeleton: evaluation",
      prose: `Evaluation runs the model on all the data under \`noGrad()\` (no graph is needed,
which saves time and memory) and reports the **total loss**, the mean squared error over all
1,000 samples. The plot shows, for each sample, the prediction, the target and the absolute
error $|\\hat y - y|$: the predictions run through the middle of the band of noisy targets, so
the error is at most about half the width of the band ($0.025$), plus what the model misses.

Here the model is evaluated on the data it was trained on, to show the skeleton. Whether a
model does well on data it has **not** seen is the question of the next lesson.`,
      run: async (out, ctx) => {
        const { X, y } = ctx.state.skeleton as { X: Tensor; y: Tensor };
        const model = ctx.state.model as nn.Module;
        const lossFn = ctx.state.lossFn as nn.MSELoss;

        let yHat: Tensor;
        {
          using _ = noGrad();
          yHat = model.forward(X);
        }
        const totalLoss = await lossFn.forward(yHat, y).item();
        ctx.state.totalLoss = totalLoss;
        out.value("total loss (MSE over 1000 samples)", totalLoss.toFixed(6));
        out.value("noise floor 0.05^2 / 12", (0.05 ** 2 / 12).toFixed(6));

        const index = Array.from({ length: y.shape[0] }, (_, i) => i);
        const prediction = Array.from(await yHat.data());
        const target = Array.from(await y.data());
        const absError = Array.from(await yHat.sub(y).abs().data());
        out.value("largest absolute error", Math.max(...absError).toFixed(4));
        out.plot({
          title: "Prediction, target and absolute error",
          xLabel: "sample",
          yLabel: "value",
          series: [
            { name: "prediction", x: index, y: prediction },
            { name: "target", x: index, y: target },
            { name: "absolute error", x: index, y: absError },
          ],
        });

        const line = ctx.state.lineByHand as { w: number; b: number };
        out.summary([
          {
            label: "line fitted by hand (true w = 2, b = 1)",
            value: `w = ${line.w.toFixed(3)}, b = ${line.b.toFixed(3)}`,
          },
          {
            label: "MLP total loss (MSE)",
            value: `${totalLoss.toFixed(6)} (noise floor ${(0.05 ** 2 / 12).toFixed(6)})`,
          },
        ]);
      },
    },
  ],
});
