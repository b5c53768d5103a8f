/**
 * The inference server of `deno task serve`, over real HTTP on 127.0.0.1: its answers match the
 * model's, every kind of bad request gets a 4xx that says what was wrong (and the server keeps
 * serving), a bounded load run has no errors, and the task's permissions are the least it needs.
 */
import assert from "node:assert/strict";
import { encode as encodePng } from "fast-png";
import { loadFashionMnist, tensor, withNoGrad } from "../mod.ts";
import { formatLoadReport } from "../lessons/serve/load.ts";
import { loadServedModel } from "../lessons/serve/model.ts";
import { measureServing, startServer } from "../lessons/serve/server.ts";

const ROOT = new URL("../", import.meta.url);
const MODEL = new URL("lessons/data/serve/fashion-cnn.json", ROOT);
const DATA = new URL("lessons/data/fashion-mnist/", ROOT);

/** Starts the server on a free port of 127.0.0.1; returns its URL and a stop function. */
async function startTestServer() {
  const served = await loadServedModel(MODEL);
  const server = startServer(served, { port: 0, onListen() {} });
  return { served, url: server.url, stop: server.stop };
}

async function post(url: string, body: BodyInit | null, type?: string) {
  const headers: Record<string, string> = type ? { "content-type": type } : {};
  const response = await fetch(`${url}/predict`, { method: "POST", headers, body });
  return { status: response.status, body: await response.json() };
}

/** Test images as rows of numbers in [0, 1], with their labels. */
async function testImages(count: number) {
  const { images, labels } = await loadFashionMnist(DATA, { train: false });
  const pixels = await images.data();
  const truth = await labels.data();
  // Every 200th image: the subset's test images are grouped by class, 200 a class.
  return Array.from({ length: count }, (_, k) => {
    const i = (k * 211) % truth.length;
    const flat = Array.from(pixels.subarray(i * 784, (i + 1) * 784));
    const rows = Array.from({ length: 28 }, (_, r) => flat.slice(r * 28, (r + 1) * 28));
    return { rows, flat, label: truth[i] };
  });
}

Deno.test("serve: predictions over HTTP equal the model's, for JSON and PNG images", async () => {
  const { served, url, stop } = await startTestServer();
  try {
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual((await health.json()).status, "ok");

    let correct = 0;
    const images = await testImages(40);
    for (const { rows, flat, label } of images) {
      // The same pixels through the model directly.
      const input = tensor(flat, { shape: [1, 1, 28, 28] });
      const expected = withNoGrad(() => served.model.forward(input).softmax(1));
      const want = Array.from(await expected.data());
      const answer = await post(url, JSON.stringify(rows), "application/json");
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      answer.body.probabilities.forEach((p: number, k: number) =>
        assert.ok(
          Math.abs(p - want[k]) < 1e-6,
          `probability of class ${k}: ${p} over HTTP, ${want[k]} from the model`,
        )
      );
      assert.ok(
        Math.abs(answer.body.probabilities.reduce((a: number, b: number) => a + b) - 1) < 1e-5,
      );
      if (answer.body.index === label) correct++;
      assert.equal(answer.body.prediction, served.config.classes[answer.body.index]);

      // The same image as a flat list, wrapped in {"image": ...}, and as an 8-bit grey PNG.
      const wrapped = await post(url, JSON.stringify({ image: flat }), "application/json");
      assert.equal(wrapped.body.index, answer.body.index);
      const png = encodePng({
        width: 28,
        height: 28,
        channels: 1,
        depth: 8,
        data: Uint8Array.from(flat, (v) => Math.round(v * 255)),
      });
      const fromPng = await post(url, new Uint8Array(png), "image/png");
      assert.equal(fromPng.status, 200, JSON.stringify(fromPng.body));
      assert.equal(fromPng.body.index, answer.body.index, "the PNG gets the same prediction");
    }
    assert.ok(correct >= 30, `${correct} of 40 test images right over HTTP (expected >= 30)`);

    // Sent all at once, the images share batches in the model: each still gets its own answer.
    const together = await Promise.all(
      images.map(({ rows }) => post(url, JSON.stringify(rows), "application/json")),
    );
    for (const [k, { rows }] of images.entries()) {
      const alone = await post(url, JSON.stringify(rows), "application/json");
      together[k].body.probabilities.forEach((p: number, c: number) =>
        assert.ok(
          Math.abs(p - alone.body.probabilities[c]) < 1e-6,
          `image ${k}, class ${c}: ${p} in a batch, ${alone.body.probabilities[c]} alone`,
        )
      );
    }
  } finally {
    await stop();
  }
});

Deno.test("serve: every kind of bad request gets a 4xx that says what was wrong", async () => {
  const { url, stop } = await startTestServer();
  const blank = Array.from({ length: 28 }, () => new Array(28).fill(0));
  const cases: [
    string,
    () => Promise<{ status: number; body: { error?: string } }>,
    number,
    RegExp,
  ][] = [
    [
      "wrong number of rows",
      () => post(url, JSON.stringify(blank.slice(1)), "application/json"),
      400,
      /28x28 image.*27 rows/,
    ],
    [
      "a short row",
      () => post(url, JSON.stringify([...blank.slice(1), [0, 0]]), "application/json"),
      400,
      /row 27 has 2 numbers/,
    ],
    [
      "a flat list of the wrong length",
      () => post(url, JSON.stringify([1, 0, 1]), "application/json"),
      400,
      /got 3 numbers/,
    ],
    [
      "a pixel that is not a number",
      () =>
        post(
          url,
          JSON.stringify(blank.map((r, i) => i === 3 ? ["abc", ...r.slice(1)] : r)),
          "application/json",
        ),
      400,
      /pixel \[3\]\[0\] is not a number/,
    ],
    [
      "a pixel outside [0, 1]",
      () =>
        post(
          url,
          JSON.stringify(blank.map((r, i) => i === 5 ? [255, ...r.slice(1)] : r)),
          "application/json",
        ),
      400,
      /outside \[0, 1\].*divide/,
    ],
    ["not JSON", () => post(url, "[[0, 0,", "application/json"), 400, /not valid JSON/],
    [
      "an object without image",
      () => post(url, JSON.stringify({ pixels: [] }), "application/json"),
      400,
      /no "image" field/,
    ],
    [
      "a string",
      () => post(url, JSON.stringify("shoe"), "application/json"),
      400,
      /as a JSON array/,
    ],
    ["an empty body", () => post(url, "", "application/json"), 400, /empty/],
    [
      "a body over 1 MB",
      () => post(url, "[" + "0,".repeat(600_000) + "0]", "application/json"),
      413,
      /over the limit/,
    ],
    [
      "a streamed body over 1 MB",
      () => post(url, streamOf(1_200_000), "application/json"),
      413,
      /over the limit/,
    ],
    [
      "a text body",
      () => post(url, "a shoe", "text/plain"),
      415,
      /application\/json.*image\/png.*text\/plain/,
    ],
    [
      "no content type",
      () => post(url, new Blob([new Uint8Array([1, 2])]), undefined),
      415,
      /no Content-Type/,
    ],
    [
      "a PNG of the wrong size",
      () =>
        post(
          url,
          new Uint8Array(
            encodePng({ width: 10, height: 12, channels: 1, depth: 8, data: new Uint8Array(120) }),
          ),
          "image/png",
        ),
      400,
      /28x28 image, got a PNG of 12x10/,
    ],
    [
      "a PNG over 100 kB",
      () => post(url, new Uint8Array(150_000), "image/png"),
      413,
      /over the limit of 100,000 bytes/,
    ],
    [
      "a PNG header that claims 100,000 x 100,000 pixels",
      () => post(url, hugePngHeader(), "image/png"),
      400,
      /28x28 image, got a PNG of 100000x100000/,
    ],
    [
      "bytes that are not a PNG",
      () => post(url, new Uint8Array([1, 2, 3, 4, 5]), "image/png"),
      400,
      /not a valid PNG/,
    ],
    [
      "GET /predict",
      async () => {
        const r = await fetch(`${url}/predict`);
        return { status: r.status, body: await r.json() };
      },
      405,
      /use POST/,
    ],
    [
      "an unknown path",
      async () => {
        const r = await fetch(`${url}/predict/now`);
        return { status: r.status, body: await r.json() };
      },
      404,
      /no such endpoint/,
    ],
  ];
  try {
    for (const [what, send, status, message] of cases) {
      const answer = await send();
      assert.equal(
        answer.status,
        status,
        `${what}: status ${answer.status}, body ${JSON.stringify(answer.body)}`,
      );
      assert.match(answer.body.error ?? "", message, `${what}: the message says what was wrong`);
    }
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200, "the server still answers after the bad requests");
    await health.body?.cancel();
  } finally {
    await stop();
  }
});

/** A PNG's signature and header for a 100,000 x 100,000 image, without the image. */
function hugePngHeader(): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(8 + 25);
  bytes.set([137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, 13);
  bytes.set([73, 72, 68, 82], 12); // "IHDR"
  view.setUint32(16, 100_000);
  view.setUint32(20, 100_000);
  bytes.set([8, 0, 0, 0, 0], 24); // 8-bit grey
  return bytes;
}

/** A request body streamed in chunks (no Content-Length), `size` bytes of a JSON array. */
function streamOf(size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  const chunk = new TextEncoder().encode("0,".repeat(8192));
  return new ReadableStream({
    pull(controller) {
      if (sent === 0) controller.enqueue(new TextEncoder().encode("["));
      if (sent >= size) return controller.close();
      controller.enqueue(chunk);
      sent += chunk.length;
    },
  });
}

Deno.test("serve: 2,000 requests, 32 at a time, on 127.0.0.1 without an error", async () => {
  const served = await loadServedModel(MODEL);
  const [image] = await testImages(1);
  const report = await measureServing(served, {
    body: JSON.stringify(image.rows),
    requests: 2000,
    concurrency: 32,
  });
  console.log(formatLoadReport(report));
  assert.equal(report.errors, 0, `errors under load: ${report.firstError}`);
  assert.ok(report.p99Ms >= report.p50Ms && report.requestsPerSecond > 0);
});

Deno.test("serve: the task may read only the served models and listen only on its port", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).tasks;
  const command: string = tasks.serve;
  for (
    const flag of [
      "--no-remote",
      "--no-prompt",
      "--allow-read=lessons/data/serve",
      "--allow-net=127.0.0.1:8000",
    ]
  ) {
    assert.ok(command.includes(flag), `the serve task has ${flag}: ${command}`);
  }
  for (
    const flag of [
      "--allow-write",
      "--allow-env",
      "--allow-run",
      "--allow-sys",
      "--allow-ffi",
      "-A ",
      "--allow-all",
    ]
  ) {
    assert.ok(!command.includes(flag), `the serve task has no ${flag}: ${command}`);
  }
  // Run the task's exact command on a free port (its flags moved to that port).
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const args = command.replace(/^deno /, "").replace("127.0.0.1:8000", `127.0.0.1:${port}`).split(
    " ",
  );
  const server = new Deno.Command(Deno.execPath(), {
    args: [...args, "--port", String(port)],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    let health: Response | null = null;
    for (let i = 0; i < 100 && !health; i++) {
      await new Promise((r) => setTimeout(r, 200));
      health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null);
    }
    assert.ok(health, "the served task answered /health");
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    server.kill();
    await server.output();
  }
  // A model outside lessons/data/serve cannot be read with the task's flags.
  const outside = await new Deno.Command(Deno.execPath(), {
    args: [...args, "--model", "deno.json", "--port", String(port)],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(outside.stderr);
  assert.equal(outside.success, false, "reading deno.json must fail");
  assert.match(stderr, /cannot load the model deno\.json.*\n.*may read only lessons\/data\/serve/);
});
