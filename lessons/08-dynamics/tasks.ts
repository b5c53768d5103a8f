/**
 * Lesson 8, how each exercise is checked. The framework is the oracle: `SequentialLR` of a
 * `LinearLR` and a `CosineAnnealingLR` for the schedule, `nn.utils.clipGradNorm_` for clipping,
 * `optim.RMSprop` for the optimizer step, the formula of `nn.init.kaimingNormal` for the
 * initialization. `run` calls the student's code in the sandbox; `judge` recomputes the answer
 * here and names the likely mistakes.
 *
 * @module
 */
import { manualSeed, nn, optim, randn, type Tensor, tensor } from "../../mod.ts";
import { defineTasks, expectClose, type Received, Wrong } from "../tasks.ts";
import type * as Solutions from "./solutions.ts";

// ---- 8.1: warm-up then cosine -----------------------------------------------------------------

/** The schedules the student's function is asked for. */
const SCHEDULES: Solutions.WarmupCosineOptions[] = [
  { baseLr: 0.1, startFactor: 0.1, warmupEpochs: 3, totalEpochs: 10 },
  { baseLr: 0.05, startFactor: 0.25, warmupEpochs: 2, totalEpochs: 8 },
];

/** The framework's rates for one schedule: SequentialLR(LinearLR, CosineAnnealingLR). */
function frameworkRates(options: Solutions.WarmupCosineOptions): number[] {
  const { baseLr, startFactor, warmupEpochs, totalEpochs } = options;
  const optimizer = new optim.SGD([tensor([0], { requiresGrad: true })], { lr: baseLr });
  const { LinearLR, CosineAnnealingLR, SequentialLR } = optim.lrScheduler;
  const scheduler = new SequentialLR(optimizer, {
    schedulers: [
      new LinearLR(optimizer, { startFactor, totalIters: warmupEpochs }),
      new CosineAnnealingLR(optimizer, { tMax: totalEpochs - warmupEpochs }),
    ],
    milestones: [warmupEpochs],
  });
  const rates = [];
  for (let epoch = 0; epoch < totalEpochs; epoch++) {
    rates.push(optimizer.paramGroups[0].lr);
    scheduler.step();
  }
  return rates;
}

/** The rates of the likely wrong schedules, with what to say about each. */
function scheduleMistakes(options: Solutions.WarmupCosineOptions) {
  const { baseLr, startFactor, warmupEpochs, totalEpochs } = options;
  const epochs = Array.from({ length: totalEpochs }, (_, epoch) => epoch);
  const cosine = (t: number, span: number) => baseLr * (1 + Math.cos(Math.PI * t / span)) / 2;
  const warmup = (epoch: number) =>
    baseLr * (startFactor + (1 - startFactor) * epoch / warmupEpochs);
  const span = totalEpochs - warmupEpochs;
  return [
    {
      value: epochs.map((e) => e < warmupEpochs ? warmup(e) : cosine(e, span)),
      says: "the cosine starts from the epoch count, not from the end of the warm-up: " +
        "use epoch - warmupEpochs",
    },
    {
      value: epochs.map((e) =>
        e < warmupEpochs ? warmup(e) : cosine(e - warmupEpochs, totalEpochs)
      ),
      says: "the cosine spans totalEpochs, but after the warm-up only " +
        "totalEpochs - warmupEpochs are left, so it never reaches 0",
    },
    {
      value: epochs.map((e) =>
        e < warmupEpochs ? baseLr * e / warmupEpochs : cosine(e - warmupEpochs, span)
      ),
      says: "the warm-up starts at 0, not at startFactor * baseLr",
    },
    {
      value: epochs.map((e) =>
        e < warmupEpochs
          ? baseLr * startFactor * (e + 1) / warmupEpochs
          : cosine(e - warmupEpochs, span)
      ),
      says: "the warm-up rises from startFactor * baseLr to baseLr: " +
        "startFactor + (1 - startFactor) * epoch / warmupEpochs, times baseLr",
    },
  ];
}

// ---- 8.2: clipping by the joint norm ----------------------------------------------------------

/** Three seeded parameters, two with a gradient (the third is skipped). */
function parametersWithGrads(scale: number): Tensor[] {
  manualSeed(82);
  const params = [randn([4, 3]), randn([3]), randn([2, 2])].map((t) => t.requiresGrad_(true));
  params[0].grad = randn([4, 3]).mul(scale);
  params[1].grad = randn([3]).mul(scale * 3);
  return params;
}

/** The two cases of task 8.2: a norm above the limit, and one below it. */
const CLIP_CASES = [
  { scale: 2, maxNorm: 1 },
  { scale: 0.1, maxNorm: 5 },
];

// ---- 8.3: an RMSprop step ---------------------------------------------------------------------

/** The settings of task 8.3; a large `eps` so that where it goes shows in the numbers. */
const RMSPROP_OPTIONS = { lr: 0.01, alpha: 0.9, eps: 0.01 };

/** The seeded parameter and the three gradients of task 8.3. */
function rmspropInputs(): { param: Tensor; grads: Tensor[] } {
  manualSeed(83);
  return { param: randn([3, 4]), grads: [randn([3, 4]), randn([3, 4]), randn([3, 4])] };
}

/** Three steps of RMSprop written out, with one of the likely mistakes. */
function rmspropBy(mistake: "no 1 - alpha" | "no sqrt" | "eps inside sqrt"): Tensor {
  const { param, grads } = rmspropInputs();
  const { lr, alpha, eps } = RMSPROP_OPTIONS;
  let p = param;
  let squareAvg = param.mul(0);
  for (const g of grads) {
    squareAvg = squareAvg.mul(alpha).add(
      g.square().mul(mistake === "no 1 - alpha" ? 1 : 1 - alpha),
    );
    const denominator = mistake === "no sqrt"
      ? squareAvg.add(eps)
      : mistake === "eps inside sqrt"
      ? squareAvg.add(eps).sqrt()
      : squareAvg.sqrt().add(eps);
    p = p.sub(g.div(denominator).mul(lr));
  }
  return p;
}

// ---- 8.4: Kaiming initialization --------------------------------------------------------------

/** The network of task 8.4: fan-outs well above fan-ins, so that the formulas differ. */
const LAYER_SIZES: [number, number][] = [[64, 256], [256, 512], [512, 10]];

function kaimingModel(): nn.Sequential {
  manualSeed(84);
  return new nn.Sequential(
    new nn.Linear(64, 256),
    new nn.ReLU(),
    new nn.Linear(256, 512),
    new nn.ReLU(),
    new nn.Linear(512, 10),
  );
}

/** What the sandbox reports about one linear layer after `initKaiming`. */
interface LayerReport {
  shape: number[];
  std: number;
  mean: number;
  largestBias: number;
}

/** The standard deviations that likely wrong rules give, layer by layer. */
const INIT_RULES: { std: (fanIn: number, fanOut: number) => number; says: string }[] = [
  {
    std: (fanIn) => Math.sqrt(1 / fanIn),
    says: "the variance 1 / fanIn keeps the scale of a linear layer, but the ReLU halves it: " +
      "double it for ReLU",
  },
  {
    std: (fanIn, fanOut) => Math.sqrt(2 / (fanIn + fanOut)),
    says: "that is Xavier's rule (for tanh); Kaiming's uses the fan-in alone, 2 / fanIn",
  },
  {
    std: (_fanIn, fanOut) => Math.sqrt(2 / fanOut),
    says: "the fan-in is the number of inputs, weight.shape[1]; weight.shape[0] is the fan-out",
  },
  {
    std: (fanIn) => 2 / fanIn,
    says: "2 / fanIn is the variance; nn.init.normal takes the standard deviation, its square root",
  },
];

/** True when every layer's std is within 4% of what `rule` gives. */
function matchesRule(reports: LayerReport[], rule: (fanIn: number, fanOut: number) => number) {
  return LAYER_SIZES.every(([fanIn, fanOut], i) => {
    const want = rule(fanIn, fanOut);
    return Math.abs(reports[i].std - want) <= 0.04 * want;
  });
}

// ---- 8.5: log-uniform sampling ----------------------------------------------------------------

const LOG_UNIFORM_CASES: [number, number, number][] = [
  [1e-4, 1e-1, 0],
  [1e-4, 1e-1, 0.5],
  [1e-4, 1e-1, 0.25],
  [1e-3, 1, 0.9],
  [16, 128, 0.5],
];

// ---- the tasks --------------------------------------------------------------------------------

export default defineTasks<typeof Solutions>([
  {
    id: "8.1",
    title: "a linear warm-up, then a cosine decay",
    hints: [
      "two pieces: a straight line during the warm-up, then a half cosine that starts where " +
      "the warm-up ends",
      "during the warm-up the factor goes from startFactor (epoch 0) to 1 (epoch warmupEpochs) " +
      "in equal steps; after it, count epochs from the end of the warm-up and use " +
      "(1 + cos(pi * t / T)) / 2 with T the epochs left",
    ],
    run: (impl) =>
      SCHEDULES.map((options) =>
        Array.from(
          { length: options.totalEpochs },
          (_, epoch) => impl.warmupCosineLr(epoch, options),
        )
      ),
    judge: async (received: Received) => {
      for (const [i, options] of SCHEDULES.entries()) {
        await expectClose(
          `warmupCosineLr(epoch, ${JSON.stringify(options)}) for epochs 0 to ${
            options.totalEpochs - 1
          }`,
          received[i],
          frameworkRates(options),
          { atol: 1e-9, rtol: 1e-7, mistakes: scheduleMistakes(options) },
        );
      }
    },
  },
  {
    id: "8.2",
    title: "gradient clipping by the joint norm",
    hints: [
      "one norm for all the gradients together (as if they were one long vector), then one " +
      "factor for all of them, and only when the norm is above the limit",
      "add up g.square().sum() over every gradient and take the square root; if it is above " +
      "maxNorm, multiply every gradient by maxNorm / norm with assign under noGrad()",
    ],
    run: async (impl) => {
      const results = [];
      for (const { scale, maxNorm } of CLIP_CASES) {
        const params = parametersWithGrads(scale);
        const norm = await impl.clipGradNorm(params, maxNorm);
        results.push({ norm, grads: params.map((p) => p.grad) });
      }
      return results;
    },
    judge: async (received: Received) => {
      for (const [c, { scale, maxNorm }] of CLIP_CASES.entries()) {
        const expected = parametersWithGrads(scale);
        // Copies of the gradients before clipping, for the values of the likely mistakes.
        const before = expected.slice(0, 2).map((p) => p.grad!.clone());
        const norm = await nn.utils.clipGradNorm_(expected, maxNorm).item();
        const what = `clipGradNorm(parameters, ${maxNorm}) with a joint norm of ${norm.toFixed(3)}`;
        const got = received[c];
        if (!got || !Array.isArray(got.grads)) {
          throw new Wrong(`${what}: the parameters' gradients could not be read back`);
        }
        await expectClose(`${what}: the returned norm`, got?.norm, norm, {
          mistakes: [{
            value: Math.min(norm, maxNorm),
            says: "the norm after clipping was returned; return the one before",
          }],
        });
        if (got.grads[2] !== null) {
          throw new Wrong(`${what}: the third parameter had no gradient and must keep none`);
        }
        for (const i of [0, 1]) {
          const own = await before[i].norm().item();
          await expectClose(
            `${what}: the gradient of parameter ${i}`,
            got.grads[i],
            expected[i].grad!,
            {
              mistakes: [
                {
                  value: before[i].mul(Math.min(1, maxNorm / own)),
                  says: "each gradient was clipped by its own norm; clipGradNorm_ uses one " +
                    "norm for all gradients together, so that their direction is kept",
                },
                {
                  value: before[i].mul(maxNorm / norm),
                  says: "the gradients were scaled up to maxNorm although their norm was below " +
                    "it; clip only when the norm is above maxNorm",
                },
              ],
            },
          );
        }
      }
    },
  },
  {
    id: "8.3",
    title: "one RMSprop step",
    hints: [
      "an exponential moving average of grad^2, then a step against the gradient divided by " +
      "the root of that average",
      "squareAvg <- alpha * squareAvg + (1 - alpha) * grad^2; " +
      "param <- param - lr * grad / (sqrt(squareAvg) + eps), eps outside the root",
    ],
    run: (impl) => {
      const { param, grads } = rmspropInputs();
      let state = { param, squareAvg: param.mul(0) };
      for (const grad of grads) {
        state = impl.rmspropStep(state.param, grad, state.squareAvg, RMSPROP_OPTIONS);
      }
      return state;
    },
    judge: async (received: Received) => {
      const { param, grads } = rmspropInputs();
      const p = param.clone().requiresGrad_(true);
      const optimizer = new optim.RMSprop([p], RMSPROP_OPTIONS);
      for (const grad of grads) {
        p.grad = grad;
        optimizer.step();
      }
      const what = `three rmspropStep calls with ${JSON.stringify(RMSPROP_OPTIONS)}`;
      await expectClose(
        `${what}: squareAvg`,
        received?.squareAvg,
        optimizer.state.get(p)!.buffers.squareAvg,
        {
          mistakes: [{
            value: rmspropSquareAvgWithoutDecayWeight(),
            says: "the new grad^2 enters the average with weight 1 - alpha (the old average " +
              "keeps alpha): without it the average is a sum that grows",
          }],
        },
      );
      await expectClose(`${what}: param`, received?.param, p, {
        mistakes: [
          {
            value: rmspropBy("no sqrt"),
            says: "divide by the square root of the average of grad^2 (the root mean square), " +
              "not by the average itself",
          },
          {
            value: rmspropBy("eps inside sqrt"),
            says: "eps goes outside the square root, as in PyTorch: sqrt(squareAvg) + eps",
          },
          { value: rmspropBy("no 1 - alpha"), says: "the new grad^2 enters with weight 1 - alpha" },
        ],
      });
    },
  },
  {
    id: "8.4",
    title: "Kaiming initialization of a ReLU network",
    hints: [
      "a linear layer with n inputs multiplies the variance by n * var(w); the ReLU halves it; " +
      "choose var(w) so that the product is 1",
      "std = sqrt(2 / fanIn) with fanIn = layer.weight.shape[1]; nn.init.normal(layer.weight, 0, " +
      "std) and nn.init.zeros(layer.bias)",
    ],
    run: async (impl) => {
      const model = kaimingModel();
      impl.initKaiming(model);
      const reports: LayerReport[] = [];
      for (const layer of model) {
        if (!(layer instanceof nn.Linear)) continue;
        reports.push({
          shape: layer.weight.shape.slice(),
          std: await layer.weight.std().item(),
          mean: await layer.weight.mean().item(),
          largestBias: layer.bias ? await layer.bias.abs().max().item() : 0,
        });
      }
      return reports;
    },
    judge: (received: Received) => {
      const reports = received as LayerReport[];
      if (!Array.isArray(reports) || reports.length !== LAYER_SIZES.length) {
        throw new Wrong("initKaiming: the model's three Linear layers were not all found");
      }
      for (const [i, [fanIn, fanOut]] of LAYER_SIZES.entries()) {
        if (reports[i].largestBias !== 0) {
          throw new Wrong(
            `initKaiming: the bias of Linear(${fanIn}, ${fanOut}) is not 0 (largest ` +
              `${reports[i].largestBias.toPrecision(3)}): set it with nn.init.zeros`,
          );
        }
        if (Math.abs(reports[i].mean) > 0.1 * reports[i].std) {
          throw new Wrong(
            `initKaiming: the weights of Linear(${fanIn}, ${fanOut}) have mean ` +
              `${reports[i].mean.toPrecision(3)}; draw them around 0`,
          );
        }
      }
      if (matchesRule(reports, (fanIn) => Math.sqrt(2 / fanIn))) return;
      const stds = reports.map((r) => r.std.toPrecision(3)).join(", ");
      const want = LAYER_SIZES.map(([fanIn]) => Math.sqrt(2 / fanIn).toPrecision(3)).join(", ");
      const mistake = INIT_RULES.find((rule) => matchesRule(reports, rule.std));
      throw new Wrong(
        `initKaiming: the weights' standard deviations of Linear(64, 256), Linear(256, 512) and ` +
          `Linear(512, 10) are ${stds}, expected about ${want}` +
          (mistake ? `: ${mistake.says}` : ""),
      );
    },
  },
  {
    id: "8.5",
    title: "a log-uniform draw",
    hints: [
      "draw the exponent uniformly, not the number",
      "the exponent goes from log10(low) to log10(high); 10 to the power of it is the draw",
    ],
    run: (impl) => LOG_UNIFORM_CASES.map(([low, high, u]) => impl.logUniform(low, high, u)),
    judge: async (received: Received) => {
      for (const [i, [low, high, u]] of LOG_UNIFORM_CASES.entries()) {
        const exponent = Math.log10(low) + u * (Math.log10(high) - Math.log10(low));
        await expectClose(`logUniform(${low}, ${high}, ${u})`, received[i], 10 ** exponent, {
          atol: 0,
          rtol: 1e-9,
          mistakes: [
            {
              value: low + u * (high - low),
              says: "that is a uniform draw: most of it lands in the top power of ten; draw " +
                "the exponent uniformly instead",
            },
            {
              value: Math.exp(exponent),
              says: "log10 for the exponent but e for the power (Math.exp): use 10 ** exponent",
            },
            {
              value: 10 ** (low + u * (high - low)),
              says: "the bounds of the exponent are log10(low) and log10(high), not low and high",
            },
          ],
        });
      }
    },
  },
]);

/** The squared-gradient average of three steps without the (1 - alpha) weight. */
function rmspropSquareAvgWithoutDecayWeight(): Tensor {
  const { grads } = rmspropInputs();
  let squareAvg = grads[0].mul(0);
  for (const g of grads) squareAvg = squareAvg.mul(RMSPROP_OPTIONS.alpha).add(g.square());
  return squareAvg;
}
