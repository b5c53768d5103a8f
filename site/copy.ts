/**
 * Copies a folder for the static build.
 *
 * @module
 */

/**
 * Copies the files under `from` into `to` (folders included), keeping those whose name passes
 * `keep`; returns how many files were copied. A missing `from` copies nothing.
 */
export async function copy(
  from: URL,
  to: URL,
  keep: (name: string) => boolean = () => true,
): Promise<number> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(from));
  } catch {
    return 0;
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
