/**
 * Lesson 10, how each exercise is checked. The framework is the oracle: the mask of
 * `nn.utils.prune.l1Unstructured`, `F.klDiv` for the distillation loss, the zeros counted here,
 * and the original model's own predictions for the round trip. `run` calls the student's code in
 * the sandbox; `judge` recomputes the answer here and names the likely mistakes.
 *
 * @module
 */
import { F, manualSeed, nn, noGrad, randint, randn, type Tensor, tensor } from "../../mod.ts";
import { defineTasks, expectClose, type Received, Wrong } from "../tasks.ts";
import type * as Solutions from "./solutions.ts";

// ---- 10.1 -------------------------------------------------------------------------------------

const MASK_CASES = [
  { shape: [6, 5], amount: 0.4, seed: 101 },
  { shape: [4, 2, 3, 3], amount: 0.75, seed: 102 },
];

function maskWeight(shape: number[], seed: number): Tensor {
  manualSeed(seed);
  return randn(shape);
}

async function judgeMask(received: Received): Promise<void> {
  for (const [c, { shape, amount, seed }] of MASK_CASES.entries()) {
    const weight = maskWeight(shape, seed);
    // The framework's mask: l1Unstructured on a layer that holds the same weight.
    const holder = new nn.Linear(1, 1);
    (holder as unknown as { weight: Tensor }).weight = nn.Parameter(weight.clone());
    nn.utils.prune.l1Unstructured(holder, "weight", { amount });
    const expected = holder.stateDict()["weight_mask"];
    const count = Math.round(amount * weight.numel());
    const sizes = weight.abs();
    const threshold = await sizes.flatten().kthvalue(count).values.item();
    const signedThreshold = await weight.flatten().kthvalue(count).values.item();
    await expectClose(
      `magnitudeMask(weight of shape [${shape}], ${amount})`,
      received[c],
      expected,
      {
        atol: 0,
        rtol: 0,
        mistakes: [
          {
            value: weight.le(threshold).float(),
            says: "this mask keeps the SMALL weights (the tutorial's w <= threshold): magnitude " +
              "pruning removes the smallest |w| and keeps the large ones",
          },
          {
            value: sizes.le(threshold).float(),
            says: "the mask is the wrong way round: 1 must mark the weights KEPT (|w| above the " +
              "threshold), 0 the ones removed",
          },
          {
            value: weight.gt(signedThreshold).float(),
            says: "compare sizes, |w|: the signed values prune the most negative weights, " +
              "however large they are",
          },
        ],
      },
    );
  }
}

// ---- 10.2 -------------------------------------------------------------------------------------

function distillInputs() {
  manualSeed(110);
  return {
    student: randn([6, 10]),
    teacher: randn([6, 10]).mul(3),
    labels: randint(0, 10, [6]),
    temperature: 3,
    alpha: 0.6,
  };
}

async function judgeDistillation(received: Received): Promise<void> {
  const { student, teacher, labels, temperature: T, alpha } = distillInputs();
  const kl = (reduction: "batchmean" | "mean", t: number) =>
    F.klDiv(F.logSoftmax(student.div(t), 1), F.softmax(teacher.div(t), 1), { reduction });
  const hard = F.crossEntropy(student, labels).mul(1 - alpha);
  const mix = (soft: Tensor) => soft.mul(alpha).add(hard);
  if (received === undefined || received === null) {
    throw new Wrong("distillationLoss returned nothing: return the loss tensor");
  }
  await expectClose(
    `distillationLoss(student [6, 10], teacher [6, 10], labels, T = ${T}, alpha = ${alpha})`,
    received,
    mix(kl("batchmean", T).mul(T * T)),
    {
      mistakes: [
        { value: mix(kl("batchmean", T)), says: "the soft term is missing its factor T^2" },
        {
          value: mix(kl("mean", T).mul(T * T)),
          says: 'reduction "mean" also divides by the 10 classes; "batchmean" is the KL ' +
            "divergence per example",
        },
        {
          value: mix(kl("batchmean", 1).mul(T * T)),
          says: "the logits must be divided by the temperature before the softmax",
        },
        {
          value: F.klDiv(F.logSoftmax(teacher.div(T), 1), F.softmax(student.div(T), 1), {
            reduction: "batchmean",
          }).mul(T * T).mul(alpha).add(hard),
          says: "klDiv's input is the STUDENT's log-probabilities, its target the teacher's " +
            "probabilities",
        },
      ],
    },
  );
}

// ---- 10.3 -------------------------------------------------------------------------------------

function sparseWeights(): Tensor[] {
  return [
    tensor([[0, 1.5, 0], [0, 0, -2]]), // 4 zeros of 6
    tensor([0.5, 0, 0.25, 1, -1, 2, 3, 0, 4, 5]), // 2 zeros of 10
  ];
}

async function judgeSparsity(received: Received): Promise<void> {
  await expectClose("sparsity of [2, 3] (4 zeros) and [10] (2 zeros) together", received, 6 / 16, {
    mistakes: [
      {
        value: (4 / 6 + 2 / 10) / 2,
        says: "the mean of each tensor's share weighs a small tensor like a large one: count " +
          "the zeros and the entries over all tensors together",
      },
      { value: 6, says: "a share: divide the zeros by the number of entries" },
      { value: 10 / 16, says: "the share of the zeros, not of the nonzero weights" },
    ],
  });
}

// ---- 10.4 -------------------------------------------------------------------------------------

/** A small CNN with batch norm whose running statistics moved (so buffers matter). */
function trainedModel(seed: number): nn.Sequential {
  manualSeed(seed);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 3, 3),
    new nn.BatchNorm2d(3),
    new nn.ReLU(),
    new nn.Flatten(),
    new nn.Linear(3 * 4 * 4, 2),
  );
  {
    using _ = noGrad();
    for (let i = 0; i < 3; i++) model.forward(randn([8, 1, 6, 6]).mul(2).add(1));
  }
  return model;
}

function roundTripInput(): Tensor {
  manualSeed(120);
  return randn([4, 1, 6, 6]);
}

async function judgeRoundTrip(received: Received): Promise<void> {
  if (received?.notModule) {
    throw new Wrong(`roundTrip returned ${received.notModule}: return the fresh model`);
  }
  const original = trainedModel(11).eval();
  const fresh = trainedModel(12).eval();
  const x = roundTripInput();
  // The parameters carried but not the buffers: batch norm's running statistics of `fresh`.
  const paramsOnly = trainedModel(12).eval();
  paramsOnly.loadStateDict(Object.fromEntries(original.namedParameters()), { strict: false });
  using _ = noGrad();
  await expectClose(
    "the logits of roundTrip(model, fresh) in evaluation mode",
    received.logits,
    original.forward(x),
    {
      mistakes: [
        {
          value: fresh.forward(x),
          says: "the fresh model predicts with its own weights: load the bytes into it " +
            "(loadStateDict(load(bytes)))",
        },
        {
          value: paramsOnly.forward(x),
          says: "the batch norm's running statistics (buffers) were not carried: save " +
            "stateDict(), which holds them, not only the parameters",
        },
      ],
    },
  );
}

// ---- the tasks --------------------------------------------------------------------------------

export default defineTasks<typeof Solutions>([
  {
    id: "10.1",
    title: "a magnitude-pruning mask",
    hints: [
      "the weights go in order of their size |w|: find the size of the last one to remove, " +
      "then keep every weight larger than it",
      "abs().flatten().kthvalue(count) gives the count-th smallest size; gt() against it " +
      "marks the weights kept (1) and float() makes the mask",
    ],
    run: (impl) =>
      MASK_CASES.map(({ shape, amount, seed }) =>
        impl.magnitudeMask(maskWeight(shape, seed), amount)
      ),
    judge: judgeMask,
  },
  {
    id: "10.2",
    title: "the distillation loss",
    hints: [
      "soften both with the temperature; KL compares the softened distributions, scaled by " +
      "T^2; the cross entropy on the labels is mixed in",
      "F.klDiv(F.logSoftmax(student / T, 1), F.softmax(teacher / T, 1), { reduction: " +
      '"batchmean" }) times T * T is the soft term; weigh it by alpha and the cross entropy ' +
      "by 1 - alpha",
    ],
    run: (impl) => {
      const { student, teacher, labels, temperature, alpha } = distillInputs();
      return impl.distillationLoss(student, teacher, labels, temperature, alpha);
    },
    judge: judgeDistillation,
  },
  {
    id: "10.3",
    title: "the sparsity of a model's weights",
    hints: [
      "zeros over entries, counted over all the tensors together",
      "weight.eq(0) marks the zeros; float().sum() counts them (await .item()); numel() " +
      "counts the entries",
    ],
    run: (impl) => impl.sparsity(sparseWeights()),
    judge: judgeSparsity,
  },
  {
    id: "10.4",
    title: "save and load: a lossless round trip",
    hints: [
      "everything the model needs to predict is in its state dict, buffers included",
      "save(model.stateDict()) without a path gives the bytes; load(bytes) gives a state dict " +
      "to pass to fresh.loadStateDict",
    ],
    run: async (impl) => {
      const model = trainedModel(11);
      const fresh = trainedModel(12);
      const result = await impl.roundTrip(model, fresh);
      if (!(result instanceof nn.Module)) {
        return { notModule: result === undefined ? "nothing" : typeof result };
      }
      result.eval();
      using _ = noGrad();
      return { logits: result.forward(roundTripInput()) };
    },
    judge: judgeRoundTrip,
  },
]);
