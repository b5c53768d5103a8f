/**
 * Lesson 9, how each exercise is checked. The framework is the oracle: `F.conv2d` and
 * `F.batchNorm` recompute the student's block from its own weights, `summary` counts the
 * parameters and multiply-adds of a real `nn.Conv2d`, autograd gives the gradient norms,
 * `F.crossEntropy` the two-head loss. `run` calls the student's code in the sandbox; `judge`
 * recomputes the answer here and names the likely mistakes.
 *
 * @module
 */
import { F, manualSeed, nn, randint, randn, summary, type Tensor, tensor } from "../../mod.ts";
import { defineTasks, expectClose, expectEqual, type Received, Wrong } from "../tasks.ts";
import type * as Solutions from "./solutions.ts";

// ---- 9.1 --------------------------------------------------------------------------------------

/** The two blocks of task 9.1: one that changes the shape, one that keeps it. */
const BLOCKS = [
  { inChannels: 4, outChannels: 8, stride: 2, input: [2, 4, 6, 6] },
  { inChannels: 6, outChannels: 6, stride: 1, input: [2, 6, 4, 4] },
];

function blockInput(shape: number[], seed: number): Tensor {
  manualSeed(seed);
  return randn(shape);
}

/** The state dict keys PyTorch gives the block (the tutorial's ResidualBlock). */
function expectedKeys(downsample: boolean): string[] {
  const bn = (name: string) =>
    ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"].map((k) =>
      `${name}.${k}`
    );
  return [
    "conv1.weight",
    ...bn("bn1"),
    "conv2.weight",
    ...bn("bn2"),
    ...(downsample ? ["downsample.0.weight", ...bn("downsample.1")] : []),
  ];
}

async function judgeBlock(received: Received): Promise<void> {
  for (const [b, spec] of BLOCKS.entries()) {
    const got = received[b];
    const name = `ResidualBlock(${spec.inChannels}, ${spec.outChannels}, ${spec.stride})`;
    const downsample = spec.stride !== 1 || spec.inChannels !== spec.outChannels;
    const keys = got.keys as string[];
    let mistake = "";
    if (keys.some((k) => /^conv\d\.bias$/.test(k))) {
      mistake = "the 3x3 convolutions have no bias (bias: false): the batch norm after each " +
        "would subtract it again";
    } else if (downsample && !keys.some((k) => k.startsWith("downsample."))) {
      mistake = "the shape changes here, so the shortcut needs downsample: a 1x1 convolution " +
        "with the same stride (no bias) and a batch norm";
    } else if (!downsample && keys.some((k) => k.startsWith("downsample."))) {
      mistake = "the shape does not change here: the shortcut is the input itself " +
        "(downsample null)";
    }
    expectEqual(`the state dict keys of ${name}`, keys, expectedKeys(downsample), mistake);

    // The block's forward pass recomputed from its own weights, batch statistics (training).
    const p = got.params as Record<string, { values: number[]; shape: number[] }>;
    const t = (key: string) => tensor(p[key].values, { shape: p[key].shape });
    const bn = (x: Tensor, prefix: string) =>
      F.batchNorm(x, null, null, {
        weight: t(`${prefix}.weight`),
        bias: t(`${prefix}.bias`),
        training: true,
      });
    const x = blockInput(spec.input, 90 + b);
    const hidden = bn(
      F.conv2d(x, t("conv1.weight"), null, { stride: spec.stride, padding: 1 }),
      "bn1",
    )
      .relu();
    const out = bn(F.conv2d(hidden, t("conv2.weight"), null, { padding: 1 }), "bn2");
    const identity = downsample
      ? bn(F.conv2d(x, t("downsample.0.weight"), null, { stride: spec.stride }), "downsample.1")
      : x;
    await expectClose(
      `${name}.forward(x) for x of shape [${spec.input}]`,
      got.output,
      out.add(identity).relu(),
      {
        mistakes: [
          { value: out.add(identity), says: "the ReLU after the sum is missing" },
          {
            value: out.relu(),
            says: "the shortcut is missing: add the input (or downsample(x)) before the last ReLU",
          },
          {
            value: out.relu().add(identity),
            says: "the ReLU comes after the sum, not before it",
          },
        ],
      },
    );
  }
}

// ---- 9.2 --------------------------------------------------------------------------------------

const CONV_CASES = [
  { inChannels: 3, outChannels: 8, kernelSize: 3, stride: 1, padding: 1, groups: 1, size: 10 },
  { inChannels: 16, outChannels: 32, kernelSize: 3, stride: 2, padding: 1, groups: 4, size: 14 },
  { inChannels: 8, outChannels: 8, kernelSize: 5, stride: 1, padding: 0, groups: 8, size: 9 },
];

async function judgeConvCost(received: Received): Promise<void> {
  for (const [c, spec] of CONV_CASES.entries()) {
    const { inChannels, outChannels, kernelSize, stride, padding, groups, size } = spec;
    const conv = new nn.Conv2d(inChannels, outChannels, kernelSize, { stride, padding, groups });
    const cost = summary(conv, [1, inChannels, size, size]);
    const what = `convCost(${inChannels}, ${outChannels}, ${kernelSize}, { stride: ${stride}, ` +
      `padding: ${padding}, groups: ${groups}, size: ${size} }) as [params, multAdds]`;
    const got = received[c] as { params: unknown; multAdds: unknown };
    const outSize = Math.floor((size + 2 * padding - kernelSize) / stride) + 1;
    const ungrouped = outChannels * inChannels * kernelSize * kernelSize + outChannels;
    const params = cost.totalParams;
    await expectClose(what, [got?.params, got?.multAdds], [params, cost.totalMultAdds], {
      atol: 0,
      rtol: 0,
      mistakes: [
        {
          value: [ungrouped, ungrouped * outSize * outSize],
          says: "each filter sees only inChannels / groups input channels",
        },
        {
          value: [params, params * size * size],
          says: "the multiply-adds are per OUTPUT position: with stride and padding the output " +
            "side is floor((size + 2 padding - kernelSize) / stride) + 1",
        },
        {
          value: [params - outChannels, (params - outChannels) * outSize * outSize],
          says: "the bias is missing: one more parameter per output channel",
        },
      ],
    });
  }
}

// ---- 9.3 --------------------------------------------------------------------------------------

function gradSetup() {
  manualSeed(33);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.Conv2d(4, 4, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.Flatten(),
    new nn.Linear(4 * 5 * 5, 3),
  );
  const X = randn([6, 1, 5, 5]);
  const y = randint(0, 3, [6]);
  return { model, X, y };
}

async function judgeGradNorms(received: Received): Promise<void> {
  const { model, X, y } = gradSetup();
  F.crossEntropy(model.forward(X), y).backward();
  const convs = model.parameters().filter((p) => p.ndim === 4);
  const norms = await Promise.all(convs.map((p) => p.grad!.norm().item()));
  const all = await Promise.all(model.parameters().map((p) => p.grad!.norm().item()));
  await expectClose(
    "convGradNorms(model, X, y), called a second time on the same model",
    received,
    norms,
    {
      mistakes: [
        {
          value: norms.map((n) => 2 * n),
          says: "the gradients of the first call were still there (backward adds to .grad): " +
            "clear them with model.zeroGrad() before backward",
        },
        {
          value: norms.map((n) => n * n),
          says: "the norm is the square root of the sum of squares",
        },
        { value: all, says: "only the convolution weights (the 4-D parameters)" },
      ],
    },
  );
}

// ---- 9.4 --------------------------------------------------------------------------------------

function twoHeadInputs() {
  manualSeed(44);
  return {
    logits: randn([8, 12]),
    labels: tensor([0, 1, 2, 3, 4, 5, 6, 9], { dtype: "int32" }),
  };
}

async function judgeTwoHeadLoss(received: Received): Promise<void> {
  const { logits, labels } = twoHeadInputs();
  const upper = tensor([1, 0, 1, 0, 1, 0, 1, 0], { dtype: "int32" });
  const clothing = F.crossEntropy(logits.narrow(1, 0, 10), labels);
  const upperLoss = F.crossEntropy(logits.narrow(1, 10, 2), upper);
  if (received === undefined || received === null) {
    throw new Wrong("twoHeadLoss returned nothing: return the loss tensor");
  }
  await expectClose("twoHeadLoss(logits [8, 12], labels)", received, clothing.add(upperLoss), {
    mistakes: [
      { value: clothing.add(upperLoss).div(2), says: "the sum of the two losses, not their mean" },
      {
        value: clothing.add(F.crossEntropy(logits.narrow(1, 0, 2), upper)),
        says: "the upper-body head's logits are the LAST 2 columns (from column 10)",
      },
      { value: clothing, says: "the upper-body head's loss is missing" },
    ],
  });
}

// ---- the tasks --------------------------------------------------------------------------------

export default defineTasks<typeof Solutions>([
  {
    id: "9.1",
    title: "a residual block of your own",
    hints: [
      "the layers are fields (they become children named as in PyTorch); forward adds the " +
      "input to what the two convolutions computed, then applies a ReLU",
      "create downsample only when stride is not 1 or the channel counts differ: a Sequential " +
      "of a 1x1 Conv2d with that stride and bias false, then a BatchNorm2d; in forward, the " +
      "identity is downsample's output when there is one",
    ],
    run: (impl) =>
      BLOCKS.map((spec, b) => {
        manualSeed(7 + b);
        const block = new impl.ResidualBlock(spec.inChannels, spec.outChannels, spec.stride);
        const output = block.forward(blockInput(spec.input, 90 + b));
        return {
          keys: Object.keys(block.stateDict()),
          params: Object.fromEntries(block.namedParameters()),
          output,
        };
      }),
    judge: judgeBlock,
  },
  {
    id: "9.2",
    title: "parameters and multiply-adds of a grouped convolution",
    hints: [
      "one filter has (inChannels / groups) * kernelSize^2 weights, and there is one filter " +
      "(and one bias) per output channel; every parameter works once per output position",
      "the output is outSize x outSize with outSize = floor((size + 2 * padding - kernelSize) " +
      "/ stride) + 1",
    ],
    run: (impl) =>
      CONV_CASES.map(({ inChannels, outChannels, kernelSize, ...options }) =>
        impl.convCost(inChannels, outChannels, kernelSize, options)
      ),
    judge: judgeConvCost,
  },
  {
    id: "9.3",
    title: "the gradient norm of every convolution",
    hints: [
      "a fresh backward pass, then each 4-D parameter's gradient as one length",
      "clear the old gradients first (backward adds to .grad); p.grad!.norm() is the square " +
      "root of the sum of squares, and await .item() reads it",
    ],
    run: async (impl) => {
      const { model, X, y } = gradSetup();
      await impl.convGradNorms(model, X, y);
      return await impl.convGradNorms(model, X, y);
    },
    judge: judgeGradNorms,
  },
  {
    id: "9.4",
    title: "the summed loss of a two-head model",
    hints: [
      "each head has its own columns of the logits and its own target; the loss adds the two",
      "narrow(1, 0, 10) and narrow(1, 10, 2) pick the columns; the upper-body target is a sum " +
      "of labels.eq(k) over the four classes, as int32",
    ],
    run: (impl) => {
      const { logits, labels } = twoHeadInputs();
      return impl.twoHeadLoss(logits, labels);
    },
    judge: judgeTwoHeadLoss,
  },
]);
