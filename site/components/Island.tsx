/**
 * Marks where an island is: the server renders the component inside a `<div data-island>` that
 * carries its props as JSON, and `islands/boot.ts` hydrates it in the browser (Fresh's scheme).
 *
 * @module
 */
import type { ComponentChildren } from "preact";

/** Wraps a server-rendered island with its name and props. */
export function Island(props: { name: string; props: unknown; children: ComponentChildren }) {
  return (
    <div data-island={props.name} data-props={JSON.stringify(props.props)}>
      {props.children}
    </div>
  );
}
