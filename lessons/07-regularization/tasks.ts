/**
 * Lesson 7, how each exercise is checked. The framework is the oracle: autograd for the
 * penalty's gradient (it must be `lambda * w`, SGD's weightDecay), the statistics of the mask for
 * dropout (share of zeros, scale of what is kept, the identity in evaluation), plain counting for
 * the sparsity, and index arithmetic for the crop. `run` calls the student's code in the sandbox;
 * `judge` recomputes the answer here and names the likely mistakes.
 *
 * @module
 */
import { manualSeed, rand, randn, type Tensor, tensor } from "../../mod.ts";
import {
  defineTasks,
  describe,
  expectClose,
  type Received,
  ReceivedTensor,
  Wrong,
} from "../tasks.ts";
import type * as Solutions from "./solutions.ts";

// ---- 7.1: the L2 penalty ------------------------------------------------------------------------

const LAMBDA = 0.1;

/** Three weight tensors, as a small network has (seeded). */
function weights(): Tensor[] {
  manualSeed(71);
  return [randn([3, 4]), randn([4]), randn([2, 3])].map((w) => w.requiresGrad_());
}

async function judgePenalty(received: Received): Promise<void> {
  const { value, grads } = received as { value: unknown; grads: unknown[] };
  const ws = weights();
  const sumOfSquares = ws.reduce((s, w) => s.add(w.square().sum()), tensor(0));
  const sumOfNorms = ws.reduce((s, w) => s.add(w.square().sum().sqrt()), tensor(0));
  const what = `l2Penalty(3 weight tensors, lambda = ${LAMBDA})`;
  if (!(value instanceof ReceivedTensor)) {
    throw new Wrong(
      `${what}: returned ${describe(value)}; return a tensor, so that the loss can add it and ` +
        `backward() can differentiate it`,
    );
  }
  await expectClose(what, value.values[0], await sumOfSquares.mul(LAMBDA / 2).item(), {
    mistakes: [
      {
        value: await sumOfNorms.mul(LAMBDA).item(),
        says: "the norm is not squared (as in a tutorial's torch.norm(param)): its gradient has " +
          "the same length whatever the size of w, and it is not weight decay; square it",
      },
      {
        value: await sumOfSquares.mul(LAMBDA).item(),
        says: "twice too large: the gradient of lambda * w^2 is 2 lambda w; weightDecay: " +
          "lambda adds lambda * w, the gradient of (lambda / 2) * w^2",
      },
    ],
  });
  for (const [i, w] of ws.entries()) {
    if (!(grads[i] instanceof ReceivedTensor)) {
      throw new Wrong(
        `${what}: no gradient reached weight tensor ${i}; build the penalty from the weights ` +
          `with tensor ops (not from numbers read out of them)`,
      );
    }
    await expectClose(`${what}: the gradient of weight tensor ${i}`, grads[i], w.mul(LAMBDA));
  }
}

// ---- 7.2: dropout ----------------------------------------------------------------------------------

const P = 0.3;

/** 20,000 values in [0.5, 1.5): none is 0, so the zeros of the output are dropout's. */
function dropoutInput(): Tensor {
  manualSeed(72);
  return rand([200, 100]).add(0.5);
}

function judgeDropout(received: Received): void {
  const { training, again, evaluation } = received as Record<string, unknown>;
  const input = dropoutInput().dataSync();
  const what = `dropout(x [200, 100], p = ${P}`;
  for (const [name, out] of [["training", training], ["again", again], ["eval", evaluation]]) {
    if (!(out instanceof ReceivedTensor) || out.values.length !== input.length) {
      throw new Wrong(
        `${what}, ...): returned ${describe(out)}; expected a tensor of shape ` +
          `[200, 100]` + (name === "eval" ? " in evaluation mode too" : ""),
      );
    }
  }
  const evalValues = (evaluation as ReceivedTensor).values;
  if (evalValues.some((v, i) => Math.abs(v - input[i]) > 1e-6)) {
    throw new Wrong(
      `${what}, training = false): changed the input; in evaluation mode dropout passes the ` +
        `input through unchanged (the scaling in training already made the scales match)`,
    );
  }
  const values = (training as ReceivedTensor).values;
  const zeros = values.filter((v) => v === 0).length / values.length;
  if (Math.abs(zeros - (1 - P)) < 0.03) {
    throw new Wrong(
      `${what}, training = true): ${(zeros * 100).toFixed(1)}% of the values are 0, about ` +
        `1 - p: it keeps with probability p; drop (zero) an element with probability p`,
    );
  }
  if (Math.abs(zeros - P) > 0.03) {
    throw new Wrong(
      `${what}, training = true): ${(zeros * 100).toFixed(1)}% of the values are 0, expected ` +
        `about ${P * 100}%`,
    );
  }
  const kept = values.map((v, i) => [v, input[i]]).filter(([v]) => v !== 0);
  const ratio = kept.reduce((s, [v, x]) => s + v / x, 0) / kept.length;
  if (Math.abs(ratio - 1) < 1e-3) {
    throw new Wrong(
      `${what}, training = true): the kept values are unchanged; they must be scaled by ` +
        `1 / (1 - p) = ${(1 / (1 - P)).toFixed(4)}, or the layer's output is smaller in ` +
        `training than in evaluation`,
    );
  }
  if (Math.abs(ratio - (1 - P)) < 1e-3) {
    throw new Wrong(
      `${what}, training = true): the kept values are multiplied by 1 - p; divide by it ` +
        `(scale by 1 / (1 - p)) so that the expected output equals the input`,
    );
  }
  if (kept.some(([v, x]) => Math.abs(v - x / (1 - P)) > 1e-4 * (1 + Math.abs(x)))) {
    throw new Wrong(
      `${what}, training = true): a kept value is not input / (1 - p) = input * ` +
        `${(1 / (1 - P)).toFixed(4)}`,
    );
  }
  const second = (again as ReceivedTensor).values;
  if (second.every((v, i) => (v === 0) === (values[i] === 0))) {
    throw new Wrong(
      `${what}): two calls in training mode dropped the same elements; draw a new mask on ` +
        `every call (rand(input.shape))`,
    );
  }
}

// ---- 7.3: share of weights near zero ------------------------------------------------------------

/** Two weight tensors with exact zeros, tiny values of both signs and large ones. */
const SPARSE_WEIGHTS = [
  [0, 1e-4, -1e-4, 0.5, -0.5, 2e-3],
  [[0, 0.01, 4, 7], [-5e-4, 3, 5, 6]],
];
const THRESHOLD = 1e-3;

async function judgeSparsity(received: Received): Promise<void> {
  const flat = SPARSE_WEIGHTS.flat(2) as number[];
  const share = (count: (w: number) => boolean) => flat.filter(count).length / flat.length;
  const first = SPARSE_WEIGHTS[0] as number[];
  const second = (SPARSE_WEIGHTS[1] as number[][]).flat();
  const perTensor = (values: number[]) =>
    values.filter((w) => Math.abs(w) < THRESHOLD).length / values.length;
  await expectClose(
    `shareNearZero([6 weights, 2x4 weights], ${THRESHOLD})`,
    received,
    share((w) => Math.abs(w) < THRESHOLD),
    {
      atol: 1e-6,
      mistakes: [
        {
          value: share((w) => w === 0),
          says: "only exact zeros were counted; near zero means |w| < threshold",
        },
        {
          value: share((w) => w < THRESHOLD),
          says: "large negative weights were counted as near zero: compare |w|, not w",
        },
        {
          value: (perTensor(first) + perTensor(second)) / 2,
          says: "the average of each tensor's share gives a small tensor as much weight as a " +
            "large one: count over all the weights together",
        },
      ],
    },
  );
}

// ---- 7.4: crop after padding -----------------------------------------------------------------------

/** The corners to crop at: [padding, top, left]. */
const CROPS: [number, number, number][] = [[2, 0, 0], [2, 1, 3], [2, 4, 4], [1, 2, 0]];

/** A 2 x 4 x 5 image whose pixels are 1, 2, 3, ... (no zeros, so padding shows). */
function cropImage(): Tensor {
  return tensor(Array.from({ length: 40 }, (_, i) => i + 1), { shape: [2, 4, 5] });
}

/** The crop by index arithmetic: window pixel (y, x) is image pixel (top+y-pad, left+x-pad). */
function referenceCrop(padding: number, top: number, left: number): number[][][] {
  const values = cropImage().dataSync();
  return [0, 1].map((c) =>
    Array.from({ length: 4 }, (_, y) =>
      Array.from({ length: 5 }, (_, x) => {
        const [sy, sx] = [top + y - padding, left + x - padding];
        return sy >= 0 && sy < 4 && sx >= 0 && sx < 5 ? values[c * 20 + sy * 5 + sx] : 0;
      }))
  );
}

async function judgeCrop(received: Received): Promise<void> {
  const results = received as unknown[];
  for (const [k, [padding, top, left]] of CROPS.entries()) {
    const mistakes = [{
      value: referenceCrop(0, top, left),
      says: "the corner (top, left) is in the padded image: pad first, so that the window's " +
        "pixel (y, x) is the image's pixel (top + y - padding, left + x - padding)",
    }];
    if (top !== left) {
      mistakes.push({
        value: referenceCrop(padding, left, top),
        says: "top and left are swapped: top is the row offset (dim 1), left the column (dim 2)",
      });
    }
    await expectClose(
      `cropWithPadding(image [2, 4, 5], padding ${padding}, top ${top}, left ${left})`,
      results[k],
      tensor(referenceCrop(padding, top, left)),
      { atol: 1e-6, mistakes },
    );
  }
}

export default defineTasks<typeof Solutions>([
  {
    id: "7.1",
    title: "an L2 penalty whose gradient is weight decay",
    hints: [
      "square every weight, add them all up, scale: the half makes the gradient lambda * w",
      "start from tensor(0) and add w.square().sum() for each tensor w, then multiply by " +
      "lambda / 2; no .item(): the result must stay a tensor for backward()",
    ],
    run: (impl) => {
      const ws = weights();
      const penalty = impl.l2Penalty(ws, LAMBDA);
      let grads: unknown[] = ws.map(() => null);
      if (penalty && typeof (penalty as Tensor).backward === "function") {
        penalty.backward();
        grads = ws.map((w) => w.grad);
      }
      return { value: penalty, grads };
    },
    judge: judgePenalty,
  },
  {
    id: "7.2",
    title: "dropout with the 1/(1-p) scaling (build it)",
    hints: [
      "drop with probability p, keep with probability 1 - p, and make up for the dropped share " +
      "so that the average output stays the input; evaluation changes nothing",
      "rand(input.shape).ge(p) is 1 with probability 1 - p: multiply the input by it and divide " +
      "by (1 - p); return the input itself when training is false",
    ],
    run: (impl) => {
      const input = dropoutInput();
      return {
        training: impl.dropout(input, P, true),
        again: impl.dropout(input, P, true),
        evaluation: impl.dropout(input, P, false),
      };
    },
    judge: judgeDropout,
  },
  {
    id: "7.3",
    title: "the share of weights near zero",
    hints: [
      "near zero is about size, not sign; and the share is over all the weights together",
      "for each tensor: w.abs().lt(threshold).sum() counts its small weights (await .item()), " +
      "w.numel() counts all of them; divide the two totals",
    ],
    run: async (impl) => await impl.shareNearZero(SPARSE_WEIGHTS.map((w) => tensor(w)), THRESHOLD),
    judge: judgeSparsity,
  },
  {
    id: "7.4",
    title: "a crop after zero padding",
    hints: [
      "build the padded image (zeros on every side), then cut a window of the original size",
      "cat zeros of width `padding` on both sides along dim 2, then zero rows along dim 1; " +
      "narrow(1, top, H) and narrow(2, left, W) cut the window",
    ],
    run: (impl) =>
      CROPS.map(([padding, top, left]) => impl.cropWithPadding(cropImage(), padding, top, left)),
    judge: judgeCrop,
  },
]);
