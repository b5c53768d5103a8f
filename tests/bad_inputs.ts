/**
 * The bad-input table: mistakes a student makes (PyTorch habits, wrong types, impossible
 * sizes, changed tensors), each with the op its error must name and the words that say what
 * was wrong and how to fix it. `bad_inputs.test.ts` runs every row on the CPU and on WebGPU.
 *
 * A row's `run` gets a context that makes tensors on the device under test; what it returns is
 * read back (a tensor, or a list of them), so an error that a GPU reports at the next read back
 * counts as well. `silent: "wrong"` marks rows whose input, when accepted without an error,
 * gives a wrong result (not just an ignored mistake): that is how the table counts classes.
 *
 * @module
 */
import {
  arange,
  cat,
  data,
  type Device,
  eye,
  F,
  fetchCsv,
  fetchIdx,
  full,
  linspace,
  load,
  loadFashionMnist,
  nn,
  noGrad,
  ones,
  optim,
  parseCsv,
  rand,
  randint,
  randn,
  readIdx,
  save,
  Tensor,
  tensor,
  type TensorOptions,
  zeros,
  zerosLike,
} from "../mod.ts";
import { decodeSafetensors, encodeSafetensors } from "../core/io/safetensors.ts";
import { gzip } from "../core/io/idx.ts";

/** What a row's `run` gets: the device under test and tensor makers on it. */
export interface Context {
  device: Device;
  /** A float32 (or given dtype) tensor on the device under test. */
  t(values: number | number[] | number[][], options?: TensorOptions): Tensor;
  /** An int32 tensor on the device under test. */
  int(values: number | number[] | number[][]): Tensor;
  /** A tensor of random values of `shape` on the device under test. */
  randn(shape: number[], options?: TensorOptions): Tensor;
  /** A leaf of `shape` that requires a gradient, on the device under test. */
  param(shape: number[]): Tensor;
  /** A scratch file path under /tmp holding `bytes`. */
  file(name: string, bytes: Uint8Array | string): Promise<string>;
}

/** One bad input. */
export interface BadInput {
  /** What the student wrote. */
  name: string;
  /** The user-facing op the message must name, as it appears before the colon. */
  op: string;
  /** Words that say what was wrong and the fix. */
  expect: string[];
  /** Makes the mistake; what it returns is read back. */
  run(c: Context): unknown;
  /** "wrong" when accepting the input silently gives a wrong result. */
  silent?: "wrong";
  /** Only meaningful on the CPU (float64, files, CPU-only checks). */
  cpuOnly?: boolean;
}

// deno-lint-ignore no-explicit-any
type Any = any;
const untyped = (value: unknown) => value as Any;

const model = () => new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU(), new nn.Linear(3, 1));
const loaderData = () => new data.TensorDataset(randn([6, 2]), randint(0, 2, [6]));
const images = (c: Context) => c.randn([1, 2, 6, 6]);

/** Rows of the table, grouped by the class of mistake. */
export const BAD_INPUTS: BadInput[] = [
  // ---- optimizers: PyTorch's positional and snake_case habits ------------------------------
  {
    name: "new optim.Adam(params, 0.5)",
    op: "Adam",
    expect: ["second argument is an options object", "{ lr: 0.5 }"],
    silent: "wrong",
    run: (c) => new (optim.Adam as Any)([c.param([2])], 0.5),
  },
  {
    name: "Adam { weight_decay }",
    op: "Adam",
    expect: ['"weight_decay"', 'did you mean "weightDecay"'],
    silent: "wrong",
    run: (c) => new optim.Adam([c.param([2])], untyped({ weight_decay: 0.5 })),
  },
  {
    name: "Adam { learningRate }",
    op: "Adam",
    expect: ['"learningRate"', 'did you mean "lr"'],
    silent: "wrong",
    run: (c) => new optim.Adam([c.param([2])], untyped({ learningRate: 0.1 })),
  },
  {
    name: "Adam { beta1 }",
    op: "Adam",
    expect: ['"beta1"', 'did you mean "betas"'],
    silent: "wrong",
    run: (c) => new optim.Adam([c.param([2])], untyped({ beta1: 0.8 })),
  },
  {
    name: "Adam { amsGrad }",
    op: "Adam",
    expect: ['"amsGrad"', 'did you mean "amsgrad"'],
    silent: "wrong",
    run: (c) => new optim.Adam([c.param([2])], untyped({ amsGrad: true })),
  },
  {
    name: "Adam { epsilon }",
    op: "Adam",
    expect: ['"epsilon"', 'did you mean "eps"'],
    silent: "wrong",
    run: (c) => new optim.Adam([c.param([2])], untyped({ epsilon: 1e-6 })),
  },
  {
    name: "Adam { amsgrad: 'yes' }",
    op: "Adam",
    expect: ["amsgrad must be true or false"],
    run: (c) => new optim.Adam([c.param([2])], untyped({ amsgrad: "yes" })),
  },
  {
    name: "new optim.AdamW(params, 0.01)",
    op: "AdamW",
    expect: ["second argument is an options object", "{ lr: 0.01 }"],
    silent: "wrong",
    run: (c) => new (optim.AdamW as Any)([c.param([2])], 0.01),
  },
  {
    name: "AdamW { weight_decay }",
    op: "AdamW",
    expect: ['"weight_decay"', 'did you mean "weightDecay"'],
    silent: "wrong",
    run: (c) => new optim.AdamW([c.param([2])], untyped({ weight_decay: 0.1 })),
  },
  {
    name: "new optim.SGD(params, 0.1)",
    op: "SGD",
    expect: ["second argument is an options object", "{ lr: 0.1 }"],
    run: (c) => new (optim.SGD as Any)([c.param([2])], 0.1),
  },
  {
    name: "new optim.SGD(params, 0.1, 0.9)",
    op: "SGD",
    expect: ["{ lr: 0.1, momentum: 0.9 }"],
    run: (c) => new (optim.SGD as Any)([c.param([2])], 0.1, 0.9),
  },
  {
    name: "SGD { nestrov }",
    op: "SGD",
    expect: ['"nestrov"', 'did you mean "nesterov"'],
    silent: "wrong",
    run: (c) => new optim.SGD([c.param([2])], untyped({ lr: 0.1, momentum: 0.9, nestrov: true })),
  },
  {
    name: "SGD { learning_rate }",
    op: "SGD",
    expect: ['"learning_rate"', 'did you mean "lr"'],
    run: (c) => new optim.SGD([c.param([2])], untyped({ learning_rate: 0.1 })),
  },
  {
    name: "SGD { momentun }",
    op: "SGD",
    expect: ['"momentun"', 'did you mean "momentum"'],
    silent: "wrong",
    run: (c) => new optim.SGD([c.param([2])], untyped({ lr: 0.1, momentun: 0.9 })),
  },
  {
    name: "SGD { weight_decay }",
    op: "SGD",
    expect: ['"weight_decay"', 'did you mean "weightDecay"'],
    silent: "wrong",
    run: (c) => new optim.SGD([c.param([2])], untyped({ lr: 0.1, weight_decay: 1e-4 })),
  },
  {
    name: "SGD without lr",
    op: "SGD",
    expect: ["learning rate is required", "{ lr: 0.01 }"],
    run: (c) => new optim.SGD([c.param([2])], untyped({})),
  },
  {
    name: "SGD parameter group { weight_decay }",
    op: "SGD parameter group",
    expect: ['"weight_decay"', 'did you mean "weightDecay"'],
    silent: "wrong",
    run: (c) => new optim.SGD(untyped([{ params: [c.param([2])], weight_decay: 0 }]), { lr: 0.1 }),
  },
  {
    name: "Adam parameter group { learningRate }",
    op: "Adam parameter group",
    expect: ['"learningRate"', 'did you mean "lr"'],
    silent: "wrong",
    run: (c) => new optim.Adam(untyped([{ params: [c.param([2])], learningRate: 1e-4 }])),
  },
  {
    name: "SGD with a negative lr",
    op: "SGD",
    expect: ["invalid learning rate", ">= 0"],
    run: (c) => new optim.SGD([c.param([2])], { lr: -1 }),
  },
  {
    name: "SGD of a computed tensor",
    op: "SGD",
    expect: ["non-leaf", "model's parameters"],
    run: (c) => new optim.SGD([c.param([2]).mul(2)], { lr: 0.1 }),
  },
  // ---- schedulers ------------------------------------------------------------------------------
  {
    name: "new StepLR(optimizer, 30)",
    op: "StepLR",
    expect: ["second argument is an options object", "{ stepSize: 30 }"],
    run: (c) => new (optim.lrScheduler.StepLR as Any)(new optim.SGD([c.param([2])], { lr: 1 }), 30),
  },
  {
    name: "StepLR { step_size }",
    op: "StepLR",
    expect: ['"step_size"', 'did you mean "stepSize"'],
    run: (c) =>
      new optim.lrScheduler.StepLR(
        new optim.SGD([c.param([2])], { lr: 1 }),
        untyped({ step_size: 3 }),
      ),
  },
  {
    name: "CosineAnnealingLR { T_max }",
    op: "CosineAnnealingLR",
    expect: ['"T_max"', 'did you mean "tMax"'],
    run: (c) =>
      new optim.lrScheduler.CosineAnnealingLR(
        new optim.SGD([c.param([2])], { lr: 1 }),
        untyped({ T_max: 10 }),
      ),
  },
  {
    name: "new CosineAnnealingLR(optimizer, 10)",
    op: "CosineAnnealingLR",
    expect: ["{ tMax: 10 }"],
    run: (c) =>
      new (optim.lrScheduler.CosineAnnealingLR as Any)(
        new optim.SGD([c.param([2])], { lr: 1 }),
        10,
      ),
  },
  {
    name: "ReduceLROnPlateau { min_lr }",
    op: "ReduceLROnPlateau",
    expect: ['"min_lr"', 'did you mean "minLr"'],
    silent: "wrong",
    run: (c) =>
      new optim.lrScheduler.ReduceLROnPlateau(
        new optim.SGD([c.param([2])], { lr: 1 }),
        untyped({ min_lr: 1e-3 }),
      ),
  },
  {
    name: 'new ReduceLROnPlateau(optimizer, "max")',
    op: "ReduceLROnPlateau",
    expect: ['{ mode: "max" }'],
    silent: "wrong",
    run: (c) =>
      new (optim.lrScheduler.ReduceLROnPlateau as Any)(
        new optim.SGD([c.param([2])], { lr: 1 }),
        "max",
      ),
  },
  // ---- data ------------------------------------------------------------------------------------
  {
    name: "new DataLoader({ dataset, batchSize })",
    op: "DataLoader",
    expect: ["dataset comes first", "new data.DataLoader(dataset, { batchSize"],
    run: () => new data.DataLoader(untyped({ dataset: loaderData(), batchSize: 2 })),
  },
  {
    name: "new DataLoader(dataset, 16)",
    op: "DataLoader",
    expect: ["second argument is an options object", "{ batchSize: 16 }"],
    silent: "wrong",
    run: () => new data.DataLoader(loaderData(), untyped(16)),
  },
  {
    name: "DataLoader { batch_size }",
    op: "DataLoader",
    expect: ['"batch_size"', 'did you mean "batchSize"'],
    silent: "wrong",
    run: () => new data.DataLoader(loaderData(), untyped({ batch_size: 4 })),
  },
  {
    name: "DataLoader { drop_last }",
    op: "DataLoader",
    expect: ['"drop_last"', 'did you mean "dropLast"'],
    silent: "wrong",
    run: () => new data.DataLoader(loaderData(), untyped({ batchSize: 4, drop_last: true })),
  },
  {
    name: "DataLoader { shuffle: 'yes' }",
    op: "DataLoader",
    expect: ["shuffle and dropLast must be true or false"],
    run: () => new data.DataLoader(loaderData(), untyped({ shuffle: "yes" })),
  },
  {
    name: "DataLoader { batchSize: 0 }",
    op: "DataLoader",
    expect: ["batchSize must be a positive integer"],
    run: () => new data.DataLoader(loaderData(), { batchSize: 0 }),
  },
  {
    name: "DataLoader of a tensor",
    op: "DataLoader",
    expect: ["length", "get(index)", "TensorDataset"],
    run: (c) => new data.DataLoader(untyped(c.t([1, 2])), { batchSize: 1 }),
  },
  {
    name: "TensorDataset of mismatched tensors",
    op: "TensorDataset",
    expect: ["same size in their first dimension"],
    run: (c) => new data.TensorDataset(c.t([[1], [2]]), c.t([1, 2, 3])),
  },
  {
    name: "randomSplit { stratified }",
    op: "randomSplit",
    expect: ['"stratified"', 'did you mean "stratify"'],
    silent: "wrong",
    run: () => data.randomSplit(loaderData(), [0.5, 0.5], untyped({ stratified: [0, 1] })),
  },
  {
    name: "randomCrop(28, 4)",
    op: "randomCrop",
    expect: ["second argument is an options object", "{ padding: 4 }"],
    silent: "wrong",
    run: () => data.transforms.randomCrop(28, untyped(4)),
  },
  {
    name: "randomRotation { interpolate }",
    op: "randomRotation",
    expect: ['"interpolate"', 'did you mean "interpolation"'],
    silent: "wrong",
    run: () => data.transforms.randomRotation(10, untyped({ interpolate: "bilinear" })),
  },
  // ---- F: functional ops -----------------------------------------------------------------------
  {
    name: "F.maxPool2d(x, 3, 2)",
    op: "maxPool2d",
    expect: ["third argument is an options object", "{ stride: 2 }"],
    silent: "wrong",
    run: (c) => F.maxPool2d(images(c), 3, untyped(2)),
  },
  {
    name: "F.maxPool2d(x, 2, 2, 1)",
    op: "maxPool2d",
    expect: ["{ stride: 2, padding: 1 }"],
    silent: "wrong",
    run: (c) => untyped(F.maxPool2d)(images(c), 2, 2, 1),
  },
  {
    name: "F.maxPool2d { stide }",
    op: "maxPool2d",
    expect: ['"stide"', 'did you mean "stride"'],
    silent: "wrong",
    run: (c) => F.maxPool2d(images(c), 2, untyped({ stide: 1 })),
  },
  {
    name: "F.maxPool2d { ceil_mode }",
    op: "maxPool2d",
    expect: ['unknown option "ceil_mode"', "options: stride, padding, dilation"],
    run: (c) => F.maxPool2d(images(c), 2, untyped({ ceil_mode: true })),
  },
  {
    name: "F.avgPool2d(x, 2, 1)",
    op: "avgPool2d",
    expect: ["{ stride: 1 }"],
    silent: "wrong",
    run: (c) => F.avgPool2d(images(c), 2, untyped(1)),
  },
  {
    name: "F.conv2d(x, w, b, 2)",
    op: "conv2d",
    expect: ["fourth argument is an options object", "{ stride: 2 }"],
    silent: "wrong",
    run: (c) => F.conv2d(images(c), c.randn([3, 2, 3, 3]), c.randn([3]), untyped(2)),
  },
  {
    name: "F.conv2d(x, w, { padding: 1 })",
    op: "conv2d",
    expect: ["third argument is the bias", "conv2d(input, weight, null, {"],
    silent: "wrong",
    run: (c) => F.conv2d(images(c), c.randn([3, 2, 3, 3]), untyped({ padding: 1 })),
  },
  {
    name: "F.conv2d { pad }",
    op: "conv2d",
    expect: ['"pad"', 'did you mean "padding"'],
    silent: "wrong",
    run: (c) => F.conv2d(images(c), c.randn([3, 2, 3, 3]), null, untyped({ pad: 1 })),
  },
  {
    name: "F.conv2d with too few input channels",
    op: "conv2d",
    expect: ["input has 2 channels", "expects 3"],
    run: (c) => F.conv2d(images(c), c.randn([4, 3, 3, 3])),
  },
  {
    name: "F.conv2d of a 3-D input",
    op: "conv2d",
    expect: ["expected a 4-D input", "[batch, channels, height, width]"],
    run: (c) => F.conv2d(c.randn([2, 6, 6]), c.randn([3, 2, 3, 3])),
  },
  {
    name: "F.crossEntropy { reduce }",
    op: "crossEntropy",
    expect: ['"reduce"', 'did you mean "reduction"'],
    silent: "wrong",
    run: (c) => F.crossEntropy(c.randn([2, 3]), c.int([0, 1]), untyped({ reduce: "sum" })),
  },
  {
    name: "F.crossEntropy { label_smoothing }",
    op: "crossEntropy",
    expect: ['"label_smoothing"', 'did you mean "labelSmoothing"'],
    silent: "wrong",
    run: (c) => F.crossEntropy(c.randn([2, 3]), c.int([0, 1]), untyped({ label_smoothing: 0.1 })),
  },
  {
    name: 'F.crossEntropy(logits, targets, "sum")',
    op: "crossEntropy",
    expect: ["third argument is an options object", "reduction"],
    silent: "wrong",
    run: (c) => F.crossEntropy(c.randn([2, 3]), c.int([0, 1]), untyped("sum")),
  },
  {
    name: "F.crossEntropy { reduction: 'avg' }",
    op: "crossEntropy",
    expect: ['reduction must be "mean", "sum" or "none"'],
    run: (c) => F.crossEntropy(c.randn([2, 3]), c.int([0, 1]), untyped({ reduction: "avg" })),
  },
  {
    name: "F.crossEntropy { labelSmoothing: 2 }",
    op: "crossEntropy",
    expect: ["labelSmoothing must be in [0, 1]"],
    run: (c) => F.crossEntropy(c.randn([2, 3]), c.int([0, 1]), { labelSmoothing: 2 }),
  },
  {
    name: "F.crossEntropy with float targets",
    op: "crossEntropy",
    expect: ["int32", ".int()"],
    run: (c) => F.crossEntropy(c.randn([2, 3]), c.t([0, 1])),
  },
  {
    name: "F.crossEntropy with a target out of range",
    op: "crossEntropy",
    expect: ["target 3 is out of range for 3 classes"],
    silent: "wrong",
    run: (c) => F.crossEntropy(c.randn([2, 3]), c.int([0, 3])),
  },
  {
    name: "F.crossEntropy with a negative target",
    op: "crossEntropy",
    expect: ["target -1 is out of range for 3 classes"],
    silent: "wrong",
    run: (c) => F.crossEntropy(c.randn([2, 3]), c.int([-1, 0])),
  },
  {
    name: "F.crossEntropy of one example [C]",
    op: "crossEntropy",
    expect: ["[batch, classes]", "unsqueeze(0)"],
    run: (c) => F.crossEntropy(c.randn([3]), c.int([0])),
  },
  {
    name: "F.crossEntropy with a batch mismatch",
    op: "crossEntropy",
    expect: ["different batch sizes", "(2 vs 3)"],
    run: (c) => F.crossEntropy(c.randn([2, 3]), c.int([0, 1, 2])),
  },
  {
    name: "F.nllLoss { size_average }",
    op: "nllLoss",
    expect: ['"size_average"', 'did you mean "reduction"'],
    silent: "wrong",
    run: (c) =>
      F.nllLoss(c.randn([2, 3]).logSoftmax(1), c.int([0, 1]), untyped({ size_average: false })),
  },
  {
    name: "F.nllLoss with a target out of range",
    op: "nllLoss",
    expect: ["target 5 is out of range for 3 classes"],
    silent: "wrong",
    run: (c) => F.nllLoss(c.randn([2, 3]).logSoftmax(1), c.int([5, 1])),
  },
  {
    name: "F.mseLoss { reduce }",
    op: "mseLoss",
    expect: ['"reduce"', 'did you mean "reduction"'],
    silent: "wrong",
    run: (c) => F.mseLoss(c.t([1, 2]), c.t([1, 3]), untyped({ reduce: "sum" })),
  },
  {
    name: 'F.mseLoss(x, y, "sum")',
    op: "mseLoss",
    expect: ['{ reduction: "sum" }'],
    silent: "wrong",
    run: (c) => F.mseLoss(c.t([1, 2]), c.t([1, 3]), untyped("sum")),
  },
  {
    name: "F.mseLoss of [N, 1] against [N]",
    op: "mseLoss",
    expect: ["differ", "broadcasting", "reshape"],
    run: (c) => F.mseLoss(c.t([[1], [2]]), c.t([1, 2])),
  },
  {
    name: "F.mseLoss with int targets",
    op: "mseLoss",
    expect: ["float target", ".float()"],
    run: (c) => F.mseLoss(c.t([1, 2]), c.int([1, 2])),
  },
  {
    name: "F.l1Loss { reduce }",
    op: "l1Loss",
    expect: ['"reduce"', 'did you mean "reduction"'],
    silent: "wrong",
    run: (c) => F.l1Loss(c.t([1, 2]), c.t([1, 3]), untyped({ reduce: "sum" })),
  },
  {
    name: "F.binaryCrossEntropyWithLogits { pos_weight }",
    op: "binaryCrossEntropyWithLogits",
    expect: ['"pos_weight"', 'did you mean "posWeight"'],
    silent: "wrong",
    run: (c) =>
      F.binaryCrossEntropyWithLogits(c.t([1, 2]), c.t([0, 1]), untyped({ pos_weight: c.t([2]) })),
  },
  {
    name: "F.batchNorm { train }",
    op: "batchNorm",
    expect: ['"train"', 'did you mean "training"'],
    silent: "wrong",
    run: (c) => F.batchNorm(c.randn([4, 2]), null, null, untyped({ train: true })),
  },
  {
    name: "F.batchNorm with a channel mismatch",
    op: "batchNorm",
    expect: ["has 2 channels", "expected [2]"],
    run: (c) => F.batchNorm(c.randn([4, 2]), c.t([0, 0, 0]), c.t([1, 1, 1])),
  },
  {
    name: "F.gelu(x, 'tanh')",
    op: "gelu",
    expect: ['{ approximate: "tanh" }'],
    silent: "wrong",
    run: (c) => F.gelu(c.t([1]), untyped("tanh")),
  },
  {
    name: "F.gelu { approximate: 'tan' }",
    op: "gelu",
    expect: ['approximate must be "none" or "tanh"'],
    run: (c) => F.gelu(c.t([1]), untyped({ approximate: "tan" })),
  },
  {
    name: "F.elu(x, 0.5)",
    op: "elu",
    expect: ["{ alpha: 0.5 }"],
    silent: "wrong",
    run: (c) => F.elu(c.t([-1]), untyped(0.5)),
  },
  {
    name: "F.elu { alfa }",
    op: "elu",
    expect: ['"alfa"', 'did you mean "alpha"'],
    silent: "wrong",
    run: (c) => F.elu(c.t([-1]), untyped({ alfa: 0.5 })),
  },
  {
    name: "F.relu(x, true)",
    op: "relu",
    expect: ["takes 1 argument", "x = F.relu(x)"],
    run: (c) => untyped(F.relu)(c.t([1]), true),
  },
  {
    name: "F.dropout(x, 0.5, true, true)",
    op: "dropout",
    expect: ["takes 3 arguments", "no in-place dropout"],
    run: (c) => untyped(F.dropout)(c.t([1]), 0.5, true, true),
  },
  {
    name: "F.dropout(x, 1.5)",
    op: "dropout",
    expect: ["between 0 and 1", "1.5"],
    run: (c) => F.dropout(c.t([1]), 1.5),
  },
  {
    name: "F.linear(x, w, { bias })",
    op: "linear",
    expect: ["third argument is the bias", "null"],
    silent: "wrong",
    run: (c) => F.linear(c.randn([1, 2]), c.randn([3, 2]), untyped({ bias: c.randn([3]) })),
  },
  {
    name: "F.linear with too few features",
    op: "linear",
    expect: ["has 3 features", "expects 2", "flatten"],
    run: (c) => F.linear(c.randn([1, 3]), c.randn([4, 2])),
  },
  {
    name: "F.softmax(x) without a dim",
    op: "softmax",
    expect: ["a dimension is an integer", "give the dim"],
    run: (c) => untyped(F.softmax)(c.randn([2, 3])),
  },
  // ---- nn: layer constructors ------------------------------------------------------------------
  {
    name: "new nn.Linear(2, 3, false)",
    op: "Linear",
    expect: ["third argument is an options object", "{ bias: false }"],
    silent: "wrong",
    run: () => new nn.Linear(2, 3, untyped(false)),
  },
  {
    name: "nn.Linear { bais }",
    op: "Linear",
    expect: ['"bais"', 'did you mean "bias"'],
    silent: "wrong",
    run: () => new nn.Linear(2, 3, untyped({ bais: false })),
  },
  {
    name: "new nn.Linear(0, 3)",
    op: "Linear",
    expect: ["inFeatures"],
    run: () => new nn.Linear(0, 3),
  },
  {
    name: "new nn.Conv2d(3, 4, 3, 2)",
    op: "Conv2d",
    expect: ["fourth argument is an options object", "{ stride: 2 }"],
    silent: "wrong",
    run: () => new nn.Conv2d(3, 4, 3, untyped(2)),
  },
  {
    name: "new nn.Conv2d(3, 4, 3, 1, 1)",
    op: "Conv2d",
    expect: ["{ stride: 1, padding: 1 }"],
    silent: "wrong",
    run: () => new (nn.Conv2d as Any)(3, 4, 3, 1, 1),
  },
  {
    name: "nn.Conv2d { padding_mode }",
    op: "Conv2d",
    expect: ['unknown option "padding_mode"', "options: stride, padding"],
    run: () => new nn.Conv2d(3, 4, 3, untyped({ padding_mode: "zeros" })),
  },
  {
    name: "nn.Conv2d { groups: 2 } with 3 channels",
    op: "Conv2d",
    expect: ["groups (2) must divide"],
    run: () => new nn.Conv2d(3, 4, 3, { groups: 2 }),
  },
  {
    name: "new nn.MaxPool2d(2, 2)",
    op: "MaxPool2d",
    expect: ["second argument is an options object", "{ stride: 2 }"],
    run: () => new nn.MaxPool2d(2, untyped(2)),
  },
  {
    name: "new nn.AvgPool2d(3, 1)",
    op: "AvgPool2d",
    expect: ["{ stride: 1 }"],
    silent: "wrong",
    run: () => new nn.AvgPool2d(3, untyped(1)),
  },
  {
    name: "new nn.BatchNorm2d(4, 0.1)",
    op: "BatchNorm2d",
    expect: ["{ eps: 0.1 }"],
    run: () => new nn.BatchNorm2d(4, untyped(0.1)),
  },
  {
    name: "nn.BatchNorm2d { track_running_stats }",
    op: "BatchNorm2d",
    expect: ['"track_running_stats"', 'did you mean "trackRunningStats"'],
    silent: "wrong",
    run: () => new nn.BatchNorm2d(4, untyped({ track_running_stats: false })),
  },
  {
    name: "nn.BatchNorm1d { momentom }",
    op: "BatchNorm1d",
    expect: ['"momentom"', 'did you mean "momentum"'],
    silent: "wrong",
    run: () => new nn.BatchNorm1d(4, untyped({ momentom: 0.5 })),
  },
  {
    name: "nn.BatchNorm2d with the wrong channel count",
    op: "BatchNorm2d",
    expect: ["expected 4 channels", "[1, 2, 6, 6]"],
    run: (c) => new nn.BatchNorm2d(4).forward(images(c)),
  },
  {
    name: "nn.CrossEntropyLoss { reduce }",
    op: "CrossEntropyLoss",
    expect: ['"reduce"', 'did you mean "reduction"'],
    silent: "wrong",
    run: () => new nn.CrossEntropyLoss(untyped({ reduce: "sum" })),
  },
  {
    name: 'new nn.CrossEntropyLoss("sum")',
    op: "CrossEntropyLoss",
    expect: ["first argument is an options object"],
    run: () => new nn.CrossEntropyLoss(untyped("sum")),
  },
  {
    name: "nn.NLLLoss { ignore_index }",
    op: "NLLLoss",
    expect: ['unknown option "ignore_index"'],
    run: () => new nn.NLLLoss(untyped({ ignore_index: -100 })),
  },
  {
    name: "nn.MSELoss { size_average }",
    op: "MSELoss",
    expect: ['"size_average"', 'did you mean "reduction"'],
    silent: "wrong",
    run: () => new nn.MSELoss(untyped({ size_average: false })),
  },
  {
    name: "nn.L1Loss { reduce }",
    op: "L1Loss",
    expect: ['did you mean "reduction"'],
    silent: "wrong",
    run: () => new nn.L1Loss(untyped({ reduce: "sum" })),
  },
  {
    name: "nn.BCEWithLogitsLoss { pos_weight }",
    op: "BCEWithLogitsLoss",
    expect: ['did you mean "posWeight"'],
    silent: "wrong",
    run: (c) => new nn.BCEWithLogitsLoss(untyped({ pos_weight: c.t([3]) })),
  },
  {
    name: "new nn.ReLU(true)",
    op: "ReLU",
    expect: ["takes 0 arguments", "inplace"],
    run: () => new (nn.ReLU as Any)(true),
  },
  {
    name: "new nn.Dropout(0.5, true)",
    op: "Dropout",
    expect: ["takes 1 argument", "inplace"],
    run: () => new (nn.Dropout as Any)(0.5, true),
  },
  {
    name: "new nn.Dropout(2)",
    op: "Dropout",
    expect: ["between 0 and 1"],
    run: () => new nn.Dropout(2),
  },
  {
    name: 'new nn.GELU("tanh")',
    op: "GELU",
    expect: ['{ approximate: "tanh" }'],
    silent: "wrong",
    run: () => new nn.GELU(untyped("tanh")),
  },
  {
    name: "nn.ELU { alfa }",
    op: "ELU",
    expect: ['did you mean "alpha"'],
    silent: "wrong",
    run: () => new nn.ELU(untyped({ alfa: 0.2 })),
  },
  {
    name: "model.to({ dtyp })",
    op: "Module.to",
    expect: ['"dtyp"', 'did you mean "dtype"'],
    run: () => model().to(untyped({ dtyp: "float64" })),
  },
  {
    name: 'model.to({ dtype: "int32" })',
    op: "Module.to",
    expect: ["only become a float dtype"],
    run: () => model().to({ dtype: "int32" }),
  },
  {
    name: "model.loadStateDict(sd, { assign: true })",
    op: "loadStateDict",
    expect: ['unknown option "assign"', "options: strict"],
    run: () => {
      const m = model();
      return m.loadStateDict(m.stateDict(), untyped({ assign: true }));
    },
  },
  {
    name: 'model.loadStateDict("model.safetensors")',
    op: "loadStateDict",
    expect: ["got the path", 'await load("model.safetensors")'],
    run: () => model().loadStateDict(untyped("model.safetensors")),
  },
  {
    name: "model.loadStateDict(load(path)) without await",
    op: "loadStateDict",
    expect: ["Promise", "forget await"],
    run: () => model().loadStateDict(untyped(Promise.resolve({}))),
  },
  {
    name: "model.loadStateDict of the wrong shapes",
    op: "loadStateDict",
    expect: ["size mismatch", "0.weight"],
    run: () =>
      model().loadStateDict(
        new nn.Sequential(new nn.Linear(3, 3), new nn.ReLU(), new nn.Linear(3, 1)).stateDict(),
      ),
  },
  // ---- creation functions ----------------------------------------------------------------------
  {
    name: 'zeros([2, 3], "float64")',
    op: "zeros",
    expect: ["second argument is an options object", '{ dtype: "float64" }'],
    run: () => zeros([2, 3], untyped("float64")),
  },
  {
    name: "zeros(2, 3)",
    op: "zeros",
    expect: ["the shape is one array", "zeros([2, 3])"],
    silent: "wrong",
    run: () => untyped(zeros)(2, 3),
  },
  {
    name: "ones(4)",
    op: "ones",
    expect: ["ones([4])"],
    run: () => untyped(ones)(4),
  },
  {
    name: "rand(2, 2)",
    op: "rand",
    expect: ["rand([2, 2])"],
    silent: "wrong",
    run: () => untyped(rand)(2, 2),
  },
  {
    name: "randn([2], { requires_grad })",
    op: "randn",
    expect: ['"requires_grad"', 'did you mean "requiresGrad"'],
    silent: "wrong",
    run: () => randn([2], untyped({ requires_grad: true })),
  },
  {
    name: "tensor([1], { requires_grad })",
    op: "tensor",
    expect: ['"requires_grad"', 'did you mean "requiresGrad"'],
    silent: "wrong",
    run: () => tensor([1], untyped({ requires_grad: true })),
  },
  {
    name: 'tensor([1], "float64")',
    op: "tensor",
    expect: ['{ dtype: "float64" }'],
    silent: "wrong",
    run: () => tensor([1], untyped("float64")),
  },
  {
    name: "tensor of ragged arrays",
    op: "tensor",
    expect: ["not rectangular"],
    run: () => tensor(untyped([[1, 2], [3]])),
  },
  {
    name: "tensor of int32 requiring grad",
    op: "tensor",
    expect: ["only float tensors can require gradients"],
    run: () => tensor([1], { dtype: "int32", requiresGrad: true }),
  },
  {
    name: "full([2], 1, { dtpye })",
    op: "full",
    expect: ['"dtpye"', 'did you mean "dtype"'],
    silent: "wrong",
    run: () => full([2], 1, untyped({ dtpye: "float64" })),
  },
  {
    name: 'linspace(0, 1, 5, "float64")',
    op: "linspace",
    expect: ['{ dtype: "float64" }'],
    silent: "wrong",
    run: () => linspace(0, 1, 5, untyped("float64")),
  },
  {
    name: "eye(3, { dtpye })",
    op: "eye",
    expect: ['did you mean "dtype"'],
    run: () => eye(3, untyped({ dtpye: "float64" })),
  },
  {
    name: "randint(0, 10, 5)",
    op: "randint",
    expect: ["randint(0, 10, [5])"],
    run: () => untyped(randint)(0, 10, 5),
  },
  {
    name: "randint(5, 5, [2])",
    op: "randint",
    expect: ["high (5) must be greater than low (5)"],
    run: () => randint(5, 5, [2]),
  },
  {
    name: "zerosLike(x, { requires_grad })",
    op: "zerosLike",
    expect: ['did you mean "requiresGrad"'],
    silent: "wrong",
    run: (c) => zerosLike(c.t([1]), untyped({ requires_grad: true })),
  },
  {
    name: "arange(0, 5, 0)",
    op: "arange",
    expect: ["step must not be zero"],
    run: () => arange(0, 5, 0),
  },
  {
    name: "zeros([-1])",
    op: "zeros",
    expect: ["invalid shape", "integers >= 0"],
    run: () => zeros([-1]),
  },
  {
    name: "zeros([2.5])",
    op: "zeros",
    expect: ["invalid shape"],
    run: () => zeros([2.5]),
  },
  // ---- resource limits -------------------------------------------------------------------------
  {
    name: "linspace(0, 1, 1e9)",
    op: "linspace",
    expect: ["1.00e+9 elements", "larger than", "smaller pieces"],
    run: (c) => linspace(0, 1, 1e9, { device: c.device }),
  },
  {
    name: "zeros([1e6, 1e6])",
    op: "zeros",
    expect: ["[1000000, 1000000]", "larger than"],
    run: (c) => zeros([1e6, 1e6], { device: c.device }),
  },
  {
    name: "ones([1e5, 1e5])",
    op: "ones",
    expect: ["[100000, 100000]", "larger than"],
    run: (c) => ones([1e5, 1e5], { device: c.device }),
  },
  {
    name: "randn([1e5, 1e5])",
    op: "randn",
    expect: ["[100000, 100000]", "larger than"],
    run: (c) => randn([1e5, 1e5], { device: c.device }),
  },
  {
    name: "arange(0, 1e10)",
    op: "arange",
    expect: ["larger than"],
    run: (c) => arange(0, 1e10, 1, { device: c.device }),
  },
  {
    name: "eye(1e5)",
    op: "eye",
    expect: ["[100000, 100000]", "larger than"],
    run: (c) => eye(1e5, 1e5, { device: c.device }),
  },
  {
    name: "x[1e5, 1] + y[1, 1e5]",
    op: "add",
    expect: ["[100000, 100000]", "larger than"],
    run: (c) => zeros([1e5, 1], { device: c.device }).add(zeros([1, 1e5], { device: c.device })),
  },
  {
    name: "x[1e5, 1] @ y[1, 1e5]",
    op: "matmul",
    expect: ["[100000, 100000]", "larger than"],
    run: (c) => zeros([1e5, 1], { device: c.device }).matmul(zeros([1, 1e5], { device: c.device })),
  },
  {
    name: "x.expand([1e5, 1e5])",
    op: "expand",
    expect: ["[100000, 100000]", "larger than"],
    run: (c) => c.t([[1]]).expand([1e5, 1e5]),
  },
  // ---- names students look for -----------------------------------------------------------------
  {
    name: "count += p.size",
    op: "size",
    expect: ["x.size is a method", "x.numel()"],
    silent: "wrong",
    run: (c) => {
      let count = 0;
      count += untyped(c.t([1, 2]).size);
      return count;
    },
  },
  {
    name: "`${x.size} values`",
    op: "size",
    expect: ["numel()"],
    silent: "wrong",
    run: (c) => `${untyped(c.t([1, 2]).size)} values`,
  },
  {
    name: "x.size(2) of a 2-D tensor",
    op: "size",
    expect: ["dimension 2 is out of range", "[2, 1]"],
    run: (c) => untyped(c.t([[1], [2]])).size(2),
  },
  {
    name: "x.var(0, false)",
    op: "var",
    expect: ["second argument is an options object", "{ unbiased: false }"],
    silent: "wrong",
    run: (c) => untyped(c.t([1, 2, 4])).var(0, false),
  },
  {
    name: "x.std(0, false)",
    op: "std",
    expect: ["{ unbiased: false }"],
    silent: "wrong",
    run: (c) => untyped(c.t([1, 2, 4])).std(0, false),
  },
  {
    name: "x.var(0, { keepdims })",
    op: "var",
    expect: ['"keepdims"', 'did you mean "keepdim"'],
    silent: "wrong",
    run: (c) => c.t([1, 2, 4]).var(0, untyped({ keepdims: true })),
  },
  {
    name: "x.std(0, { ddof: 0 })",
    op: "std",
    expect: ['"ddof"', 'did you mean "correction"'],
    silent: "wrong",
    run: (c) => c.t([1, 2, 4]).std(0, untyped({ ddof: 0 })),
  },
  {
    name: "x.var({ unbiased: false, correction: 1 })",
    op: "var",
    expect: ["unbiased or correction, not both"],
    run: (c) => c.t([1, 2, 4]).var(untyped({ unbiased: false, correction: 1 })),
  },
  {
    name: "x.var() of one value",
    op: "var",
    expect: ["correction 1", "1 element"],
    run: (c) => c.t([1]).var(),
  },
  {
    name: 'x.to("cpu", "float64")',
    op: "to",
    expect: ["t.to({ device, dtype })"],
    silent: "wrong",
    run: (c) => untyped(c.t([1])).to("cpu", "float64"),
  },
  {
    name: "x.to({ devise })",
    op: "to",
    expect: ['"devise"', 'did you mean "device"'],
    run: (c) => c.t([1]).to(untyped({ devise: "cpu" })),
  },
  {
    name: "x.view(2, 3)",
    op: "view",
    expect: ["the shape is one array", "x.view([2, 3])"],
    silent: "wrong",
    run: (c) => untyped(c.randn([6])).view(2, 3),
  },
  {
    name: "x.reshape(-1)",
    op: "reshape",
    expect: ["x.reshape([-1])"],
    run: (c) => untyped(c.randn([2, 3])).reshape(-1),
  },
  {
    name: "x.permute(1, 0)",
    op: "permute",
    expect: ["order of dimensions is one array", "x.permute([1, 0])"],
    run: (c) => untyped(c.randn([2, 3])).permute(1, 0),
  },
  {
    name: "const [values, indices] = x.max(1)",
    op: "Tensor",
    expect: ["cannot be iterated or destructured", "x.argmax(dim)"],
    run: (c) => {
      const [values, indices] = untyped(c.randn([2, 3]).max(1));
      return [values, indices];
    },
  },
  {
    name: "for (const row of x)",
    op: "Tensor",
    expect: ["cannot be iterated", "await x.data()"],
    run: (c) => {
      for (const row of untyped(c.randn([2]))) return row;
    },
  },
  {
    name: "optimizer.zero_grad()",
    op: "Optimizer.zero_grad",
    expect: ["camelCase", "optimizer.zeroGrad()"],
    run: (c) => untyped(new optim.SGD([c.param([2])], { lr: 0.1 })).zero_grad(),
  },
  {
    name: "model.state_dict()",
    op: "Module.state_dict",
    expect: ["model.stateDict()"],
    run: () => untyped(model()).state_dict(),
  },
  {
    name: "model.cuda()",
    op: "Module.cuda",
    expect: ['model.to("webgpu")'],
    run: () => untyped(model()).cuda(),
  },
  {
    name: "x.numpy()",
    op: "Tensor.numpy",
    expect: ["await t.data()", "await t.toArray()"],
    run: (c) => untyped(c.t([1])).numpy(),
  },
  {
    name: "x.requires_grad_()",
    op: "Tensor.requires_grad_",
    expect: ["t.requiresGrad_()"],
    run: (c) => untyped(c.t([1])).requires_grad_(),
  },
  {
    name: "model.forward() without the input",
    op: "linear",
    expect: ["the input must be a tensor", "undefined"],
    run: () => new nn.Linear(2, 1).forward(untyped(undefined)),
  },
  {
    name: "F.mseLoss(x, 3)",
    op: "mseLoss",
    expect: ["the target must be a tensor", "tensor(3)"],
    run: (c) => F.mseLoss(c.t([1, 2]), untyped(3)),
  },
  {
    name: 'x.add("2")',
    op: "add",
    expect: ['the string "2"', "Number(...)"],
    run: (c) => c.t([1]).add(untyped("2")),
  },
  {
    name: "x.matmul(2)",
    op: "matmul",
    expect: ["must be a tensor", "x.mul(number)"],
    run: (c) => c.t([[1, 2]]).matmul(untyped(2)),
  },
  {
    name: "x.sum(1, { keepdim: false })",
    op: "sum",
    expect: ["keepdim is true or false", "x.sum(dim, true)"],
    silent: "wrong",
    run: (c) => c.t([[1, 2]]).sum(1, untyped({ keepdim: false })),
  },
  {
    name: 'x.mean("1")',
    op: "mean",
    expect: ["a dimension is an integer", "string"],
    run: (c) => c.t([[1, 2]]).mean(untyped("1")),
  },
  {
    name: "new TensorDataset([x, y])",
    op: "TensorDataset",
    expect: ["separate arguments", "new data.TensorDataset(x, y)"],
    run: (c) => new data.TensorDataset(untyped([c.t([1]), c.t([2])])),
  },
  {
    name: "new optim.SGD(model, { lr })",
    op: "SGD",
    expect: ["a model", "model.parameters()"],
    run: () => new optim.SGD(untyped(model()), { lr: 0.1 }),
  },
  {
    name: "new optim.Adam(model.parameters)",
    op: "Adam",
    expect: ["a function", "call it: model.parameters()"],
    run: () => new optim.Adam(untyped(model().parameters)),
  },
  // ---- autograd: in-place changes --------------------------------------------------------------
  {
    name: "loss, then optimizer.step(), then loss.backward()",
    op: "backward",
    expect: ['"mul"', "modified in place", "zeroGrad, backward, step"],
    silent: "wrong",
    run: (c) => {
      const w = c.param([2]);
      const loss = c.t([3, 4]).mul(w).sum();
      const optimizer = new optim.SGD([w], { lr: 0.1 });
      w.grad = c.t([1, 1]);
      optimizer.step();
      loss.backward();
    },
  },
  {
    name: "loss, then w.assign() under noGrad, then backward()",
    op: "backward",
    expect: ['"matmul"', "modified in place", "assign"],
    silent: "wrong",
    run: (c) => {
      const w = c.param([2, 1]);
      const loss = c.randn([3, 2]).matmul(w).sum();
      {
        using _ = noGrad();
        w.assign(c.t([[1], [1]]));
      }
      loss.backward();
    },
  },
  {
    name: "loss, then Adam step, then backward()",
    op: "backward",
    expect: ['"pow"', "modified in place"],
    silent: "wrong",
    run: (c) => {
      const w = c.param([2]);
      const loss = w.pow(2).sum();
      const optimizer = new optim.Adam([w], { lr: 0.1 });
      w.grad = c.t([1, 1]);
      optimizer.step();
      loss.backward();
    },
  },
  {
    name: "loss, then loadStateDict, then backward()",
    op: "backward",
    expect: ["modified in place", "loadStateDict"],
    silent: "wrong",
    run: (c) => {
      const m = new nn.Linear(2, 1).to(c.device);
      const loss = m.forward(c.randn([4, 2])).sum();
      m.loadStateDict(new nn.Linear(2, 1).to(c.device).stateDict());
      loss.backward();
    },
  },
  {
    name: "w.assign() outside noGrad",
    op: "assign",
    expect: ["leaf tensor that requires grad", "noGrad()"],
    silent: "wrong",
    run: (c) => {
      const w = c.param([2]);
      w.assign(w.sub(c.t([0.1, 0.1])));
    },
  },
  {
    name: "y.assign() on a computed tensor",
    op: "assign",
    expect: ['computed by "mul"', "part of the graph"],
    silent: "wrong",
    run: (c) => c.param([2]).mul(2).assign(c.t([1, 1])),
  },
  {
    name: "assign of another shape",
    op: "assign",
    expect: ["cannot copy a tensor of shape [3] into one of shape [2]"],
    run: (c) => c.t([1, 2]).assign(c.t([1, 2, 3])),
  },
  {
    name: "backward() twice",
    op: "backward",
    expect: ["second time", "retainGraph"],
    run: (c) => {
      const loss = c.param([2]).exp().sum();
      loss.backward();
      loss.backward();
    },
  },
  {
    name: "backward() of a vector",
    op: "backward",
    expect: ["only for a scalar output", ".sum().backward()"],
    run: (c) => c.param([2]).mul(2).backward(),
  },
  {
    name: "backward() without requiresGrad",
    op: "backward",
    expect: ["requiresGrad: true"],
    run: (c) => c.t([1, 2]).sum().backward(),
  },
  // ---- dtypes and indices ----------------------------------------------------------------------
  {
    name: "tensor([NaN]).int()",
    op: "to(int32)",
    expect: ["cannot convert", "NaN", "clamp or filter"],
    silent: "wrong",
    run: (c) => c.t([1, NaN]).int(),
  },
  {
    name: "tensor([3e9]).int()",
    op: "to(int32)",
    expect: ["outside int32's range"],
    silent: "wrong",
    run: (c) => c.t([3e9]).int(),
  },
  {
    name: 'tensor([Infinity]).to("int32")',
    op: "to(int32)",
    expect: ["cannot convert", "int32"],
    silent: "wrong",
    run: (c) => c.t([Infinity]).to("int32"),
  },
  {
    name: "x.gather(1, index) with an index out of range",
    op: "gather",
    expect: ["index 2 is out of bounds for dimension 1 with size 2"],
    silent: "wrong",
    run: (c) => c.t([[1, 2], [3, 4]]).gather(1, c.int([[0], [2]])),
  },
  {
    name: "x.gather(0, index) with a negative index",
    op: "gather",
    expect: ["index -1 is out of bounds"],
    silent: "wrong",
    run: (c) => c.t([1, 2, 3]).gather(0, c.int([-1])),
  },
  {
    name: "x.indexSelect(0, index) with an index out of range",
    op: "indexSelect",
    expect: ["index 3 is out of bounds for dimension 0 with size 3"],
    silent: "wrong",
    run: (c) => c.t([1, 2, 3]).indexSelect(0, c.int([0, 3])),
  },
  {
    name: "x.indexSelect(0, float index)",
    op: "indexSelect",
    expect: ["must be an int32 tensor"],
    run: (c) => c.t([1, 2, 3]).indexSelect(0, c.t([0, 1])),
  },
  {
    name: "x.indexSelect(0, 2-D index)",
    op: "indexSelect",
    expect: ["must be 1-D"],
    run: (c) => c.t([1, 2, 3]).indexSelect(0, c.int([[0]])),
  },
  // ---- shapes ----------------------------------------------------------------------------------
  {
    name: "x[2, 3] @ y[2, 3]",
    op: "matmul",
    expect: ["[2, 3] and [2, 3] cannot be multiplied", "(3 != 2)"],
    run: (c) => c.randn([2, 3]).matmul(c.randn([2, 3])),
  },
  {
    name: "x[2, 3] + y[4]",
    op: "add",
    expect: ["cannot be broadcast", "equal or 1"],
    run: (c) => c.randn([2, 3]).add(c.randn([4])),
  },
  {
    name: "reshape to a wrong size",
    op: "reshape",
    expect: ["is invalid for input of size 6"],
    run: (c) => c.randn([2, 3]).reshape([4, 2]),
  },
  {
    name: "view with two -1",
    op: "reshape",
    expect: ["-1"],
    run: (c) => c.randn([2, 3]).view([-1, -1]),
  },
  {
    name: "sum(5) of a 2-D tensor",
    op: "sum",
    expect: ["dimension 5 is out of range", "2 dimensions"],
    run: (c) => c.randn([2, 3]).sum(5),
  },
  {
    name: "transpose(0, 3) of a 2-D tensor",
    op: "transpose",
    expect: ["out of range"],
    run: (c) => c.randn([2, 3]).transpose(0, 3),
  },
  {
    name: "unsqueeze(5)",
    op: "unsqueeze",
    expect: ["out of range"],
    run: (c) => c.randn([2, 3]).unsqueeze(5),
  },
  {
    name: "cat of different widths",
    op: "cat",
    expect: ["[2, 3]", "[2, 4]"],
    run: (c) => cat([c.randn([2, 3]), c.randn([2, 4])]),
  },
  {
    name: "narrow past the end",
    op: "narrow",
    expect: ["start (2) + length (5) exceeds dimension 0 of size 4"],
    run: (c) => c.randn([4]).narrow(0, 2, 5),
  },
  {
    name: "argmax(2) of a 2-D tensor",
    op: "argmax",
    expect: ["dimension 2 is out of range"],
    run: (c) => c.randn([2, 3]).argmax(2),
  },
  {
    name: "expand [2] to [3]",
    op: "expand",
    expect: ["must match the target", "or be 1"],
    run: (c) => c.randn([2]).expand([3]),
  },
  {
    name: "clamp(1, 0)",
    op: "clamp",
    expect: ["min (1) is greater than max (0)"],
    run: (c) => c.randn([2]).clamp(1, 0),
  },
  {
    name: "item() of two values",
    op: "item",
    expect: ["only a tensor with one element", "[2]"],
    run: (c) => c.t([1, 2]).item(),
  },
  {
    name: "maxPool2d of a 3-D input",
    op: "maxPool2d",
    expect: ["expected a 4-D input"],
    run: (c) => F.maxPool2d(c.randn([1, 4, 4]), 2),
  },
  {
    name: "maxPool2d with padding over half the kernel",
    op: "maxPool2d",
    expect: ["at most half the kernel size"],
    run: (c) => F.maxPool2d(images(c), 2, { padding: 2 }),
  },
  {
    name: "conv2d with a kernel larger than the input",
    op: "conv2d",
    expect: ["smaller than the kernel"],
    run: (c) => F.conv2d(c.randn([1, 1, 2, 2]), c.randn([1, 1, 3, 3])),
  },
  // ---- files and formats -----------------------------------------------------------------------
  {
    name: "save(tensor)",
    op: "save",
    expect: ["state dict", "{ weight: t }"],
    run: (c) => save(untyped(c.t([1]))),
  },
  {
    name: "save(stateDict, 42)",
    op: "save",
    expect: ["path or metadata", "model.safetensors"],
    run: () => save(model().stateDict(), untyped(42)),
  },
  {
    name: 'save(stateDict, "/no/such/dir/m.safetensors")',
    op: "save",
    expect: ["cannot write the file", "/no/such/dir/m.safetensors"],
    silent: "wrong",
    cpuOnly: true,
    run: () => save(model().stateDict(), "/no/such/dir/m.safetensors"),
  },
  {
    name: 'load("missing.safetensors")',
    op: "load",
    expect: ["cannot read", "missing.safetensors"],
    cpuOnly: true,
    run: () => load("/tmp/gradlab-missing.safetensors"),
  },
  {
    name: "load(arrayBuffer)",
    op: "load",
    expect: ["Uint8Array", "new Uint8Array(buffer)"],
    run: () => load(untyped(new ArrayBuffer(8))),
  },
  {
    name: "load(bytes, { devce })",
    op: "load",
    expect: ['did you mean "device"'],
    run: () => load(new Uint8Array(8), untyped({ devce: "cpu" })),
  },
  {
    name: 'decodeSafetensors("model.safetensors")',
    op: "decodeSafetensors",
    expect: ["expected the file's bytes", 'await load("model.safetensors")'],
    run: () => decodeSafetensors(untyped("model.safetensors")),
  },
  {
    name: "safetensors with a name twice",
    op: "safetensors",
    expect: ['names the tensor "a" twice'],
    run: () => decodeSafetensors(duplicateNames()),
  },
  {
    name: "safetensors of 3 bytes",
    op: "safetensors",
    expect: ["too short", "truncated"],
    run: () => decodeSafetensors(new Uint8Array(3)),
  },
  {
    name: "fetchCsv of a Latin-1 file",
    op: "fetchCsv",
    expect: ["not valid UTF-8", "CSV UTF-8"],
    silent: "wrong",
    cpuOnly: true,
    run: async (c) =>
      fetchCsv(await c.file("latin1.csv", new Uint8Array([0x61, 0x0a, 0x63, 0x61, 0x66, 0xe9]))),
  },
  {
    name: 'fetchCsv("missing.csv")',
    op: "fetchCsv",
    expect: ["cannot read", "missing.csv"],
    cpuOnly: true,
    run: () => fetchCsv("/tmp/gradlab-missing.csv"),
  },
  {
    name: "fetchCsv { headers }",
    op: "fetchCsv",
    expect: ['did you mean "header"'],
    cpuOnly: true,
    run: async (c) => fetchCsv(await c.file("ok.csv", "a\n1\n"), untyped({ headers: false })),
  },
  {
    name: "parseCsv { delimeter }",
    op: "parseCsv",
    expect: ['"delimeter"', 'did you mean "delimiter"'],
    silent: "wrong",
    run: () => parseCsv("a;b\n1;2\n", untyped({ delimeter: ";" })),
  },
  {
    name: "parseCsv(bytes)",
    op: "parseCsv",
    expect: ["as a string", "TextDecoder"],
    run: () => parseCsv(untyped(new Uint8Array([0x61]))),
  },
  {
    name: "fetchIdx of a gzip bomb",
    op: "fetchIdx",
    expect: ["more than the 9 bytes their header promises", "gzip bomb"],
    cpuOnly: true,
    run: async (c) => {
      const payload = new Uint8Array(8 + 4_000_000);
      payload.set([0, 0, 8, 1, 0, 0, 0, 1]);
      return fetchIdx(await c.file("bomb.gz", await gzip(payload)));
    },
  },
  {
    name: "readIdx of gzip bytes",
    op: "readIdx",
    expect: ["gzip-compressed", "un-gzip them first"],
    run: () => readIdx(new Uint8Array([0x1f, 0x8b, 0, 0])),
  },
  {
    name: "loadFashionMnist { training }",
    op: "loadFashionMnist",
    expect: ['unknown option "training"', "options: train, limit"],
    cpuOnly: true,
    run: () => loadFashionMnist("file:///tmp/", untyped({ training: true })),
  },
];

/** A safetensors file whose header names "a" twice. */
function duplicateNames(): Uint8Array {
  const record = { dtype: "float32" as const, shape: [1], data: new Float32Array([1]) };
  const bytes = encodeSafetensors({ a: record, b: record });
  const text = new TextDecoder().decode(bytes).replace('"b"', '"a"');
  return new TextEncoder().encode(text);
}

/** How a bad input was handled. */
export type Outcome =
  | "caught"
  | "silently wrong"
  | "silently accepted"
  | "wrong op named"
  | "no fix in message"
  | "hang";

/** Runs one row and reads back what it returns; the error message, or null without one. */
export async function attempt(row: BadInput, c: Context): Promise<string | null> {
  try {
    const result = await row.run(c);
    const outputs = Array.isArray(result) ? result : [result];
    for (const out of outputs) if (out instanceof Tensor) await out.data();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Which words of the row a message lacks (the op, then the expected fragments). */
export function missingWords(row: BadInput, message: string): string[] {
  const missing: string[] = [];
  if (!message.includes(`${row.op}:`)) missing.push(`${row.op}:`);
  for (const word of row.expect) if (!message.includes(word)) missing.push(word);
  return missing;
}

/** The class of the outcome, for the before/after counts. */
export function classify(row: BadInput, message: string | null, seconds: number): Outcome {
  if (seconds > 5) return "hang";
  if (message === null) return row.silent === "wrong" ? "silently wrong" : "silently accepted";
  if (!message.includes(`${row.op}:`)) return "wrong op named";
  return missingWords(row, message).length > 0 ? "no fix in message" : "caught";
}

/** A context for `device`. */
export function contextFor(device: Device): Context {
  return {
    device,
    t: (values, options = {}) => tensor(values, { device, ...options }),
    int: (values) => tensor(values, { dtype: "int32", device }),
    randn: (shape, options = {}) => randn(shape, { device, ...options }),
    param: (shape) => randn(shape, { device, requiresGrad: true }),
    file: async (name, bytes) => {
      const path = `/tmp/gradlab-bad-input-${name}`;
      if (typeof bytes === "string") await Deno.writeTextFile(path, bytes);
      else await Deno.writeFile(path, bytes);
      return path;
    },
  };
}
