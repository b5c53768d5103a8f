/**
 * A small CSV reader (RFC 4180 with the usual leniencies), for datasets such as Iris.
 *
 * - Fields are separated by commas (or another one-character delimiter); records by `\n`,
 *   `\r\n` or `\r`.
 * - A field in double quotes may hold delimiters, line breaks and doubled quotes (`""` is `"`).
 * - The first record is the header (unless `header: false`); blank lines are skipped; a byte
 *   order mark at the start is dropped.
 * - Fields that look like numbers (`3`, `-0.5`, `1e-3`, `NaN`, `Infinity`) become numbers,
 *   everything else stays a string. An empty field stays `""`.
 *
 * It works on text, so it runs unchanged in Deno and in a browser; {@link fetchCsv} loads a
 * file through `fetch`.
 *
 * @module
 */

import { fetchBytes, gunzip, isGzip } from "./idx.ts";
import { checkOptions } from "../options.ts";

/** One field's value: a number when the text looks like one, else the text. */
export type CsvValue = string | number;

/** A parsed CSV file: the column names and one array of values per row. */
export interface CsvTable {
  /** The header's names, or `column0`, `column1`, ... when there is no header. */
  columns: string[];
  /** The records after the header, each with exactly `columns.length` values. */
  rows: CsvValue[][];
}

/** Options of {@link parseCsv} and {@link fetchCsv}. */
export interface CsvOptions {
  /** Whether the first record names the columns (default `true`). */
  header?: boolean;
  /** The field separator, one character (default `","`). */
  delimiter?: string;
  /** Whether to turn number-like fields into numbers (default `true`). */
  numbers?: boolean;
}

/** Text that counts as a number: decimal or exponent notation, NaN, Infinity. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(Infinity|inf)$|^NaN$|^nan$/;

function toValue(text: string, numbers: boolean): CsvValue {
  const trimmed = text.trim();
  if (!numbers || !NUMBER.test(trimmed)) return text;
  if (/inf$/i.test(trimmed) && !/Infinity$/.test(trimmed)) {
    return trimmed.startsWith("-") ? -Infinity : Infinity;
  }
  return Number(trimmed);
}

/**
 * Splits CSV text into records of raw field texts (no header handling, no numbers).
 * Each record carries the line number where it starts, for error messages.
 */
function splitRecords(text: string, delimiter: string): { fields: string[]; line: number }[] {
  const records: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let recordLine = 1;
  let quoted = false; // inside a quoted field
  let wasQuoted = false; // the current field was quoted (only a delimiter or newline may follow)
  let i = 0;

  const endField = () => {
    fields.push(field);
    field = "";
    wasQuoted = false;
  };
  const endRecord = () => {
    endField();
    // a record that is one empty unquoted field is a blank line: skip it
    if (!(fields.length === 1 && fields[0] === "")) records.push({ fields, line: recordLine });
    fields = [];
  };

  while (i < text.length) {
    const char = text[i];
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        wasQuoted = true;
      } else {
        if (char === "\n") line++;
        field += char;
      }
      i++;
      continue;
    }
    if (char === delimiter) {
      endField();
      i++;
    } else if (char === "\n" || char === "\r") {
      endRecord();
      i += char === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
      recordLine = line;
    } else if (wasQuoted) {
      throw new Error(
        `csv: line ${line}: unexpected ${JSON.stringify(char)} after a closing quote ` +
          `(a quoted field must be followed by "${delimiter}" or a line break)`,
      );
    } else if (char === '"') {
      if (field !== "") {
        throw new Error(
          `csv: line ${line}: a quote inside the unquoted field ${JSON.stringify(field + char)} ` +
            '(quote the whole field and double inner quotes: "a ""b"" c")',
        );
      }
      quoted = true;
      i++;
    } else {
      field += char;
      i++;
    }
  }
  if (quoted) {
    throw new Error(
      `csv: line ${recordLine}: a quoted field is never closed (missing '"' before the end ` +
        "of the file?)",
    );
  }
  if (field !== "" || wasQuoted || fields.length > 0) endRecord();
  return records;
}

/**
 * Parses CSV text into column names and rows of values.
 *
 * @param text the file's text
 * @param options header row (default `true`), delimiter (default `","`), number conversion
 *   (default `true`)
 * @returns the column names and the rows
 * @throws naming the line for an unclosed quote, a stray quote, or a row whose number of fields
 *   differs from the header's
 *
 * @example
 * ```ts
 * import { parseCsv } from "./csv.ts";
 * const table = parseCsv('name,petal length\n"setosa, small",1.4\n');
 * // table.columns: ["name", "petal length"]
 * // table.rows:    [["setosa, small", 1.4]]
 * ```
 */
export function parseCsv(text: string, options: CsvOptions = {}): CsvTable {
  checkOptions("parseCsv", arguments, 1, ["header", "delimiter", "numbers"]);
  if (typeof text !== "string") {
    throw new TypeError(
      `parseCsv: expected the CSV text as a string, got ${
        (text as unknown) instanceof Uint8Array
          ? "bytes (decode them with new TextDecoder().decode(bytes))"
          : typeof text
      }`,
    );
  }
  const { header = true, delimiter = ",", numbers = true } = options;
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === "\n" || delimiter === "\r") {
    throw new Error(
      `csv: delimiter must be one character other than a quote or line break, ` +
        `got ${JSON.stringify(delimiter)}`,
    );
  }
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  const records = splitRecords(text, delimiter);
  if (records.length === 0) return { columns: [], rows: [] };

  let columns: string[];
  let body = records;
  if (header) {
    columns = records[0].fields.map((name) => name.trim());
    const seen = new Set<string>();
    for (const name of columns) {
      if (seen.has(name)) {
        throw new Error(`csv: the header names the column "${name}" twice`);
      }
      seen.add(name);
    }
    body = records.slice(1);
  } else {
    columns = records[0].fields.map((_, j) => `column${j}`);
  }

  const rows = body.map(({ fields, line }) => {
    if (fields.length !== columns.length) {
      throw new Error(
        `csv: line ${line} has ${fields.length} fields but ` +
          `${header ? "the header has" : "the first row has"} ${columns.length} ` +
          `(a missing or extra "${delimiter}", or an unquoted "${delimiter}" inside a field?)`,
      );
    }
    return fields.map((field) => toValue(field, numbers));
  });
  return { columns, rows };
}

/**
 * Fetches a CSV file (un-gzipping it when it is gzip-compressed) and parses it.
 *
 * @param url where the file is: a path (`"data/iris.csv"`, in Deno or Node), a `file:` URL, or
 *   an `http(s):` URL (in a browser, a relative string is relative to the page)
 * @param options as for {@link parseCsv}
 * @throws with the URL in the message when the file is missing or malformed
 */
export async function fetchCsv(url: URL | string, options: CsvOptions = {}): Promise<CsvTable> {
  checkOptions("fetchCsv", arguments, 1, ["header", "delimiter", "numbers"]);
  let bytes = await fetchBytes(url, "fetchCsv");
  if (isGzip(bytes)) bytes = await gunzip(bytes);
  let text: string;
  try {
    // fatal: a byte sequence that is not UTF-8 is an error, not a silent U+FFFD in the data.
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Error(
      `fetchCsv: ${url} is not valid UTF-8 text (at byte ${firstInvalidUtf8(bytes)}); ` +
        `save it as UTF-8 (a spreadsheet's "CSV UTF-8" export), or convert it first`,
    );
  }
  try {
    return parseCsv(text, options);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)} (in ${url})`);
  }
}

/** The offset of the first byte that breaks UTF-8 (for the error message). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let low = 0;
  let high = bytes.length;
  // The longest valid prefix, by bisection (a prefix may end inside a character: allow 3).
  while (high - low > 4) {
    const middle = (low + high) >> 1;
    try {
      decoder.decode(bytes.subarray(0, middle), { stream: true });
      decoder.decode();
      low = middle;
    } catch {
      high = middle;
    }
  }
  return low;
}

/**
 * The values of one column of a table.
 *
 * @throws naming the columns that exist when `name` is not one of them
 */
export function csvColumn(table: CsvTable, name: string): CsvValue[] {
  const index = table.columns.indexOf(name);
  if (index < 0) {
    throw new Error(
      `csv: no column "${name}"; the columns are ${table.columns.map((c) => `"${c}"`).join(", ")}`,
    );
  }
  return table.rows.map((row) => row[index]);
}

/**
 * The values of numeric columns as one row-major `Float64Array` of shape `[rows, names.length]`
 * (for example the four measurements of Iris), ready for `tensor(values, {shape})`.
 *
 * @throws naming the row and column of the first value that is not a number
 */
export function csvNumbers(table: CsvTable, names: string[]): Float64Array {
  const columns = names.map((name) => csvColumn(table, name));
  const out = new Float64Array(table.rows.length * names.length);
  for (let r = 0; r < table.rows.length; r++) {
    for (let c = 0; c < names.length; c++) {
      const value = columns[c][r];
      if (typeof value !== "number") {
        throw new Error(
          `csv: column "${names[c]}" row ${r} holds ${JSON.stringify(value)}, not a number`,
        );
      }
      out[r * names.length + c] = value;
    }
  }
  return out;
}

/**
 * Turns a column of class names into class indices, in order of first appearance (or in the
 * order of `classes` when given).
 *
 * @returns `indices` (one per row) and `classes` (the name of each index)
 * @throws when a value is not in the given `classes`
 *
 * @example
 * ```ts
 * import { csvLabels, parseCsv } from "./csv.ts";
 * const table = parseCsv("x,species\n1,setosa\n2,virginica\n3,setosa\n");
 * const { indices, classes } = csvLabels(table, "species");
 * // indices Int32Array [0, 1, 0], classes ["setosa", "virginica"]
 * ```
 */
export function csvLabels(
  table: CsvTable,
  name: string,
  classes?: string[],
): { indices: Int32Array; classes: string[] } {
  const values = csvColumn(table, name).map(String);
  const names = classes ? [...classes] : [...new Set(values)];
  const indexOf = new Map(names.map((className, i) => [className, i]));
  const indices = new Int32Array(values.length);
  values.forEach((value, r) => {
    const index = indexOf.get(value);
    if (index === undefined) {
      throw new Error(
        `csv: column "${name}" row ${r} holds "${value}", which is not one of the classes ` +
          names.map((c) => `"${c}"`).join(", "),
      );
    }
    indices[r] = index;
  });
  return { indices, classes: names };
}
