/**
 * The frame of every page: head, header with the site's navigation, footer, and the island
 * script on pages that have islands. All links are relative, so the site works from a sub-path.
 *
 * @module
 */
import type { ComponentChildren } from "preact";
import type { SiteData } from "../router.ts";
import { CONTENT_SECURITY_POLICY_META } from "../csp.ts";

/** Props of {@link App}. */
export interface AppProps {
  title: string;
  base: string;
  site: SiteData;
  /** Which top-level section the page belongs to, for the navigation. */
  section: "home" | "lessons" | "api" | "none";
  islands?: boolean;
  children: ComponentChildren;
}

/** The HTML document around a page. */
export default function App(props: AppProps) {
  const { base, site } = props;
  const name = site.readme.title;
  const fullTitle = props.title === name ? name : `${props.title} · ${name}`;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta http-equiv="Content-Security-Policy" content={CONTENT_SECURITY_POLICY_META} />
        <title>{fullTitle}</title>
        <meta name="description" content={site.readme.intro} />
        <link rel="stylesheet" href={`${base}assets/katex/katex.min.css`} />
        <link rel="stylesheet" href={`${base}static/style.css`} />
        <link rel="icon" href={`${base}static/favicon.svg`} type="image/svg+xml" />
      </head>
      <body>
        <a class="skip-link" href="#content">Skip to content</a>
        <header class="site-header">
          <div class="wrap">
            <a class="brand" href={base}>{name}</a>
            <nav aria-label="Site">
              <a
                href={`${base}#lessons`}
                aria-current={props.section === "lessons" ? "page" : undefined}
              >
                Lessons
              </a>
              <a href={`${base}api/`} aria-current={props.section === "api" ? "page" : undefined}>
                API reference
              </a>
            </nav>
          </div>
        </header>
        <main id="content">{props.children}</main>
        <footer class="site-footer">
          <div class="wrap">
            <p>
              Outputs on these pages were captured by running each lesson at build time (quick mode,
              CPU). Run <code>deno task lesson N</code> to see them in your terminal.
            </p>
          </div>
        </footer>
        {props.islands ? <script type="module" src={`${base}assets/islands.js`}></script> : null}
      </body>
    </html>
  );
}
