import type { HttpSession } from "./http-session.js";

/** How the tree is listed. `"auto"` asks the server (see the README). */
export type HttpListing = "auto" | "manifest" | "webdav" | "autoindex-json" | "html";

/** What the mount knows of one file from its last listing (or its own last put). */
export interface Known {
  readonly size: number;
  readonly sha256?: string | undefined;
  readonly etag?: string | undefined;
}

/** What the parts of one mount share: settings, the request session and what the last listing learnt. */
export interface TreeContext {
  readonly base: URL;
  /** The base URL for messages (no query string). */
  readonly what: string;
  readonly session: HttpSession;
  readonly config: {
    readonly concurrency: number;
    readonly maxFolders: number;
    readonly maxDepth: number;
    readonly maxManifestPages: number;
    readonly readStreams: number;
    readonly rangeThreshold: number;
    /** The manifest's URL relative to the base, when the listing is a manifest. */
    readonly manifestPath: string | undefined;
  };
  readonly state: {
    /** The listing format, once known. */
    format: Exclude<HttpListing, "auto"> | undefined;
    /** Files of the last listing (and of this mount's own puts), by key. */
    readonly known: Map<string, Known>;
    /** Folders of the last listing, by key. */
    readonly folders: Set<string>;
  };
}
