/**
 * Hydrates the islands of a page: every `<div data-island="Name" data-props="{...}">` that the
 * server rendered becomes a live Preact component. This is the only script a page loads.
 *
 * @module
 */
import { type FunctionComponent, h, hydrate } from "preact";
import LiveRunner from "./LiveRunner.tsx";
import ModelDemo from "./ModelDemo.tsx";

/** The islands of the site, by name. */
// deno-lint-ignore no-explicit-any
const islands: Record<string, FunctionComponent<any>> = { LiveRunner, ModelDemo };

for (const element of document.querySelectorAll<HTMLElement>("[data-island]")) {
  const island = islands[element.dataset.island ?? ""];
  if (!island) continue;
  const props = JSON.parse(element.dataset.props ?? "{}");
  hydrate(h(island, props), element);
}
