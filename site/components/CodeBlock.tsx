/**
 * A block of code highlighted at build time (server only).
 *
 * @module
 */

/** Shows highlighted HTML from `highlight()`, with an optional caption (a file name). */
export function CodeBlock(props: { html: string; caption?: string; label?: string }) {
  return (
    <div class="code" aria-label={props.label}>
      {props.caption ? <div class="code-caption">{props.caption}</div> : null}
      <div class="code-body" dangerouslySetInnerHTML={{ __html: props.html }} />
    </div>
  );
}
