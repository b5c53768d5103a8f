/**
 * Lesson 1's exercises: every solution passes its check, every stub says it is not done, and
 * the likely wrong answers are named (`LESSON_EXERCISES=student` checks the student's file
 * instead).
 *
 * @module
 */
import { type nn, noGrad, type optim, type Tensor } from "../../mod.ts";
import { testTasks } from "../tasks.ts";
import tasks from "./tasks.ts";
import * as exercises from "./exercises.ts";
import * as solutions from "./solutions.ts";

/** The mistakes a hand-written scalar Value tends to have, one switch each. */
interface ValueMistakes {
  /** `Math.tan` for `Math.tanh`. */
  tan?: boolean;
  /** A plain number operand used without wrapping it (its `.data` is undefined). */
  unwrapped?: boolean;
  /** `child.grad = ...` instead of `+=`. */
  assign?: boolean;
  /** Recursion from the output without a topological order. */
  recursive?: boolean;
  /** `1 - t` for the derivative of tanh. */
  tanhPrime?: boolean;
  /** The local derivative alone, without the output's grad. */
  noChain?: boolean;
}

/** A Value class written with `mistakes`: the shape of a student's answer to 1.5 and 1.6. */
function mistakenValue(mistakes: ValueMistakes) {
  const accumulate = (value: { grad: number }, amount: number) => {
    value.grad = mistakes.assign ? amount : value.grad + amount;
  };
  class Value {
    grad = 0;
    backwardStep: () => void = () => {};
    constructor(public data: number, public children: Value[] = []) {}
    #wrap(other: Value | number): Value {
      if (mistakes.unwrapped) return other as Value;
      return other instanceof Value ? other : new Value(other);
    }
    #make(data: number, children: Value[], local: number[]): Value {
      const out = new Value(data, children);
      out.backwardStep = () => {
        children.forEach((child, i) =>
          accumulate(child, local[i] * (mistakes.noChain ? 1 : out.grad))
        );
      };
      return out;
    }
    add(other: Value | number): Value {
      const that = this.#wrap(other);
      return this.#make(this.data + that.data, [this, that], [1, 1]);
    }
    mul(other: Value | number): Value {
      const that = this.#wrap(other);
      return this.#make(this.data * that.data, [this, that], [that.data, this.data]);
    }
    pow(k: number): Value {
      return this.#make(this.data ** k, [this], [k * this.data ** (k - 1)]);
    }
    relu(): Value {
      return this.#make(Math.max(0, this.data), [this], [this.data > 0 ? 1 : 0]);
    }
    tanh(): Value {
      const t = mistakes.tan ? Math.tan(this.data) : Math.tanh(this.data);
      return this.#make(t, [this], [mistakes.tanhPrime ? 1 - t : 1 - t * t]);
    }
    backward(): void {
      this.grad = 1;
      if (mistakes.recursive) {
        const walk = (value: Value) => {
          value.backwardStep();
          value.children.forEach(walk);
        };
        walk(this);
        return;
      }
      const order: Value[] = [];
      const seen = new Set<Value>();
      const visit = (value: Value) => {
        if (seen.has(value)) return;
        seen.add(value);
        value.children.forEach(visit);
        order.push(value);
      };
      visit(this);
      order.reverse().forEach((value) => value.backwardStep());
    }
  }
  return { Value: Value as unknown as typeof solutions.Value };
}

/** An epoch written with a mistake: no zeroGrad, or the sum of the losses. */
function mistakenEpoch(mistake: "no zeroGrad" | "sum") {
  return {
    trainEpoch: async (
      model: nn.Module,
      trainLoader: Iterable<Tensor[]>,
      optimizer: optim.Optimizer,
      lossFn: (yHat: Tensor, y: Tensor) => Tensor,
    ) => {
      let lossSum = 0;
      for (const [X, y] of trainLoader) {
        if (mistake !== "no zeroGrad") optimizer.zeroGrad();
        const loss = lossFn(model.forward(X), y);
        loss.backward();
        optimizer.step();
        lossSum += await loss.item();
      }
      return mistake === "sum" ? lossSum : lossSum / 5;
    },
  };
}

testTasks(tasks, solutions, exercises, {
  folder: new URL("./", import.meta.url),
  wrongAnswers: {
    "1.1": [
      {
        mistake: "a missing factor 2",
        says: "a missing factor 2",
        impl: { squaredErrorGrad: (w, x, y) => (w * x - y) * x },
      },
      {
        mistake: "no inner derivative",
        says: "the inner derivative, x, is missing",
        impl: { squaredErrorGrad: (w, x, y) => 2 * (w * x - y) },
      },
    ],
    "1.2": [
      {
        mistake: "a sum instead of a mean",
        says: "a sum instead of a mean",
        impl: {
          mseLineGrads: async (X, y, w, b) => {
            const residual = X.mul(w).add(b).sub(y);
            return {
              dw: await residual.mul(X).sum().mul(2).item(),
              db: await residual.sum().mul(2).item(),
            };
          },
        },
      },
      {
        mistake: "tensors returned where numbers are expected",
        says: "received a tensor where a number is expected: read its value with await t.item()",
        impl: {
          mseLineGrads: (X, y, w, b) => {
            const residual = X.mul(w).add(b).sub(y);
            return Promise.resolve({
              dw: residual.mul(X).mean().mul(2) as unknown as number,
              db: residual.mean().mul(2) as unknown as number,
            });
          },
        },
      },
    ],
    "1.3": [
      {
        mistake: "a forgotten zeroGrad",
        says: "the gradients were not cleared after the step (a forgotten zeroGrad)",
        impl: {
          sgdStep: (parameters, lr) => {
            using _ = noGrad();
            for (const p of parameters) p.assign(p.sub(p.grad!.mul(lr)));
          },
        },
      },
      {
        mistake: "a step uphill",
        says: "the step went uphill",
        impl: {
          sgdStep: (parameters, lr) => {
            using _ = noGrad();
            for (const p of parameters) {
              p.assign(p.add(p.grad!.mul(lr)));
              p.zeroGrad();
            }
          },
        },
      },
    ],
    "1.4": [
      {
        mistake: "a forgotten zeroGrad",
        says: "a forgotten optimizer.zeroGrad()",
        impl: mistakenEpoch("no zeroGrad"),
      },
      {
        mistake: "the sum of the batch losses",
        says: "a sum instead of a mean: divide by the number of batches",
        impl: mistakenEpoch("sum"),
      },
    ],
    "1.5": [
      {
        mistake: "Math.tan for tanh",
        says: "Math.tan is the tangent",
        impl: mistakenValue({ tan: true }),
      },
      {
        mistake: "a number operand not wrapped in a Value",
        says: "wrap it in a Value first",
        impl: mistakenValue({ unwrapped: true }),
      },
    ],
    "1.6": [
      {
        mistake: "grad assigned, not accumulated",
        says: "add to its grad (+=), do not assign",
        impl: mistakenValue({ assign: true }),
      },
      {
        mistake: "recursion without a topological order",
        says: "reverse topological order",
        impl: mistakenValue({ recursive: true }),
      },
      {
        mistake: "1 - tanh for the derivative of tanh",
        says: "the derivative of tanh is 1 - tanh(x)^2",
        impl: mistakenValue({ tanhPrime: true }),
      },
      {
        mistake: "the chain rule without the output's grad",
        says: "the chain rule multiplies the local derivative by the output's own grad",
        impl: mistakenValue({ noChain: true }),
      },
    ],
  },
});
