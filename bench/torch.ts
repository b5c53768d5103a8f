/**
 * `deno task bench --torch`: the workloads of DESIGN.md side by side with PyTorch at its best.
 *
 * PyTorch is Debian's `python3-torch` (/usr/bin/python3), a comparison tool, never a dependency.
 * It runs in processes of its own (`bench/torch_peer.py`): one with one thread and one with two,
 * both with glibc's malloc thresholds raised (without that, a PyTorch process runs the CNN at
 * 35 or 170 steps/s by chance, from page-fault churn). After a 2 s warm-up of each side, rounds
 * alternate: ours, PyTorch on one thread, PyTorch on two; the table gives medians and ratios
 * (ours / PyTorch: above 1 we are faster for throughput; for time and memory below 1 is better).
 *
 * Seed 004's training skeleton and a 3,000-step CNN run (a user's own script) run as separate
 * processes with `deno run` and no V8 flag; each prints its own peak memory (VmHWM).
 *
 * @module
 */
import { manualSeed, optim, randint, randn, setCpuThreads } from "../mod.ts";
import { matmulRaw } from "../core/ops/matmul.ts";
import { cnn, median, mlp, trainer } from "./workloads.ts";

const PYTHON = "/usr/bin/python3";
const MALLOC_ENV = {
  MALLOC_MMAP_THRESHOLD_: "1000000000",
  MALLOC_TRIM_THRESHOLD_: "1000000000",
};

/** A PyTorch process that runs workloads on request (see bench/torch_peer.py). */
class TorchPeer {
  #process: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #lines: AsyncIterator<string>;

  constructor(readonly threads: number) {
    this.#process = new Deno.Command(PYTHON, {
      args: [new URL("./torch_peer.py", import.meta.url).pathname, "--threads", String(threads)],
      env: MALLOC_ENV,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.#process.stdin.getWriter();
    this.#lines = this.#process.stdout
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(lineSplitter())[Symbol.asyncIterator]();
  }

  /** Sends one command and returns the numbers of its answer. */
  async ask(command: string): Promise<number[]> {
    await this.#writer.write(new TextEncoder().encode(command + "\n"));
    const { value, done } = await this.#lines.next();
    if (done) throw new Error(`the PyTorch peer stopped while running "${command}"`);
    return value.trim().split(/\s+/).map(Number);
  }

  async close(): Promise<void> {
    await this.#writer.write(new TextEncoder().encode("quit\n"));
    await this.#writer.close();
    await this.#process.status;
  }
}

function lineSplitter(): TransformStream<string, string> {
  let buffer = "";
  return new TransformStream({
    transform(chunk, controller) {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) controller.enqueue(line);
    },
  });
}

/** Whether PyTorch can be run here. */
async function torchAvailable(): Promise<string | null> {
  try {
    const { success, stderr } = await new Deno.Command(PYTHON, {
      args: ["-c", "import torch"],
      stdout: "null",
      stderr: "piped",
    }).output();
    return success ? null : new TextDecoder().decode(stderr).trim().split("\n").pop()!;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Our side of each workload: a step function. */
function ours(name: string): () => Promise<unknown> {
  manualSeed(0);
  if (name === "matmul") {
    const a = randn([512, 512]), b = randn([512, 512]);
    return () => Promise.resolve(matmulRaw(a, b).dispose());
  }
  if (name === "mlp") {
    const model = mlp();
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.01 });
    return trainer(model, optimizer, randn([64, 784]), randint(0, 10, [64]));
  }
  const model = cnn(name === "cnn-bn");
  const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
  return trainer(model, optimizer, randn([64, 1, 28, 28]), randint(0, 10, [64]));
}

async function timeSteps(step: () => Promise<unknown>, steps: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < steps; i++) await step();
  return (performance.now() - start) / 1000;
}

/** Runs a command to its end and returns the numbers of its last line of output. */
async function runToEnd(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<number[]> {
  const child = new Deno.Command(command, {
    args,
    env: options.env,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  if (options.stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const { stdout } = await child.output();
  const text = new TextDecoder().decode(stdout).trim().split("\n").pop() ?? "";
  return text.split(/\s+/).map(Number);
}

const WORKLOADS = [
  { name: "matmul", title: "matmul 512x512 @ 512x512 (GFLOP/s)", steps: 80, flops: 2 * 512 ** 3 },
  // About half a second a round for either side, long enough that one pause does not decide it.
  { name: "mlp", title: "MLP 784-128-10, batch 64, SGD (steps/s)", steps: 1000 },
  { name: "cnn", title: "CNN, batch 64, Adam (steps/s)", steps: 100 },
  { name: "cnn-bn", title: "CNN + BatchNorm2d, batch 64, Adam (steps/s)", steps: 80 },
];

/** Runs the comparison and prints its table. */
export async function torchComparison(quick: boolean): Promise<void> {
  const missing = await torchAvailable();
  if (missing) {
    console.log(`PyTorch comparison skipped: ${PYTHON} cannot import torch (${missing})`);
    return;
  }
  const rounds = quick ? 3 : 7;
  const peers = [new TorchPeer(1), new TorchPeer(2)];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const workload of WORKLOADS) {
    const step = ours(workload.name);
    const warmUntil = performance.now() + 2000;
    while (performance.now() < warmUntil) await step();
    // Ours (default threads), PyTorch on one thread, on two, and ours on one thread.
    const figures: number[][] = [[], [], [], []];
    for (let round = 0; round < rounds; round++) {
      const perSecond = (seconds: number) =>
        workload.flops
          ? (workload.steps * workload.flops) / seconds / 1e9
          : workload.steps / seconds;
      figures[0].push(perSecond(await timeSteps(step, workload.steps)));
      for (const [k, peer] of peers.entries()) {
        const [seconds] = await peer.ask(`${workload.name} ${workload.steps}`);
        figures[k + 1].push(perSecond(seconds));
      }
      setCpuThreads(1);
      figures[3].push(perSecond(await timeSteps(step, workload.steps)));
      setCpuThreads(2);
    }
    const [mine, one, two, mineOne] = figures.map(median);
    rows.push([
      workload.title,
      fmt(mine),
      fmt(one),
      ratio(mine / one),
      fmt(two),
      ratio(mine / two),
    ]);
    const spread = (values: number[]) => (Math.max(...values) / Math.min(...values)).toFixed(2);
    notes.push(
      `${workload.name}: ours on one thread ${fmt(mineOne)} (${ratio(mineOne / one)} PyTorch's ` +
        `one thread); slowest to fastest round: ours ${spread(figures[0])}x, ours on one ` +
        `thread ${spread(figures[3])}x, PyTorch on one thread ${spread(figures[1])}x`,
    );
  }
  await Promise.all(peers.map((peer) => peer.close()));

  // Seed 004's skeleton, each side a fresh process.
  const seedRuns = quick ? 1 : 3;
  // Each prints: seconds, peak memory (MB), final loss.
  const seedOurs: number[][] = [];
  const seedTorch: number[][] = [];
  for (let run = 0; run < seedRuns; run++) {
    seedOurs.push(await runToEnd(Deno.execPath(), ["run", "-A", bench("seed004.ts")]));
    seedTorch.push(
      await runToEnd(PYTHON, [bench("torch_peer.py"), "--threads", "1"], {
        env: MALLOC_ENV,
        stdin: "seed004\nquit\n",
      }),
    );
  }
  const seconds = (runs: number[][]) => median(runs.map((r) => r[0]));
  const peak = (runs: number[][]) => median(runs.map((r) => r[1]));
  rows.push([
    "seed 004 skeleton, 6,300 steps: time (s)",
    fmt(seconds(seedOurs)),
    fmt(seconds(seedTorch)),
    ratio(seconds(seedOurs) / seconds(seedTorch)),
    "",
    "",
  ]);
  rows.push([
    "seed 004 skeleton: peak memory (MB)",
    fmt(peak(seedOurs)),
    fmt(peak(seedTorch)),
    ratio(peak(seedOurs) / peak(seedTorch)),
    "",
    "",
  ]);

  // A user's 3,000-step CNN script, plain `deno run`.
  const cnnSteps = quick ? 1000 : 3000;
  for (const every of [1, 100]) {
    const [stepsPerSecond, peakMb] = await runToEnd(Deno.execPath(), [
      "run",
      "-A",
      bench("memory.ts"),
      `${cnnSteps}`,
      `${every}`,
    ]);
    rows.push([
      `${cnnSteps} CNN steps awaiting every ${every === 1 ? "step" : `${every} steps`}: peak MB`,
      fmt(peakMb),
      "",
      "",
      "",
      "",
    ]);
    notes.push(
      `CNN script awaiting every ${every}: ${fmt(stepsPerSecond)} steps/s (fresh batches)`,
    );
  }

  const header = ["workload", "ours", "PyTorch 1 thread", "ratio", "PyTorch 2 threads", "ratio"];
  printTable(header, rows);
  console.log(
    `medians of ${rounds} alternating rounds after a 2 s warm-up; ratio = ours / PyTorch ` +
      `(throughput: above 1 is faster; time and memory: below 1 is better)`,
  );
  for (const note of notes) console.log(`- ${note}`);
}

function bench(file: string): string {
  return new URL(`./${file}`, import.meta.url).pathname;
}

function fmt(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function ratio(value: number): string {
  return `${value.toFixed(2)}x`;
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    "| " +
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") +
    " |";
  console.log(line(header));
  console.log(
    "| " + widths.map((w, i) => (i === 0 ? "-".repeat(w) : "-".repeat(w - 1) + ":")).join(" | ") +
      " |",
  );
  for (const row of rows) console.log(line(row));
}
