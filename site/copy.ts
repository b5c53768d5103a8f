/**
 * Copies a folder for the static build.
 *
 * @module
 */

/**
 * Copies the files under `from` into `to` (folders included), keeping those whose name passes
 * `keep`; returns how many files were copied. A missing or unreadable `from` is an error, so a
 * build never leaves out a folder silently.
 */
export async function copy(
  from: URL,
  to: URL,
  keep: (name: string) => boolean = () => true,
): Promise<number> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(from));
  } catch (error) {
    throw new Error(`build: cannot read ${decodeURIComponent(from.pathname)} to copy it`, {
      cause: error,
    });
  }
  await Deno.mkdir(to, { recursive: true });
  let count = 0;
  for (const entry of entries) {
    if (!keep(entry.name)) continue;
    if (entry.isDirectory) {
      count += await copy(new URL(`${entry.name}/`, from), new URL(`${entry.name}/`, to), keep);
    } else {
      await Deno.copyFile(new URL(entry.name, from), new URL(entry.name, to));
      count++;
    }
  }
  return count;
}
