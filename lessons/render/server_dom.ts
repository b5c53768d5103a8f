/**
 * A DOM document for drawing plots outside a browser (the terminal runner, the site's build),
 * made with linkedom. Browser code does not import this file: it passes the page's `document`.
 *
 * @module
 */

import { parseHTML } from "linkedom";
import type { PlotDocument } from "./plot_svg.ts";

let shared: PlotDocument | undefined;

/** A linkedom document, made once and reused (Plot only creates detached elements in it). */
export function serverDocument(): PlotDocument {
  shared ??= (parseHTML("<!DOCTYPE html><html><head></head><body></body></html>") as unknown as {
    document: PlotDocument;
  }).document;
  return shared;
}
