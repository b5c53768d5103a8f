/**
 * Reading and writing whole files from the core, which must run unchanged in Deno, Node and a
 * browser (it never calls `Deno.*`). URLs are read with `fetch` (`file:` in Deno, `http(s):`
 * anywhere). A plain path (`"model.safetensors"`, `"out/data.csv"`) means the local file
 * system: it is read and written through `node:fs/promises`, which Deno and Node both provide
 * and which is imported only when a path is used, so a browser never loads it.
 *
 * @module
 */

/**
 * Whether `source` is a plain file path rather than a URL (`file:`, `http:`, ...). In a page
 * or a worker (which have a `location`), a relative string is a URL relative to the page, as
 * `fetch` reads it.
 */
export function isPlainPath(source: string | URL): source is string {
  if (typeof source !== "string") return false;
  if ((globalThis as { location?: unknown }).location) return false;
  // A scheme is letters followed by ":" (a one-letter one is a Windows drive: C:\data).
  return !/^[a-z][a-z0-9+.-]+:/i.test(source);
}

/** The file system module of Deno and Node, or an error naming the op in a browser. */
async function fileSystem(op: string, what: string): Promise<typeof import("node:fs/promises")> {
  try {
    return await import("node:fs/promises");
  } catch {
    throw new Error(
      `${op}: ${what} needs a file system (Deno or Node); in a browser ` +
        `use a URL (fetched) or the bytes themselves`,
    );
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reads a whole file: a plain path from the file system, a URL with `fetch`.
 *
 * @param op the user-facing op, for the error
 * @param source a path (relative to the working directory) or a URL
 * @throws naming the op and the file when it cannot be read
 */
export async function readBytes(op: string, source: string | URL): Promise<Uint8Array> {
  if (isPlainPath(source)) {
    const fs = await fileSystem(op, `reading the path "${source}"`);
    try {
      return new Uint8Array(await fs.readFile(source));
    } catch (error) {
      throw new Error(`${op}: cannot read the file "${source}": ${reason(error)}`);
    }
  }
  let response: Response;
  try {
    response = await fetch(source);
  } catch (error) {
    throw new Error(`${op}: cannot read ${source}: ${reason(error)}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`${op}: cannot read ${source}: HTTP ${response.status} ${response.statusText}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Writes a whole file to a plain path or a `file:` URL (creating or replacing it).
 *
 * @throws naming the op and the file when it cannot be written (or for an `http:` URL)
 */
export async function writeBytes(op: string, target: string | URL, bytes: Uint8Array) {
  const url = isPlainPath(target) ? null : new URL(target);
  if (url && url.protocol !== "file:") {
    throw new Error(
      `${op}: can write only to a file path or a file: URL, not ${url.href} (to send the ` +
        `bytes somewhere, get them first and post them yourself)`,
    );
  }
  const fs = await fileSystem(op, `writing "${target}"`);
  try {
    await fs.writeFile(url ?? (target as string), bytes);
  } catch (error) {
    throw new Error(`${op}: cannot write the file "${target}": ${reason(error)}`);
  }
}
