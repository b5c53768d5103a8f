/**
 * The `data` namespace: datasets, the batching `DataLoader`, `randomSplit`, and image
 * `transforms` for augmentation.
 *
 * @example
 * ```ts
 * import { data, manualSeed, randn, randint } from "../../mod.ts";
 * manualSeed(0);
 * const dataset = new data.TensorDataset(randn([100, 1, 8, 8]), randint(0, 10, [100]));
 * const [train, test] = data.randomSplit(dataset, [0.8, 0.2]);
 * const augment = data.transforms.compose([
 *   data.transforms.randomHorizontalFlip(),
 *   data.transforms.randomCrop(8, { padding: 1 }),
 * ]);
 * const trainLoader = new data.DataLoader(new data.TransformedDataset(train, augment), {
 *   batchSize: 16,
 *   shuffle: true,
 * });
 * const testLoader = new data.DataLoader(test, { batchSize: 16 });
 * console.assert(trainLoader.length === 5 && testLoader.length === 2);
 * ```
 * @module
 */
export {
  type Batch,
  collate,
  DataLoader,
  type DataLoaderOptions,
  type Dataset,
  type Field,
  randomSplit,
  type RandomSplitOptions,
  type Sample,
  Subset,
  TensorDataset,
  TransformedDataset,
} from "./dataset.ts";
export type { StratifyLabels } from "./stratify.ts";
export * as transforms from "./transforms.ts";
export type { Transform } from "./transforms.ts";
