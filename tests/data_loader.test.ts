/**
 * Datasets and the DataLoader: batch shapes, dropLast, shuffling with the seeded generator,
 * every sample once per epoch, the fast path for TensorDataset, custom datasets of tuples and
 * numbers, and randomSplit's sizes and disjointness.
 */
import assert from "node:assert/strict";
import { arange, data, manualSeed, type Tensor, tensor } from "../mod.ts";
import { assertThrowsWith } from "./core_helpers.ts";

/** A dataset of `n` samples: inputs [n, 2] with row i = [i, -i], labels i % 3 (int32). */
function numbered(n: number) {
  const column = arange(n, undefined, 1, { dtype: "float32" }).reshape([n, 1]);
  const inputs = column.mul(tensor([1, -1]));
  const labels = arange(n).sub(arange(n).div(3).int().mul(3)).int();
  return new data.TensorDataset(inputs, labels);
}

/** The label of every sample of each batch, epoch by epoch, to compare orders. */
async function epochLabels(loader: Iterable<Tensor[]>) {
  const out: number[][] = [];
  for (const [inputs] of loader) {
    out.push(Array.from(await inputs.data()).filter((_, i) => i % 2 === 0));
  }
  return out;
}

Deno.test("TensorDataset: length, rows as tuples, and a clear error for mismatched tensors", async () => {
  const dataset = numbered(5);
  assert.equal(dataset.length, 5);
  const [x, y] = dataset.get(4);
  assert.deepEqual(x.shape, [2]);
  assert.deepEqual(await x.toArray(), [4, -4]);
  assert.deepEqual(y.shape, []);
  assert.equal(y.dtype, "int32");
  assert.equal(await y.item(), 1);
  assertThrowsWith(() => dataset.get(5), ["TensorDataset.get", "index 5", "5 samples"]);
  assertThrowsWith(() => new data.TensorDataset(tensor([[1], [2]]), tensor([1, 2, 3])), [
    "TensorDataset",
    "[2, 1]",
    "[3]",
  ]);
});

Deno.test("DataLoader batches have the batch size first, with a smaller last batch", async () => {
  const loader = new data.DataLoader(numbered(10), { batchSize: 4 });
  assert.equal(loader.length, 3);
  const shapes: number[][][] = [];
  const labels: number[] = [];
  for (const [inputs, targets] of loader) {
    shapes.push([[...inputs.shape], [...targets.shape]]);
    assert.equal(targets.dtype, "int32");
    labels.push(...await targets.data());
  }
  assert.deepEqual(shapes, [[[4, 2], [4]], [[4, 2], [4]], [[2, 2], [2]]]);
  assert.deepEqual(labels, [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
});

Deno.test("DataLoader without shuffle keeps the dataset's order and values", async () => {
  const loader = new data.DataLoader(numbered(5), { batchSize: 2 });
  const [first] = [...loader];
  assert.deepEqual(await first[0].toArray(), [[0, -0], [1, -1]]);
});

Deno.test("dropLast skips the last, smaller batch (and length counts only full ones)", () => {
  const loader = new data.DataLoader(numbered(10), { batchSize: 4, dropLast: true });
  assert.equal(loader.length, 2);
  const batches = [...loader];
  assert.equal(batches.length, 2);
  assert.ok(batches.every(([x]) => x.shape[0] === 4));
  const exact = new data.DataLoader(numbered(8), { batchSize: 4, dropLast: true });
  assert.equal([...exact].length, 2);
  const tooSmall = new data.DataLoader(numbered(3), { batchSize: 4, dropLast: true });
  assert.equal(tooSmall.length, 0);
  assert.equal([...tooSmall].length, 0);
});

Deno.test("shuffle: every sample exactly once per epoch, in a new order each epoch", async () => {
  manualSeed(3);
  const loader = new data.DataLoader(numbered(23), { batchSize: 5, shuffle: true });
  const first = (await epochLabels(loader)).flat();
  const second = (await epochLabels(loader)).flat();
  const all = Array.from({ length: 23 }, (_, i) => i);
  assert.deepEqual([...first].sort((a, b) => a - b), all, "epoch 1 missed or repeated a sample");
  assert.deepEqual([...second].sort((a, b) => a - b), all, "epoch 2 missed or repeated a sample");
  assert.notDeepEqual(first, all, "a shuffled epoch came out in the original order");
  assert.notDeepEqual(first, second, "two epochs had the same order");
});

Deno.test("shuffle follows manualSeed: the same seed gives the same epochs", async () => {
  const loader = new data.DataLoader(numbered(12), { batchSize: 5, shuffle: true });
  manualSeed(11);
  const a = [await epochLabels(loader), await epochLabels(loader)];
  manualSeed(11);
  const b = [await epochLabels(loader), await epochLabels(loader)];
  assert.deepEqual(a, b);
  manualSeed(12);
  const c = [await epochLabels(loader), await epochLabels(loader)];
  assert.notDeepEqual(a, c);
});

Deno.test("shuffled batches keep inputs and labels together", async () => {
  manualSeed(4);
  const loader = new data.DataLoader(numbered(9), { batchSize: 4, shuffle: true });
  for (const [inputs, targets] of loader) {
    const rows = await inputs.toArray() as number[][];
    const labels = Array.from(await targets.data());
    rows.forEach(([i, minus], k) => {
      assert.equal(minus, -i);
      assert.equal(labels[k], i % 3, `row ${i} came with label ${labels[k]}`);
    });
  }
});

Deno.test("for await works on a DataLoader too", async () => {
  const loader = new data.DataLoader(numbered(5), { batchSize: 2 });
  let count = 0;
  for await (const [inputs] of loader) count += inputs.shape[0];
  assert.equal(count, 5);
});

Deno.test("a custom dataset of [tensor, number] samples is stacked, numbers become int32", async () => {
  const squares: data.Dataset<[Tensor, number]> = {
    length: 5,
    get: (i) => [tensor([[i, i * i]]), i * 10],
  };
  const loader = new data.DataLoader(squares, { batchSize: 3 });
  const batches = [...loader];
  assert.equal(batches.length, 2);
  const [inputs, targets] = batches[0];
  assert.deepEqual(inputs.shape, [3, 1, 2]);
  assert.deepEqual(await inputs.toArray(), [[[0, 0]], [[1, 1]], [[2, 4]]]);
  assert.equal(targets.dtype, "int32");
  assert.deepEqual(await targets.toArray(), [0, 10, 20]);
  const fractional: data.Dataset<number> = { length: 2, get: (i) => i + 0.5 };
  const [values] = [...new data.DataLoader(fractional, { batchSize: 2 })];
  assert.equal(values.dtype, "float32");
  assert.deepEqual(await values.toArray(), [0.5, 1.5]);
});

Deno.test("a dataset of single tensors gives batches that are single tensors", () => {
  const images: data.Dataset<Tensor> = { length: 4, get: () => tensor([[1, 2], [3, 4]]) };
  const [batch] = [...new data.DataLoader(images, { batchSize: 4 })];
  assert.deepEqual(batch.shape, [4, 2, 2]);
});

Deno.test("the TensorDataset fast path gives the same batches as stacking rows one by one", async () => {
  const dataset = numbered(7);
  const slow: data.Dataset<Tensor[]> = { length: 7, get: (i) => dataset.get(i) };
  manualSeed(8);
  const fast = [...new data.DataLoader(dataset, { batchSize: 3, shuffle: true })];
  manualSeed(8);
  const stacked = [...new data.DataLoader(slow, { batchSize: 3, shuffle: true })];
  assert.equal(fast.length, stacked.length);
  for (let b = 0; b < fast.length; b++) {
    for (let k = 0; k < 2; k++) {
      assert.deepEqual(fast[b][k].shape, stacked[b][k].shape);
      assert.equal(fast[b][k].dtype, stacked[b][k].dtype);
      assert.deepEqual(await fast[b][k].toArray(), await stacked[b][k].toArray());
    }
  }
});

Deno.test("collate rejects samples of different shapes with the shapes in the message", () => {
  const ragged: data.Dataset<Tensor> = {
    length: 2,
    get: (i) => (i === 0 ? tensor([1, 2]) : tensor([1, 2, 3])),
  };
  const loader = new data.DataLoader(ragged, { batchSize: 2 });
  assertThrowsWith(() => [...loader], ["collate", "sample 1", "[3]", "[2]"]);
});

Deno.test("DataLoader rejects a bad batch size or something that is not a dataset", () => {
  assertThrowsWith(() => new data.DataLoader(numbered(3), { batchSize: 0 }), [
    "batchSize",
    "positive integer",
    "0",
  ]);
  assertThrowsWith(
    () => new data.DataLoader(tensor([1, 2]) as unknown as data.Dataset),
    ["DataLoader", "length", "get(index)", "TensorDataset"],
  );
  // The old single-object form points to PyTorch's order.
  assertThrowsWith(
    () => new data.DataLoader({ dataset: numbered(3), batchSize: 2 } as unknown as data.Dataset),
    ["DataLoader", "dataset comes first", "new data.DataLoader(dataset, { batchSize"],
  );
  assertThrowsWith(
    () => new data.DataLoader(numbered(3), { batch_size: 2 } as never),
    ["DataLoader", '"batch_size"', 'did you mean "batchSize"'],
  );
  assertThrowsWith(
    () => new data.DataLoader(numbered(3), 16 as never),
    ["DataLoader", "second argument", "{ batchSize: 16 }"],
  );
});

Deno.test("randomSplit by sizes: the right sizes, disjoint, covering the dataset", () => {
  manualSeed(1);
  const dataset = numbered(10);
  const parts = data.randomSplit(dataset, [6, 3, 1]);
  assert.deepEqual(parts.map((p) => p.length), [6, 3, 1]);
  const all = parts.flatMap((p) => [...p.indices]);
  assert.deepEqual([...all].sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i));
  assert.notDeepEqual(all, Array.from({ length: 10 }, (_, i) => i), "the split was not shuffled");
});

Deno.test("randomSplit by fractions rounds down and gives leftovers to the first subsets", () => {
  manualSeed(1);
  const parts = data.randomSplit(numbered(11), [0.5, 0.3, 0.2]);
  // floor(5.5), floor(3.3), floor(2.2) = 5, 3, 2; one left over goes to the first.
  assert.deepEqual(parts.map((p) => p.length), [6, 3, 2]);
  const seen = new Set(parts.flatMap((p) => [...p.indices]));
  assert.equal(seen.size, 11);
});

Deno.test("randomSplit follows manualSeed", () => {
  manualSeed(5);
  const a = data.randomSplit(numbered(20), [0.8, 0.2]).map((p) => [...p.indices]);
  manualSeed(5);
  const b = data.randomSplit(numbered(20), [0.8, 0.2]).map((p) => [...p.indices]);
  manualSeed(6);
  const c = data.randomSplit(numbered(20), [0.8, 0.2]).map((p) => [...p.indices]);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

Deno.test("randomSplit lengths that do not add up say what they sum to", () => {
  assertThrowsWith(() => data.randomSplit(numbered(10), [6, 3]), [
    "randomSplit",
    "[6, 3]",
    "length 10",
    "sum to 9",
  ]);
  assertThrowsWith(() => data.randomSplit(numbered(10), [0.5, 0.4]), ["randomSplit", "fractions"]);
});

Deno.test("a Subset reads the right samples and loads batches through the fast path", async () => {
  const dataset = numbered(6);
  const subset = new data.Subset(dataset, [5, 1, 3]);
  assert.equal(subset.length, 3);
  assert.deepEqual(await subset.get(0)[0].toArray(), [5, -5]);
  assert.ok(subset.getBatch, "a Subset of a TensorDataset should have the fast path");
  const [batch] = [...new data.DataLoader(subset, { batchSize: 3 })];
  assert.deepEqual(await batch[0].toArray(), [[5, -5], [1, -1], [3, -3]]);
  assertThrowsWith(() => subset.get(3), ["index 3", "3 samples"]);
  assertThrowsWith(() => new data.Subset(dataset, [6]), ["Subset", "index 6"]);
});

Deno.test("a TransformedDataset transforms the input and keeps the label", async () => {
  const images = tensor([[[[1, 2], [3, 4]]], [[[5, 6], [7, 8]]]]); // [2, 1, 2, 2]
  const labels = tensor([0, 1], { dtype: "int32" });
  const doubled = new data.TransformedDataset(
    new data.TensorDataset(images, labels),
    (image) => image.mul(2),
  );
  assert.equal(doubled.length, 2);
  const [image, label] = doubled.get(1);
  assert.deepEqual(await image.toArray(), [[[10, 12], [14, 16]]]);
  assert.equal(await label.item(), 1);
  const [batch] = [...new data.DataLoader(doubled, { batchSize: 2 })];
  assert.deepEqual(batch[0].shape, [2, 1, 2, 2]);
  assert.deepEqual(await batch[1].toArray(), [0, 1]);
});

Deno.test("a DataLoader over a TransformedDataset draws new augmentations each epoch", async () => {
  const images = arange(16, undefined, 1, { dtype: "float32" }).reshape([4, 1, 2, 2]);
  const dataset = new data.TransformedDataset(
    new data.TensorDataset(images),
    data.transforms.randomHorizontalFlip(0.5),
  );
  const loader = new data.DataLoader(dataset, { batchSize: 4 });
  manualSeed(0);
  const epochs: number[][] = [];
  for (let e = 0; e < 4; e++) {
    const [[batch]] = [...loader];
    epochs.push(Array.from(await batch.data()));
  }
  assert.ok(epochs.some((e) => JSON.stringify(e) !== JSON.stringify(epochs[0])));
  manualSeed(0);
  const [[again]] = [...loader];
  assert.deepEqual(Array.from(await again.data()), epochs[0]);
});

Deno.test("randomSplit with stratify keeps every class's share in every split, seeded", () => {
  // 150 samples, 50 of each of 3 classes (as Iris), split 70/15/15.
  const labels = Array.from({ length: 150 }, (_, i) => Math.floor(i / 50));
  const dataset = numbered(150);
  manualSeed(4);
  const splits = data.randomSplit(dataset, [0.7, 0.15, 0.15], { stratify: labels });
  assert.deepEqual(splits.map((s) => s.length), [106, 22, 22]);
  const perClass = splits.map((s) =>
    [0, 1, 2].map((c) => s.indices.filter((i) => labels[i] === c).length)
  );
  // 50 * 106 / 150 = 35.3 of each class in training, 7.3 in validation and test.
  for (const counts of perClass) {
    const least = Math.min(...counts);
    assert.ok(Math.max(...counts) - least <= 1, `classes unbalanced in a split: ${counts}`);
  }
  assert.deepEqual(perClass.map((c) => c.reduce((s, v) => s + v, 0)), [106, 22, 22]);
  const all = splits.flatMap((s) => [...s.indices]).sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 150 }, (_, i) => i), "every sample exactly once");
  // The order inside a split is shuffled, not grouped by class.
  const firstLabels = splits[0].indices.slice(0, 20).map((i) => labels[i]);
  assert.ok(new Set(firstLabels).size === 3, `training split starts grouped: ${firstLabels}`);
  manualSeed(4);
  const again = data.randomSplit(dataset, [0.7, 0.15, 0.15], { stratify: labels });
  assert.deepEqual(
    again.map((s) => s.indices),
    splits.map((s) => s.indices),
    "same seed, same split",
  );
});

Deno.test("randomSplit with stratify: unbalanced classes, tensor labels and errors", () => {
  // 90 of class 0 and 10 of class 1, split 80/20: 72 + 8 and 18 + 2.
  const labels = tensor(Array.from({ length: 100 }, (_, i) => (i < 90 ? 0 : 1)), {
    dtype: "int32",
  });
  const [train, test] = data.randomSplit(numbered(100), [80, 20], { stratify: labels });
  const ones = (s: data.Subset) => s.indices.filter((i) => i >= 90).length;
  assert.equal(ones(train), 8);
  assert.equal(ones(test), 2);
  assertThrowsWith(() => data.randomSplit(numbered(10), [5, 5], { stratify: [0, 1] }), [
    "randomSplit",
    "2 labels",
    "10 samples",
  ]);
  // deno-lint-ignore no-explicit-any
  assertThrowsWith(() => data.randomSplit(numbered(10), [5, 5], { stratified: [0] } as any), [
    "randomSplit",
    '"stratified"',
    "stratify",
  ]);
});
