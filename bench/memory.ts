/**
 * A user's CNN training script (the DESIGN.md CNN, batch 64, Adam) as anyone would write it,
 * for the bench's memory check: run with plain `deno run` (no V8 flag), it trains `steps` steps
 * and awaits the loss every `awaitEvery` steps, then prints its steps per second and its peak
 * memory in MB (VmHWM; reading /proc/self/status needs -A in Deno).
 *
 *   deno run -A bench/memory.ts 3000 100
 *
 * @module
 */
import { F, manualSeed, optim, randint, randn } from "../mod.ts";
import { cnn } from "./workloads.ts";

const steps = Number(Deno.args[0] ?? 3000);
const awaitEvery = Number(Deno.args[1] ?? 1);
manualSeed(0);
const model = cnn(false);
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
const start = performance.now();
for (let step = 1; step <= steps; step++) {
  // A fresh batch every step, as a data loader gives.
  const images = randn([64, 1, 28, 28]);
  const labels = randint(0, 10, [64]);
  const loss = F.crossEntropy(model.forward(images), labels);
  optimizer.zeroGrad();
  loss.backward();
  optimizer.step();
  if (step % awaitEvery === 0) await loss.item();
}
const stepsPerSecond = steps / ((performance.now() - start) / 1000);
const status = await Deno.readTextFile("/proc/self/status").catch(() => "");
const peakMb = Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0) / 1024;
console.log(`${stepsPerSecond} ${peakMb}`);
