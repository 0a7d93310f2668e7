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

/** Every `href` of an `<a>` element, in document order (comments and scripts are not parsed out). */
export function anchorHrefs(html: string): string[] {
  const hrefs: string[] = [];
  // Comments first: a commented-out link is not a link.
  const text = html.replace(/<!--[\s\S]*?-->/g, "");
  for (const tag of text.matchAll(/<a\s[^>]*>/gi)) {
    const match = /\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/i.exec(tag[0]);
    if (!match) continue;
    hrefs.push(decodeHtmlEntities(match[1] ?? match[2] ?? match[3] ?? ""));
  }
  return hrefs;
}

/**
 * An HTML folder page (nginx, Apache, rclone serve http, python's http.server): the links that
 * name a direct child of `page`. A trailing `/` is a folder. Sizes are not read from the page
 * (every server prints them differently, some rounded): the caller asks with HEAD. Navigation
 * links (the page itself, its parents, sort orders) are dropped silently; every other link that
 * is not a child is reported in `skipped`.
 */
export function parseHtmlIndex(html: string, page: URL): ParsedIndex {
  const rows: IndexRow[] = [];
  const skipped: { name: string; reason: string }[] = [];
  const seen = new Set<string>();
  for (const href of anchorHrefs(html)) {
    const link = childLink(href, page);
    if (link.kind === "skip") {
      if (!link.navigation) skipped.push({ name: href, reason: link.reason });
      continue;
    }
    // Index pages often link one child twice (an icon and a name).
    const id = `${link.kind}:${link.name}`;
    if (seen.has(id)) continue;
    seen.add(id);
    rows.push({ name: link.name, directory: link.kind === "directory" });
  }
  return { rows, skipped };
}
