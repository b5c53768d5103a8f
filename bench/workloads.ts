/**
 * What the bench compares: its workloads, and the CPU kernel sets they run on (the readable
 * TypeScript reference, and the WebAssembly SIMD kernels on one and on two threads).
 * @module
 */
import { setCpuKernels, setCpuThreads } from "../mod.ts";

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
