/**
 * The home page: what the project is, how to start in the terminal, and the lessons in order.
 *
 * @module
 */
import { renderInlineMarkdown } from "../components/markdown.ts";
import type { PageProps, SiteData } from "../router.ts";
import App from "./_app.tsx";

export const pattern = "/";

/** The home page has one path. */
export function paths(): string[] {
  return ["/"];
}

/** Everything the home page needs is in the site data. */
export function load(site: SiteData): SiteData {
  return site;
}

/** The page title: the project's name. */
export function title(_data: SiteData, site: SiteData): string {
  return site.readme.title;
}

/** The home page. */
export default function Home({ site, base }: PageProps<SiteData>) {
  const { readme } = site;
  return (
    <App title={readme.title} base={base} site={site} section="home">
      <section class="hero">
        <div class="wrap">
          <h1>{readme.title}</h1>
          <p
            class="lede"
            dangerouslySetInnerHTML={{ __html: renderInlineMarkdown(readme.intro) }}
          />
          <div class="hero-grid">
            <div>
              <h2>Start in the terminal</h2>
              <p>From the repository's folder:</p>
              <pre class="commands"><code>{readme.quickStart.map((command) => `$ ${command}\n`).join("")}</code></pre>
            </div>
            <div>
              <h2>Or read on</h2>
              <p>
                Each lesson below shows every step's code with the output it printed, and a button
                that runs the lesson again in your browser, on your GPU through WebGPU when the
                browser has it.
              </p>
              <p>
                The <a href={`${base}api/`}>API reference</a>{" "}
                lists every function and class of the library.
              </p>
            </div>
          </div>
        </div>
      </section>
      <section class="wrap" id="lessons" aria-labelledby="lessons-heading">
        <h2 id="lessons-heading">Lessons</h2>
        {site.listSource === "fixtures"
          ? (
            <p class="note">
              These are the fixture lessons of the site's tests.
            </p>
          )
          : null}
        <ol class="lesson-list">
          {site.lessons.map(({ entry, steps }) => (
            <li key={entry.slug}>
              <a class="lesson-card" href={`${base}lessons/${entry.slug}/`}>
                <span class="lesson-number">Lesson {entry.number}</span>
                <span class="lesson-title">{entry.title}</span>
                <span class="lesson-description">{entry.description}</span>
                <span class="lesson-meta">
                  {steps.length} steps
                  {entry.tasks.length > 0 ? ` · ${entry.tasks.length} exercises` : ""}
                </span>
              </a>
            </li>
          ))}
        </ol>
      </section>
    </App>
  );
}
