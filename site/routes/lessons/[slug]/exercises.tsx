/**
 * A lesson's exercises file, shown in full (read only), with its tasks and the command that
 * checks them. The student edits the file in their own editor.
 *
 * @module
 */
import { CodeBlock } from "../../../components/CodeBlock.tsx";
import type { PageProps, PreparedLesson, SiteData } from "../../../router.ts";
import App from "../../_app.tsx";

export const pattern = "/lessons/:slug/exercises/";

/** One page per lesson that has an exercises file. */
export function paths(site: SiteData): string[] {
  return site.lessons
    .filter((lesson) => lesson.exercisesHtml !== undefined)
    .map(({ entry }) => `/lessons/${entry.slug}/exercises/`);
}

/** The lesson, or `null` (a 404) when it has no exercises file. */
export function load(site: SiteData, params: Record<string, string>): PreparedLesson | null {
  const lesson = site.lessons.find(({ entry }) => entry.slug === params.slug);
  return lesson?.exercisesHtml !== undefined ? lesson : null;
}

/** "Exercises of lesson 1". */
export function title(data: PreparedLesson): string {
  return `Exercises of lesson ${data.entry.number}: ${data.entry.title}`;
}

/** The exercises page. */
export default function ExercisesPage({ data, site, base }: PageProps<PreparedLesson>) {
  const { entry } = data;
  return (
    <App title={title(data)} base={base} site={site} section="lessons">
      <article class="lesson wrap">
        <nav class="crumbs" aria-label="Breadcrumb">
          <a href={base}>Home</a> <span aria-hidden="true">›</span>{" "}
          <a href="../">Lesson {entry.number}</a> <span aria-hidden="true">›</span>{" "}
          <span>Exercises</span>
        </nav>
        <header class="lesson-head">
          <p class="kicker">Lesson {entry.number} · exercises</p>
          <h1>{entry.title}: exercises</h1>
          <p class="lede">
            Edit <code>{entry.exercisesPath}</code>{" "}
            in your editor: each stub throws until you write its code. Then run the check, which
            prints one line a task.
          </p>
          <pre class="commands"><code>$ deno task check {entry.number}</code></pre>
        </header>
        <ol class="tasks">
          {entry.tasks.map((task) => (
            <li key={task.id}>
              <div class="task-head">
                <span class="task-id">{task.id}</span>
                <strong>{task.title}</strong>
              </div>
              {task.hint
                ? (
                  <p class="hint">
                    <span>Hint:</span> {task.hint}
                  </p>
                )
                : null}
            </li>
          ))}
        </ol>
        <CodeBlock html={data.exercisesHtml ?? ""} caption={entry.exercisesPath} />
        <nav class="pager" aria-label="Lesson">
          <a class="pager-previous" href="../">
            <span>← Back to the lesson</span>
            Lesson {entry.number}: {entry.title}
          </a>
          <span />
        </nav>
      </article>
    </App>
  );
}
