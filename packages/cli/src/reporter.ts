/** Where `ws` says things: never on stdout, which belongs to the command (or to `ls`/`cat` output). */
export interface ReporterOptions {
  /** NDJSON events instead of text. */
  readonly json: boolean;
  /** Only errors. */
  readonly quiet: boolean;
  /** Diagnostics, per-file events and stacks. */
  readonly verbose: boolean;
  /** A live progress line (stderr is a terminal and neither --json nor -q). */
  readonly progress: boolean;
  /** Every action is marked `[dry-run]`. */
  readonly dryRun: boolean;
  readonly write: (text: string) => void;
  readonly now?: (() => number) | undefined;
}

export type EventData = Record<string, unknown>;

/**
 * Text, NDJSON events and the progress line, on stderr. In `--json` mode every line is one JSON
 * object with `type` and `ms` (milliseconds since start); text mode prints the same facts as
 * `ws: ...` lines, and a progress line only when stderr is a terminal.
 */
export class Reporter {
  readonly #o: ReporterOptions;
  readonly #start: number;
  #progressShown = false;
  #lastProgress = 0;

  constructor(options: ReporterOptions) {
    this.#o = options;
    this.#start = this.#now();
  }

  get json(): boolean {
    return this.#o.json;
  }

  get verbose(): boolean {
    return this.#o.verbose;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  elapsedMs(): number {
    return this.#now() - this.#start;
  }

  #line(text: string): void {
    this.clearProgress();
    this.#o.write(`${text}\n`);
  }

  /** A structured event: a JSON line in --json mode; `text` (if any) otherwise, unless quiet. */
  event(type: string, data: EventData, text?: string): void {
    if (this.#o.json) {
      this.#o.write(
        `${JSON.stringify({ type, ms: this.elapsedMs(), ...(this.#o.dryRun ? { dryRun: true } : {}), ...data })}\n`,
      );
      return;
    }
    if (text !== undefined && !this.#o.quiet) this.#line(`ws: ${this.#o.dryRun ? "[dry-run] " : ""}${text}`);
  }

  /** Only with -v (and always as an event in --json mode). */
  detail(type: string, data: EventData, text: string): void {
    if (this.#o.json) this.event(type, data);
    else if (this.#o.verbose) this.#line(`ws: ${text}`);
  }

  /** Errors are printed even with -q. */
  error(message: string, data: EventData = {}, stack?: string): void {
    if (this.#o.json) {
      this.event("error", { message, ...data });
      return;
    }
    this.#line(`ws: error: ${message}`);
    if (this.#o.verbose && stack) this.#line(stack);
  }

  warn(message: string, data: EventData = {}): void {
    if (this.#o.json) this.event("warning", { message, ...data });
    else if (!this.#o.quiet) this.#line(`ws: warning: ${message}`);
  }

  /** The live line (at most 10 updates a second); nothing unless stderr is a terminal. */
  progress(text: string, force = false): void {
    if (!this.#o.progress) return;
    const now = this.#now();
    if (!force && now - this.#lastProgress < 100) return;
    this.#lastProgress = now;
    this.#o.write(`\r\x1b[2K${text}`);
    this.#progressShown = true;
  }

  clearProgress(): void {
    if (!this.#progressShown) return;
    this.#o.write("\r\x1b[2K");
    this.#progressShown = false;
  }
}

/** `1.2 MB`, `512 B`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = "B";
  for (const u of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = u;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${unit}`;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
