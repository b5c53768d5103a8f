/**
 * Generates the op switch of the WebAssembly kernels from the op table (`core/ops/table.ts`): the
 * op codes, the float64 formula of every op (one value at a time) and the dispatch that gives
 * each op a loop of its own. The generated parts are regions of `assembly/elementwise.ts` between
 * marker lines; the rest of that file (the four-lane forms, the loops) is written by hand.
 *
 * `deno task build:wasm` rewrites the regions before it compiles, and `tests/wasm_build.test.ts`
 * fails when the committed file differs from what the table generates. This file is a build
 * tool: the core never imports it.
 *
 * @module
 */
import { BINARY_OPS, UNARY_OPS } from "../ops/table.ts";

/** The AssemblyScript file that holds the generated regions. */
export const ELEMENTWISE_SOURCE = new URL("./assembly/elementwise.ts", import.meta.url);

const unaryOps = Object.keys(UNARY_OPS) as (keyof typeof UNARY_OPS)[];
const binaryOps = Object.keys(BINARY_OPS) as (keyof typeof BINARY_OPS)[];

/** The op codes: the row's position in its table, exported under the row's name. */
function opCodes(): string[] {
  return [
    ...unaryOps.map((op, code) => `export const unary_${op}: i32 = ${code};`),
    "",
    ...binaryOps.map((op, code) => `export const binary_${op}: i32 = ${code};`),
  ];
}

/** `unaryScalar` and `binaryScalar`: the table's formulas, computed in float64. */
function scalarOps(): string[] {
  const cases = (kind: string, ops: string[], expression: (op: string) => string) =>
    ops.flatMap((op) => [
      `    case ${kind}_${op}:`,
      `      result = ${expression(op)};`,
      `      break;`,
    ]);
  return [
    "/** One unary op of the table on one value, in float64 like the reference kernels. */",
    "// @ts-ignore: decorator",
    "@inline",
    "function unaryScalar(op: i32, value: f32, p0: f64, p1: f64): f32 {",
    "  const x = <f64>value;",
    "  let result: f64 = NaN;",
    "  switch (op) {",
    ...cases("unary", unaryOps, (op) => UNARY_OPS[op as keyof typeof UNARY_OPS].wasm),
    "  }",
    "  return <f32>result;",
    "}",
    "",
    "/** One binary op of the table on one pair of values, in float64. */",
    "// @ts-ignore: decorator",
    "@inline",
    "function binaryScalar(op: i32, aValue: f32, bValue: f32): f32 {",
    "  const a = <f64>aValue;",
    "  const b = <f64>bValue;",
    "  let result: f64 = NaN;",
    "  switch (op) {",
    ...cases("binary", binaryOps, (op) => BINARY_OPS[op as keyof typeof BINARY_OPS].wasm),
    "  }",
    "  return <f32>result;",
    "}",
  ];
}

/** The dispatch: one case an op, each calling the loop with a constant op code. */
function dispatch(kind: "unary" | "binary", ops: string[], call: string): string[] {
  return ops.flatMap((op) => [
    `    case ${kind}_${op}:`,
    `      ${call.replace("OP", `${kind}_${op}`)};`,
    `      break;`,
  ]);
}

/** Every generated region by name. */
function regions(): Map<string, string[]> {
  return new Map([
    ["op codes", opCodes()],
    ["scalar ops", scalarOps()],
    ["unary dispatch", dispatch("unary", unaryOps, "unaryLoop(OP, out, x, n, p0, p1)")],
    [
      "binary dispatch",
      dispatch("binary", binaryOps, "binaryRowLoop(OP, out, a, b, n, aStride, bStride)"),
    ],
  ]);
}

/**
 * `source` with every generated region replaced by what the table gives now. A region is the
 * lines between `// generated from the op table: NAME` and `// end of generated NAME`.
 */
export function regenerate(source: string): string {
  let text = source;
  for (const [name, lines] of regions()) {
    const begin = `// generated from the op table: ${name}\n`;
    const end = `// end of generated ${name}\n`;
    const from = text.indexOf(begin);
    const to = text.indexOf(end);
    if (from < 0 || to < from) {
      throw new Error(`codegen: ${ELEMENTWISE_SOURCE.pathname} lacks the region "${name}"`);
    }
    // The end marker keeps the indentation of the begin marker.
    const indent = text.slice(text.lastIndexOf("\n", from) + 1, from);
    const body = lines.map((line) => `${line}\n`).join("");
    text = text.slice(0, from + begin.length) + body + indent + text.slice(to);
  }
  return text;
}
