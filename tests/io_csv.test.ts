import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { csvColumn, csvLabels, csvNumbers, fetchCsv, parseCsv } from "../core/io/csv.ts";
import { gzip } from "../core/io/idx.ts";

const IRIS_HEAD = `sepal_length,sepal_width,petal_length,petal_width,species
5.1,3.5,1.4,0.2,setosa
7.0,3.2,4.7,1.4,versicolor
6.3,3.3,6.0,2.5,virginica
4.9,3.0,1.4,0.2,setosa
`;

Deno.test("csv: a header row and numeric conversion", () => {
  const table = parseCsv(IRIS_HEAD);
  assert.deepEqual(table.columns, [
    "sepal_length",
    "sepal_width",
    "petal_length",
    "petal_width",
    "species",
  ]);
  assert.equal(table.rows.length, 4);
  assert.deepEqual(table.rows[1], [7, 3.2, 4.7, 1.4, "versicolor"]);
});

Deno.test("csv: quoted fields hold delimiters, line breaks and doubled quotes", () => {
  const text = 'name,note,n\n"Smith, J.","said ""hi""\nthen left",3\r\nplain,"",-1.5e3\n';
  const table = parseCsv(text);
  assert.deepEqual(table.rows, [
    ["Smith, J.", 'said "hi"\nthen left', 3],
    ["plain", "", -1500],
  ]);
});

Deno.test("csv: CRLF, CR, blank lines, a byte order mark and no final newline", () => {
  const text = "\uFEFFa,b\r\n1,2\r\n\r\n3,4\r5,6";
  assert.deepEqual(parseCsv(text), { columns: ["a", "b"], rows: [[1, 2], [3, 4], [5, 6]] });
  assert.deepEqual(parseCsv(""), { columns: [], rows: [] });
  assert.deepEqual(parseCsv("a,b\n"), { columns: ["a", "b"], rows: [] });
});

Deno.test("csv: which texts become numbers", () => {
  const { rows } = parseCsv(
    "v\n0\n-3\n+2.5\n.5\n1.\n1e-3\nNaN\nInfinity\n-inf\n 7 \n0x10\n1,000\n12abc\n\n",
    { delimiter: ";" },
  );
  const values = rows.map((row) => row[0]);
  assert.deepEqual(values.slice(0, 6), [0, -3, 2.5, 0.5, 1, 0.001]);
  assert.ok(Number.isNaN(values[6]));
  assert.deepEqual(values.slice(7), [Infinity, -Infinity, 7, "0x10", "1,000", "12abc"]);
});

Deno.test("csv: options for no header, another delimiter and text only", () => {
  const table = parseCsv("1;x\n2;y\n", { header: false, delimiter: ";" });
  assert.deepEqual(table, { columns: ["column0", "column1"], rows: [[1, "x"], [2, "y"]] });
  const text = parseCsv("a\n007\n", { numbers: false });
  assert.deepEqual(text.rows, [["007"]]);
  const tabs = parseCsv("a\tb\n1\t2\n", { delimiter: "\t" });
  assert.deepEqual(tabs.rows, [[1, 2]]);
});

Deno.test("csv: malformed input names the line and the problem", () => {
  assert.throws(
    () => parseCsv("a,b,c\n1,2,3\n4,5\n"),
    /csv: line 3 has 2 fields but the header has 3/,
  );
  assert.throws(
    () => parseCsv('a,b\n1,"open\n2,3\n'),
    /csv: line 2: a quoted field is never closed/,
  );
  assert.throws(
    () => parseCsv('a,b\n1,ab"c"\n'),
    /csv: line 2: a quote inside the unquoted field "ab\\""/,
  );
  assert.throws(
    () => parseCsv('a,b\n"x"y,1\n'),
    /csv: line 2: unexpected "y" after a closing quote/,
  );
  assert.throws(() => parseCsv("a,a\n1,2\n"), /csv: the header names the column "a" twice/);
  assert.throws(() => parseCsv("a\n", { delimiter: "ab" }), /csv: delimiter must be one char/);
});

Deno.test("csv: line numbers count line breaks inside quoted fields", () => {
  assert.throws(
    () => parseCsv('a,b\n"x\ny",1\n2\n'),
    /csv: line 4 has 1 fields but the header has 2/,
  );
});

Deno.test("csv: columns, numeric matrices and class labels", () => {
  const table = parseCsv(IRIS_HEAD);
  assert.deepEqual(csvColumn(table, "species"), ["setosa", "versicolor", "virginica", "setosa"]);
  assert.throws(
    () => csvColumn(table, "Species"),
    /csv: no column "Species"; the columns are "sepal_length", .*"species"/,
  );
  const features = csvNumbers(table, ["sepal_length", "petal_width"]);
  assert.deepEqual([...features], [5.1, 0.2, 7.0, 1.4, 6.3, 2.5, 4.9, 0.2]);
  assert.throws(
    () => csvNumbers(table, ["species"]),
    /csv: column "species" row 0 holds "setosa", not a number/,
  );
  const { indices, classes } = csvLabels(table, "species");
  assert.deepEqual([...indices], [0, 1, 2, 0]);
  assert.deepEqual(classes, ["setosa", "versicolor", "virginica"]);
  const fixed = csvLabels(table, "species", ["virginica", "versicolor", "setosa"]);
  assert.deepEqual([...fixed.indices], [2, 1, 0, 2]);
  assert.throws(
    () => csvLabels(table, "species", ["setosa"]),
    /row 1 holds "versicolor", which is not one of the classes "setosa"/,
  );
});

Deno.test("csv: fetchCsv reads plain and gzipped files and names the URL on errors", async () => {
  const bytes = new TextEncoder().encode(IRIS_HEAD);
  for (const [content, suffix] of [[bytes, ".csv"], [await gzip(bytes), ".csv.gz"]] as const) {
    const path = await Deno.makeTempFile({ suffix });
    await Deno.writeFile(path, content);
    const table = await fetchCsv(pathToFileURL(path));
    assert.equal(table.rows.length, 4, suffix);
    assert.equal(table.rows[2][4], "virginica");
    await Deno.remove(path);
  }
  const bad = await Deno.makeTempFile({ suffix: ".csv" });
  await Deno.writeTextFile(bad, "a,b\n1\n");
  await assert.rejects(fetchCsv(pathToFileURL(bad)), (error: Error) => {
    assert.match(error.message, /csv: line 2 has 1 fields/);
    assert.ok(error.message.includes(pathToFileURL(bad).href), error.message);
    return true;
  });
  await Deno.remove(bad);
  await assert.rejects(fetchCsv("file:///nonexistent/iris.csv"), /fetchCsv: cannot read file:/);
});
