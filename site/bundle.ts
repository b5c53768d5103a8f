/**
 * Bundles the browser code with esbuild: the island boot script (`assets/islands.js`) and one
 * Web Worker per lesson (`assets/workers/<slug>.js`), with shared code split into chunks that
 * are loaded only when needed (the live view's plots and math load on the first run).
 *
 * esbuild does not read Deno's import map nor `npm:` specifiers, so a small plugin maps them to
 * bare package names, which esbuild then finds in `node_modules/` (made by Deno with
 * `"nodeModulesDir": "auto"`).
 *
 * @module
 */
import * as esbuild from "esbuild";
import { join } from "node:path";
import type { SiteLesson } from "./lessons.ts";
import { fromFileUrl, repoRoot, repoUrl } from "./paths.ts";

/** The bundled files, by path under `assets/` (`islands.js`, `workers/01-regression.js`, ...). */
export type AssetFiles = Map<string, Uint8Array>;

/** Options of {@link bundleAssets}. */
export interface BundleOptions {
  /** Minify the output (default true). */
  minify?: boolean;
}

/** Bundles the islands and the lesson workers. */
export async function bundleAssets(
  lessons: SiteLesson[],
  options: BundleOptions = {},
): Promise<AssetFiles> {
  const root = fromFileUrl(repoRoot);
  const outdir = join(root, "__assets__");
  const entryPoints: Record<string, string> = {
    islands: fromFileUrl(new URL("islands/boot.ts", import.meta.url)),
  };
  for (const lesson of lessons) {
    entryPoints[`workers/${lesson.slug}`] = `lesson-worker:${lesson.slug}`;
  }
  const result = await esbuild.build({
    entryPoints,
    bundle: true,
    format: "esm",
    splitting: true,
    platform: "browser",
    target: "es2022",
    outdir,
    write: false,
    minify: options.minify ?? true,
    sourcemap: false,
    legalComments: "none",
    jsx: "automatic",
    jsxImportSource: "preact",
    chunkNames: "chunks/[name]-[hash]",
    absWorkingDir: root,
    logLevel: "silent",
    plugins: [lessonWorkerPlugin(lessons), await denoSpecifierPlugin()],
  });
  const files: AssetFiles = new Map();
  for (const file of result.outputFiles) {
    const path = file.path.slice(outdir.length + 1).split("\\").join("/");
    files.set(path, file.contents);
  }
  return files;
}

/** Stops esbuild's service process (call before a script that bundled exits). */
export async function stopBundler(): Promise<void> {
  await esbuild.stop();
}

/**
 * Makes each lesson's worker entry: serve run requests by importing the lesson module, which runs
 * it (a dynamic import, so that the run's settings are in place before its first line).
 */
function lessonWorkerPlugin(lessons: SiteLesson[]): esbuild.Plugin {
  const workerRuntime = fromFileUrl(new URL("islands/worker.ts", import.meta.url));
  return {
    name: "lesson-worker",
    setup(build) {
      build.onResolve({ filter: /^lesson-worker:/ }, (args) => ({
        path: args.path.slice("lesson-worker:".length),
        namespace: "lesson-worker",
      }));
      build.onLoad({ filter: /.*/, namespace: "lesson-worker" }, (args) => {
        const lesson = lessons.find((l) => l.slug === args.path);
        if (!lesson) return { errors: [{ text: `no lesson with slug "${args.path}"` }] };
        const module = fromFileUrl(repoUrl(lesson.modulePath));
        return {
          contents: [
            `import { serveLesson } from ${JSON.stringify(workerRuntime)};`,
            `serveLesson(() => import(${JSON.stringify(module)}));`,
          ].join("\n"),
          loader: "ts",
          resolveDir: fromFileUrl(repoRoot),
        };
      });
    },
  };
}

/**
 * Resolves what Deno would: names of the import maps (`deno.json`, `site/imports.json`), and `npm:`
 * specifiers, both
 * turned into bare package paths (`npm:preact@10.29.8/hooks` becomes `preact/hooks`).
 */
async function denoSpecifierPlugin(): Promise<esbuild.Plugin> {
  // The lessons' imports (deno.json) and the site's own (site/imports.json, see site/README.md).
  const imports: Record<string, string> = {};
  for (const file of ["deno.json", "site/imports.json"]) {
    Object.assign(imports, JSON.parse(await Deno.readTextFile(repoUrl(file))).imports ?? {});
  }
  const keys = Object.keys(imports).sort((a, b) => b.length - a.length);
  const mapSpecifier = (specifier: string): string | undefined => {
    for (const key of keys) {
      const target = imports[key];
      if (key.endsWith("/") ? specifier.startsWith(key) : specifier === key) {
        return target + specifier.slice(key.length);
      }
    }
    return undefined;
  };
  return {
    name: "deno-specifiers",
    setup(build) {
      build.onResolve({ filter: /^jsr:/ }, (args) => ({
        errors: [{ text: `${args.path}: jsr: imports cannot be bundled (use npm: packages)` }],
      }));
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.namespace === "lesson-worker" || args.path.startsWith("/")) return undefined;
        if (args.pluginData?.mapped) return undefined;
        let specifier = mapSpecifier(args.path) ?? args.path;
        if (specifier.startsWith("npm:")) specifier = npmToBare(specifier);
        else if (specifier.startsWith("./") || specifier.startsWith("../")) {
          return { path: fromFileUrl(new URL(specifier, repoRoot)) };
        }
        if (specifier === args.path) return undefined;
        return await build.resolve(specifier, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: { mapped: true },
        });
      });
    },
  };
}

/** `npm:/preact@10.29.8/hooks` or `npm:@scope/name@1.2.3/sub` to `preact/hooks`, `@scope/name/sub`. */
export function npmToBare(specifier: string): string {
  const rest = specifier.replace(/^npm:\/?/, "");
  const match = rest.match(/^(@[^/@]+\/[^/@]+|[^/@]+)(?:@[^/]*)?(\/.*)?$/);
  if (!match) return rest;
  return match[1] + (match[2] ?? "");
}
