/** The statuses WHATWG fetch follows as redirects. */
const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Whether `status` with a `Location` is a redirect to follow. */
export function isRedirect(status: number, location: string | undefined): location is string {
  return REDIRECTS.has(status) && location !== undefined && location !== "";
}

/**
 * The next request of a redirect, as WHATWG fetch makes it: the `Location` resolved against the
 * URL that answered; the `authorization` header (any case) taken out of `headers` when the next
 * URL is on another origin, so credentials stay with their origin; and a GET without a body after
 * a 303, or after a 301/302 of a POST (`asGet`). Throws a TypeError for a `Location` that is not a URL.
 */
export function redirectTarget(
  from: URL,
  status: number,
  location: string,
  method: string,
  headers: Record<string, string>,
): { url: URL; method: string; asGet: boolean } {
  const url = new URL(location, from);
  if (url.origin !== from.origin) {
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase() === "authorization") delete headers[name];
    }
  }
  const asGet = status === 303 || ((status === 301 || status === 302) && method === "POST");
  return { url, method: asGet ? "GET" : method, asGet };
}
