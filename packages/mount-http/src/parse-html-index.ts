import { childLink } from "./child-link.js";
import type { IndexRow, ParsedIndex } from "./parse-autoindex-json.js";

const NAMED: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
};

/** Decodes HTML character references (`&amp;`, `&#39;`, `&#x2F;`) in an attribute value. */
export function decodeHtmlEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === "#") {
      const code =
        ref[1] === "x" || ref[1] === "X" ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

/** One `<a href>` of a page, with the text that follows its closing tag (up to the next link). */
export interface Anchor {
  readonly href: string;
  /** What follows `</a>`: where index pages print a file's date and size. */
  readonly after: string;
}

/** Every `href` of an `<a>` element, in document order (comments and scripts are not parsed out). */
export function anchorHrefs(html: string): string[] {
  return anchors(html).map((a) => a.href);
}

/** Every `<a href>` of a page with the text after it; commented-out links are not links. */
export function anchors(html: string): Anchor[] {
  const out: Anchor[] = [];
  const text = html.replace(/<!--[\s\S]*?-->/g, "");
  const tags = [...text.matchAll(/<a\s[^>]*>/gi)];
  tags.forEach((tag, i) => {
    const match = /\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/i.exec(tag[0]);
    if (!match) return;
    const start = (tag.index ?? 0) + tag[0].length;
    const stop = Math.min(tags[i + 1]?.index ?? text.length, start + 2000);
    const body = text.slice(start, stop);
    const close = body.search(/<\/a\s*>/i);
    out.push({
      href: decodeHtmlEntities(match[1] ?? match[2] ?? match[3] ?? ""),
      after: close < 0 ? "" : body.slice(body.indexOf(">", close) + 1, close + 300),
    });
  });
  return out;
}

/**
 * The exact size an index page prints after a file's link, in the two layouts known to print
 * exact byte counts: nginx's HTML autoindex (`DD-Mon-YYYY HH:MM  SIZE` on the link's line, with
 * the default `autoindex_exact_size on`) and rclone serve http (`<td data-order="SIZE">`).
 * Anything else (Apache's rounded "1.2K", python's bare links) is undefined: the caller asks with
 * HEAD. A wrong guess cannot become data: every fetch is checked against the listed size.
 */
export function printedSize(after: string): number | undefined {
  const nginx = /^[ \t]+\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}[ \t]+(\d+)[ \t]*(?:\r?\n|$)/.exec(after);
  const rclone = /^\s*<\/span>\s*<\/td>\s*<td data-order="(\d+)">/.exec(after);
  const digits = nginx?.[1] ?? rclone?.[1];
  if (digits === undefined) return undefined;
  const size = Number(digits);
  return Number.isSafeInteger(size) ? size : undefined;
}

/**
 * An HTML folder page (nginx, Apache, rclone serve http, python's http.server): the links that
 * name a direct child of `page`. A trailing `/` is a folder. A file's size is taken from the page
 * only where it prints an exact byte count in a known layout (`printedSize`); otherwise the
 * caller asks with HEAD. Navigation links (the page itself, its parents, sort orders) are dropped
 * silently; every other link that is not a child is reported in `skipped`.
 */
export function parseHtmlIndex(html: string, page: URL): ParsedIndex {
  const rows: IndexRow[] = [];
  const skipped: { name: string; reason: string }[] = [];
  const seen = new Set<string>();
  for (const { href, after } of anchors(html)) {
    const link = childLink(href, page);
    if (link.kind === "skip") {
      if (!link.navigation) skipped.push({ name: href, reason: link.reason });
      continue;
    }
    // Index pages often link one child twice (an icon and a name).
    const id = `${link.kind}:${link.name}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const size = link.kind === "file" ? printedSize(after) : undefined;
    rows.push({
      name: link.name,
      directory: link.kind === "directory",
      ...(size !== undefined ? { size } : {}),
    });
  }
  return { rows, skipped };
}
