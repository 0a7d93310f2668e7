/** A running HTTP test server over one directory of the machine. `stop()` is idempotent. */
export interface HttpTestServer extends HttpServerInfo {
  stop(): Promise<void>;
  /** The part that can cross a process boundary (vitest `provide`). */
  info(): HttpServerInfo;
}

/** What a test needs to talk to an HTTP test server. */
export interface HttpServerInfo {
  /** `"nginx-json"`, `"nginx-html"`, `"rclone-http"`, `"rclone-webdav"`, `"python-http"`. */
  readonly name: string;
  /** `http://127.0.0.1:PORT/` (always with the trailing slash). */
  readonly url: string;
  /** The directory the server serves; tests seed it with `fs.writeFile`. */
  readonly dataDir: string;
  /** Behaviours a client has to know about, as checked against the server. */
  readonly quirks: HttpServerQuirks;
  /** Basic-auth credentials every request needs, when the server was started with some. */
  readonly credentials?: { readonly username: string; readonly password: string } | undefined;
}

export interface HttpServerQuirks {
  /** How the server lists a folder: nginx's JSON autoindex, an HTML index page, or WebDAV PROPFIND. */
  readonly listing: "autoindex-json" | "html" | "webdav";
  /** A `Range` request gets a 206 (false: python's http.server answers 200 with the whole body). */
  readonly ranges: boolean;
  /** Responses carry an `ETag`. */
  readonly etags: boolean;
  /** Folder listings include names starting with a dot (false: nginx's autoindex hides them). */
  readonly dotFiles: boolean;
  /** PUT, MKCOL and DELETE are served (WebDAV). */
  readonly writable: boolean;
}
