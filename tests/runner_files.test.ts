// The shared renderers: PNG encoding, image grids as PNG and SVG, plots as standalone SVG.
import assert from "node:assert/strict";
import { formatDuration, formatNumber, slugify } from "../lessons/render/format.ts";
import {
  imageGridPng,
  imageGridSvg,
  imagePixels,
  type ImagesEvent,
} from "../lessons/render/images.ts";
import { plotSvg } from "../lessons/render/plot_svg.ts";
import { crc32, encodePng, PNG_SIGNATURE } from "../lessons/render/png.ts";
import { serverDocument } from "../lessons/render/server_dom.ts";

/** Reads a PNG back: checks signature and every chunk's CRC, inflates the pixels. */
async function decodePng(bytes: Uint8Array) {
  assert.deepEqual(bytes.subarray(0, 8), PNG_SIGNATURE, "PNG signature");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: { type: string; data: Uint8Array }[] = [];
  for (let offset = 8; offset < bytes.length;) {
    const length = view.getUint32(offset);
    const type = new TextDecoder().decode(bytes.subarray(offset + 4, offset + 8));
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    const crc = view.getUint32(offset + 8 + length);
    assert.equal(crc, crc32(bytes.subarray(offset + 4, offset + 8 + length)), `CRC of ${type}`);
    chunks.push({ type, data });
    offset += 12 + length;
  }
  assert.deepEqual(chunks.map((c) => c.type), ["IHDR", "IDAT", "IEND"]);
  const header = new DataView(chunks[0].data.buffer, chunks[0].data.byteOffset, 13);
  const width = header.getUint32(0);
  const height = header.getUint32(4);
  const [depth, colourType] = [chunks[0].data[8], chunks[0].data[9]];
  const stream = new Blob([chunks[1].data as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("deflate"));
  const raw = new Uint8Array(await new Response(stream).arrayBuffer());
  return { width, height, depth, colourType, raw };
}

Deno.test("crc32 matches the standard check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});

Deno.test("encodePng writes a valid PNG whose pixels decode back", async () => {
  const pixels = new Uint8Array([0, 255, 128, 10, 20, 30]);
  const png = await encodePng(2, 1, pixels, 3);
  const decoded = await decodePng(png);
  assert.deepEqual([decoded.width, decoded.height, decoded.depth, decoded.colourType], [
    2,
    1,
    8,
    2,
  ]);
  assert.deepEqual([...decoded.raw], [0, ...pixels], "filter byte 0, then the row");
  const grey = await decodePng(await encodePng(2, 2, new Uint8Array([1, 2, 3, 4]), 1));
  assert.equal(grey.colourType, 0);
  assert.deepEqual([...grey.raw], [0, 1, 2, 0, 3, 4]);
});

Deno.test("encodePng rejects pixels that do not fill the image", async () => {
  await assert.rejects(
    () => encodePng(2, 2, new Uint8Array(5), 1),
    /expected 2x2x1 = 4 bytes, received 5/,
  );
});

const grid: ImagesEvent = {
  kind: "images",
  title: "Samples <1 & 2>",
  columns: 2,
  images: [
    { label: "dark to light", width: 2, height: 1, values: [0, 1] },
    { label: "flat", width: 2, height: 1, values: [5, 5] },
    { label: "signed", width: 2, height: 1, values: [-2, 2] },
  ],
};

Deno.test("imageGridPng tiles the images, scaled, in a grid of the asked columns", async () => {
  const decoded = await decodePng(await imageGridPng(grid));
  // Images 2 pixels wide are scaled 24x (to about 48 pixels); 2 columns, 2 rows, gaps of 24.
  assert.equal(decoded.width, 2 * 48 + 3 * 24);
  assert.equal(decoded.height, 2 * 24 + 3 * 24);
  // The first pixel of the first image is black, the last of its row white.
  const stride = decoded.width * 3 + 1;
  const firstRow = 24;
  const at = (x: number) =>
    decoded.raw.subarray(firstRow * stride + 1 + x * 3, firstRow * stride + 4 + x * 3);
  assert.deepEqual([...at(24)], [0, 0, 0]);
  assert.deepEqual([...at(24 + 47)], [255, 255, 255]);
});

Deno.test("imagePixels: grey is min-max scaled, diverging maps 0 to white", () => {
  assert.deepEqual([...imagePixels(grid.images[0])], [0, 0, 0, 255, 255, 255]);
  assert.deepEqual([...imagePixels(grid.images[1])], [128, 128, 128, 128, 128, 128]);
  const signed = imagePixels({ width: 3, height: 1, values: [-1, 0, 1] }, "diverging");
  assert.deepEqual([...signed.subarray(3, 6)], [255, 255, 255]);
  assert.ok(signed[2] > signed[0], "negative is blue");
  assert.ok(signed[6] > signed[8], "positive is red");
  const nan = imagePixels({ width: 1, height: 1, values: [NaN] });
  assert.deepEqual([...nan], [255, 0, 255], "NaN stands out in magenta");
});

Deno.test("imageGridSvg is a standalone SVG with the title, images and labels", async () => {
  const svg = await imageGridSvg(grid);
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.includes("Samples &#60;1 &#38; 2&#62;"), "title escaped");
  assert.equal(svg.match(/<image /g)?.length, 3);
  assert.equal(svg.match(/href="data:image\/png;base64,/g)?.length, 3);
  for (const label of ["dark to light", "flat", "signed"]) {
    assert.ok(svg.includes(`>${label}</text>`));
  }
  assert.ok(svg.trimEnd().endsWith("</svg>"));
});

const lossPlot = {
  kind: "plot",
  id: "p",
  title: "Loss by epoch",
  xLabel: "epoch",
  yLabel: "cross-entropy",
  series: [
    { name: "train", x: [1, 2, 3], y: [1, 0.5, 0.25] },
    { name: "test", x: [1, 2, 3], y: [1.1, 0.7, 0.6] },
  ],
} as const;

Deno.test("plotSvg makes a standalone SVG with title, legend and labelled axes", () => {
  const plot = {
    ...lossPlot,
    series: lossPlot.series.map((s) => ({ ...s, x: [...s.x], y: [...s.y] })),
  };
  const svg = plotSvg(plot, { document: serverDocument() });
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), "xmlns on the root");
  assert.ok(svg.includes(">Loss by epoch</text>"));
  assert.ok(svg.includes(">train</text>") && svg.includes(">test</text>"), "legend");
  assert.ok(svg.includes("epoch") && svg.includes("cross-entropy"), "axis labels");
  assert.equal(svg.match(/<path [^>]*stroke="#1f77b4"/g)?.length ?? 0, 1, "train in blue");
  assert.equal(svg.match(/<path [^>]*stroke="#d62728"/g)?.length ?? 0, 1, "test in red");
  assert.ok(!svg.includes("<figure") && !svg.includes("<div"), "no HTML inside");
  const log = plotSvg({ ...plot, logY: true }, { document: serverDocument() });
  assert.notEqual(log, svg);
  const dots = plotSvg({ ...plot, points: true }, { document: serverDocument() });
  assert.ok(dots.includes("<circle"), "points are drawn as dots");
});

Deno.test("plotSvg without a document says how to get one", () => {
  const plot = { ...lossPlot, series: [] };
  assert.throws(() => plotSvg(plot), /no DOM document to draw with.*serverDocument/);
});

Deno.test("numbers, names and durations are formatted for people", () => {
  assert.equal(formatNumber(3), "3");
  assert.equal(formatNumber(0.0123456), "0.01235");
  assert.equal(formatNumber(123.456), "123.5");
  assert.equal(formatNumber(1.5e-7), "1.50e-7");
  assert.equal(formatNumber(256_000_000.5), "2.56e8");
  assert.equal(formatNumber(60_000), "60000");
  assert.equal(formatNumber(NaN), "NaN");
  assert.equal(slugify("Loss (log scale), train vs. test"), "loss-log-scale-train-vs-test");
  assert.equal(slugify("Über — ß?"), "uber");
  assert.equal(slugify("???"), "untitled");
  assert.equal(formatDuration(850), "850 ms");
  assert.equal(formatDuration(12_340), "12.3 s");
  assert.equal(formatDuration(119_600), "2 min 00 s");
});
