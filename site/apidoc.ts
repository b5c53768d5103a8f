/**
 * The API reference: `deno doc --html` of `mod.ts` (copied under `api/doc/`) for the full pages,
 * and `deno doc --json` for the site's own index of the exported names with their summaries.
 * Generated output is cached under `out/site-cache/api/`, keyed by a hash of the sources.
 *
 * @module
 */
import { cacheDir, fromFileUrl, repoRoot, repoUrl } from "./paths.ts";
import { denoExecutable } from "../lessons/deno_executable.ts";

/** One exported name of the API. */
export interface ApiSymbol {
  name: string;
  /** "function", "class", "interface", "typeAlias", "variable", "namespace", ... */
  kind: string;
  /** The first sentence or paragraph of its JSDoc. */
  summary: string;
  /** Its page, relative to `api/doc/`, when deno doc wrote one. */
  href?: string;
  /** Members of a namespace (`F.conv2d`, `nn.Linear`). */
  members: ApiSymbol[];
}

/** The generated reference. */
export interface ApiDocs {
  /** The module documented (`mod.ts`). */
  entry: string;
  /** False when the module does not exist yet or deno doc failed; `reason` says why. */
  available: boolean;
  reason?: string;
  /** The module's own documentation (Markdown). */
  moduleDoc: string;
  symbols: ApiSymbol[];
  /** The folder holding deno doc's HTML output. */
  htmlDir?: URL;
}

/** Generates (or reads from the cache) the API reference of `entry` (default `mod.ts`). */
export async function generateApiDocs(entry = "mod.ts", name = "API reference"): Promise<ApiDocs> {
  const entryUrl = repoUrl(entry);
  try {
    await Deno.stat(entryUrl);
  } catch {
    return {
      entry,
      available: false,
      reason: `${entry} does not exist yet`,
      moduleDoc: "",
      symbols: [],
    };
  }
  const key = await sourcesKey(entry);
  const folder = new URL(`api/${entry.replace(/[^\w.-]/g, "_")}/`, cacheDir);
  const htmlDir = new URL("html/", folder);
  const indexFile = new URL("index.json", folder);
  try {
    const cached = JSON.parse(await Deno.readTextFile(indexFile));
    if (cached.key === key) return { ...cached.docs, htmlDir };
  } catch {
    // not cached yet
  }
  await Deno.remove(folder, { recursive: true }).catch(() => {});
  await Deno.mkdir(folder, { recursive: true });
  const html = await runDeno([
    "doc",
    "--html",
    `--name=${name}`,
    `--output=${fromFileUrl(htmlDir)}`,
    entry,
  ]);
  if (!html.ok) return { entry, available: false, reason: html.text, moduleDoc: "", symbols: [] };
  const json = await runDeno(["doc", "--json", entry]);
  if (!json.ok) return { entry, available: false, reason: json.text, moduleDoc: "", symbols: [] };
  const docs = await readDocJson(JSON.parse(json.text), entry, htmlDir);
  await Deno.writeTextFile(indexFile, JSON.stringify({ key, docs }));
  return { ...docs, htmlDir };
}

async function runDeno(args: string[]): Promise<{ ok: boolean; text: string }> {
  const output = await new Deno.Command(denoExecutable(), {
    args,
    cwd: fromFileUrl(repoRoot),
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return output.success
    ? { ok: true, text: decode(output.stdout) }
    : { ok: false, text: `deno ${args[0]} failed: ${decode(output.stderr).trim()}` };
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** Reads `deno doc --json` output (format version 2) into the site's index. */
async function readDocJson(
  doc: Json,
  entry: string,
  htmlDir: URL,
): Promise<Omit<ApiDocs, "htmlDir">> {
  const nodes: Record<string, Json> = doc.nodes ?? {};
  const entryHref = repoUrl(entry).href;
  const node = nodes[entryHref] ?? Object.values(nodes)[0] ?? {};
  const pageExists = async (href: string) => {
    try {
      await Deno.stat(new URL(href, htmlDir));
      return true;
    } catch {
      return false;
    }
  };
  const toSymbol = async (symbol: Json, prefix: string): Promise<ApiSymbol> => {
    const declaration = symbol.declarations?.find((d: Json) => d.jsDoc?.doc) ??
      symbol.declarations?.[0] ?? {};
    const name = prefix + symbol.name;
    const href = `~/${name}.html`;
    const members: ApiSymbol[] = [];
    if (declaration.kind === "namespace") {
      for (const element of declaration.def?.elements ?? []) {
        members.push(await toSymbol(element, `${name}.`));
      }
    }
    return {
      name,
      kind: String(declaration.kind ?? "symbol"),
      summary: summarize(declaration.jsDoc?.doc ?? ""),
      href: (await pageExists(href)) ? href : undefined,
      members,
    };
  };
  const symbols: ApiSymbol[] = [];
  for (const symbol of node.symbols ?? []) symbols.push(await toSymbol(symbol, ""));
  symbols.sort((a, b) => a.name.localeCompare(b.name));
  return {
    entry,
    available: true,
    moduleDoc: String(node.module_doc?.doc ?? ""),
    symbols,
  };
}

/** The first paragraph of a JSDoc comment, with `{@link X}` reduced to `X`. */
function summarize(doc: string): string {
  const first = doc.trim().split(/\n\s*\n/)[0] ?? "";
  return first.replace(/\{@link(?:code|plain)?\s+([^}|\s]+)(?:[|\s][^}]*)?\}/g, "`$1`")
    .replace(/\s+/g, " ").trim();
}

/** A hash of the files the reference is made from. */
async function sourcesKey(entry: string): Promise<string> {
  const parts: string[] = [Deno.version.deno];
  const visit = async (url: URL) => {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(url);
    } catch {
      return;
    }
    if (info.isFile) {
      if (/\.(ts|tsx|js|md)$/.test(url.pathname)) {
        const stat = `${url.href} ${info.size} ${info.mtime?.getTime()}`;
        parts.push(stat);
      }
      return;
    }
    const names: string[] = [];
    for await (const item of Deno.readDir(url)) names.push(item.name);
    for (const item of names.sort()) {
      const child = new URL(item, url);
      const childInfo = await Deno.stat(child);
      await visit(childInfo.isDirectory ? new URL(`${item}/`, url) : child);
    }
  };
  await visit(repoUrl(entry));
  for (const folder of ["core/", "gpu/"]) await visit(repoUrl(folder));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\n")));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
