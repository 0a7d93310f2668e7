import { describeMountConformance } from "@ws/testkit/vitest";
import { httpHarness } from "../test/http-harness.js";

const READ_ONLY_SERVER =
  "a read-only HTTP server (no WebDAV): a read-write mount refuses put and delete with ENOTSUP";
const NO_AUTH = "the test server runs without authentication, so nothing can be forbidden";
const NGINX_DOTFILES = "nginx's autoindex never lists names that start with a dot (.env, .config/, ...)";

// nginx with `autoindex_format json`: one GET per folder, exact sizes and mtimes in the listing.
describeMountConformance(
  "http",
  httpHarness("nginx-json"),
  {
    write: { status: "unsupported", reason: READ_ONLY_SERVER },
    delete: { status: "unsupported", reason: READ_ONLY_SERVER },
    forbidden: { status: "unsupported", reason: NO_AUTH },
    rangedReads: "supported",
  },
  { server: "nginx-json", knownFailures: { "names.leading-dot": NGINX_DOTFILES } },
);

// nginx with `autoindex_format html`: links from the page, a HEAD per file for its size and ETag.
describeMountConformance(
  "http",
  httpHarness("nginx-html"),
  {
    write: { status: "unsupported", reason: READ_ONLY_SERVER },
    delete: { status: "unsupported", reason: READ_ONLY_SERVER },
    forbidden: { status: "unsupported", reason: NO_AUTH },
    rangedReads: "supported",
  },
  { server: "nginx-html", knownFailures: { "names.leading-dot": NGINX_DOTFILES } },
);

// rclone serve http: an HTML index with sort links and a "Go up" link; no ETags.
describeMountConformance(
  "http",
  httpHarness("rclone-http"),
  {
    write: { status: "unsupported", reason: READ_ONLY_SERVER },
    delete: { status: "unsupported", reason: READ_ONLY_SERVER },
    forbidden: { status: "unsupported", reason: NO_AUTH },
    rangedReads: "supported",
  },
  { server: "rclone-http" },
);

// rclone serve webdav with Basic auth: PROPFIND Depth infinity, PUT + MKCOL, DELETE. rclone 1.60
// ignores If-Match and If-None-Match on PUT, so conditional writes stay off (ENOTSUP, nothing written).
describeMountConformance(
  "http",
  httpHarness("rclone-webdav"),
  {
    write: "supported",
    delete: "supported",
    conditionalPut: {
      status: "unsupported",
      reason: "rclone serve webdav 1.60 ignores If-Match / If-None-Match on PUT",
    },
    forbidden: "supported",
    rangedReads: "supported",
  },
  { server: "rclone-webdav" },
);

// python3 -m http.server: HTTP/1.0, an HTML list of links, no ETag, Range ignored (a large read
// falls back to the whole body it got).
describeMountConformance(
  "http",
  httpHarness("python-http"),
  {
    write: { status: "unsupported", reason: READ_ONLY_SERVER },
    delete: { status: "unsupported", reason: READ_ONLY_SERVER },
    forbidden: { status: "unsupported", reason: NO_AUTH },
    rangedReads: "supported",
  },
  { server: "python-http" },
);
