/**
 * toPyTorch: the written Python module and its safetensors weights are loaded by PyTorch
 * (Debian's python3-torch, a test tool) and must give the framework's logits.
 *
 * Without PyTorch these tests are skipped, except where REQUIRE_TORCH=1 (as in CI), where a
 * missing PyTorch is a failure.
 */
import assert from "node:assert/strict";
import { manualSeed, nn, randn, save, type Tensor, toPyTorch } from "../mod.ts";
import { cnn, Mixed, mlp, SmallResNet, trainBatchNorm } from "./export_models.ts";

const PYTHON = "/usr/bin/python3";
const TOLERANCE = 1e-5;

function torchVersion(): string | null {
  try {
    const result = new Deno.Command(PYTHON, {
      args: ["-c", "import torch; print(torch.__version__)"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return result.success ? new TextDecoder().decode(result.stdout).trim() : null;
  } catch {
    return null;
  }
}

const version = torchVersion();
const required = Deno.env.get("REQUIRE_TORCH") === "1";
const ignore = version === null && !required;

Deno.test({
  name: "toPyTorch: PyTorch is installed where REQUIRE_TORCH=1",
  ignore: !required,
  fn() {
    assert.ok(
      version !== null,
      `REQUIRE_TORCH=1 but ${PYTHON} cannot import torch (install Debian's python3-torch)`,
    );
  },
});

/** Runs the exported module in PyTorch on `input`; returns its output's shape and values. */
const RUNNER = `
import importlib.util, json, sys, torch
spec = importlib.util.spec_from_file_location("exported", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
model = getattr(module, sys.argv[2])()
model.load_state_dict(module.load_safetensors(sys.argv[3]))
model.eval()
x = module.load_safetensors(sys.argv[4])["input"]
with torch.no_grad():
    y = model(x)
print(json.dumps({"shape": list(y.shape), "values": y.flatten().tolist()}))
`;

async function runInPyTorch(model: nn.Module, input: Tensor, withExample: boolean) {
  const { source, weights, className } = await toPyTorch(
    model,
    withExample ? input : undefined,
  );
  const dir = await Deno.makeTempDir({ prefix: "topytorch-" });
  try {
    await Deno.writeTextFile(`${dir}/model.py`, source);
    await Deno.writeFile(`${dir}/model.safetensors`, weights);
    await Deno.writeFile(`${dir}/input.safetensors`, await save({ input }));
    await Deno.writeTextFile(`${dir}/run.py`, RUNNER);
    const result = await new Deno.Command(PYTHON, {
      args: [
        `${dir}/run.py`,
        `${dir}/model.py`,
        className,
        `${dir}/model.safetensors`,
        `${dir}/input.safetensors`,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { OMP_NUM_THREADS: "1" },
    }).output();
    const stderr = new TextDecoder().decode(result.stderr);
    assert.ok(result.success, `PyTorch failed on the exported module:\n${stderr}\n${source}`);
    return JSON.parse(new TextDecoder().decode(result.stdout)) as {
      shape: number[];
      values: number[];
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function checkAgainstPyTorch(
  name: string,
  model: nn.Module,
  input: Tensor,
  withExample = true,
) {
  model.eval();
  const output = model.forward(input);
  const expected = await output.data();
  const { shape, values } = await runInPyTorch(model, input, withExample);
  assert.deepEqual(shape, output.shape, `${name}: PyTorch's output shape`);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(values[i] - expected[i]);
    worst = Math.max(worst, diff);
    assert.ok(
      diff <= TOLERANCE,
      `${name}: logit ${i} is ${values[i]} in PyTorch, ${expected[i]} here ` +
        `(|diff| ${diff} > ${TOLERANCE})`,
    );
  }
  console.log(`${name}: max |PyTorch - framework| = ${worst.toExponential(2)}`);
}

Deno.test({
  name: "toPyTorch: a Sequential MLP loads in PyTorch and gives the same outputs",
  ignore,
  async fn() {
    manualSeed(11);
    await checkAgainstPyTorch("MLP", mlp(), randn([5, 20]), false);
  },
});

Deno.test({
  name: "toPyTorch: a CNN with batch norm, pooling and dropout gives the same logits",
  ignore,
  async fn() {
    manualSeed(12);
    const model = cnn();
    trainBatchNorm(model, [1, 28, 28]);
    await checkAgainstPyTorch("CNN", model, randn([4, 1, 28, 28]), false);
  },
});

Deno.test({
  name: "toPyTorch: a residual network's traced forward gives the same logits",
  ignore,
  async fn() {
    manualSeed(13);
    const model = new SmallResNet();
    trainBatchNorm(model, [1, 12, 12]);
    await checkAgainstPyTorch("ResNet", model, randn([3, 1, 12, 12]));
    // The batch size stays free in the written forward.
    await checkAgainstPyTorch("ResNet, another batch", model, randn([7, 1, 12, 12]));
  },
});

Deno.test({
  name: "toPyTorch: tensor ops and F functions of a forward become PyTorch code",
  ignore,
  async fn() {
    manualSeed(14);
    await checkAgainstPyTorch("Mixed", new Mixed(), randn([4, 6]));
  },
});

Deno.test("toPyTorch: a model with its own forward and no example input says what to pass", async () => {
  await assert.rejects(() => toPyTorch(new SmallResNet()), /pass an example input/);
});

Deno.test("toPyTorch: the source keeps state-dict names and one call per plain Sequential", async () => {
  manualSeed(15);
  const { source } = await toPyTorch(new SmallResNet(), randn([1, 1, 12, 12]));
  assert.match(source, /class SmallResNet\(nn\.Module\)/);
  assert.match(source, /self\.stem = nn\.Sequential\(/);
  assert.match(source, /x1 = self\.stem\(x\)/);
  assert.match(source, /self\.blocks\[1\]\.shortcut\(/);
  assert.match(source, /nn\.Conv2d\(8, 16, 3, stride=2, padding=1, bias=False\)/);
});

Deno.test({
  name: "toPyTorch: a Sequential subclass with its own forward is traced, not taken as plain",
  ignore,
  async fn() {
    manualSeed(16);
    class Doubled extends nn.Sequential {
      constructor() {
        super(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
      }
      override forward(x: Tensor): Tensor {
        return super.forward(x).mul(2);
      }
    }
    await checkAgainstPyTorch("Doubled", new Doubled(), randn([3, 3]));
  },
});

Deno.test({
  name: "toPyTorch: a pruned model exports its masked weights as plain weights",
  ignore,
  async fn() {
    manualSeed(17);
    const model = cnn();
    trainBatchNorm(model, [1, 28, 28]);
    nn.utils.prune.l1Unstructured(model.at(0), "weight", { amount: 0.5 });
    nn.utils.prune.l1Unstructured(model.at(-2), "weight", { amount: 0.9 });
    await checkAgainstPyTorch("pruned CNN", model, randn([2, 1, 28, 28]), false);
  },
});
