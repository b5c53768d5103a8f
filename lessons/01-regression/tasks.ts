/**
 * Lesson 1, how each exercise is checked. The framework is the oracle: autograd for the
 * gradients, `optim.SGD` for the update, the lesson's loop for the epoch, float64 tensors for the
 * scalar `Value` of tasks 1.5 and 1.6. `run` calls the student's code in the sandbox; `judge`
 * recomputes the answer here and names the likely mistakes.
 *
 * @module
 */
import { F, manualSeed, nn, optim, randn, type Tensor, tensor } from "../../mod.ts";
import { defineTasks, expectClose, type Received, Wrong } from "../tasks.ts";
import type * as Solutions from "./solutions.ts";

// ---- 1.1 to 1.4 -----------------------------------------------------------------------------

/** The points of task 1.1: (w, x, y). */
const SQUARED_ERROR_CASES = [[0.5, -1.5, 2], [3, 2, 5], [-2, 4, 1]];

/** The gradient of `(w*x - y)^2` with respect to `w`, from autograd. */
async function autogradOfSquaredError(w: number, x: number, y: number): Promise<number> {
  const wt = tensor(w, { dtype: "float64", requiresGrad: true });
  wt.mul(x).sub(y).pow(2).backward();
  return await wt.grad!.item();
}

/** The noisy line of task 1.2, seeded. */
function lineData(): { X: Tensor; y: Tensor; w: number; b: number } {
  manualSeed(12);
  const X = randn([20, 1], { dtype: "float64" });
  const y = X.mul(2).add(1).add(randn([20, 1], { dtype: "float64" }).mul(0.1));
  return { X, y, w: 0.3, b: -0.7 };
}

/** The parameters of a seeded linear model, with the gradient of one batch. */
function parametersWithGrads(): Tensor[] {
  manualSeed(3);
  const model = new nn.Linear(3, 2);
  F.mseLoss(model.forward(randn([8, 3])), randn([8, 2])).backward();
  return model.parameters();
}

/** The seeded model, batches and optimizer of task 1.4 (the same in the sandbox and here). */
function trainingSetup() {
  manualSeed(5);
  const X = randn([40, 4]);
  const y = X.sum(1, true).mul(0.5);
  const model = new nn.Sequential(new nn.Linear(4, 8), new nn.Sigmoid(), new nn.Linear(8, 1));
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
  const trainLoader: Tensor[][] = [];
  for (let start = 0; start < 40; start += 8) {
    trainLoader.push([X.slice(0, start, start + 8), y.slice(0, start, start + 8)]);
  }
  return { model, optimizer, trainLoader };
}

/** The lesson's loop, or one of its likely mistakes: the parameters and the batch losses. */
async function referenceEpoch(mistake: "" | "no zeroGrad" = "") {
  const { model, optimizer, trainLoader } = trainingSetup();
  const losses: number[] = [];
  for (const [X, y] of trainLoader) {
    if (mistake !== "no zeroGrad") optimizer.zeroGrad();
    const loss = F.mseLoss(model.forward(X), y);
    loss.backward();
    optimizer.step();
    losses.push(await loss.item());
  }
  return { parameters: model.parameters(), losses };
}

// ---- 1.5 and 1.6: programs over scalar Values -------------------------------------------------

/** One step of a program: an op on earlier nodes (by index) or on a node and a number. */
type Instruction =
  | { op: "add" | "mul"; a: number; b: number }
  | { op: "add" | "mul"; a: number; c: number }
  | { op: "pow"; a: number; k: number }
  | { op: "relu" | "tanh"; a: number };

/** Inputs, then instructions; each instruction's result is a new node; the last is the output. */
interface Program {
  name: string;
  /** What the program probes: one op, a chain, a Value used twice, a shared node, random. */
  kind: "op" | "chain" | "shared input" | "shared node" | "random";
  inputs: number[];
  steps: Instruction[];
}

/** Anything with the ops of a Value: the student's Value and the framework's Tensor both. */
interface Arithmetic<T> {
  add(other: T | number): T;
  mul(other: T | number): T;
  pow(k: number): T;
  relu(): T;
  tanh(): T;
}

/** Runs a program on `inputs` made by the caller; returns every node. */
function evaluate<T extends Arithmetic<T>>(program: Program, inputs: T[]): T[] {
  const nodes = [...inputs];
  for (const step of program.steps) {
    const a = nodes[step.a];
    let result: T;
    if (step.op === "pow") result = a.pow(step.k);
    else if (step.op === "relu" || step.op === "tanh") result = a[step.op]();
    else if ("b" in step) result = a[step.op](nodes[step.b]);
    else result = a[step.op]((step as { c: number }).c);
    nodes.push(result);
  }
  return nodes;
}

/** The op of a step, as the student would write it: "x0.mul(x1)". */
function describeStep(step: Instruction, names: string[]): string {
  const a = names[step.a];
  if (step.op === "pow") return `${a}.pow(${step.k})`;
  if (step.op === "relu" || step.op === "tanh") return `${a}.${step.op}()`;
  return "b" in step
    ? `${a}.${step.op}(${names[step.b]})`
    : `${a}.${step.op}(${(step as { c: number }).c})`;
}

/** A small seeded generator, so that the sandbox and the judge build the same programs. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Random programs over three inputs that reuse earlier nodes (so some are shared). */
function randomPrograms(count: number): Program[] {
  const random = generator(15);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const programs: Program[] = [];
  for (let p = 0; p < count; p++) {
    const inputs = [0, 1, 2].map(() => Math.round((random() * 3 - 1.5) * 100) / 100 || 0.3);
    const steps: Instruction[] = [];
    for (let s = 0; s < 7; s++) {
      const size = inputs.length + steps.length;
      const a = Math.floor(random() * size);
      const op = pick(["add", "mul", "mul", "pow", "relu", "tanh", "tanh"] as const);
      if (op === "pow") steps.push({ op, a, k: pick([2, 3]) });
      else if (op === "relu" || op === "tanh") steps.push({ op, a });
      else if (random() < 0.25) steps.push({ op, a, c: pick([2, -0.5, 1.5]) });
      else steps.push({ op, a, b: Math.floor(random() * size) });
    }
    // End in a tanh of the sum of the last two nodes, so every program has one output.
    const size = inputs.length + steps.length;
    steps.push({ op: "add", a: size - 1, b: size - 2 });
    steps.push({ op: "tanh", a: size });
    programs.push({ name: `random program ${p + 1}`, kind: "random", inputs, steps });
  }
  return programs;
}

/** The programs of tasks 1.5 and 1.6, from the simplest to random ones. */
function programs(): Program[] {
  const one = (name: string, inputs: number[], step: Instruction): Program => ({
    name,
    kind: "op",
    inputs,
    steps: [step],
  });
  return [
    one("x0.add(x1)", [1.5, -2], { op: "add", a: 0, b: 1 }),
    one("x0.add(2)", [1.5], { op: "add", a: 0, c: 2 }),
    one("x0.mul(x1)", [1.5, -2], { op: "mul", a: 0, b: 1 }),
    one("x0.mul(-3)", [1.5], { op: "mul", a: 0, c: -3 }),
    one("x0.pow(3)", [1.5], { op: "pow", a: 0, k: 3 }),
    one("x0.relu() of a positive x0", [1.5], { op: "relu", a: 0 }),
    one("x0.relu() of a negative x0", [-0.7], { op: "relu", a: 0 }),
    one("x0.tanh()", [0.5], { op: "tanh", a: 0 }),
    {
      name: "x0.mul(x1).add(1).tanh()",
      kind: "chain",
      inputs: [0.6, -0.9],
      steps: [{ op: "mul", a: 0, b: 1 }, { op: "add", a: 2, c: 1 }, { op: "tanh", a: 3 }],
    },
    {
      name: "x0.pow(2).mul(3).relu()",
      kind: "chain",
      inputs: [0.8],
      steps: [{ op: "pow", a: 0, k: 2 }, { op: "mul", a: 1, c: 3 }, { op: "relu", a: 2 }],
    },
    { name: "x0.mul(x0)", kind: "shared input", inputs: [1.3], steps: [{ op: "mul", a: 0, b: 0 }] },
    { name: "x0.add(x0)", kind: "shared input", inputs: [1.3], steps: [{ op: "add", a: 0, b: 0 }] },
    {
      name: "h = x0.mul(x1); h.tanh().add(h.mul(2))",
      kind: "shared node",
      inputs: [0.7, -1.2],
      steps: [
        { op: "mul", a: 0, b: 1 }, // 2: h
        { op: "tanh", a: 2 }, // 3
        { op: "mul", a: 2, c: 2 }, // 4
        { op: "add", a: 3, b: 4 }, // 5
      ],
    },
    {
      name: "h = x0.add(1); h.mul(h).mul(h.tanh())",
      kind: "shared node",
      inputs: [0.4],
      steps: [
        { op: "add", a: 0, c: 1 }, // 1: h
        { op: "mul", a: 1, b: 1 }, // 2
        { op: "tanh", a: 1 }, // 3
        { op: "mul", a: 2, b: 3 }, // 4
      ],
    },
    ...randomPrograms(6),
  ];
}

/** What the sandbox sends for one program: the data of every node, and what was not a Value. */
interface ProgramRun {
  data: number[];
  notValue?: { step: number; got: unknown };
  grads?: number[];
}

/** A Value of the student's: a number in `data`, and the ops. */
function isValueLike(value: unknown): value is Solutions.Value {
  const candidate = value as Solutions.Value | null;
  return typeof candidate?.data === "number" && typeof candidate.backward === "function";
}

/** Runs every program with the student's Value; `withBackward` also calls `backward()`. */
function runPrograms(impl: typeof Solutions, withBackward: boolean): ProgramRun[] {
  const runs: ProgramRun[] = [];
  for (const program of programs()) {
    const inputs = program.inputs.map((x) => new impl.Value(x));
    const nodes: unknown[] = [...inputs];
    let notValue: ProgramRun["notValue"];
    // Step by step, so that an op that does not return a Value is named.
    for (const [s, step] of program.steps.entries()) {
      const partial = { ...program, steps: [step] };
      const operands = nodes as Solutions.Value[];
      const result = evaluate(partial, operands).at(-1);
      nodes.push(result);
      if (!isValueLike(result)) {
        notValue = { step: s, got: result };
        break;
      }
    }
    const values = nodes as Solutions.Value[];
    const data = values.map((node) => (isValueLike(node) ? node.data : NaN));
    if (notValue || !withBackward) {
      runs.push({ data, notValue });
      continue;
    }
    values.at(-1)!.backward();
    runs.push({ data, grads: inputs.map((x) => x.grad) });
  }
  return runs;
}

/** The framework's answer for a program: every node's value and the inputs' gradients. */
async function oracle(program: Program): Promise<{ data: number[]; grads: number[] }> {
  const inputs = program.inputs.map((x) => tensor(x, { dtype: "float64", requiresGrad: true }));
  const nodes = evaluate(program, inputs);
  nodes.at(-1)!.backward();
  const data = await Promise.all(nodes.map((node) => node.item()));
  const grads = await Promise.all(inputs.map((x) => x.grad ? x.grad.item() : 0));
  return { data, grads };
}

/** Names of the nodes of a program (inputs x0, x1, ...; results n2, n3, ...). */
function nodeNames(program: Program): string[] {
  const names = program.inputs.map((_, i) => `x${i}`);
  for (let s = 0; s < program.steps.length; s++) names.push(`n${names.length}`);
  return names;
}

/** Likely wrong data for one op: the value each mistake gives, and what to say. */
function forwardMistakes(step: Instruction, a: number, b: number | undefined) {
  switch (step.op) {
    case "tanh":
      return [{ value: Math.tan(a), says: "Math.tan is the tangent; tanh is Math.tanh" }];
    case "relu":
      return [
        { value: Math.abs(a), says: "relu gives 0 for a negative input, not its size" },
        { value: Math.min(0, a), says: "relu keeps the positive part: max(0, x)" },
      ];
    case "pow":
      return [{ value: a * step.k, says: "pow raises to the exponent; it does not multiply" }];
    default:
      return b === undefined
        ? []
        : [{ value: NaN, says: "a plain number as `other`: wrap it in a Value first" }];
  }
}

/** Task 1.5's judge: every node's data against the framework's, op by op. */
async function judgeForward(received: Received): Promise<void> {
  const runs = received as ProgramRun[];
  for (const [p, program] of programs().entries()) {
    const run = runs[p];
    const expected = await oracle(program);
    const names = nodeNames(program);
    for (const [s, step] of program.steps.entries()) {
      const node = program.inputs.length + s;
      const what = `${describeStep(step, names)} with ${
        names.slice(0, program.inputs.length).map((name, i) => `${name} = ${program.inputs[i]}`)
          .join(", ")
      } (in ${program.name})`;
      if (run.notValue?.step === s) {
        throw new Wrong(
          `${what}: returned ${describeValue(run.notValue.got)}; every op returns a new Value`,
        );
      }
      const a = expected.data[step.a];
      const b = "c" in step ? step.c : "b" in step ? expected.data[step.b] : undefined;
      await expectClose(`${what}.data`, run.data[node], expected.data[node], {
        atol: 1e-9,
        rtol: 1e-9,
        mistakes: forwardMistakes(step, a, "c" in step ? b : undefined),
      });
    }
  }
}

function describeValue(value: unknown): string {
  if (typeof value === "number") return `the number ${value}`;
  if (value === undefined) return "undefined";
  return "something that is not a Value";
}

/** Likely wrong gradients of a one-op program, with what to say. */
function backwardMistakes(program: Program, grads: number[]) {
  const [step] = program.steps;
  const x = program.inputs;
  switch (step.op) {
    case "mul":
      return "b" in step
        ? [{
          value: [x[0], x[1]],
          says: "each factor's gradient is the *other* factor times the output's gradient",
        }]
        : [{ value: [x[0]], says: "the gradient of x * c is c times the output's gradient" }];
    case "tanh": {
      const t = Math.tanh(x[0]);
      return [{ value: [1 - t], says: "the derivative of tanh is 1 - tanh(x)^2, not 1 - tanh(x)" }];
    }
    case "pow":
      return [{
        value: [x[0] ** (step.k - 1)],
        says: "the exponent in front is missing: d(x^k)/dx = k x^(k-1)",
      }];
    case "relu":
      return [{
        value: [x[0] > 0 ? 0 : 1],
        says: "relu passes the gradient only where its input was positive",
      }];
    default:
      return [{ value: grads.map(() => 0), says: "add passes the output's gradient to both" }];
  }
}

/** Task 1.6's judge: the inputs' gradients against autograd's, simplest programs first. */
async function judgeBackward(received: Received): Promise<void> {
  const { leafGrad, runs } = received as { leafGrad: number; runs: ProgramRun[] };
  await expectClose("the grad of x after x.backward() (x = new Value(3))", leafGrad, 1, {
    mistakes: [{ value: 0, says: "backward() starts by setting the output's own grad to 1" }],
  });
  const passed = new Set<Program["kind"]>();
  for (const [p, program] of programs().entries()) {
    const run = runs[p];
    const expected = await oracle(program);
    if (run.notValue || !run.grads) {
      throw new Wrong(`${program.name}: an op did not return a Value (see task 1.5)`);
    }
    const what = `the inputs' grads after (${program.name}).backward(), inputs [${
      program.inputs.join(", ")
    }]`;
    const tolerance = { atol: 1e-9, rtol: 1e-7 };
    if (program.kind === "op") {
      await expectClose(what, run.grads, expected.grads, {
        ...tolerance,
        mistakes: backwardMistakes(program, expected.grads),
      });
    } else {
      try {
        await expectClose(what, run.grads, expected.grads, tolerance);
      } catch (error) {
        throw new Wrong(`${(error as Error).message}: ${diagnosis(program.kind, passed)}`);
      }
    }
    passed.add(program.kind);
  }
}

/** What a failure on a program of `kind` most likely means, given the kinds that passed. */
function diagnosis(kind: Program["kind"], passed: Set<Program["kind"]>): string {
  if (kind === "chain") {
    return "every op alone is right but a chain is not: the chain rule multiplies the local " +
      "derivative by the output's own grad";
  }
  if (kind === "shared input") {
    return "a Value used twice must collect both shares: add to its grad (+=), do not assign";
  }
  if (kind === "shared node" && passed.has("shared input")) {
    return "right while no Value is reached along two paths, wrong when one is: a Value may pass " +
      "its grad on only after every Value that uses it has run (reverse topological order)";
  }
  return "compare with the programs above, which pass";
}

// ---- the tasks --------------------------------------------------------------------------------

export default defineTasks<typeof Solutions>([
  {
    id: "1.1",
    title: "the gradient of (w*x - y)^2 by hand",
    hints: [
      "the chain rule: the derivative of the outer square, times that of the inside, w*x - y",
      "the derivative of u^2 is 2u; with u = w*x - y, du/dw is x; multiply the two",
    ],
    run: (impl) => SQUARED_ERROR_CASES.map(([w, x, y]) => impl.squaredErrorGrad(w, x, y)),
    judge: async (received) => {
      for (const [i, [w, x, y]] of SQUARED_ERROR_CASES.entries()) {
        await expectClose(
          `squaredErrorGrad(${w}, ${x}, ${y})`,
          received[i],
          await autogradOfSquaredError(w, x, y),
          {
            mistakes: [
              { value: (w * x - y) * x, says: "a missing factor 2 (from the square)" },
              { value: 2 * (w * x - y), says: "the inner derivative, x, is missing" },
              { value: 2 * (y - w * x) * x, says: "the sign is flipped: the residual is w*x - y" },
            ],
          },
        );
      }
    },
  },
  {
    id: "1.2",
    title: "the MSE gradients of a line by hand",
    hints: [
      "the gradient of a mean is the mean of the gradients: task 1.1 for every point",
      "with the residual r = w*x + b - y as a tensor: dL/dw is 2 times the mean of r*x, and " +
      "dL/db is 2 times the mean of r; read numbers with await t.item()",
    ],
    run: async (impl) => {
      const { X, y, w, b } = lineData();
      return await impl.mseLineGrads(X, y, w, b);
    },
    judge: async (received) => {
      const { X, y, w, b } = lineData();
      const wt = tensor(w, { dtype: "float64", requiresGrad: true });
      const bt = tensor(b, { dtype: "float64", requiresGrad: true });
      F.mseLoss(X.mul(wt).add(bt), y).backward();
      const n = X.shape[0];
      for (const [name, grad] of [["dw", wt.grad!], ["db", bt.grad!]] as const) {
        const expected = await grad.item();
        await expectClose(`mseLineGrads(X, y, ${w}, ${b}).${name}`, received?.[name], expected, {
          mistakes: [
            {
              value: expected * n,
              says: "a sum instead of a mean: divide by the number of points",
            },
            { value: expected / 2, says: "a missing factor 2 (from the square)" },
          ],
        });
      }
    },
  },
  {
    id: "1.3",
    title: "one SGD step by hand",
    hints: [
      "each parameter takes a small step downhill, against its gradient, then forgets the gradient",
      "inside a noGrad() block: compute p - lr * grad, write it into p with assign, then call " +
      "zeroGrad on p; a tensor that requires grad cannot change in place outside noGrad()",
    ],
    run: (impl) => {
      const parameters = parametersWithGrads();
      impl.sgdStep(parameters, 0.1);
      return {
        values: parameters,
        gradsLeft: parameters.map((p) => p.grad !== null),
        leaves: parameters.map((p) => p.isLeaf && p.requiresGrad),
      };
    },
    judge: async (received) => {
      const lr = 0.1;
      const before = parametersWithGrads();
      const grads = before.map((p) => p.grad!.detach());
      const expected = parametersWithGrads();
      new optim.SGD(expected, { lr }).step();
      const names = ["weight", "bias"];
      for (const [i, p] of expected.entries()) {
        await expectClose(`${names[i]} after sgdStep(parameters, ${lr})`, received.values[i], p, {
          mistakes: [
            {
              value: before[i].add(grads[i].mul(lr)),
              says: "the step went uphill: subtract lr * grad, do not add it",
            },
            { value: before[i].sub(grads[i]), says: "the step is not scaled by lr" },
            { value: before[i], says: "the parameter did not change" },
          ],
        });
      }
      if (received.gradsLeft.some(Boolean)) {
        throw new Wrong(
          "the gradients were not cleared after the step (a forgotten zeroGrad): the next " +
            "backward() would add to them",
        );
      }
      if (!received.leaves.every(Boolean)) {
        throw new Wrong(
          "a parameter is no longer a leaf that requires grad: change it in place with assign " +
            "under noGrad(), rather than replacing it",
        );
      }
    },
  },
  {
    id: "1.4",
    title: "one epoch of the training skeleton",
    hints: [
      "the four lines of the lesson's training loop, once for every batch; keep the losses",
      "per batch: optimizer.zeroGrad(), the loss of model.forward(X) against y, backward on it, " +
      "optimizer.step(); the result is the average of await loss.item() over the batches",
    ],
    run: async (impl) => {
      const { model, optimizer, trainLoader } = trainingSetup();
      const meanLoss = await impl.trainEpoch(model, trainLoader, optimizer, F.mseLoss);
      return { meanLoss, parameters: model.parameters() };
    },
    judge: async (received) => {
      const right = await referenceEpoch();
      const noZeroGrad = await referenceEpoch("no zeroGrad");
      for (const [i, p] of right.parameters.entries()) {
        await expectClose(`parameter ${i} after trainEpoch`, received.parameters?.[i], p, {
          mistakes: [{
            value: noZeroGrad.parameters[i],
            says: "a forgotten optimizer.zeroGrad(): each batch's gradient added to the last",
          }],
        });
      }
      const sum = right.losses.reduce((a, b) => a + b, 0);
      await expectClose("trainEpoch(...) (the mean batch loss)", received.meanLoss, sum / 5, {
        mistakes: [
          { value: sum, says: "a sum instead of a mean: divide by the number of batches" },
          { value: right.losses.at(-1), says: "the last batch's loss, not the mean over batches" },
        ],
      });
    },
  },
  {
    id: "1.5",
    title: "a scalar Value, forward: add, mul, pow, relu, tanh",
    hints: [
      "each op returns a new Value holding the result, with the Values it came from as children",
      "add and mul accept a plain number too: turn it into a Value first; pow takes a number " +
      "exponent (Math.pow or **); relu is Math.max(0, x); tanh is Math.tanh",
    ],
    run: (impl) => runPrograms(impl, false),
    judge: judgeForward,
  },
  {
    id: "1.6",
    title: "a scalar Value, backward in topological order",
    hints: [
      "the chain rule, node by node: each op knows its local derivatives; backward() visits the " +
      "graph from the output to the inputs so that each node's grad is complete before it is used",
      "each op sets out.backwardStep to add (local derivative * out.grad) to each child's grad " +
      "(+=, a Value can be used twice); backward(): a depth-first walk that pushes a node after " +
      "its children gives the order; set this.grad = 1 and run the steps from the end",
    ],
    run: (impl) => {
      // A lone Value first: its grad after backward() is 1 (this also reaches backward first).
      const lone = new impl.Value(3);
      lone.backward();
      return { leafGrad: lone.grad, runs: runPrograms(impl, true) };
    },
    judge: judgeBackward,
  },
]);
