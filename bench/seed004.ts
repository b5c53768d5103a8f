/**
 * Seed 004's training skeleton, ported line by line as a user would write it: 6,300 steps of a
 * 10-128-128-1 sigmoid MLP (batch 16, Adam, MSE). `bench/torch.ts` runs it in a process of its
 * own with plain `deno run` (no V8 flag) and reads the time and the peak memory it prints.
 * (Deno lets a script read its own /proc/self/status only with every permission, hence -A.)
 *
 *   deno run -A bench/seed004.ts
 *
 * @module
 */
import { data, linspace, manualSeed, nn, noGrad, optim, rand } from "../mod.ts";

manualSeed(0);
const start = performance.now();

// Hyper-parameters
const batches = 16;
const lr = 1e-3;
const epochs = 100;

// Data
const X = linspace(0, 1, 10000).reshape([-1, 10]);
const Y = X.sigmoid().mean(1, true).add(rand([X.shape[0], 1]).mul(0.05));
const dataset = new data.TensorDataset(X, Y);
const dataloader = new data.DataLoader(dataset, { batchSize: batches });

// Model, optimizer, loss
const model = new nn.Sequential(
  new nn.Linear(10, 128),
  new nn.Sigmoid(),
  new nn.Linear(128, 128),
  new nn.Sigmoid(),
  new nn.Linear(128, 1),
);
const optimizer = new optim.Adam(model.parameters(), { lr });
const criterion = new nn.MSELoss();

// Training
for (let epoch = 0; epoch < epochs; epoch++) {
  for (const [x, y] of dataloader) {
    const p = model.forward(x);
    const loss = criterion.forward(p, y);
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
  }
}

// End of training
let total: number;
{
  using _ = noGrad();
  total = await criterion.forward(model.forward(X), Y).item();
}
const seconds = (performance.now() - start) / 1000;
const status = await Deno.readTextFile("/proc/self/status").catch(() => "");
const peakMb = Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0) / 1024;
console.log(`${seconds} ${peakMb} ${total}`);
