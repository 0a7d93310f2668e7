import { MountError } from "@ws/core";
import { EXIT } from "./exit-codes.js";

/** An error the user can act on: printed as one line (no stack unless -v), with an exit code. */
export class CliError extends Error {
  override readonly name: string = "CliError";
  readonly exitCode: number;
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? EXIT.usage;
  }
}

/** One line for any error: a CliError's or MountError's message, else the error's own. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0]!.trim();
}

/** Credentials and permission failures get a hint about where credentials come from. */
export function describeFailure(error: unknown, source?: string): string {
  const line = oneLine(error);
  if (MountError.hasCode(error, "EACCES") && source !== undefined && /^s3:/i.test(source)) {
    return `${line} (ws reads them from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE; endpoint from AWS_ENDPOINT_URL)`;
  }
  return line;
}
