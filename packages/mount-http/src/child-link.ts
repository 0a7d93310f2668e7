/**
 * Turning the links of a listing into entries, without ever leaving the tree: a link becomes an
 * entry only when it names a direct child of the folder page it is on (HTML and JSON indexes) or
 * a path under the mount's base URL (WebDAV hrefs, manifest pages). Everything else is skipped:
 * other origins, query strings, fragments, `..`, and names that cannot be a path segment.
 */

/** What one link of a folder page is. */
export type ChildLink =
  | { readonly kind: "file" | "directory"; readonly name: string }
  /** `navigation`: a link every index has (itself, a parent, a sort order), dropped silently. */
  | { readonly kind: "skip"; readonly reason: string; readonly navigation: boolean };

/** Why a decoded name cannot be one path segment, or undefined when it can. */
export function segmentProblem(name: string): string | undefined {
  if (name === "") return "an empty name";
  if (name === "." || name === "..") return `a ${name} segment`;
  if (name.includes("/")) return "a name containing / (%2F)";
  if (name.includes("\0")) return "a name containing NUL";
  return undefined;
}

function skip(reason: string, navigation = false): ChildLink {
  return { kind: "skip", reason, navigation };
}

function hasDotDot(href: string): boolean {
  const path = href.split(/[?#]/, 1)[0] ?? "";
  return path.split("/").some((segment) => {
    try {
      return decodeURIComponent(segment) === "..";
    } catch {
      return false;
    }
  });
}

/**
 * The child a link of the folder page at `page` (a URL ending in `/`) points to. `href` is the
 * attribute value as written, HTML entities already decoded.
 */
export function childLink(href: string, page: URL): ChildLink {
  const raw = href.trim();
  if (raw === "" || raw.startsWith("#") || raw.startsWith("?"))
    return skip("a link to the page itself", true);
  let url: URL;
  try {
    url = new URL(raw, page);
  } catch {
    return skip("not a URL");
  }
  if (url.protocol !== page.protocol || url.host !== page.host) {
    return skip(`a link to another origin (${url.origin})`);
  }
  const ancestor = page.pathname.startsWith(url.pathname) && url.pathname.endsWith("/");
  if (ancestor || url.pathname === page.pathname) {
    // The page itself (a sort order), its parent or an ancestor (breadcrumbs, "../").
    return skip("a link to this folder or one above it", true);
  }
  if (hasDotDot(raw)) return skip("a path with a .. segment");
  if (url.search !== "" || url.hash !== "") return skip("a link with a query string or fragment");
  if (url.username !== "" || url.password !== "") return skip("a link with credentials");
  if (!url.pathname.startsWith(page.pathname)) return skip("a link outside this folder");
  const rest = url.pathname.slice(page.pathname.length);
  const directory = rest.endsWith("/");
  const encoded = directory ? rest.slice(0, -1) : rest;
  if (encoded.includes("/")) return skip("a link below a child folder, not a direct child");
  let name: string;
  try {
    name = decodeURIComponent(encoded);
  } catch {
    return skip("malformed percent-encoding");
  }
  const problem = segmentProblem(name);
  if (problem) return skip(problem);
  return { kind: directory ? "directory" : "file", name };
}

/**
 * The key (decoded segments joined by `/`, no trailing slash) of a WebDAV href under `base` (a URL
 * ending in `/`), `""` for the base itself, or `{ skip }` when the href leaves the base or cannot
 * be a path.
 */
export function keyUnderBase(
  href: string,
  requestUrl: URL,
  base: URL,
): { readonly key: string; readonly directory: boolean } | { readonly skip: string } {
  let url: URL;
  try {
    url = new URL(href.trim(), requestUrl);
  } catch {
    return { skip: "not a URL" };
  }
  if (url.protocol !== base.protocol || url.host !== base.host) {
    return { skip: `an href on another origin (${url.origin})` };
  }
  if (url.search !== "" || url.hash !== "") return { skip: "an href with a query string or fragment" };
  if (hasDotDot(href)) return { skip: "an href with a .. segment" };
  const basePath = base.pathname;
  // Some servers answer the base collection without its trailing slash.
  if (url.pathname === basePath || `${url.pathname}/` === basePath) return { key: "", directory: true };
  if (!url.pathname.startsWith(basePath)) return { skip: "an href outside the base URL" };
  const rest = url.pathname.slice(basePath.length);
  const directory = rest.endsWith("/");
  const segments = (directory ? rest.slice(0, -1) : rest).split("/");
  const names: string[] = [];
  for (const segment of segments) {
    let name: string;
    try {
      name = decodeURIComponent(segment);
    } catch {
      return { skip: "malformed percent-encoding" };
    }
    const problem = segmentProblem(name);
    if (problem) return { skip: problem };
    names.push(name);
  }
  return { key: names.join("/"), directory };
}

/** Percent-encodes one path segment for a URL: every byte except RFC 3986 unreserved characters. */
export function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The URL of `key` (a relative path, `/`-separated) under `base` (ending in `/`). */
export function urlOfKey(base: URL, key: string, directory = false): URL {
  const path = key === "" ? "" : key.split("/").map(encodeSegment).join("/");
  // Through the pathname setter, never `new URL(path, origin)`: a path starting with "//" would
  // name another host there.
  const url = new URL(base.href);
  url.search = "";
  url.hash = "";
  url.pathname = `${base.pathname}${path}${directory && path !== "" ? "/" : ""}`;
  return url;
}
