/**
 * The status page's files, as the HTTP server serves them: the page (`assets/index.html`), its
 * script (`assets/app.js`, a classic script, no build step) and its style sheet
 * (`assets/style.css`), read through text imports so that `deno compile` embeds them.
 *
 * Owns: which URL path serves which file, its content type and its strong ETag. Does not own:
 * answering requests, conditional GETs or caching headers (`http_server.ts`), or the data the
 * page shows (it asks `/api/*` for that).
 *
 * @module
 */
import html from "./assets/index.html" with { type: "text" };
import script from "./assets/app.js" with { type: "text" };
import style from "./assets/style.css" with { type: "text" };

/** One file of the page. */
export interface Asset {
  /** The `Content-Type` header, with its charset. */
  readonly contentType: string;
  readonly body: string;
  /** A strong ETag, quotes included: `"1f3a-9c0e…"` (the body's length and hash). */
  readonly etag: string;
}

/** The page's files by URL path: `/`, `/app.js`, `/style.css`. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["/", asset("text/html; charset=utf-8", html)],
  ["/app.js", asset("text/javascript; charset=utf-8", script)],
  ["/style.css", asset("text/css; charset=utf-8", style)],
]);

function asset(contentType: string, body: string): Asset {
  return { contentType, body, etag: etagOf(body) };
}

/**
 * A strong ETag for `body`: its UTF-8 length and 64-bit FNV-1a hash, in hex. Not a
 * cryptographic hash: it only has to change when the file does, and it is computed once, when
 * this module is loaded.
 */
export function etagOf(body: string): string {
  const bytes = new TextEncoder().encode(body);
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  let hash = 0xcbf29ce484222325n;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * prime) & mask;
  return `"${bytes.length.toString(16)}-${hash.toString(16).padStart(16, "0")}"`;
}
