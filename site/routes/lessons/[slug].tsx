/**
 * A lesson's page: each step's prose, its code exactly as written in the lesson file, and under
 * it the output captured by running the lesson at build time; the live runner; the exercises;
 * links to the previous and next lessons.
 *
 * @module
 */
import type { StepOutput } from "../../../lessons/format.ts";
import type { Capture } from "../../capture.ts";
import { CAPTURE_SEED } from "../../capture.ts";
import { CodeBlock } from "../../components/CodeBlock.tsx";
import { Island } from "../../components/Island.tsx";
import { ErrorOutput, OutputBlocks } from "../../components/Outputs.tsx";
import { serverDocument } from "../../../lessons/render/server_dom.ts";
import LiveRunner, { type LiveRunnerProps } from "../../islands/LiveRunner.tsx";
import ModelDemo from "../../islands/ModelDemo.tsx";
import type { PageProps, PreparedLesson, SiteData } from "../../router.ts";
import App from "../_app.tsx";

export const pattern = "/lessons/:slug/";
export const islands = true;

/** What a lesson page shows. */
export interface LessonPageData {
  prepared: PreparedLesson;
  capture?: Capture;
  capturing: boolean;
  previous?: PreparedLesson;
  next?: PreparedLesson;
  total: number;
}

/** One page per lesson. */
export function paths(site: SiteData): string[] {
  return site.lessons.map(({ entry }) => `/lessons/${entry.slug}/`);
}

/** The lesson named by the slug, or `null` (a 404) when there is none. */
export function load(site: SiteData, params: Record<string, string>): LessonPageData | null {
  const index = site.lessons.findIndex(({ entry }) => entry.slug === params.slug);
  if (index < 0) return null;
  const prepared = site.lessons[index];
  return {
    prepared,
    capture: site.captures.get(prepared.entry.slug),
    capturing: site.capturing.has(prepared.entry.slug),
    previous: site.lessons[index - 1],
    next: site.lessons[index + 1],
    total: site.lessons.length,
  };
}

/** "Lesson 1: Regression". */
export function title(data: LessonPageData): string {
  return `Lesson ${data.prepared.entry.number}: ${data.prepared.entry.title}`;
}

/** The lesson page. */
export default function LessonPage({ data, site, base }: PageProps<LessonPageData>) {
  const { prepared, capture } = data;
  const { entry, steps } = prepared;
  const runner: LiveRunnerProps = {
    slug: entry.slug,
    lessonNumber: entry.number,
    stepCount: steps.length,
    base,
    seed: CAPTURE_SEED,
  };
  return (
    <App title={title(data)} base={base} site={site} section="lessons" islands>
      <article class="lesson wrap">
        <nav class="crumbs" aria-label="Breadcrumb">
          <a href={base}>Home</a> <span aria-hidden="true">›</span>{" "}
          <a href={`${base}#lessons`}>Lessons</a> <span aria-hidden="true">›</span>{" "}
          <span>Lesson {entry.number}</span>
        </nav>
        <header class="lesson-head">
          <p class="kicker">Lesson {entry.number} of {data.total}</p>
          <h1>{entry.title}</h1>
          <p class="lede">{entry.description}</p>
          <p class="lesson-links">
            In the terminal: <code>deno task lesson {entry.number}</code> · Source:{" "}
            <code>{entry.modulePath}</code> · Jupyter:{" "}
            <a href={`${base}notebooks/${prepared.notebookFile}`} download>
              {prepared.notebookFile}
            </a>{" "}
            (for <code>out/notebooks/</code>, or <code>deno task notebook {entry.number}</code>)
            {entry.tasks.length > 0
              ? (
                <>
                  {" · "}
                  <a href="#exercises">Exercises</a>
                </>
              )
              : null}
          </p>
        </header>
        <nav class={steps.length > 5 ? "toc long" : "toc"} aria-label="Steps">
          <ol>
            {steps.map((step, i) => (
              <li key={i}>
                <a href={`#step-${i + 1}`}>{step.title}</a>
              </li>
            ))}
            {entry.tasks.length > 0
              ? (
                <li class="toc-extra">
                  <a href="#exercises">Exercises</a>
                </li>
              )
              : null}
          </ol>
        </nav>
        <div class="runner-bar">
          <Island name="LiveRunner" props={runner}>
            <LiveRunner {...runner} />
          </Island>
        </div>
        <CaptureNote data={data} />
        {prepared.preambleHtml
          ? (
            <details class="preamble">
              <summary>The top of the lesson file: imports and the lesson() call</summary>
              <CodeBlock html={prepared.preambleHtml} caption={entry.modulePath} />
            </details>
          )
          : null}
        {steps.map((step, i) => (
          <section
            class="step"
            id={`step-${i + 1}`}
            key={i}
            aria-labelledby={`step-${i + 1}-title`}
          >
            <h2 id={`step-${i + 1}-title`}>
              <span class="step-number">{i + 1}</span> {step.title}
            </h2>
            <div class="prose" dangerouslySetInnerHTML={{ __html: step.proseHtml }} />
            <div class="cell">
              <CodeBlock html={step.codeHtml} label={`Code of step ${i + 1}`} />
              <StepOutputBox index={i} capture={capture} capturing={data.capturing} />
            </div>
          </section>
        ))}
        {entry.number === 10
          ? (
            <Island name="ModelDemo" props={{ base }}>
              <ModelDemo base={base} />
            </Island>
          )
          : null}
        <Exercises prepared={prepared} />
        <nav class="pager" aria-label="Lessons">
          {data.previous
            ? (
              <a class="pager-previous" href={`${base}lessons/${data.previous.entry.slug}/`}>
                <span>← Previous</span>
                Lesson {data.previous.entry.number}: {data.previous.entry.title}
              </a>
            )
            : <span />}
          {data.next
            ? (
              <a class="pager-next" href={`${base}lessons/${data.next.entry.slug}/`}>
                <span>Next →</span>
                Lesson {data.next.entry.number}: {data.next.entry.title}
              </a>
            )
            : <span />}
        </nav>
      </article>
    </App>
  );
}

/** Says how the outputs were made, or that they are not there yet. */
function CaptureNote({ data }: { data: LessonPageData }) {
  const { capture } = data;
  if (!capture) {
    return (
      <p class="note">
        {data.capturing
          ? "The outputs of this lesson are being captured; reload the page in a minute."
          : "The outputs of this lesson have not been captured."}
      </p>
    );
  }
  if (capture.error) {
    return (
      <p class="note warning">
        The lesson failed when it was run to capture its outputs; the error is shown under the step
        that raised it.
      </p>
    );
  }
  return null;
}

/** The output box under a step's code: captured blocks, or an error, or a placeholder. */
function StepOutputBox(props: { index: number; capture?: Capture; capturing: boolean }) {
  const { index, capture } = props;
  const output: StepOutput | undefined = capture?.steps.find((step) => step.index === index);
  // A failed run stops in its last step (or before the first, when the module failed to load).
  const lastIndex = capture?.steps.at(-1)?.index ?? -1;
  const failedHere = Boolean(capture?.error) && index === Math.max(lastIndex, 0);
  const note = capture
    ? "captured at build time · quick mode · CPU"
    : props.capturing
    ? "being captured"
    : "not captured";
  let placeholder: string | null = null;
  if (!capture) placeholder = "No captured output yet.";
  else if (!output && !failedHere) placeholder = "This step did not run.";
  else if (output?.blocks.length === 0 && !failedHere) placeholder = "This step shows nothing.";
  return (
    <div class="output" data-step-output={index}>
      <div class="output-head">
        <span class="output-label">Output</span>
        <span class="output-note">{note}</span>
      </div>
      <div class="output-body">
        {output && output.blocks.length > 0
          ? <OutputBlocks blocks={output.blocks} plotDocument={serverDocument()} />
          : null}
        {placeholder ? <p class="out-waiting">{placeholder}</p> : null}
        {failedHere && capture?.error
          ? <ErrorOutput message={capture.error.split("\n")[0]} detail={capture.error} />
          : null}
      </div>
    </div>
  );
}

/** The lesson's exercises: each task with its hint, the command that checks it, the file. */
function Exercises({ prepared }: { prepared: PreparedLesson }) {
  const { entry } = prepared;
  if (entry.tasks.length === 0) return null;
  const file = entry.exercisesPath;
  return (
    <section class="exercises" id="exercises" aria-labelledby="exercises-title">
      <h2 id="exercises-title">Exercises</h2>
      <p>
        {file
          ? (
            <>
              Open{" "}
              <a href="exercises/">
                <code>{file}</code>
              </a>{" "}
              in your editor, replace each stub with your code, and check your work:
            </>
          )
          : <>Check your work:</>}
      </p>
      <pre class="commands"><code>$ deno task check {entry.number}</code></pre>
      <p>
        The check prints one line a task: done, or not yet with a hint. A task you have not started
        says so, without a stack trace.
      </p>
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
            <p class="task-check">
              Check: <code>deno task check {entry.number}</code>
              {file
                ? (
                  <>
                    {" · "}edit{" "}
                    <a href="exercises/">
                      <code>{file}</code>
                    </a>
                  </>
                )
                : null}
            </p>
          </li>
        ))}
      </ol>
    </section>
  );
}
