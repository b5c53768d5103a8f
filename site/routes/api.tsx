/**
 * The API reference's index: every name exported by `mod.ts` with the first paragraph of its
 * documentation, linking to the full pages that `deno doc --html` wrote under `api/doc/`.
 *
 * @module
 */
import type { ApiSymbol } from "../apidoc.ts";
import { renderInlineMarkdown, renderMarkdown } from "../components/markdown.ts";
import type { PageProps, SiteData } from "../router.ts";
import App from "./_app.tsx";

export const pattern = "/api/";

/** The reference has one index page (deno doc's pages are copied as they are). */
export function paths(): string[] {
  return ["/api/"];
}

/** The API docs from the site data. */
export function load(site: SiteData): SiteData {
  return site;
}

/** "API reference". */
export function title(): string {
  return "API reference";
}

/** Names of the kinds of symbols, in the order they are listed. */
const KINDS: [string, string][] = [
  ["namespace", "Namespaces"],
  ["function", "Functions"],
  ["class", "Classes"],
  ["variable", "Constants"],
  ["interface", "Interfaces"],
  ["typeAlias", "Types"],
  ["enum", "Enums"],
];

/** The API index page. */
export default function ApiPage({ site, base }: PageProps<SiteData>) {
  const { api } = site;
  const known = new Set(KINDS.map(([kind]) => kind));
  const groups = [
    ...KINDS,
    ["other", "Other"] as [string, string],
  ].map(([kind, heading]) => ({
    heading,
    symbols: api.symbols.filter((s) => (kind === "other" ? !known.has(s.kind) : s.kind === kind)),
  })).filter((group) => group.symbols.length > 0);
  return (
    <App title="API reference" base={base} site={site} section="api">
      <article class="wrap api">
        <h1>API reference</h1>
        {api.available
          ? (
            <>
              <p class="lede">
                Everything exported by{" "}
                <code>{api.entry}</code>, the library's public API. Each name links to its full
                documentation, generated from the JSDoc comments in the source with{" "}
                <code>deno doc</code>. The <a href="doc/">complete reference</a> has a search box.
              </p>
              {api.moduleDoc
                ? (
                  <div
                    class="prose"
                    dangerouslySetInnerHTML={{ __html: renderMarkdown(api.moduleDoc) }}
                  />
                )
                : null}
              {groups.map((group) => (
                <section key={group.heading}>
                  <h2>{group.heading}</h2>
                  <dl class="api-list">
                    {group.symbols.map((symbol) => <ApiEntry key={symbol.name} symbol={symbol} />)}
                  </dl>
                </section>
              ))}
            </>
          )
          : (
            <p class="note">
              The API reference is generated from <code>{api.entry}</code>{" "}
              when the site is built; it is not available yet ({api.reason}).
            </p>
          )}
      </article>
    </App>
  );
}

function ApiEntry({ symbol }: { symbol: ApiSymbol }) {
  return (
    <div class="api-symbol">
      <dt>
        {symbol.href
          ? (
            <a href={`doc/${symbol.href}`}>
              <code>{symbol.name}</code>
            </a>
          )
          : <code>{symbol.name}</code>}
      </dt>
      <dd>
        {symbol.summary
          ? <span dangerouslySetInnerHTML={{ __html: renderInlineMarkdown(symbol.summary) }} />
          : null}
        {symbol.members.length > 0
          ? (
            <dl class="api-members">
              {symbol.members.map((member) => <ApiEntry key={member.name} symbol={member} />)}
            </dl>
          )
          : null}
      </dd>
    </div>
  );
}
