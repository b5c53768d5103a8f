/**
 * What the bench compares: its workloads, and the CPU kernel sets they run on (the readable
 * TypeScript reference, and the WebAssembly SIMD kernels on one and on two threads).
 * @module
 */
import { F, nn, type optim, setCpuKernels, setCpuThreads, type Tensor } from "../mod.ts";

/** A workload that reports one figure. */
export interface Workload {
  name: string;
  unit: string;
  run: () => Promise<number>;
}

/** A CPU kernel set and how to switch to it. */
export interface KernelSet {
  title: string;
  activate: () => void;
  skip?: (workload: string) => boolean;
}

/** The CPU kernel sets to measure side by side. */
export function cpuKernelSets(): KernelSet[] {
  return [
    { title: "reference TS", activate: () => setCpuKernels("reference") },
    {
      title: "wasm 1 thread",
      activate: () => {
        setCpuKernels("wasm");
        setCpuThreads(1);
      },
    },
    {
      title: "wasm 2 threads",
      activate: () => {
        setCpuKernels("wasm");
        setCpuThreads(2);
      },
    },
  ];
}

/** Median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs `fn` `reps` times after `warmup` runs; returns the median seconds per run. */
export async function time(fn: () => unknown, reps: number, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const seconds: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    await fn();
    seconds.push((performance.now() - start) / 1000);
  }
  return median(seconds);
}

/** One training step (forward, loss, backward, update) on a fixed batch. */
export function trainer(model: nn.Module, optimizer: optim.Optimizer, x: Tensor, y: Tensor) {
  return async () => {
    const loss = F.crossEntropy(model.forward(x), y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    await loss.item();
  };
}

/** The MLP of DESIGN.md: 784-128-10 with ReLU. */
export function mlp(): nn.Module {
  return new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
}

/**
 * The CNN of DESIGN.md: conv(1->8, 3x3, pad 1) + ReLU + maxpool 2 -> conv(8->16, 3x3, pad 1) +
 * ReLU + maxpool 2 -> linear(784->10), with BatchNorm2d after each conv when asked.
 */
export function cnn(batchNorm: boolean): nn.Module {
  const block = (inC: number, outC: number) => [
    new nn.Conv2d(inC, outC, 3, { padding: 1 }),
    ...(batchNorm ? [new nn.BatchNorm2d(outC)] : []),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
  ];
  return new nn.Sequential(
    ...block(1, 8),
    ...block(8, 16),
    new nn.Flatten(),
    new nn.Linear(784, 10),
  );
}
