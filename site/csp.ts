/**
 * The Content-Security-Policy of the site: its pages and files may load only the site's own
 * files (plus inline styles, which plots and highlighted code use, and WebAssembly for the live
 * runner). The server sends it with every page and static file (a worker script, an SVG or
 * deno doc's pages obey their own response's policy); the static build writes it into each
 * page (`<meta http-equiv>`) and into a `_headers` file for hosts that read one.
 *
 * @module
 */

const DIRECTIVES = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
];

/** The policy, as a response header's value. */
export const CONTENT_SECURITY_POLICY: string = DIRECTIVES.join("; ");

/** The policy for a `<meta http-equiv>` tag (which cannot hold frame-ancestors). */
export const CONTENT_SECURITY_POLICY_META: string = DIRECTIVES
  .filter((directive) => !directive.startsWith("frame-ancestors"))
  .join("; ");

/** A `_headers` file (Netlify, Cloudflare Pages) giving every file of a static copy the policy. */
export function headersFile(): string {
  return [
    "/*",
    `  Content-Security-Policy: ${CONTENT_SECURITY_POLICY}`,
    "  X-Content-Type-Options: nosniff",
    "  Referrer-Policy: no-referrer",
    "",
  ].join("\n");
}
