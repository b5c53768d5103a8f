/**
 * Image transforms on tiny images whose every pixel is known: what normalize, flip, crop and
 * rotation do, that the random ones follow manualSeed, and that bad arguments are named.
 */
import assert from "node:assert/strict";
import { assertClose, data, manualSeed, type Tensor, tensor } from "../mod.ts";
import { rotate } from "../core/data/transforms.ts";
import { assertThrowsWith } from "./core_helpers.ts";

const { compose, normalize, randomCrop, randomHorizontalFlip, randomRotation } = data.transforms;

/** A 1x3x3 image with the values 1..9, row by row. */
const nine = () => tensor([[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]);

/** A 2x2x3 image: channel 0 holds 0..5, channel 1 holds 10..15. */
const twoChannels = () => tensor([[[0, 1, 2], [3, 4, 5]], [[10, 11, 12], [13, 14, 15]]]);

const pixels = async (t: Tensor) => await t.toArray();

Deno.test("normalize subtracts each channel's mean and divides by its std", async () => {
  const out = normalize([2, 12], [2, 0.5])(twoChannels());
  assert.deepEqual(out.shape, [2, 2, 3]);
  await assertClose(out, [-1, -0.5, 0, 0.5, 1, 1.5, -4, -2, 0, 2, 4, 6]);
  // One mean and std for every channel.
  await assertClose(normalize(1, 2)(nine()), [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]);
});

Deno.test("normalize with the wrong number of channels says how many there are", () => {
  assertThrowsWith(() => normalize([0.5, 0.5, 0.5], [1, 1, 1])(twoChannels()), [
    "normalize",
    "2 channels",
    "3 means",
  ]);
  assertThrowsWith(() => normalize([0], [0]), ["normalize", "non-zero"]);
  assertThrowsWith(() => normalize([0, 1], [1]), ["normalize", "2 means", "1 standard"]);
});

Deno.test("randomHorizontalFlip with p = 1 mirrors every row; p = 0 changes nothing", async () => {
  assert.deepEqual(await pixels(randomHorizontalFlip(1)(nine())), [[[3, 2, 1], [6, 5, 4], [
    9,
    8,
    7,
  ]]]);
  assert.deepEqual(await pixels(randomHorizontalFlip(1)(twoChannels())), [
    [[2, 1, 0], [5, 4, 3]],
    [[12, 11, 10], [15, 14, 13]],
  ]);
  assert.deepEqual(await pixels(randomHorizontalFlip(0)(nine())), await pixels(nine()));
});

Deno.test("randomHorizontalFlip with p = 0.5 flips about half the time, repeatably", async () => {
  const flip = randomHorizontalFlip(0.5);
  const run = async () => {
    const flips: boolean[] = [];
    for (let i = 0; i < 200; i++) flips.push((await flip(nine()).data())[0] === 3);
    return flips;
  };
  manualSeed(10);
  const first = await run();
  manualSeed(10);
  assert.deepEqual(await run(), first);
  const count = first.filter(Boolean).length;
  assert.ok(count > 70 && count < 130, `flipped ${count} of 200 times`);
});

Deno.test("randomCrop without padding cuts a window of the image", async () => {
  manualSeed(0);
  const crop = randomCrop(2);
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const out = crop(nine());
    assert.deepEqual(out.shape, [1, 2, 2]);
    const [[[a, b], [c, d]]] = await out.toArray() as number[][][];
    // A 2x2 window of 1..9 read row by row: b = a + 1, c = a + 3, d = a + 4.
    assert.deepEqual([b, c, d], [a + 1, a + 3, a + 4], `not a window: ${[a, b, c, d]}`);
    seen.add(String(a));
  }
  assert.deepEqual([...seen].sort(), ["1", "2", "4", "5"], "not every window position was used");
});

Deno.test("randomCrop with padding shifts the image and fills the border with zeros", async () => {
  manualSeed(1);
  const crop = randomCrop(3, { padding: 1 });
  const offsets = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const out = await crop(nine()).toArray() as number[][][];
    // Find the shift: where pixel 5 (the center of the original) landed.
    const flat = out[0].flat();
    const at = flat.indexOf(5);
    assert.ok(at >= 0, `the center pixel is missing from ${JSON.stringify(out)}`);
    const dy = Math.floor(at / 3) - 1;
    const dx = (at % 3) - 1;
    offsets.add(`${dy},${dx}`);
    // Every output pixel is the shifted input, or 0 where it came from the padding.
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 3; x++) {
        const sy = y - dy, sx = x - dx;
        const expected = sy >= 0 && sy < 3 && sx >= 0 && sx < 3 ? sy * 3 + sx + 1 : 0;
        assert.equal(out[0][y][x], expected, `pixel (${y}, ${x}) with shift (${dy}, ${dx})`);
      }
    }
  }
  assert.equal(offsets.size, 9, `only shifts ${[...offsets]} were drawn`);
});

Deno.test("randomCrop with a fill value and a rectangular size", async () => {
  manualSeed(2);
  const out = randomCrop([1, 5], { padding: 1, fill: -1 })(nine());
  assert.deepEqual(out.shape, [1, 1, 5]);
  const row = Array.from(await out.data());
  assert.equal(row[0], -1);
  assert.equal(row[4], -1);
});

Deno.test("randomCrop larger than the padded image says the sizes", () => {
  assertThrowsWith(() => randomCrop(4)(nine()), ["randomCrop", "4x4", "3x3"]);
  assertThrowsWith(() => randomCrop(6, { padding: 1 })(nine()), ["randomCrop", "5x5"]);
  assertThrowsWith(() => randomCrop(0), ["randomCrop", "size"]);
});

Deno.test("rotation by 90 degrees turns the image counter-clockwise", async () => {
  // Like numpy's rot90: the top row [1, 2, 3] becomes the left column, read upwards.
  const expected = [[[3, 6, 9], [2, 5, 8], [1, 4, 7]]];
  assert.deepEqual(await pixels(rotate(nine(), 90)), expected);
  await assertClose(rotate(nine(), 90, "bilinear"), expected.flat(2), { atol: 1e-5 });
  // randomRotation with the range [90, 90] always turns by 90.
  assert.deepEqual(await pixels(randomRotation([90, 90])(nine())), expected);
});

Deno.test("rotation by 180 and by -90 degrees", async () => {
  assert.deepEqual(await pixels(rotate(nine(), 180)), [[[9, 8, 7], [6, 5, 4], [3, 2, 1]]]);
  assert.deepEqual(await pixels(rotate(nine(), -90)), [[[7, 4, 1], [8, 5, 2], [9, 6, 3]]]);
  assert.deepEqual(await pixels(rotate(nine(), 0)), await pixels(nine()));
});

Deno.test("rotation by 45 degrees: the center stays, corners come from outside as fill", async () => {
  const ones = tensor([Array.from({ length: 5 }, () => [1, 1, 1, 1, 1])]); // 1x5x5
  const out = await rotate(ones, 45, "nearest", 0).toArray() as number[][][];
  assert.equal(out[0][2][2], 1);
  // Output corner (0, 0) is 2.83 pixels from the center, along a diagonal. Turned back by 45
  // degrees it lies straight above the center, 0.83 pixels above the image: it reads the fill.
  assert.equal(out[0][0][0], 0);
  const filled = await rotate(ones, 45, "nearest", 7).toArray() as number[][][];
  assert.equal(filled[0][0][0], 7);
  assert.equal(filled[0][4][4], 7);
  // The middle of the top edge comes from inside the image.
  assert.equal(filled[0][0][2], 1);
});

Deno.test("bilinear rotation mixes the neighbouring pixels", async () => {
  // A horizontal ramp 0, 1, 2, 3 rotated by a small angle stays close to a ramp in its middle,
  // with values between pixels (which nearest sampling would not produce).
  const ramp = tensor([[[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]]]);
  const smooth = Array.from(await rotate(ramp, 10, "bilinear").data());
  const nearest = Array.from(await rotate(ramp, 10, "nearest").data());
  assert.ok(smooth.some((v) => !Number.isInteger(Math.round(v * 1e6) / 1e6)));
  assert.ok(nearest.every((v) => Number.isInteger(v)));
  // Pixel (1, 1) sits near the center: it moves by well under a pixel.
  assert.ok(Math.abs(smooth[5] - 1) < 0.5, `pixel (1, 1) became ${smooth[5]}`);
});

Deno.test("randomRotation draws angles from the seeded generator within the range", async () => {
  const rotation = randomRotation(30, { interpolation: "bilinear" });
  const image = tensor([[[0, 0, 0, 0], [0, 1, 2, 0], [0, 3, 4, 0], [0, 0, 0, 0]]]);
  manualSeed(7);
  const a = await rotation(image).data();
  const b = await rotation(image).data();
  manualSeed(7);
  const again = await rotation(image).data();
  assert.deepEqual(Array.from(again), Array.from(a));
  assert.notDeepEqual(Array.from(a), Array.from(b));
  // A rotation of at most 30 degrees keeps most of the mass of the middle block (bilinear
  // sampling does not conserve it exactly).
  const total = Array.from(a).reduce((s, v) => s + v, 0);
  assert.ok(total > 5 && total < 11, `the middle block's sum became ${total}`);
});

Deno.test("randomRotation rejects a reversed range and an unknown interpolation", () => {
  assertThrowsWith(() => randomRotation([10, -10]), ["randomRotation", "degrees"]);
  assertThrowsWith(
    () => randomRotation(10, { interpolation: "cubic" as "nearest" }),
    ["randomRotation", "cubic"],
  );
});

Deno.test("transforms need a [channels, height, width] image and say how to get one", () => {
  const flat = tensor([[1, 2], [3, 4]]);
  assertThrowsWith(() => randomHorizontalFlip(1)(flat), [
    "randomHorizontalFlip",
    "[channels, height, width]",
    "[2, 2]",
    "unsqueeze(0)",
  ]);
  assertThrowsWith(() => normalize(0, 1)(flat), ["normalize", "[2, 2]"]);
  assertThrowsWith(() => randomRotation(10)(flat), ["randomRotation", "[2, 2]"]);
});

Deno.test("compose applies transforms in order", async () => {
  const pipeline = compose([randomHorizontalFlip(1), normalize(1, 2)]);
  await assertClose(pipeline(nine()), [1, 0.5, 0, 2.5, 2, 1.5, 4, 3.5, 3]);
  const reversed = compose([normalize(1, 2), (x: Tensor) => x.add(1)]);
  await assertClose(reversed(nine()), [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5]);
  assert.deepEqual(await pixels(compose([])(nine())), await pixels(nine()));
});

Deno.test("transforms keep float64 images float64 and pass gradients through", async () => {
  const image = tensor([[[1, 2], [3, 4]]], { dtype: "float64", requiresGrad: true });
  const out = compose([randomHorizontalFlip(1), normalize(0, 2), (x: Tensor) => rotate(x, 90)])(
    image,
  );
  assert.equal(out.dtype, "float64");
  out.sum().backward();
  await assertClose(image.grad!, [0.5, 0.5, 0.5, 0.5]);
});

Deno.test("randomApply applies its transforms with probability p, repeatably, and checks p", async () => {
  const image = tensor([[[0, 1], [2, 3]]]);
  const flip = data.transforms.randomHorizontalFlip(1);
  const always = data.transforms.randomApply([flip], 1);
  assert.deepEqual(await always(image).toArray(), [[[1, 0], [3, 2]]]);
  const never = data.transforms.randomApply(flip, 0);
  assert.deepEqual(await never(image).toArray(), [[[0, 1], [2, 3]]]);
  const half = data.transforms.randomApply([flip], 0.5);
  const flips = async () => {
    let count = 0;
    for (let i = 0; i < 400; i++) {
      if ((await half(image).toArray()).toString() === "1,0,3,2") count++;
    }
    return count;
  };
  manualSeed(7);
  const first = await flips();
  assert.ok(first > 160 && first < 240, `flipped ${first} of 400 times with p = 0.5`);
  manualSeed(7);
  assert.equal(await flips(), first, "same seed, same draws");
  assertThrowsWith(() => data.transforms.randomApply([flip], 1.5), ["randomApply", "1.5"]);
  // deno-lint-ignore no-explicit-any
  assertThrowsWith(() => data.transforms.randomApply([0.5 as any]), [
    "randomApply",
    "list of transforms",
  ]);
});
