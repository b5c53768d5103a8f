/**
 * Lesson 4: batch normalization. The formula checked against `nn.BatchNorm2d`, the running
 * statistics and the two modes of the layer, the same CNN trained with and without batch norm
 * at a learning rate where the difference shows, what happens to the activations inside, and the
 * classic bug of evaluating a batch-norm network without `model.eval()`.
 *
 * @module
 */
import { defineLesson, type TableRow } from "../format.ts";
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

/** The data of this lesson, loaded in one step and used in the next ones. */
interface FashionData {
  trainImages: Tensor;
  trainLabels: Tensor;
  testImages: Tensor;
  testLabels: Tensor;
}

/** What the training step measured, for the later steps and the summary. */
interface Runs {
  /** The two trained networks. */
  models: Record<RunName, nn.Sequential>;
  /** Loss of every step, per network. */
  losses: Record<RunName, number[]>;
  /** Mean and standard deviation after each block, at a few steps, per network. */
  activations: { step: number; run: RunName; stats: number[] }[];
  steps: number;
  lr: number;
  seconds: number;
}

type RunName = "without batch norm" | "with batch norm";

export default defineLesson({
  number: 4,
  slug: "batchnorm",
  title: "Batch normalization",
  description:
    "What a batch norm layer computes, why it has a training and an evaluation mode, how it " +
    "speeds up training, and the bug of forgetting model.eval().",
  steps: [
    {
      title: "The formula",
      prose: `**Batch normalization** standardizes each channel of its input over the batch. For
a batch of feature maps $x$ of shape $[N, C, H, W]$, channel $c$ has $m = N \\cdot H \\cdot W$
values; their mean and (biased) variance are

$$\\mu_c = \\frac{1}{m} \\sum_{n,i,j} x_{n,c,i,j}, \\qquad
\\sigma_c^2 = \\frac{1}{m} \\sum_{n,i,j} (x_{n,c,i,j} - \\mu_c)^2 .$$

Each value is shifted and scaled to mean 0 and variance 1, then given a learned scale
$\\gamma_c$ and shift $\\beta_c$ (\`weight\` and \`bias\`, starting at 1 and 0):

$$\\hat x_{n,c,i,j} = \\frac{x_{n,c,i,j} - \\mu_c}{\\sqrt{\\sigma_c^2 + \\epsilon}}, \\qquad
y_{n,c,i,j} = \\gamma_c\\, \\hat x_{n,c,i,j} + \\beta_c .$$

The small $\\epsilon = 10^{-5}$ keeps a constant channel from dividing by zero. $\\gamma$ and
$\\beta$ let the network undo the normalization where that helps: with
$\\gamma_c = \\sigma_c$ and $\\beta_c = \\mu_c$ the layer passes its input through.

Below, a batch of 4 maps with 3 channels of very different scales goes through the formula
written with tensor ops and through \`nn.BatchNorm2d(3)\`: the same numbers come out, and every
channel leaves with mean 0 and standard deviation 1. The gradient of the layer flows through
$\\mu$ and $\\sigma$ too (every output depends on every input of its channel); \`gradcheck\`
confirms that autograd gets it right.`,
      run: async (out) => {
        // 4 maps of 3 channels, 5x5 each, with means 5, -2, 0.5 and standard deviations 3, 0.5, 1.
        const channelMean = tensor([5, -2, 0.5]).reshape([1, 3, 1, 1]);
        const channelStd = tensor([3, 0.5, 1]).reshape([1, 3, 1, 1]);
        const X = randn([4, 3, 5, 5]).mul(channelStd).add(channelMean);

        // The formula: statistics over the batch and the pixels (dimensions 0, 2, 3).
        const eps = 1e-5;
        const mean = X.mean([0, 2, 3], true);
        const variance = X.var([0, 2, 3], { keepdim: true, correction: 0 }); // biased: / m
        const byHand = X.sub(mean).div(variance.add(eps).sqrt());

        const layer = new nn.BatchNorm2d(3); // gamma = 1, beta = 0 at the start
        const byLayer = layer.forward(X);

        const perChannel = async (t: Tensor) => ({
          mean: await t.mean([0, 2, 3]).data(),
          std: await t.std([0, 2, 3], { correction: 0 }).data(),
        });
        const [before, after] = [await perChannel(X), await perChannel(byLayer)];
        out.table(
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
        out.value("largest |formula - nn.BatchNorm2d|", difference.toExponential(2));

        // Autograd through the batch statistics, against finite differences (float64).
        const options = { dtype: "float64", requiresGrad: true } as const;
        const checked = await gradcheck(
          (input, gamma, beta) =>
            F.batchNorm(input, null, null, { weight: gamma, bias: beta, training: true }),
          [randn([3, 2, 4, 4], options), randn([2], options), randn([2], options)],
        );
        out.value("gradcheck of F.batchNorm: entries checked", checked);
      },
    },
    {
      title: "Running statistics: training mode and evaluation mode",
      prose: `A trained network must answer for a single image, and its answer should not depend
on which other images happen to share the batch. So the layer has two modes:

- in **training mode** (\`model.train()\`, the default) it normalizes with the statistics of
  the current batch, and updates *running* averages of them;
- in **evaluation mode** (\`model.eval()\`) it normalizes with the running averages: a fixed
  per-channel affine map, the same for every input.

After each training batch, with momentum $\\alpha = 0.1$:

$$\\hat\\mu \\leftarrow (1 - \\alpha)\\, \\hat\\mu + \\alpha\\, \\mu_{\\text{batch}}, \\qquad
\\hat\\sigma^2 \\leftarrow (1 - \\alpha)\\, \\hat\\sigma^2 + \\alpha\\, \\frac{m}{m - 1}\\,
\\sigma^2_{\\text{batch}} .$$

The running variance uses the *unbiased* estimate (divided by $m - 1$), because it estimates
the variance of the whole data set, while the normalization of a batch uses the biased one,
which describes that batch exactly. They start at $\\hat\\mu = 0$ and $\\hat\\sigma^2 = 1$.

Below, a one-channel layer sees 40 batches whose values have mean 3 and variance 4: the running
averages climb towards them, each batch closing 10% of the remaining gap.`,
      run: async (out) => {
        const layer = new nn.BatchNorm2d(1); // momentum 0.1
        const plot = out.plot({
          title: "Running statistics of a BatchNorm2d layer",
          xLabel: "training batches seen",
          yLabel: "value",
        });
        plot.push("running mean", 0, await layer.runningMean!.item());
        plot.push("running variance", 0, await layer.runningVar!.item());
        for (let batch = 1; batch <= 40; batch++) {
          layer.forward(randn([16, 1, 4, 4]).mul(2).add(3)); // mean 3, std 2
          plot.push("running mean", batch, await layer.runningMean!.item());
          plot.push("running variance", batch, await layer.runningVar!.item());
        }
        out.value("running mean after 40 batches (data: 3)", await layer.runningMean!.item());
        out.value("running variance after 40 batches (data: 4)", await layer.runningVar!.item());

        // The same batch in both modes: batch statistics against the running averages.
        const X = randn([16, 1, 4, 4]).mul(2).add(3);
        const trainOut = layer.forward(X); // training mode (this also updates the averages)
        layer.eval();
        const evalOut = layer.forward(X);
        out.table([
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
      },
    },
    {
      title: "Two networks, the same but for batch norm",
      prose: `The network is the CNN of lesson 3: two blocks of a $3 \\times 3$ convolution,
ReLU and $2 \\times 2$ max pooling (8 then 16 channels), and a linear head from the
$16 \\cdot 7 \\cdot 7 = 784$ features to 10 classes. Its twin gets a \`BatchNorm2d\` between each
convolution and its ReLU, where it is usually put: it normalizes what the convolution computed
before the non-linearity cuts it.

Both train on 12,000 Fashion-MNIST training images (6,400 in a quick run) and are tested on
2,000 test images (1,000).

Batch norm adds $2 \\cdot (8 + 16) = 48$ parameters ($\\gamma$ and $\\beta$), and 48 running
statistics plus a batch counter per layer (buffers: saved with the model, not trained). Both
networks are made right after \`manualSeed\` with the same seed; batch norm layers draw no random
numbers, so the two start from the very same convolution and linear weights.`,
      run: async (out, ctx) => {
        // Any file of the folder tells where the folder is (the shipped subset, or --data).
        const folder = new URL(".", ctx.dataUrl("fashion-mnist/train-images-idx3-ubyte.gz"));
        const train = await loadFashionMnist(folder, {
          train: true,
          limit: ctx.quick ? 6400 : 12000,
        });
        const test = await loadFashionMnist(folder, {
          train: false,
          limit: ctx.quick ? 1000 : 2000,
        });
        ctx.state.fashion = {
          trainImages: train.images.to(ctx.device),
          trainLabels: train.labels.to(ctx.device),
          testImages: test.images.to(ctx.device),
          testLabels: test.labels.to(ctx.device),
        } satisfies FashionData;

        const makeCnn = (batchNorm: boolean) =>
          new nn.Sequential(
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
          ).to(ctx.device);
        manualSeed(ctx.seed);
        const plain = makeCnn(false);
        manualSeed(ctx.seed);
        const normalized = makeCnn(true);
        ctx.state.models = { "without batch norm": plain, "with batch norm": normalized };

        const count = (tensors: Tensor[]) => tensors.reduce((sum, t) => sum + t.numel(), 0);
        out.table([
          {
            network: "without batch norm",
            layers: plain.length,
            parameters: count(plain.parameters()),
            buffers: count(plain.buffers()),
          },
          {
            network: "with batch norm",
            layers: normalized.length,
            parameters: count(normalized.parameters()),
            buffers: count(normalized.buffers()),
          },
        ]);
        out.text("```\n" + normalized.toString() + "\n```");
        const sameStart = await (plain.at(0) as nn.Conv2d).weight
          .sub((normalized.at(0) as nn.Conv2d).weight).abs().max().item();
        out.value("largest difference of the first convolutions' initial weights", sameStart);
        out.value("training images", train.images.shape[0]);
      },
    },
    {
      title: "Training both at a high learning rate",
      prose: `Both networks train side by side on the same batches, with plain SGD (no momentum)
at learning rate $0.1$, large for this network. Without batch norm the activations of the second
block start small (see the next step): the head sees faint features, the first convolution gets
tiny gradients, and the loss stays near its starting value $\\ln 10 \\approx 2.3$ for a while
before it creeps down. With batch norm every block hands on activations of a fixed scale,
whatever the weights are, and the same learning rate makes quick progress.

Not at once, though: in the first steps the network with batch norm overshoots. Its features are
large from the start, so the head's first updates are large too, and for a few steps it is
confidently wrong (the loss jumps well above 2.3). It recovers within about ten steps, and from
then on its loss falls much faster. (PyTorch's network does the same at this learning rate.)

The curves show the cross-entropy of each step, averaged over the last 10 steps; the table
counts the steps each network needs to bring that average below a few levels. At a few steps the
loop also records the mean and standard deviation of each block's output (after the ReLU) and of
the logits, by running the layers one by one.`,
      run: async (out, ctx) => {
        const { trainImages, trainLabels } = ctx.state.fashion as FashionData;
        const models = ctx.state.models as Record<RunName, nn.Sequential>;
        const names = Object.keys(models) as RunName[];
        const lr = 0.1;
        const batchSize = 64;
        const epochs = ctx.quick ? 1 : 2;
        const lossFn = new nn.CrossEntropyLoss();
        const optimizers = names.map((name) => new optim.SGD(models[name].parameters(), { lr }));
        const trainLoader = new data.DataLoader(new data.TensorDataset(trainImages, trainLabels), {
          batchSize,
          shuffle: true,
          dropLast: true,
        });
        const steps = epochs * trainLoader.length;
        const watchSteps = [1, 10, 25, 50, 100, 200, 300].filter((s) => s <= steps);

        const losses: Record<RunName, number[]> = {
          "without batch norm": [],
          "with batch norm": [],
        };
        const activations: Runs["activations"] = [];
        const lossPlot = out.plot({
          title: `Training loss, SGD at lr ${lr}`,
          xLabel: "step",
          yLabel: "cross-entropy (mean of 10 steps)",
        });
        const bar = out.progress("training both networks", steps);
        const start = performance.now();
        let step = 0;
        for (let epoch = 1; epoch <= epochs && !ctx.signal?.aborted; epoch++) {
          for (const [X, y] of trainLoader) {
            if (ctx.signal?.aborted) break;
            step++;
            const watch = watchSteps.includes(step);
            for (const [i, name] of names.entries()) {
              const model = models[name];
              optimizers[i].zeroGrad();
              // model.forward(X), one layer at a time, to look at the blocks' outputs.
              let h = X;
              const stats: number[] = [];
              for (const layer of model) {
                h = layer.forward(h);
                if (watch && (layer instanceof nn.ReLU || layer instanceof nn.Linear)) {
                  stats.push(await h.mean().item(), await h.std().item());
                }
              }
              if (watch) activations.push({ step, run: name, stats });
              const loss = lossFn.forward(h, y);
              loss.backward();
              optimizers[i].step();

              losses[name].push(await loss.item());
              const recent = losses[name].slice(-10);
              lossPlot.push(name, step, recent.reduce((a, b) => a + b, 0) / recent.length);
            }
            const seconds = (performance.now() - start) / 1000;
            bar.update(step, {
              "loss without": losses["without batch norm"].at(-1)!.toFixed(3),
              "loss with": losses["with batch norm"].at(-1)!.toFixed(3),
              "steps/s": (step / seconds).toFixed(1),
            });
          }
        }
        const seconds = (performance.now() - start) / 1000;
        bar.end({ steps: step, seconds: seconds.toFixed(1) });
        ctx.state.runs = { models, losses, activations, steps: step, lr, seconds } satisfies Runs;

        // How soon each network's loss (mean of 10 steps) first went below a few thresholds.
        const firstBelow = (values: number[], threshold: number) => {
          for (let s = 10; s <= values.length; s++) {
            const recent = values.slice(s - 10, s);
            if (recent.reduce((a, b) => a + b, 0) / 10 < threshold) return s;
          }
          return undefined;
        };
        const lastMean = (values: number[]) => values.slice(-20).reduce((a, b) => a + b, 0) / 20;
        out.table(
          names.map((name) => {
            const row: TableRow = { network: name };
            for (const threshold of [1.5, 1.0, 0.8]) {
              row[`steps to loss < ${threshold}`] = firstBelow(losses[name], threshold) ?? "—";
            }
            row[`mean loss, last 20 steps`] = lastMean(losses[name]).toFixed(3);
            return row;
          }),
        );
      },
    },
    {
      title: "What batch norm does to the activations",
      prose: `Why the slow start without batch norm? The table gives the mean and standard
deviation of each block's output (after the ReLU) and of the logits, on the training batch of a
few steps. The layers start with PyTorch's default initialization, uniform in
$\\pm 1/\\sqrt{\\text{fan-in}}$, which makes each layer's output *smaller* than its input; two
blocks later the features are faint, the logits are nearly 0 (so every class gets about 10% and
the loss sits near $\\ln 10 \\approx 2.30$), and the gradients reaching the first convolution are
small as well. Training has to grow the weights before it can do much else.

With batch norm, whatever scale the convolutions have, each block's output is normalized before
the ReLU: about half the values are cut to 0 and the rest keep a spread of order 1 from the very
first step (the ReLU of a standard normal variable has mean 0.40 and standard deviation 0.58).
The scale of the weights no longer sets the scale of the signal, and the gradient of a layer no
longer depends on how large the layers before it happen to be.`,
      run: (out, ctx) => {
        const { activations } = ctx.state.runs as Runs;
        const format = (stats: number[], i: number) =>
          `${stats[2 * i].toFixed(2)} ± ${stats[2 * i + 1].toFixed(2)}`;
        out.table(
          activations.map(({ step, run, stats }) => ({
            step,
            network: run,
            "block 1 (mean ± std)": format(stats, 0),
            "block 2 (mean ± std)": format(stats, 1),
            "logits (mean ± std)": format(stats, 2),
          })),
          { title: "Activations on the training batch (after each block's ReLU, and the logits)" },
        );
        const plot = out.plot({
          title: "Spread of the second block's output",
          xLabel: "step",
          yLabel: "standard deviation after block 2",
          logY: true,
        });
        for (const { step, run, stats } of activations) plot.push(run, step, stats[3]);
        ctx.state.block2Std = Object.fromEntries(
          activations.filter((a) => a.step === 1).map((a) => [a.run, a.stats[3]]),
        );
      },
    },
    {
      title: "Test accuracy, and forgetting model.eval()",
      prose: `To evaluate, call \`model.eval()\`: batch norm then uses its running statistics,
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
every feature to exactly 0, and the network would give every image the same answer.`,
      run: async (out, ctx) => {
        const { testImages, testLabels } = ctx.state.fashion as FashionData;
        const { models } = ctx.state.runs as Runs;
        const model = models["with batch norm"];
        const labels = Array.from(await testLabels.data());

        // Predicted classes of the test images, in batches of `batchSize` in the given order.
        const predict = async (net: nn.Module, order: number[], batchSize: number) => {
          using _ = noGrad();
          const predictions = new Array<number>(order.length);
          for (let start = 0; start < order.length; start += batchSize) {
            const indices = order.slice(start, start + batchSize);
            const index = tensor(indices, { dtype: "int32", device: ctx.device });
            const batch = testImages.indexSelect(0, index);
            const classes = await net.forward(batch).argmax(1).data();
            indices.forEach((index, k) => (predictions[index] = classes[k]));
          }
          return predictions;
        };
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
        const rows: TableRow[] = [{
          network: "with batch norm",
          mode: "eval()",
          batches: "any",
          accuracy: `${(100 * accuracy(evalPredictions)).toFixed(1)}%`,
          "answers that differ from eval()": "—",
        }];
        const results: Record<string, number> = { eval: accuracy(evalPredictions) };
        for (const { mode, batches, order, size } of cases) {
          const predictions = await predict(model, order, size);
          const changed = predictions.filter((p, i) => p !== evalPredictions[i]).length;
          results[batches] = accuracy(predictions);
          rows.push({
            network: "with batch norm",
            mode,
            batches,
            accuracy: `${(100 * accuracy(predictions)).toFixed(1)}%`,
            "answers that differ from eval()": `${(100 * changed / labels.length).toFixed(1)}%`,
          });
        }
        rows.push({
          network: "without batch norm",
          mode: "either (no batch norm)",
          batches: "any",
          accuracy: `${(100 * accuracy(plainPredictions)).toFixed(1)}%`,
          "answers that differ from eval()": "—",
        });
        out.table(rows, { title: `Test accuracy on ${labels.length} images` });

        const runningMeanAfter = await (model.at(1) as nn.BatchNorm2d).runningMean!.data();
        out.value(
          "first batch norm's running mean, channel 0: before / after the train() passes",
          `${runningMeanBefore[0].toFixed(4)} / ${runningMeanAfter[0].toFixed(4)}`,
        );
        model.eval();
        ctx.state.testAccuracy = {
          plain: accuracy(plainPredictions),
          batchNorm: results.eval,
          trainModeSingle: results["one image each"],
          trainModeByClass: results["one class each, 100"],
        };

        const { losses, steps, lr, seconds } = ctx.state.runs as Runs;
        const lastMean = (values: number[]) => values.slice(-20).reduce((a, b) => a + b, 0) / 20;
        const plainLoss = lastMean(losses["without batch norm"]);
        const bnLoss = lastMean(losses["with batch norm"]);
        ctx.state.finalLoss = { plain: plainLoss, batchNorm: bnLoss };
        const std = ctx.state.block2Std as Record<RunName, number>;
        const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
        out.summary([
          {
            label: `training loss after ${steps} steps of SGD at lr ${lr} (mean of last 20)`,
            value: `without batch norm ${plainLoss.toFixed(3)}, with ${bnLoss.toFixed(3)} ` +
              `(${(plainLoss / bnLoss).toFixed(1)}x lower with it)`,
          },
          {
            label: "spread (std) of block 2's output at step 1",
            value: `without batch norm ${std["without batch norm"].toFixed(3)}, ` +
              `with ${std["with batch norm"].toFixed(3)}`,
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
      },
    },
  ],
});
