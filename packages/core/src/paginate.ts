import { MountError } from "./errors.js";

/** One page as a backend returns it. */
export interface Page<T, C> {
  readonly items: readonly T[];
  /** What to pass to get the next page; required when `truncated`. */
  readonly cursor?: C | undefined;
  /** More pages follow. */
  readonly truncated: boolean;
}

export interface PaginateOptions {
  /** What is being listed, for messages: `"s3://bucket/prefix/"`. */
  readonly what: string;
  /** Refuse to walk more pages than this (`EIO` naming the bound). Default: unbounded. */
  readonly maxPages?: number | undefined;
}

/**
 * The one page loop: calls `fetchPage(undefined)`, then `fetchPage(cursor)` while pages are
 * truncated, yielding each page's items. A listing never ends early in silence: a truncated page
 * without a cursor, a cursor the backend already gave (a loop), or more than `maxPages` pages all
 * fail `EIO`.
 */
export async function* paginate<T, C>(
  fetchPage: (cursor: C | undefined) => Promise<Page<T, C>>,
  options: PaginateOptions,
): AsyncGenerator<T[], void, undefined> {
  const seen = new Set<C>();
  let cursor: C | undefined;
  for (let pages = 1; ; pages++) {
    if (options.maxPages !== undefined && pages > options.maxPages) {
      throw new MountError(
        "EIO",
        `listing ${options.what} took more than ${options.maxPages} pages (maxPages); refusing to go on`,
        { syscall: "scandir" },
      );
    }
    const page = await fetchPage(cursor);
    yield [...page.items];
    if (!page.truncated) return;
    if (page.cursor === undefined || page.cursor === null || (page.cursor as unknown) === "") {
      throw new MountError(
        "EIO",
        `listing ${options.what} was truncated but the server sent no cursor; refusing to stop early`,
        { syscall: "scandir" },
      );
    }
    if (seen.has(page.cursor)) {
      throw new MountError(
        "EIO",
        `listing ${options.what} returned cursor ${JSON.stringify(page.cursor)} twice; the server is looping`,
        { syscall: "scandir" },
      );
    }
    seen.add(page.cursor);
    cursor = page.cursor;
  }
}
