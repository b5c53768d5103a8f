/**
 * The "not found" page.
 *
 * @module
 */
import type { SiteData } from "../router.ts";
import App from "./_app.tsx";

/** The 404 page; `path` is what was asked for. */
export default function NotFound(props: { site: SiteData; base: string; path: string }) {
  const { site, base } = props;
  return (
    <App title="Page not found" base={base} site={site} section="none">
      <article class="wrap not-found">
        <h1>Page not found</h1>
        <p>
          There is no page at <code>{props.path}</code>.
        </p>
        <p>The lessons are:</p>
        <ul>
          {site.lessons.map(({ entry }) => (
            <li key={entry.slug}>
              <a href={`${base}lessons/${entry.slug}/`}>Lesson {entry.number}: {entry.title}</a>
            </li>
          ))}
        </ul>
        <p>
          <a href={base}>Go to the home page</a>
        </p>
      </article>
    </App>
  );
}
