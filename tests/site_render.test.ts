/**
 * The site's pages, rendered on the server from the fixture lessons: every route renders, a
 * lesson page holds each step's source and captured output, unknown pages are 404s, and the
 * server refuses paths that try to leave its folders.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createSite, type Site } from "../site/app.ts";
import { parseLessonSource } from "../lessons/source.ts";

let shared: Promise<Site> | undefined;

/** The fixture site, built once for every test of this file. */
function fixtureSite(): Promise<Site> {
  shared ??= createSite({ lessons: "fixtures", capture: "wait", minify: false });
  return shared;
}

/** The text of some HTML, without tags and with entities decoded (enough for these checks). */
function textOf(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#x([0-9a-f]+);/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, decimal) => String.fromCodePoint(Number(decimal)))
    .replace(/&amp;/g, "&");
}

const options = { sanitizeResources: false, sanitizeOps: false };

Deno.test("every route of the site renders with status 200", options, async () => {
  const site = await fixtureSite();
  const paths = site.pagePaths();
  for (
    const expected of [
      "/",
      "/lessons/fixture-line/",
      "/lessons/fixture-failure/",
      "/lessons/fixture-line/exercises/",
      "/api/",
    ]
  ) {
    assert.ok(paths.includes(expected), `page ${expected} missing from ${paths.join(", ")}`);
  }
  for (const path of paths) {
    const response = await site.handler(new Request(`http://localhost${path}`));
    const html = await response.text();
    assert.equal(response.status, 200, `GET ${path}: status ${response.status}`);
    assert.match(html, /^<!DOCTYPE html><html lang="en">/, `GET ${path}: not an HTML page`);
    assert.match(html, /<title>[^<]+<\/title>/, `GET ${path}: no title`);
  }
});

Deno.test(
  "the home page lists the lessons in order and the quick-start commands",
  options,
  async () => {
    const site = await fixtureSite();
    const html = await (await site.handler(new Request("http://localhost/"))).text();
    const first = html.indexOf('href="./lessons/fixture-line/"');
    const second = html.indexOf('href="./lessons/fixture-failure/"');
    assert.ok(first > 0 && second > first, "lessons missing or out of order on the home page");
    for (const command of site.data.readme.quickStart) {
      assert.ok(textOf(html).includes(command), `quick-start command "${command}" missing`);
    }
    assert.ok(html.includes('href="./api/"'), "no link to the API reference");
  },
);

Deno.test("a lesson page shows each step's source exactly as written", options, async () => {
  const site = await fixtureSite();
  const html = await (await site.handler(new Request("http://localhost/lessons/fixture-line/")))
    .text();
  const text = textOf(html);
  const file = await Deno.readTextFile(
    new URL("./fixtures/site_lessons/01-fixture-line/lesson.ts", import.meta.url),
  );
  const { steps } = parseLessonSource(file);
  assert.equal(steps.length, 4);
  for (const [i, step] of steps.entries()) {
    for (const line of step.code.split("\n").filter((l) => l.trim() !== "")) {
      assert.ok(text.includes(line), `step ${i + 1}: line missing from the page: ${line}`);
    }
  }
  // Comments and types are kept, not a transpiled Function.toString().
  assert.ok(text.includes("// Quick mode uses fewer points, so tests stay fast."));
  assert.ok(text.includes("const count: number = quick ? 40 : 200;"));
  // The notebook of the lesson is linked.
  assert.ok(html.includes('href="../../notebooks/01-fixture-line.ipynb"'), "no notebook link");
  const notebook = await site.handler(
    new Request("http://localhost/notebooks/01-fixture-line.ipynb"),
  );
  assert.equal(notebook.status, 200);
  const cells = (await notebook.json()).cells as { cell_type: string; source: string }[];
  assert.equal(cells.filter((cell) => cell.cell_type === "code").length, steps.length + 1);
  assert.ok(html.includes('class="shiki'), "code is not highlighted");
});

Deno.test("a lesson page shows each step's captured output", options, async () => {
  const site = await fixtureSite();
  const html = await (await site.handler(new Request("http://localhost/lessons/fixture-line/")))
    .text();
  const boxes = html.split('data-step-output="').slice(1).map((part) =>
    part.split("</section>")[0]
  );
  assert.equal(boxes.length, 4, "one output box a step");
  // Step 1: a value, a table, a scatter plot with labelled axes.
  assert.match(textOf(boxes[0]), /points\s*40/);
  assert.ok(boxes[0].includes("<table>") && textOf(boxes[0]).includes("First rows"));
  assert.ok(boxes[0].includes("<svg") && textOf(boxes[0]).includes("The data"));
  // Step 2: the loss curve (log axis labelled "epoch" and "MSE"), the bar, the final numbers.
  assert.ok(boxes[1].includes("<svg"), "no loss curve");
  assert.ok(/>epoch<\/text>/.test(boxes[1]) && />MSE<\/text>/.test(boxes[1]), "axes not labelled");
  assert.match(textOf(boxes[1]), /epochs\s*60\/60/);
  assert.match(textOf(boxes[1]), /final loss\s*0\.01\d+/);
  // Step 3: images as PNG, and text. Step 4: the summary.
  assert.equal(boxes[2].match(/src="data:image\/png;base64,/g)?.length, 5);
  assert.ok(textOf(boxes[3]).includes("What this lesson showed"));
  assert.match(textOf(boxes[3]), /slope\s*1\.9\d/);
  // The exercises with their command and file, and the previous/next links.
  assert.ok(html.includes('id="exercises"') && textOf(html).includes("deno task check 1"));
  assert.ok(textOf(html).includes("F.1") && textOf(html).includes("Average the squared"));
  assert.ok(html.includes('href="../../lessons/fixture-failure/"'), "no link to the next lesson");
  // The live runner island, with its props.
  assert.ok(html.includes('data-island="LiveRunner"'), "no live runner");
  assert.ok(html.includes('src="../../assets/islands.js"'), "no island script");
});

Deno.test("a missing lesson and an unknown page give the 404 page", options, async () => {
  const site = await fixtureSite();
  for (
    const path of [
      "/lessons/no-such-lesson/",
      "/nothing-here",
      "/lessons/fixture-failure/exercises/",
    ]
  ) {
    const response = await site.handler(new Request(`http://localhost${path}`));
    assert.equal(response.status, 404, `GET ${path}`);
    assert.ok((await response.text()).includes("Page not found"), `GET ${path}: not the 404 page`);
  }
  const redirect = await site.handler(new Request("http://localhost/lessons/fixture-line"));
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.get("location"), "./fixture-line/");
});

Deno.test(
  "static files, bundles, KaTeX and data are served with their types",
  options,
  async () => {
    const site = await fixtureSite();
    const cases: [string, RegExp][] = [
      ["/static/style.css", /^text\/css/],
      ["/assets/islands.js", /^text\/javascript/],
      ["/assets/workers/fixture-line.js", /^text\/javascript/],
      ["/assets/katex/katex.min.css", /^text\/css/],
    ];
    for (const [path, type] of cases) {
      const response = await site.handler(new Request(`http://localhost${path}`));
      await response.body?.cancel();
      assert.equal(response.status, 200, `GET ${path}`);
      assert.match(response.headers.get("content-type") ?? "", type, `GET ${path}`);
    }
    const post = await site.handler(
      new Request("http://localhost/", { method: "POST", body: "x" }),
    );
    assert.equal(post.status, 405, "POST must be refused");
  },
);

/** Sends a raw request line (no client-side URL normalization) and returns status and body. */
async function rawGet(port: number, target: string): Promise<{ status: number; body: string }> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  const request = `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
  await connection.write(new TextEncoder().encode(request));
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(16384);
  while (true) {
    const count = await connection.read(buffer);
    if (count === null) break;
    chunks.push(buffer.slice(0, count));
  }
  connection.close();
  const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  const status = Number(text.split(" ")[1]);
  return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}

Deno.test(
  "the server refuses paths that leave its folders, plain or encoded",
  options,
  async () => {
    const site = await fixtureSite();
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, site.handler);
    try {
      const secret = '"nodeModulesDir"'; // a line of deno.json, outside every served folder
      const attempts = [
        "/static/../deno.json",
        "/static/../../deno.json",
        "/static/%2e%2e/deno.json",
        "/static/%2E%2E/%2e%2e/deno.json",
        "/static/..%2fdeno.json",
        "/static/..%2Fdeno.json",
        "/static/%2e%2e%2fdeno.json",
        "/data/..%5cdeno.json",
        "/static/..\\deno.json",
        "/assets/katex/../../../deno.json",
        "/api/doc/../../deno.json",
        "/static/.%2e/deno.json",
        "//deno.json",
        "/static//etc/passwd",
        "/static/%00",
        "/static/.hidden",
        "/deno.json",
        "/site/app.ts",
        "/lessons/../deno.json",
      ];
      for (const target of attempts) {
        const { status, body } = await rawGet(server.addr.port, target);
        assert.ok(
          status === 400 || status === 404,
          `GET ${target}: status ${status}, want 400/404`,
        );
        assert.ok(!body.includes(secret), `GET ${target}: served a file from outside the site`);
      }
      const good = await rawGet(server.addr.port, "/static/style.css");
      assert.equal(good.status, 200, "a real static file must still be served");
    } finally {
      await server.shutdown();
    }
  },
);

Deno.test("the 404 page of the static build links from the configured base", options, async () => {
  const site = await fixtureSite();
  const html = site.renderNotFound("x", "/course/");
  assert.ok(html.includes('href="/course/static/style.css"'));
  assert.ok(html.includes('href="/course/lessons/fixture-line/"'));
});

Deno.test("a failed capture shows its error under the step that raised it", options, async () => {
  const site = await fixtureSite();
  const capture = site.data.captures.get("fixture-line")!;
  const failed = {
    ...capture,
    steps: capture.steps.slice(0, 2),
    error: "Error: the data file is missing\n    at step (lesson.ts:3:5)",
  };
  site.data.captures.set("fixture-line", failed);
  try {
    const page = await site.renderPage("/lessons/fixture-line/");
    const text = textOf(page.html);
    assert.ok(text.includes("The lesson failed when it was run to capture its outputs"));
    const boxes = page.html.split('data-step-output="').slice(1);
    assert.ok(textOf(boxes[1]).includes("the data file is missing"), "error not under step 2");
    assert.ok(
      textOf(boxes[2]).includes("This step did not run."),
      "step 3 should say it did not run",
    );
  } finally {
    site.data.captures.set("fixture-line", capture);
  }
});

Deno.test("closing the fixture site stops the bundler", options, async () => {
  await (await fixtureSite()).close();
});
