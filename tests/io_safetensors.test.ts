import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { tensor } from "../mod.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  fetchSafetensors,
  load,
  type RawTensor,
  type SafetensorsDtype,
  save,
} from "../core/io/safetensors.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);

/** Builds a safetensors file by hand: any header (object or raw text) and any data bytes. */
function buildFile(
  header: unknown,
  data: Uint8Array = new Uint8Array(0),
  headerLength?: bigint,
): Uint8Array {
  const json = new TextEncoder().encode(
    typeof header === "string" ? header : JSON.stringify(header),
  );
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** The header of an encoded file, parsed. */
function headerOf(bytes: Uint8Array): Record<string, unknown> {
  const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
}

const SAMPLE: Record<string, RawTensor> = {
  "features.0.weight": {
    dtype: "float32",
    shape: [2, 1, 1, 3],
    data: new Float32Array([0.5, -1.25, 3, 1e-7, -0, 65504]),
  },
  "features.0.bias": { dtype: "float32", shape: [2], data: new Float32Array([1, -2]) },
  "classifier.weight": {
    dtype: "float64",
    shape: [2, 2],
    data: new Float64Array([Math.PI, -Math.E, 1e-300, 1e300]),
  },
  "labels": { dtype: "int32", shape: [4], data: new Int32Array([0, -1, 2147483647, -2147483648]) },
  "step": { dtype: "int32", shape: [], data: new Int32Array([42]) },
  "empty": { dtype: "float64", shape: [0, 5], data: new Float64Array(0) },
};

Deno.test("safetensors: float32, float64 and int32 records survive a round trip", () => {
  const bytes = encodeSafetensors(SAMPLE, { format: "pt", note: "round trip" });
  const { tensors, metadata } = decodeSafetensors(bytes);
  assert.deepEqual(Object.keys(tensors), Object.keys(SAMPLE));
  for (const [name, expected] of Object.entries(SAMPLE)) {
    const actual = tensors[name];
    assert.equal(actual.dtype, expected.dtype, `${name}: dtype`);
    assert.deepEqual(actual.shape, expected.shape, `${name}: shape`);
    assert.equal(actual.data.constructor, expected.data.constructor, `${name}: array type`);
    assert.deepEqual([...actual.data], [...expected.data], `${name}: values`);
  }
  assert.deepEqual(metadata, { format: "pt", note: "round trip" });
});

Deno.test("safetensors: the header is padded with spaces to a multiple of 8 bytes", () => {
  for (const name of ["a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh"]) {
    const record: RawTensor = { dtype: "float64", shape: [1], data: new Float64Array([1]) };
    const bytes = encodeSafetensors({ [name]: record });
    const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal((8 + length) % 8, 0, `name "${name}": header length ${length}`);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + length));
    assert.match(text, /^\{.*\} *$/);
    assert.equal(bytes.length, 8 + length + 8);
  }
});

Deno.test("safetensors: offsets are contiguous in key order, data little-endian", () => {
  const bytes = encodeSafetensors({
    a: { dtype: "int32", shape: [2], data: new Int32Array([1, 258]) },
    b: { dtype: "float32", shape: [1], data: new Float32Array([1.5]) },
  });
  const header = headerOf(bytes);
  assert.deepEqual(header.a, { dtype: "I32", shape: [2], data_offsets: [0, 8] });
  assert.deepEqual(header.b, { dtype: "F32", shape: [1], data_offsets: [8, 12] });
  assert.equal(header.__metadata__, undefined);
  const data = bytes.subarray(bytes.length - 12);
  assert.deepEqual([...data], [1, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0xc0, 0x3f]);
});

Deno.test("safetensors: encoding a view of a larger buffer writes only the view", () => {
  const big = new Float32Array([9, 9, 1, 2, 3, 9]);
  const bytes = encodeSafetensors({
    w: { dtype: "float32", shape: [3], data: big.subarray(2, 5) },
  });
  assert.deepEqual([...decodeSafetensors(bytes).tensors.w.data], [1, 2, 3]);
});

Deno.test("safetensors: encoding checks dtype, shape and names", () => {
  const f32 = new Float32Array([1, 2, 3]);
  assert.throws(
    () => encodeSafetensors({ w: { dtype: "float32", shape: [2, 2], data: f32 } }),
    /tensor "w" has shape \[2, 2\] \(4 elements\) but 3 values/,
  );
  assert.throws(
    () => encodeSafetensors({ w: { dtype: "float64", shape: [3], data: f32 } }),
    /tensor "w" says dtype float64 but its data is a Float32Array/,
  );
  assert.throws(
    () =>
      encodeSafetensors({
        w: { dtype: "uint8" as SafetensorsDtype, shape: [3], data: f32 },
      }),
    /tensor "w" has dtype "uint8"; only float32, float64 and int32 can be saved/,
  );
  assert.throws(
    () => encodeSafetensors({ __metadata__: { dtype: "float32", shape: [3], data: f32 } }),
    /"__metadata__" cannot be a tensor name/,
  );
  assert.throws(
    () => encodeSafetensors({}, { epoch: 3 as unknown as string }),
    /metadata "epoch" is number; metadata values must be strings/,
  );
});

Deno.test("safetensors: a file written by PyTorch decodes to the same values", async () => {
  const bytes = await Deno.readFile(new URL("io_torch.safetensors", FIXTURES));
  const expected: Record<string, { dtype: string; shape: number[]; values: number[] }> = JSON
    .parse(await Deno.readTextFile(new URL("io_torch.json", FIXTURES)));
  const { tensors, metadata } = decodeSafetensors(bytes);
  assert.deepEqual(metadata, { format: "pt", source: "torch" });
  assert.deepEqual(Object.keys(tensors), Object.keys(expected));
  const loadsAs: Record<string, SafetensorsDtype> = {
    F32: "float32",
    F64: "float64",
    I32: "int32",
    I64: "int32",
    F16: "float32",
    BF16: "float32",
  };
  for (const [name, want] of Object.entries(expected)) {
    const got = tensors[name];
    assert.equal(got.dtype, loadsAs[want.dtype], `${name} (${want.dtype}): dtype`);
    assert.deepEqual(got.shape, want.shape, `${name}: shape`);
    // every value is exactly representable in the loaded dtype, so compare exactly
    assert.deepEqual([...got.data], want.values, `${name}: values`);
  }
  assert.deepEqual(tensors["features.0.weight"].shape, [4, 1, 3, 3]);
  assert.ok(tensors["features.0.weight"].data instanceof Float32Array);
});

Deno.test("safetensors: truncated files are errors, never a partial load", () => {
  const bytes = encodeSafetensors(SAMPLE);
  assert.throws(
    () => decodeSafetensors(bytes.subarray(0, 5)),
    /file has 5 bytes, too short for the 8-byte header length/,
  );
  assert.throws(
    () => decodeSafetensors(bytes.subarray(0, 40)),
    /header length \d+ is larger than the 32 bytes after it \(truncated file/,
  );
  // cut inside the data: the first tensors are complete, the last ones are not
  const cut = bytes.subarray(0, bytes.length - 20);
  assert.throws(
    () => decodeSafetensors(cut),
    /tensor "labels" has data_offsets \[64, 80\] out of range: the data section has only 64 bytes/,
  );
});

Deno.test("safetensors: a header that is not JSON, or not an object, says so", () => {
  assert.throws(
    () => decodeSafetensors(buildFile('{"w": {"dtype": "F32", ')),
    /the 23-byte header is not valid JSON/,
  );
  assert.throws(() => decodeSafetensors(buildFile("[1, 2]")), /header is JSON but not an object/);
  const notUtf8 = buildFile("{}");
  notUtf8[9] = 0xff;
  assert.throws(() => decodeSafetensors(notUtf8), /header is not valid JSON/);
  assert.throws(
    () => decodeSafetensors(buildFile({ w: [1, 2] })),
    /tensor "w" has unknown dtype undefined/,
  );
  assert.throws(
    () => decodeSafetensors(buildFile({ __metadata__: { epoch: 3 } })),
    /__metadata__ "epoch" is not a string/,
  );
  assert.throws(
    () => decodeSafetensors(buildFile("{}", new Uint8Array(0), 1n << 62n)),
    /header length 4611686018427387904 is larger than the 2 bytes after it/,
  );
});

Deno.test("safetensors: an unknown dtype is named with the supported ones", () => {
  const file = buildFile(
    { w: { dtype: "Q4", shape: [2], data_offsets: [0, 1] } },
    new Uint8Array(1),
  );
  assert.throws(
    () => decodeSafetensors(file),
    /tensor "w" has unknown dtype "Q4" \(supported: F32, F64, I32, I64, F16, BF16\)/,
  );
});

Deno.test("safetensors: shape and byte count that disagree are an error", () => {
  const file = buildFile(
    { w: { dtype: "F32", shape: [2, 3], data_offsets: [0, 20] } },
    new Uint8Array(20),
  );
  assert.throws(
    () => decodeSafetensors(file),
    /tensor "w" has shape \[2, 3\] of F32 \(24 bytes\) but data_offsets \[0, 20\] hold 20 bytes/,
  );
  const badShape = buildFile({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } });
  assert.throws(() => decodeSafetensors(badShape), /tensor "w" has invalid shape \[-1\]/);
  const badOffsets = buildFile({ w: { dtype: "F32", shape: [1], data_offsets: [4] } });
  assert.throws(() => decodeSafetensors(badOffsets), /tensor "w" has invalid data_offsets \[4\]/);
  const backwards = buildFile({ w: { dtype: "F32", shape: [0], data_offsets: [8, 4] } });
  assert.throws(() => decodeSafetensors(backwards), /data_offsets \[8, 4\] that end before/);
});

Deno.test("safetensors: offsets out of range, overlapping, with gaps or extra bytes", () => {
  const entry = (begin: number) => ({ dtype: "F32", shape: [2], data_offsets: [begin, begin + 8] });
  assert.throws(
    () => decodeSafetensors(buildFile({ a: entry(0), b: entry(8) }, new Uint8Array(12))),
    /tensor "b" has data_offsets \[8, 16\] out of range: the data section has only 12 bytes/,
  );
  assert.throws(
    () => decodeSafetensors(buildFile({ a: entry(0), b: entry(4) }, new Uint8Array(12))),
    /tensors "a" and "b" overlap \(data_offsets \[0, 8\] and \[4, 12\]\)/,
  );
  assert.throws(
    () => decodeSafetensors(buildFile({ a: entry(0), b: entry(12) }, new Uint8Array(20))),
    /bytes 8..12 of the data belong to no tensor \(a gap before "b"/,
  );
  assert.throws(
    () => decodeSafetensors(buildFile({ a: entry(0) }, new Uint8Array(10))),
    /the data section has 10 bytes but the tensors account for 8 \(extra bytes at the end/,
  );
});

Deno.test("safetensors: I64 values that do not fit in int32 are an error", () => {
  const data = new Uint8Array(new BigInt64Array([1n, 1n << 40n]).buffer);
  const file = buildFile({ n: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, data);
  assert.throws(
    () => decodeSafetensors(file),
    /tensor "n" \(I64\) holds 1099511627776 at index 1, which does not fit in int32/,
  );
});

/** A Python interpreter that can import torch, or the reason there is none. */
async function findTorchPython(): Promise<{ python?: string; reason?: string }> {
  const reasons: string[] = [];
  for (const python of ["/usr/bin/python3", "python3", "python"]) {
    try {
      const probe = await new Deno.Command(python, {
        args: ["-c", "import torch"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (probe.success) return { python };
      reasons.push(`${python} has no torch`);
    } catch (error) {
      if (
        error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ) {
        return { reason: "no --allow-run permission to start python3" };
      }
      reasons.push(`no ${python}`);
    }
  }
  return { reason: reasons.join(", ") };
}

/**
 * Reads a safetensors file in PyTorch, with the format parsed by hand (struct + json +
 * torch.frombuffer; the `safetensors` package is used too when it is installed), loads the
 * conv weights into a torch Conv2d, and prints every tensor as JSON.
 */
const TORCH_READER = `
import json, struct, sys, torch
raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
assert (8 + n) % 8 == 0, "header not padded to 8 bytes"
header = json.loads(raw[8 : 8 + n])
types = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32}
state = {}
for name, entry in header.items():
    if name == "__metadata__":
        continue
    begin, end = entry["data_offsets"]
    dtype = types[entry["dtype"]]
    chunk = bytearray(raw[8 + n + begin : 8 + n + end])
    flat = torch.frombuffer(chunk, dtype=dtype) if chunk else torch.zeros(0, dtype=dtype)
    state[name] = flat.reshape(entry["shape"])
try:
    from safetensors.torch import load_file
    other = load_file(sys.argv[1])
    assert all(torch.equal(other[k], state[k]) for k in state), "safetensors package disagrees"
except ImportError:
    pass
conv = torch.nn.Conv2d(1, 2, (1, 3))
conv.load_state_dict({"weight": state["features.0.weight"], "bias": state["features.0.bias"]})
out = {k: {"dtype": str(t.dtype), "shape": list(t.shape), "values": t.reshape(-1).double().tolist()}
       for k, t in state.items()}
print(json.dumps({"metadata": header.get("__metadata__"), "tensors": out}))
`;

const torch = await findTorchPython();

Deno.test({
  name: "safetensors: a file written here loads in PyTorch with the same names, shapes, values" +
    (torch.python ? "" : ` (skipped: ${torch.reason})`),
  ignore: torch.python === undefined,
  fn: async () => {
    const path = await Deno.makeTempFile({ suffix: ".safetensors" });
    const sample = SAMPLE; // its conv weight and bias fit torch's Conv2d(1, 2, (1, 3))
    const stateDict = Object.fromEntries(
      Object.entries(sample).map(([name, { dtype, shape, data }]) => [
        name,
        tensor(data, { shape, dtype }),
      ]),
    );
    await Deno.writeFile(path, await save(stateDict));
    const result = await new Deno.Command(torch.python!, {
      args: ["-c", TORCH_READER, path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    await Deno.remove(path);
    const stderr = new TextDecoder().decode(result.stderr);
    assert.ok(result.success, `python3 failed to load the file:\n${stderr}`);
    const loaded = JSON.parse(new TextDecoder().decode(result.stdout));
    assert.deepEqual(loaded.metadata, { format: "pt" });
    assert.deepEqual(Object.keys(loaded.tensors), Object.keys(sample));
    const torchDtype = { float32: "torch.float32", float64: "torch.float64", int32: "torch.int32" };
    for (const [name, record] of Object.entries(sample)) {
      const got = loaded.tensors[name];
      assert.equal(got.dtype, torchDtype[record.dtype], `${name}: dtype in torch`);
      assert.deepEqual(got.shape, record.shape, `${name}: shape in torch`);
      assert.deepEqual(got.values, [...record.data], `${name}: values in torch`);
    }
  },
});

Deno.test("safetensors: save then load keeps names, dtypes, shapes and values", async () => {
  const stateDict = {
    "features.0.weight": tensor([[[[0.5, -1.25, 3]]], [[[1e-7, 0, 65504]]]]),
    "features.0.bias": tensor([1, 2, 3], { dtype: "float64" }),
    "features.1.num_batches_tracked": tensor(7, { dtype: "int32" }),
    "empty": tensor(new Float32Array(0), { shape: [0, 4] }),
  };
  const bytes = await save(stateDict);
  assert.deepEqual(decodeSafetensors(bytes).metadata, { format: "pt" });
  const loaded = load(bytes);
  assert.deepEqual(Object.keys(loaded), Object.keys(stateDict));
  for (const [name, original] of Object.entries(stateDict)) {
    const copy = loaded[name];
    assert.equal(copy.dtype, original.dtype, `${name}: dtype`);
    assert.equal(copy.device, "cpu");
    assert.deepEqual(copy.shape, original.shape, `${name}: shape`);
    assert.deepEqual([...await copy.data()], [...await original.data()], `${name}: values`);
  }
  const custom = await save({ w: tensor([1]) }, { epoch: "3" });
  assert.deepEqual(decodeSafetensors(custom).metadata, { epoch: "3" });
});

Deno.test("safetensors: the PyTorch fixture loads as tensors, also through fetch", async () => {
  const url = new URL("io_torch.safetensors", FIXTURES);
  const fromBytes = load(await Deno.readFile(url));
  const fromUrl = await fetchSafetensors(url);
  const weight = fromUrl["features.0.weight"];
  assert.deepEqual(weight.shape, [4, 1, 3, 3]);
  assert.equal(weight.dtype, "float32");
  assert.deepEqual([...await weight.data()], [...await fromBytes["features.0.weight"].data()]);
  const tracked = fromUrl["features.1.num_batches_tracked"];
  assert.equal(tracked.dtype, "int32");
  assert.deepEqual(tracked.shape, []);
  assert.equal(await tracked.item(), 12345);
  assert.equal(fromUrl["classifier.weight"].dtype, "float64");
});

Deno.test("safetensors: save and load reject what is not a state dict or a file", async () => {
  await assert.rejects(
    save({ w: tensor([1]), b: [1, 2] as unknown as ReturnType<typeof tensor> }),
    /save: state dict entry "b" is object, not a tensor/,
  );
  assert.throws(
    () => load(new ArrayBuffer(8) as unknown as Uint8Array),
    /load: expected the file's bytes as a Uint8Array, got ArrayBuffer/,
  );
  const bytes = await save({ w: tensor([1, 2, 3]) });
  assert.throws(() => load(bytes.subarray(0, bytes.length - 4)), /out of range.*truncated/);
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  await Deno.writeFile(path, bytes.subarray(0, 12));
  await assert.rejects(fetchSafetensors(pathToFileURL(path)), (error: Error) => {
    assert.match(error.message, /header length \d+ is larger than the 4 bytes after it/);
    assert.ok(error.message.includes(pathToFileURL(path).href), error.message);
    return true;
  });
  await Deno.remove(path);
});
