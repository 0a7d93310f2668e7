import { keyUnderBase } from "./child-link.js";
import { ListingFormatError } from "./parse-autoindex-json.js";
import { decodeHtmlEntities } from "./parse-html-index.js";

/** One resource of a WebDAV multistatus answer, keyed relative to the base URL. */
export interface DavResource {
  /** `""` for the base collection itself. */
  readonly key: string;
  readonly collection: boolean;
  readonly size?: number | undefined;
  readonly mtime?: number | undefined;
  readonly etag?: string | undefined;
}

export interface ParsedPropfind {
  readonly resources: DavResource[];
  readonly skipped: { readonly name: string; readonly reason: string }[];
}

interface XmlElement {
  /** Local name, namespace prefix dropped (`D:href` → `href`). */
  readonly name: string;
  readonly children: XmlElement[];
  text: string;
}

/**
 * A deliberately small XML reader for multistatus documents: elements, text, CDATA and entities;
 * namespace prefixes are dropped (every DAV: element name is distinct enough), processing
 * instructions, comments and DOCTYPEs are skipped (no entity expansion beyond the predefined ones,
 * so no billion-laughs).
 */
function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: "#document", children: [], text: "" };
  const stack: XmlElement[] = [root];
  const token =
    /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<\/\s*([^\s>]+)\s*>|<([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/gy;
  let index = 0;
  while (index < xml.length) {
    token.lastIndex = index;
    const m = token.exec(xml);
    if (!m) throw new ListingFormatError(`malformed XML near offset ${index}`);
    index = token.lastIndex;
    const top = stack[stack.length - 1]!;
    if (m[1] !== undefined) top.text += m[1];
    else if (m[2] !== undefined) {
      const name = localName(m[2]);
      if (stack.length === 1 || top.name !== name)
        throw new ListingFormatError(`unbalanced </${m[2]}> in XML`);
      stack.pop();
    } else if (m[3] !== undefined) {
      const element: XmlElement = { name: localName(m[3]), children: [], text: "" };
      top.children.push(element);
      if (m[5] !== "/") stack.push(element);
    } else if (m[6] !== undefined) top.text += decodeHtmlEntities(m[6]);
  }
  if (stack.length !== 1) throw new ListingFormatError(`unclosed <${stack[stack.length - 1]!.name}> in XML`);
  return root;
}

function localName(qualified: string): string {
  const colon = qualified.indexOf(":");
  return (colon < 0 ? qualified : qualified.slice(colon + 1)).toLowerCase();
}

function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

function* descendants(element: XmlElement, name: string): Generator<XmlElement> {
  for (const c of element.children) {
    if (c.name === name) yield c;
    else yield* descendants(c, name);
  }
}

/**
 * A WebDAV `207 Multi-Status` answer to PROPFIND (RFC 4918): each `response` with its `href`
 * (resolved against `requestUrl`, kept only when under `base`) and the properties of its
 * `propstat` with status 200. A collection is a `resourcetype` containing `collection`.
 */
export function parsePropfind(xml: string, requestUrl: URL, base: URL): ParsedPropfind {
  const document = parseXml(xml);
  const multistatus = child(document, "multistatus");
  if (!multistatus) throw new ListingFormatError("a PROPFIND answer must be a DAV: multistatus document");
  const resources: DavResource[] = [];
  const skipped: { name: string; reason: string }[] = [];
  for (const response of multistatus.children.filter((c) => c.name === "response")) {
    const href = child(response, "href")?.text.trim();
    if (!href) {
      skipped.push({ name: "", reason: "a response without an href" });
      continue;
    }
    const located = keyUnderBase(href, requestUrl, base);
    if ("skip" in located) {
      skipped.push({ name: href, reason: located.skip });
      continue;
    }
    let collection = located.directory;
    let size: number | undefined;
    let mtime: number | undefined;
    let etag: string | undefined;
    for (const propstat of response.children.filter((c) => c.name === "propstat")) {
      const status = child(propstat, "status")?.text ?? "";
      if (!/^\s*HTTP\/[\d.]+\s+2\d\d/.test(status)) continue;
      for (const prop of descendants(propstat, "prop")) {
        const type = child(prop, "resourcetype");
        if (type && child(type, "collection")) collection = true;
        const length = child(prop, "getcontentlength")?.text.trim();
        if (length !== undefined && length !== "") {
          const n = Number(length);
          if (Number.isSafeInteger(n) && n >= 0) size = n;
        }
        const modified = child(prop, "getlastmodified")?.text.trim();
        if (modified) {
          const ms = Date.parse(modified);
          if (Number.isFinite(ms)) mtime = ms;
        }
        const tag = child(prop, "getetag")?.text.trim();
        if (tag) etag = tag;
      }
    }
    if (!collection && size === undefined) {
      skipped.push({ name: href, reason: "a file without a valid getcontentlength" });
      continue;
    }
    resources.push({ key: located.key, collection, size, mtime, etag });
  }
  return { resources, skipped };
}
