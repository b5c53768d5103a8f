/**
 * Builds the Fashion-MNIST subset that ships with the lessons, from the full data set.
 *
 * ```sh
 * deno run --allow-read --allow-write lessons/data/make-subset.ts [srcDir]
 * ```
 *
 * `srcDir` is a folder with the four standard files (default
 * `/usr/share/datasets/fashion-mnist`, where Debian's `dataset-fashion-mnist` puts them).
 * The selection is deterministic: the first 1,200 images of each class from the training set
 * and the first 200 of each class from the test set, in their original order. So the subset is
 * balanced (12,000 training and 2,000 test images) and rebuilding it gives the same images.
 * The files are written in the same gzipped IDX format to `lessons/data/fashion-mnist/`, with
 * the data's licence and a README.
 *
 * @module
 */

import { pathToFileURL } from "node:url";
import { fetchIdx, gzip, type IdxArray, writeIdx } from "../../core/io/idx.ts";

const PER_CLASS = { train: 1200, t10k: 200 };
const CLASSES = 10;
const DEFAULT_SOURCE = "/usr/share/datasets/fashion-mnist";
const outDir = new URL("./fashion-mnist/", import.meta.url);

/** Indices of the first `perClass` examples of each class, in their original order. */
function balancedIndices(labels: IdxArray, perClass: number): number[] {
  const taken = new Array(CLASSES).fill(0);
  const kept: number[] = [];
  for (let i = 0; i < labels.data.length; i++) {
    const label = labels.data[i];
    if (taken[label] < perClass) {
      taken[label]++;
      kept.push(i);
    }
  }
  const short = taken.findIndex((n) => n < perClass);
  if (short >= 0) {
    throw new Error(`make-subset: class ${short} has only ${taken[short]} examples`);
  }
  return kept;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function makeSplit(source: URL, prefix: "train" | "t10k"): Promise<string[]> {
  const images = await fetchIdx(new URL(`${prefix}-images-idx3-ubyte.gz`, source));
  const labels = await fetchIdx(new URL(`${prefix}-labels-idx1-ubyte.gz`, source));
  const [count, height, width] = images.shape;
  if (labels.shape[0] !== count) {
    throw new Error(`make-subset: ${count} ${prefix} images but ${labels.shape[0]} labels`);
  }
  const kept = balancedIndices(labels, PER_CLASS[prefix]);
  const pixels = height * width;
  const subsetImages = new Uint8Array(kept.length * pixels);
  const subsetLabels = new Uint8Array(kept.length);
  kept.forEach((from, to) => {
    subsetImages.set(images.data.subarray(from * pixels, (from + 1) * pixels), to * pixels);
    subsetLabels[to] = labels.data[from];
  });

  const lines: string[] = [];
  const outputs: [string, IdxArray][] = [
    [`${prefix}-images-idx3-ubyte.gz`, {
      shape: [kept.length, height, width],
      dtype: "uint8",
      data: subsetImages,
    }],
    [`${prefix}-labels-idx1-ubyte.gz`, {
      shape: [kept.length],
      dtype: "uint8",
      data: subsetLabels,
    }],
  ];
  for (const [name, array] of outputs) {
    const bytes = await gzip(writeIdx(array));
    await Deno.writeFile(new URL(name, outDir), bytes);
    const shape = `[${array.shape.join(", ")}]`;
    lines.push(`| ${name} | ${shape} | ${bytes.length} | \`${await sha256(bytes)}\` |`);
    console.log(`wrote ${name}: ${shape} uint8, ${(bytes.length / 1e6).toFixed(2)} MB`);
  }
  const last = kept[kept.length - 1];
  console.log(`  ${prefix}: kept ${kept.length} of ${count} (last source index ${last})`);
  return lines;
}

const LICENSE = `The MIT License (MIT)

Copyright (c) 2017 Zalando SE, https://tech.zalando.com

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`;

function readme(table: string[]): string {
  return `# Fashion-MNIST subset

A balanced subset of [Fashion-MNIST](https://github.com/zalandoresearch/fashion-mnist), the
28x28 grey-scale images of clothing by Zalando Research, shipped so that the lessons run
offline:

- training: the first 1,200 images of each of the 10 classes of the training set
  (12,000 images), in their original order;
- test: the first 200 images of each class of the test set (2,000 images), in their
  original order.

The files have the standard names and format (gzipped IDX), so any MNIST reader loads them and
the full set can stand in for them
(\`deno task lesson N --data /usr/share/datasets/fashion-mnist\`).

| file | shape | bytes | sha256 |
| --- | --- | --- | --- |
${table.join("\n")}

Classes by label: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
7 Sneaker, 8 Bag, 9 Ankle boot.

Rebuild it from the full set (Debian's \`dataset-fashion-mnist\` installs it under
\`/usr/share/datasets/fashion-mnist\`) with:

\`\`\`sh
deno run --allow-read --allow-write lessons/data/make-subset.ts [srcDir]
\`\`\`

## Licence and attribution

Fashion-MNIST is Copyright (c) 2017 Zalando SE and is distributed under the MIT licence (see
\`LICENSE\` in this folder). Please cite:

Han Xiao, Kashif Rasul and Roland Vollgraf. *Fashion-MNIST: a Novel Image Dataset for
Benchmarking Machine Learning Algorithms.* arXiv:1708.07747, 2017.
`;
}

if (import.meta.main) {
  const sourceDir = Deno.args[0] ?? DEFAULT_SOURCE;
  const source = pathToFileURL(`${await Deno.realPath(sourceDir)}/`);
  await Deno.mkdir(outDir, { recursive: true });
  const table = [...await makeSplit(source, "train"), ...await makeSplit(source, "t10k")];
  await Deno.writeTextFile(new URL("LICENSE", outDir), LICENSE);
  await Deno.writeTextFile(new URL("README.md", outDir), readme(table));
  let total = 0;
  for await (const entry of Deno.readDir(outDir)) {
    total += (await Deno.stat(new URL(entry.name, outDir))).size;
  }
  console.log(`total size of ${outDir.pathname}: ${(total / 1e6).toFixed(2)} MB`);
}
