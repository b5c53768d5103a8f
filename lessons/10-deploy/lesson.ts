/**
 * Lesson 10: compress, export and serve. Magnitude pruning with masks (the tutorial's mask
 * fixed), accuracy against sparsity, fine-tuning that recovers, knowledge distillation with
 * `F.klDiv`, saving to a file and loading back, export to ONNX and PyTorch, and the model behind
 * the inference server's request handler.
 *
 * @module
 */
import { lesson, md } from "../format.ts";
import {
  cat,
  data,
  exportOnnx,
  F,
  load,
  loadFashionMnist,
  manualSeed,
  nn,
  noGrad,
  optim,
  save,
  summary,
  type Tensor,
  toPyTorch,
  zeros,
} from "../../mod.ts";
import { buildModel, loadServedModel } from "../serve/model.ts";
import { createHandler } from "../serve/handler.ts";

const { step, show, quick, device, seed, dataUrl } = await lesson(import.meta, {
  number: 10,
  title: "Compress, export and serve",
  description: "Pruning with masks and fine-tuning, distillation into a small student, a model " +
    "saved to a file, exported to ONNX and PyTorch, and answering requests.",
});

step(
  "The model to compress",
  md`
  The model of this lesson is the small CNN that \`deno task serve\` serves: two convolutions
  with batch norm, ReLU and max pooling, and a linear layer to the 10 classes, trained on the
  shipped Fashion-MNIST subset by \`lessons/serve/train.ts\`. It ships as two files: a JSON
  config that lists its layers and a safetensors file of its weights, both read with \`fetch\`,
  so the same code loads it in a browser.

  Three ways to make a model cheaper follow: remove weights (**pruning**), train a smaller model
  to imitate it (**distillation**), and then package the result (**save**, **export**,
  **serve**).

  A quick run fine-tunes and trains on 1,920 of the shipped training images and tests on 500;
  the full run uses all 12,000 and the 2,000 test images.
`,
);
const served = await loadServedModel(dataUrl("serve/fashion-cnn.json"));
const teacher = served.model.to(device);
const folder = new URL(".", dataUrl("fashion-mnist/train-images-idx3-ubyte.gz"));
const train = await loadFashionMnist(folder, { train: true, limit: quick ? 1920 : 12000 });
const test = await loadFashionMnist(folder, { train: false, limit: quick ? 500 : 2000 });
const trainImages = train.images.to(device);
const trainLabels = train.labels.to(device);
const testImages = test.images.to(device);
const testLabels = test.labels.to(device);

/** Test accuracy, 250 images at a time (a whole test set at once would need a lot of memory). */
async function accuracy(model: nn.Module): Promise<number> {
  model.eval();
  const total = testLabels.shape[0];
  let correct = 0;
  for (let start = 0; start < total; start += 250) {
    using _ = noGrad();
    const count = Math.min(250, total - start);
    const predicted = model.forward(testImages.narrow(0, start, count)).argmax(1);
    correct += await predicted.eq(testLabels.narrow(0, start, count)).float().sum().item();
  }
  return correct / total;
}
const teacherAccuracy = await accuracy(teacher);
const teacherSummary = summary(teacher, [1, 1, 28, 28]);
show.text("```\n" + String(teacherSummary) + "\n```");
/** A share (0 to 1) as the tables write it: "91.3%". */
const percent = (share: number) => `${(100 * share).toFixed(1)}%`;
show.value("test accuracy of the served CNN", percent(teacherAccuracy));

step(
  "Magnitude pruning, and the tutorial's mask",
  md`
  **Pruning** sets weights to zero and keeps them there. The simplest rule, *magnitude
  pruning*, removes the weights of **smallest absolute value**: a weight near 0 changes the
  output least. A **mask** of 0s and 1s, multiplied into the weight, does the removing, so the
  pruned weights stay zero whatever training does next.

  The tutorial this course follows writes the mask as
  \`mask = flattened.le(threshold)\`, with the threshold taken from
  \`topk(flattened.abs(), k, largest=False, sorted=False)[-1]\`. That mask is 1 where the weight
  is **at most** the threshold: it **keeps the small weights and removes the large ones**, the
  opposite of magnitude pruning. (It also compares the *signed* weights with a threshold on
  their sizes, so every negative weight passes, and an unsorted \`topk\` does not put the k-th
  smallest last.) The fix is a mask that is 1 where $|w|$ is *above* the threshold, which is
  what \`nn.utils.prune.l1Unstructured\` builds, as PyTorch's does.

  Below, both masks use the same threshold, the median size $|w|$ of each layer's weights, on
  copies of the served model: magnitude pruning removes the half of the weights below it; the
  tutorial's mask removes the positive weights above it, under a quarter of them, and those are
  the ones that mattered.
`,
);
/** A fresh copy of the served model with the same weights (pruning changes a model in place). */
function copyOfTeacher(): nn.Sequential {
  const copy = buildModel(served.config.layers).to(device);
  copy.loadStateDict(teacher.stateDict());
  return copy;
}
/** The weights pruning works on: every convolution's and linear layer's `weight`. */
const prunable = (model: nn.Sequential): [nn.Module, string][] =>
  model.layers
    .filter((layer) => layer instanceof nn.Conv2d || layer instanceof nn.Linear)
    .map((layer) => [layer, "weight"]);

/** The share of exactly-zero weights among the prunable layers' effective weights. */
async function sparsityOf(model: nn.Sequential): Promise<number> {
  let zerosCount = 0;
  let total = 0;
  for (const [layer] of prunable(model)) {
    const weight = (layer as nn.Linear).weight;
    zerosCount += await weight.eq(0).float().sum().item();
    total += weight.numel();
  }
  return zerosCount / total;
}

// The tutorial's mask: 1 where w <= the threshold of |w|, i.e. it keeps the small weights.
const keepsSmall = copyOfTeacher();
for (const [layer] of prunable(keepsSmall)) {
  const weight = (layer as nn.Linear).weight;
  const k = Math.round(weight.numel() / 2);
  const threshold = weight.abs().flatten().kthvalue(k).values;
  nn.utils.prune.customFromMask(layer, "weight", weight.le(threshold).float());
}
// Magnitude pruning: the half of the weights with the smallest |w| removed.
const keepsLarge = copyOfTeacher();
for (const [layer] of prunable(keepsLarge)) {
  nn.utils.prune.l1Unstructured(layer, "weight", { amount: 0.5 });
}
const smallAccuracy = await accuracy(keepsSmall);
const largeAccuracy = await accuracy(keepsLarge);
show.table([
  {
    mask: "none (the served model)",
    "weights removed": "0%",
    "test accuracy": percent(teacherAccuracy),
  },
  {
    mask: "the tutorial's: w <= threshold (keeps small)",
    "weights removed": percent(await sparsityOf(keepsSmall)),
    "test accuracy": percent(smallAccuracy),
  },
  {
    mask: "magnitude: |w| > threshold (keeps large)",
    "weights removed": percent(await sparsityOf(keepsLarge)),
    "test accuracy": percent(largeAccuracy),
  },
], { title: "Threshold at the median |w| of each layer" });
show.value("accuracy with the tutorial's mask (median threshold)", percent(smallAccuracy));
show.value("accuracy with magnitude pruning (50%)", percent(largeAccuracy));

step(
  "Accuracy against sparsity: per layer or global",
  md`
  How far can pruning go? Two ways to choose the weights:

  - **per layer** (\`l1Unstructured\` on each layer with the same \`amount\`): every layer loses the
    same share;
  - **global** (\`globalUnstructured\` over all the layers at once): the smallest weights of the
    whole network go, wherever they are. A layer of many small weights (here the linear layer,
    with 15,680 of the 20,432 weights) gives up more, and a small layer whose every weight
    matters (the first convolution, 144 weights) keeps more.

  After pruning, the layer's \`weight\` is no longer a parameter: the original is kept as
  \`weight_orig\` (trained), the mask as the buffer \`weight_mask\`, and \`weight\` is their
  product, as in PyTorch.
`,
);
const sparsities = quick ? [0.5, 0.8, 0.9, 0.95] : [0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95];
const sweep = show.plot({
  title: "Test accuracy of the pruned CNN (no fine-tuning)",
  xLabel: "share of the weights removed",
  yLabel: "test accuracy",
});
sweep.push("per layer", 0, teacherAccuracy);
sweep.push("global", 0, teacherAccuracy);
const sweepRows = [];
for (const sparsity of show.progress(sparsities, "sparsity levels")) {
  const perLayer = copyOfTeacher();
  for (const [layer, name] of prunable(perLayer)) {
    nn.utils.prune.l1Unstructured(layer, name, { amount: sparsity });
  }
  const global = copyOfTeacher();
  nn.utils.prune.globalUnstructured(prunable(global), { amount: sparsity });
  const perLayerAccuracy = await accuracy(perLayer);
  const globalAccuracy = await accuracy(global);
  sweep.push("per layer", sparsity, perLayerAccuracy);
  sweep.push("global", sparsity, globalAccuracy);
  sweepRows.push({
    "removed": `${(100 * sparsity).toFixed(0)}%`,
    "per layer": `${(100 * perLayerAccuracy).toFixed(1)}%`,
    "global": `${(100 * globalAccuracy).toFixed(1)}%`,
  });
}
show.table(sweepRows, { title: "Test accuracy after pruning" });

step(
  "Fine-tuning with the masks, then making it permanent",
  md`
  Pruning 90% of the weights costs accuracy. A short **fine-tuning** wins most of it back: the
  remaining weights adjust to the missing ones. The masks stay in force throughout: the gradient
  reaches \`weight_orig\` multiplied by the mask, so the removed weights get no gradient, and
  \`weight = weight_orig * weight_mask\` stays exactly 0 where the mask is 0.

  When training is done, \`prune.remove\` makes the pruning permanent: \`weight\` is a plain
  parameter again (holding the zeros), and \`weight_orig\` and \`weight_mask\` are gone, so the
  state dict has the names of an unpruned model and loads into one. (A sparse format or a
  sparse kernel would then store and compute only the nonzero weights; the saving here is what
  they would save.)
`,
);
const finalSparsity = 0.9;
const pruned = copyOfTeacher();
nn.utils.prune.globalUnstructured(prunable(pruned), { amount: finalSparsity });
const prunedAccuracy = await accuracy(pruned);
show.value(
  "state dict of the pruned linear layer",
  Object.keys(pruned.at(-1).stateDict()).join(", "),
);

const batchSize = 64;
const fineTuneEpochs = quick ? 1 : 2;
manualSeed(seed);
const trainLoader = new data.DataLoader(new data.TensorDataset(trainImages, trainLabels), {
  batchSize,
  shuffle: true,
});
const fineTuner = new optim.Adam(pruned.parameters(), { lr: 1e-3 });
pruned.train();
for (const epoch of show.range(fineTuneEpochs, "fine-tuning: epochs")) {
  const batches = show.progress(trainLoader, `fine-tuning: epoch ${epoch + 1}`);
  for (const [X, y] of batches) {
    fineTuner.zeroGrad();
    const loss = F.crossEntropy(pruned.forward(X), y);
    loss.backward();
    fineTuner.step();
    batches.note({ loss: (await loss.item()).toFixed(3) });
  }
}
const fineTunedAccuracy = await accuracy(pruned);
const sparsityAfterTraining = await sparsityOf(pruned);
for (const [layer, name] of prunable(pruned)) nn.utils.prune.remove(layer, name);
show.value(
  "state dict of the linear layer after remove",
  Object.keys(pruned.at(-1).stateDict()).join(", "),
);
show.table([
  { model: "served, dense", "test accuracy": `${(100 * teacherAccuracy).toFixed(1)}%` },
  {
    model: `pruned ${100 * finalSparsity}% (global)`,
    "test accuracy": `${(100 * prunedAccuracy).toFixed(1)}%`,
  },
  {
    model: `pruned ${100 * finalSparsity}%, fine-tuned`,
    "test accuracy": `${(100 * fineTunedAccuracy).toFixed(1)}%`,
  },
]);
show.value("accuracy pruned 90% before fine-tuning", percent(prunedAccuracy));
show.value("accuracy pruned 90% after fine-tuning", percent(fineTunedAccuracy));
show.value(
  "share of zero weights after fine-tuning",
  `${(100 * sparsityAfterTraining).toFixed(2)}%`,
);

step(
  "Distillation: a small student taught by the CNN",
  md`
  **Knowledge distillation** (Hinton et al., 2015) trains a small *student* to imitate a large
  *teacher*. The teacher's outputs say more than the labels: that a shirt looks a little like a
  T-shirt and not at all like a sandal. Dividing the logits by a **temperature** $T > 1$ before
  the softmax softens both distributions, so that those small probabilities count, and the
  student learns to match the teacher's with the Kullback-Leibler divergence

  $$L = \alpha\, T^2\, \mathrm{KL}\big(p_T^{\text{teacher}} \,\|\, p_T^{\text{student}}\big)
  + (1 - \alpha)\, \mathrm{CE}(\text{student}, y), \qquad
  p_T = \mathrm{softmax}(z / T) .$$

  \`F.klDiv\` is PyTorch's \`kl_div\`: its *input* is the student's **log**-probabilities and its
  *target* the teacher's probabilities, and \`reduction: "batchmean"\` divides by the batch size,
  which is the true KL divergence per example (the default \`"mean"\` also divides by the 10
  classes). The factor $T^2$ keeps the soft term's gradients as large as the hard term's.

  The student here is one small convolution and a linear layer, about 4% of the teacher's
  multiply-adds. It trains twice from the same start on the same batches: alone, on the labels,
  and distilled, on the teacher's outputs softened at $T = 2$ with $\alpha = 1$: the labels'
  term weighs nothing, so the distilled student learns from the teacher alone (a teacher can
  teach on images that nobody labelled).

  In a short run (a quick run takes 60 steps) the teacher's outputs carry the student further
  than the labels do; given more steps on all 12,000 images the two end close (86.0% and 86.1%
  in a full run): distillation buys speed of learning here, and the freedom from labels.
`,
);
const temperature = 2;
const alpha = 1;
const makeStudent = () =>
  new nn.Sequential(
    new nn.Conv2d(1, 8, 5, { stride: 2, padding: 2 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(8 * 7 * 7, 10),
  ).to(device);

// The teacher's logits for every training image, computed once, 250 images at a time.
teacher.eval();
const teacherParts: Tensor[] = [];
for (let start = 0; start < trainImages.shape[0]; start += 250) {
  using _ = noGrad();
  const count = Math.min(250, trainImages.shape[0] - start);
  const logits = teacher.forward(trainImages.narrow(0, start, count));
  teacherParts.push(logits);
  // Waiting for the values lets the event loop run, which frees the pass's intermediate tensors.
  await logits.data();
}
const teacherLogits = cat(teacherParts, 0);

/** Trains a fresh student, with the teacher's soft targets when `distill` is true. */
async function trainStudent(name: string, distill: boolean): Promise<nn.Sequential> {
  manualSeed(seed + 2);
  const student = makeStudent();
  const optimizer = new optim.Adam(student.parameters(), { lr: 1e-2 });
  // Each batch brings its images, their labels and the teacher's logits for them.
  const dataset = new data.TensorDataset(trainImages, trainLabels, teacherLogits);
  const loader = new data.DataLoader(dataset, { batchSize, shuffle: true });
  for (const epoch of show.range(quick ? 2 : 4, `${name}: epochs`)) {
    const batches = show.progress(loader, `${name}: epoch ${epoch + 1}`);
    for (const [X, y, teacherOut] of batches) {
      optimizer.zeroGrad();
      const logits = student.forward(X);
      let loss = F.crossEntropy(logits, y);
      if (distill) {
        const soft = F.klDiv(
          F.logSoftmax(logits.div(temperature), 1),
          F.softmax(teacherOut.div(temperature), 1),
          { reduction: "batchmean" },
        ).mul(temperature * temperature);
        loss = soft.mul(alpha).add(loss.mul(1 - alpha));
      }
      loss.backward();
      optimizer.step();
      batches.note({ loss: (await loss.item()).toFixed(3) });
    }
  }
  return student;
}
const alone = await trainStudent("student alone", false);
const distilled = await trainStudent("distilled student", true);
const aloneAccuracy = await accuracy(alone);
const distilledAccuracy = await accuracy(distilled);
const studentCost = summary(distilled, [1, 1, 28, 28]);
show.table([
  {
    model: "teacher (served CNN)",
    parameters: teacherSummary.totalParams,
    "mult-adds": teacherSummary.totalMultAdds,
    "test accuracy": `${(100 * teacherAccuracy).toFixed(1)}%`,
  },
  {
    model: "student alone",
    parameters: studentCost.totalParams,
    "mult-adds": studentCost.totalMultAdds,
    "test accuracy": `${(100 * aloneAccuracy).toFixed(1)}%`,
  },
  {
    model: `student distilled (T = ${temperature})`,
    parameters: studentCost.totalParams,
    "mult-adds": studentCost.totalMultAdds,
    "test accuracy": `${(100 * distilledAccuracy).toFixed(1)}%`,
  },
]);
show.value("student alone test accuracy", percent(aloneAccuracy));
show.value("distilled student test accuracy", percent(distilledAccuracy));

step(
  "Save to a file, load it back",
  md`
  \`save(stateDict, path)\` writes the weights to a safetensors file in one call, as
  \`torch.save\` does, and \`await load(path)\` reads them back, as \`torch.load\`. PyTorch reads
  the same file (\`safetensors.torch.load_file\`), with the same names. A fresh model of the same
  layers, given the loaded weights, predicts exactly what the saved one did: not close, equal.

  A browser has no file system; there the same round trip goes through the file's bytes
  (\`save\` without a path returns them, \`load\` takes them).
`,
);
const modelFile = "out/lesson-10/pruned-cnn.safetensors";
let loadedWeights: Record<string, Tensor>;
try {
  await save(pruned.stateDict(), modelFile);
  loadedWeights = await load(modelFile);
} catch {
  // No file system here (a browser): the same round trip through the bytes.
  loadedWeights = load(await save(pruned.stateDict()));
}
const reloaded = buildModel(served.config.layers).to(device);
reloaded.loadStateDict(loadedWeights);
reloaded.eval();
pruned.eval();
let largestDifference = 0;
{
  using _ = noGrad();
  const images = testImages.narrow(0, 0, 250);
  const before = pruned.forward(images);
  const after = reloaded.forward(images);
  largestDifference = await after.sub(before).abs().max().item();
}
show.value("weights in the file", Object.keys(loadedWeights).length);
show.value("largest |logit difference| after loading", largestDifference);

step(
  "Export: ONNX and PyTorch",
  md`
  Outside this framework a model travels in two forms:

  - **ONNX**, the exchange format of inference engines: \`exportOnnx(model, exampleInput)\` runs
    the model once and writes what it computed as ONNX operators (\`Conv\`,
    \`BatchNormalization\`, \`Relu\`, \`MaxPool\`, \`Flatten\`, \`Gemm\`) with the weights
    inside. onnxruntime runs the file on a server, a phone or in a browser; the framework's tests
    check that its outputs equal ours;
  - **PyTorch**: \`toPyTorch(model)\` writes the same network as a PyTorch module's source and
    its weights as safetensors, for a student who carries on in PyTorch (and its distributed
    training, when one machine is not enough). The class it writes for the pruned CNN is below.

  Export the model after \`prune.remove\`: a pruned layer's \`weight\` is computed from two tensors,
  and an exported file should hold plain weights.
`,
);
const onnxBytes = await exportOnnx(pruned, zeros([1, 1, 28, 28], { device }));
const pytorch = await toPyTorch(pruned);
show.value("ONNX file size", onnxBytes.length, "bytes");
show.value("PyTorch weights file size", pytorch.weights.length, "bytes");
show.text(
  "```python\n" + pytorch.source.split("\n\n\n").find((part) => part.startsWith("class ")) +
    "\n```",
);

step(
  "Serving: the model behind an HTTP handler",
  md`
  \`deno task serve\` starts an inference server on 127.0.0.1 for a model given as a JSON config
  and a weights file (the served CNN by default): \`POST /predict\` with a 28x28 image (a JSON
  array of numbers in [0, 1], or a PNG) answers the class probabilities, \`GET /health\` that it
  is up. It runs with the least it needs: read its model folder, listen on its port.

  The server's request handling is a plain function from a \`Request\` to a \`Response\`, so a
  lesson (which opens no sockets) can call it directly with the pruned, fine-tuned model (loaded
  from the weights saved above): one good request, one bad. Every bad request gets a 4xx status with a message that says what was
  wrong, never a crash. The timing is in-process (no network); the HTTP load numbers
  (requests per second, p50 and p99 latency) come from \`lessons/serve/load.ts\` against the
  running server.
`,
);
// The server computes on the CPU: a CPU copy of the pruned model, from the weights just loaded.
const servedModel = buildModel(served.config.layers);
servedModel.loadStateDict(loadedWeights);
servedModel.eval();
const handler = createHandler({ config: served.config, model: servedModel });
const image = await test.images.narrow(0, 0, 1).reshape([28, 28]).toArray();
const response = await handler(
  new Request("http://127.0.0.1/predict", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(image),
  }),
);
const answer = await response.json();
show.value("status", response.status);
show.value(
  "prediction",
  `${answer.prediction} (label: ${test.classNames[test.labels.dataSync()[0]]})`,
);
const badResponse = await handler(
  new Request("http://127.0.0.1/predict", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([[0.5, 0.5], [0.5, 0.5]]),
  }),
);
show.value("status of a 2x2 image", badResponse.status);
show.value("its message", (await badResponse.json()).error);

const latencies: number[] = [];
const requests = quick ? 50 : 500;
for (let i = 0; i < requests; i++) {
  const started = performance.now();
  const reply = await handler(
    new Request("http://127.0.0.1/predict", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(image),
    }),
  );
  await reply.arrayBuffer();
  latencies.push(performance.now() - started);
}
latencies.sort((a, b) => a - b);
const percentile = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
const totalSeconds = latencies.reduce((s, v) => s + v, 0) / 1000;
show.table([{
  requests,
  "requests/s (one at a time)": (requests / totalSeconds).toFixed(0),
  "p50 latency": `${percentile(0.5).toFixed(2)} ms`,
  "p99 latency": `${percentile(0.99).toFixed(2)} ms`,
}], { title: "The handler, in process" });

show.summary([
  {
    label: "the tutorial's mask vs magnitude pruning (median threshold)",
    value: `${(100 * smallAccuracy).toFixed(1)}% vs ${(100 * largeAccuracy).toFixed(1)}% ` +
      `(the served model: ${(100 * teacherAccuracy).toFixed(1)}%)`,
  },
  {
    label: "90% of the weights pruned (global)",
    value: `${(100 * prunedAccuracy).toFixed(1)}%, fine-tuned with the masks ` +
      `${(100 * fineTunedAccuracy).toFixed(1)}% (zeros kept: ` +
      `${(100 * sparsityAfterTraining).toFixed(1)}%)`,
  },
  {
    label: "student with 4% of the mult-adds (test accuracy)",
    value: `alone on the labels ${(100 * aloneAccuracy).toFixed(1)}%, distilled without ` +
      `labels ${(100 * distilledAccuracy).toFixed(1)}%`,
  },
  {
    label: "saved, loaded, exported",
    value: `largest logit difference ${largestDifference}; ONNX ${onnxBytes.length} bytes`,
  },
]);
