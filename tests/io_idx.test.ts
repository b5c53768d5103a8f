import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import "../mod.ts"; // registers the CPU backend that loadFashionMnist's tensors live on
import {
  FASHION_MNIST_CLASSES,
  fetchIdx,
  gunzip,
  gzip,
  type IdxArray,
  loadFashionMnist,
  loadFashionMnistArrays,
  readIdx,
  writeIdx,
} from "../core/io/idx.ts";

const SUBSET = new URL("../lessons/data/fashion-mnist/", import.meta.url);
const FULL_SET = "/usr/share/datasets/fashion-mnist";

/** Writes bytes to a fresh temporary file and returns its file: URL. */
async function tempFile(bytes: Uint8Array, suffix: string): Promise<URL> {
  const path = await Deno.makeTempFile({ suffix });
  await Deno.writeFile(path, bytes);
  return pathToFileURL(path);
}

function countLabels(labels: Int32Array): number[] {
  const counts = new Array(10).fill(0);
  for (const label of labels) counts[label]++;
  return counts;
}

Deno.test("idx: parses a hand-built uint8 file of shape [2, 3]", () => {
  const file = new Uint8Array([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 250, 254, 255]);
  const { shape, dtype, data } = readIdx(file);
  assert.deepEqual(shape, [2, 3]);
  assert.equal(dtype, "uint8");
  assert.ok(data instanceof Uint8Array);
  assert.deepEqual([...data], [1, 2, 3, 250, 254, 255]);
});

Deno.test("idx: multi-byte elements are read big-endian", () => {
  // int32 [2]: 0x00000102 = 258 and 0xFFFFFFFE = -2
  const ints = readIdx(new Uint8Array([0, 0, 0x0c, 1, 0, 0, 0, 2, 0, 0, 1, 2, 255, 255, 255, 254]));
  assert.equal(ints.dtype, "int32");
  assert.deepEqual([...ints.data], [258, -2]);
  // float32 [1]: 0x3FC00000 = 1.5
  const floats = readIdx(new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0, 0]));
  assert.equal(floats.dtype, "float32");
  assert.deepEqual([...floats.data], [1.5]);
  // int16 [1]: 0xFF00 = -256
  const shorts = readIdx(new Uint8Array([0, 0, 0x0b, 1, 0, 0, 0, 1, 0xff, 0x00]));
  assert.deepEqual([...shorts.data], [-256]);
});

Deno.test("idx: every element type survives writeIdx then readIdx", () => {
  const cases: IdxArray[] = [
    { shape: [2, 2], dtype: "uint8", data: new Uint8Array([0, 1, 128, 255]) },
    { shape: [3], dtype: "int8", data: new Int8Array([-128, 0, 127]) },
    { shape: [2], dtype: "int16", data: new Int16Array([-32768, 32767]) },
    { shape: [1, 3], dtype: "int32", data: new Int32Array([-2147483648, 7, 2147483647]) },
    { shape: [2], dtype: "float32", data: new Float32Array([0.1, -3e38]) },
    { shape: [2, 1, 1], dtype: "float64", data: new Float64Array([Math.PI, -1e-300]) },
    { shape: [0, 28, 28], dtype: "uint8", data: new Uint8Array(0) },
  ];
  for (const original of cases) {
    const parsed = readIdx(writeIdx(original));
    assert.deepEqual(parsed.shape, original.shape, `${original.dtype}: shape`);
    assert.equal(parsed.dtype, original.dtype);
    assert.equal(parsed.data.constructor, original.data.constructor, `${original.dtype}: array`);
    assert.deepEqual([...parsed.data], [...original.data], `${original.dtype}: values`);
  }
});

Deno.test("idx: fetchIdx reads gzipped and plain files through file: URLs", async () => {
  const original: IdxArray = { shape: [4, 2], dtype: "uint8", data: new Uint8Array(8).fill(9) };
  const plain = writeIdx(original);
  const zipped = await gzip(plain);
  assert.deepEqual([...zipped.subarray(0, 2)], [0x1f, 0x8b]);
  assert.deepEqual(await gunzip(zipped), plain);
  for (const url of [await tempFile(zipped, ".gz"), await tempFile(plain, ".idx")]) {
    const read = await fetchIdx(url);
    assert.deepEqual(read.shape, [4, 2]);
    assert.deepEqual([...read.data], [...original.data]);
    await Deno.remove(url);
  }
});

Deno.test("idx: bad magic numbers are named", () => {
  assert.throws(
    () => readIdx(new Uint8Array([1, 2, 8, 1, 0, 0, 0, 0])),
    /(read|write)Idx: bad magic number 0x01 0x02 0x08 0x01: an IDX file starts with two zero bytes/,
  );
  assert.throws(
    () => readIdx(new Uint8Array([0, 0, 0x07, 1, 0, 0, 0, 0])),
    /(read|write)Idx: bad magic number .*unknown element type code 0x07/,
  );
  assert.throws(
    () => readIdx(new Uint8Array([0, 0])),
    /(read|write)Idx: file has 2 bytes, too short/,
  );
  assert.throws(
    () => readIdx(new Uint8Array([0x1f, 0x8b, 8, 0])),
    /(read|write)Idx: these bytes are gzip-compressed; un-gzip them first/,
  );
});

Deno.test("idx: truncated and over-long files say how many bytes the header promises", () => {
  // the header of train-images: uint8 [60000, 28, 28], then only 984 bytes of pixels
  const header = writeIdx({ shape: [0, 28, 28], dtype: "uint8", data: new Uint8Array(0) });
  const truncated = new Uint8Array(1000);
  truncated.set(header);
  new DataView(truncated.buffer).setUint32(4, 60000, false);
  assert.throws(
    () => readIdx(truncated),
    {
      message: "readIdx: file has 1000 bytes but header promises 47040016 " +
        "(shape [60000, 28, 28] of uint8; truncated file?)",
    },
  );
  const tooLong = new Uint8Array([0, 0, 0x08, 1, 0, 0, 0, 1, 5, 6]);
  assert.throws(() => readIdx(tooLong), /file has 10 bytes but header promises 9 .*trailing/);
  const headerCut = new Uint8Array([0, 0, 0x08, 3, 0, 0, 0, 1]);
  assert.throws(() => readIdx(headerCut), /header alone needs 16 \(3 dimensions; truncated/);
});

Deno.test("idx: writeIdx refuses data that does not match the shape", () => {
  assert.throws(
    () => writeIdx({ shape: [2, 2], dtype: "uint8", data: new Uint8Array(3) }),
    /(read|write)Idx: shape \[2, 2\] needs 4 elements but data has 3/,
  );
});

Deno.test("idx: a missing file, a corrupted gzip and a non-IDX file name the URL", async () => {
  const missing = new URL("file:///nonexistent/folder/train-images-idx3-ubyte.gz");
  await assert.rejects(fetchIdx(missing), /fetchIdx: cannot read file:\/\/\/nonexistent\/folder/);

  const zipped = await gzip(writeIdx({ shape: [100], dtype: "uint8", data: new Uint8Array(100) }));
  const cut = await tempFile(zipped.subarray(0, zipped.length - 12), ".gz");
  await assert.rejects(fetchIdx(cut), (error: Error) => {
    assert.match(error.message, /gunzip: \d+ bytes are not valid gzip data/);
    assert.ok(error.message.includes(cut.href), error.message);
    return true;
  });
  await Deno.remove(cut);

  const text = await tempFile(new TextEncoder().encode("label,x\n1,2\n"), ".csv");
  await assert.rejects(fetchIdx(text), /fetchIdx: bad magic number 0x6c 0x61 0x62 0x65/);
  await Deno.remove(text);
});

Deno.test("idx: the shipped subset has 12,000 balanced training images", async () => {
  const train = await loadFashionMnistArrays(SUBSET, { train: true });
  assert.equal(train.count, 12000);
  assert.equal(train.height, 28);
  assert.equal(train.width, 28);
  assert.equal(train.images.length, 12000 * 28 * 28);
  assert.deepEqual(countLabels(train.labels), new Array(10).fill(1200));
  let [min, max] = [Infinity, -Infinity];
  for (const pixel of train.images) [min, max] = [Math.min(min, pixel), Math.max(max, pixel)];
  assert.equal(min, 0);
  assert.equal(max, 1);
  assert.deepEqual(train.classNames, [...FASHION_MNIST_CLASSES]);
  assert.equal(train.classNames[9], "Ankle boot");
});

Deno.test("idx: Fashion-MNIST tensors are float32 [N, 1, 28, 28] and int32 [N]", async () => {
  const { images, labels, classNames } = await loadFashionMnist(SUBSET, { train: true });
  assert.deepEqual(images.shape, [12000, 1, 28, 28]);
  assert.equal(images.dtype, "float32");
  assert.deepEqual(labels.shape, [12000]);
  assert.equal(labels.dtype, "int32");
  assert.deepEqual(countLabels((await labels.data()) as Int32Array), new Array(10).fill(1200));
  assert.equal(classNames.length, 10);
  const arrays = await loadFashionMnistArrays(SUBSET, { train: true, limit: 3 });
  const first = await images.data();
  assert.deepEqual([...first.subarray(0, 3 * 784)], [...arrays.images]);
  const few = await loadFashionMnist(SUBSET, { train: false, limit: 64 });
  assert.deepEqual(few.images.shape, [64, 1, 28, 28]);
  assert.deepEqual(few.labels.shape, [64]);
});

Deno.test("idx: the shipped subset has 2,000 balanced test images", async () => {
  const test = await loadFashionMnistArrays(SUBSET, { train: false });
  assert.equal(test.count, 2000);
  assert.deepEqual(countLabels(test.labels), new Array(10).fill(200));
  const first = await loadFashionMnistArrays(SUBSET.href, { train: false, limit: 5 });
  assert.equal(first.count, 5);
  assert.equal(first.images.length, 5 * 784);
  assert.deepEqual([...first.labels], [...test.labels.subarray(0, 5)]);
  assert.deepEqual([...first.images], [...test.images.subarray(0, 5 * 784)]);
});

Deno.test("idx: a folder without the files gets an error listing their names", async () => {
  const folder = pathToFileURL(await Deno.makeTempDir());
  await assert.rejects(
    loadFashionMnistArrays(folder, { train: true }),
    new RegExp(
      // Images and labels load together, so either missing file may be reported first.
      "fashion-mnist: cannot load train-(images-idx3|labels-idx1)-ubyte.gz " +
        "\\(or train-(images-idx3|labels-idx1)-ubyte\\) from .*four standard files",
    ),
  );
  await Deno.remove(folder);
  await assert.rejects(
    loadFashionMnistArrays(SUBSET, { train: true, limit: -1 }),
    /limit must be a whole number >= 0, got -1/,
  );
});

Deno.test({
  name: "idx: the full Fashion-MNIST set loads when it is installed",
  // Debian's dataset-fashion-mnist installs it; CI installs it and sets REQUIRE_FASHION_MNIST=1,
  // so that there a missing set fails instead of skipping.
  ignore: Deno.env.get("REQUIRE_FASHION_MNIST") !== "1" &&
    !(await Deno.stat(FULL_SET).then(() => true, () => false)),
  fn: async () => {
    const test = await loadFashionMnistArrays(pathToFileURL(FULL_SET), { train: false });
    assert.equal(test.count, 10000);
    assert.deepEqual(countLabels(test.labels), new Array(10).fill(1000));
  },
});
