import { MountError, type MountErrorCode, redact } from "@ws/core";
import { classifyNetworkError } from "@ws/provider-kit";

/** The parts of an SDK error this package looks at. */
interface SdkErrorLike {
  readonly name?: unknown;
  readonly Code?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly $metadata?: {
    readonly httpStatusCode?: number;
    readonly requestId?: string;
    /** The SDK's own count of the attempts it made (its retry strategy sets it). */
    readonly attempts?: number;
  };
}

/** The HTTP status of an SDK error, when the server answered at all. */
export function statusOf(error: unknown): number | undefined {
  return (error as SdkErrorLike | undefined)?.$metadata?.httpStatusCode;
}

/** The S3 error code (`NoSuchKey`, `AccessDenied`...) or the Node error code (`ECONNREFUSED`). */
export function errorName(error: unknown): string {
  const e = error as SdkErrorLike | undefined;
  for (const candidate of [e?.Code, e?.name, e?.code]) {
    if (typeof candidate === "string" && candidate !== "" && candidate !== "Error") return candidate;
  }
  return "Error";
}

const NOT_FOUND = new Set(["NoSuchKey", "NotFound", "NoSuchBucket"]);
const FORBIDDEN = new Set([
  "AccessDenied",
  "Forbidden",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "InvalidToken",
  "ExpiredToken",
  "AllAccessDisabled",
  "AccountProblem",
]);

/** A copy of the SDK's error that is safe to log: the message redacted, no request or response objects. */
export function safeCause(error: unknown, secrets: Iterable<string | undefined>): Error {
  const list = [...secrets];
  const e = error as SdkErrorLike | undefined;
  const message = redact(typeof e?.message === "string" ? e.message : String(error), list);
  const cause = new Error(message);
  cause.name = errorName(error);
  const status = statusOf(error);
  const extra = cause as Error & { statusCode?: number; requestId?: string; code?: string };
  if (status !== undefined) extra.statusCode = status;
  if (e?.$metadata?.requestId) extra.requestId = e.$metadata.requestId;
  if (typeof e?.code === "string") extra.code = e.code;
  if (error instanceof Error && error.stack) cause.stack = redact(error.stack, list);
  return cause;
}

export interface ErrorContext {
  /** The relative path, or `""` for the whole mount (a listing). */
  readonly path: string;
  /** `s3://bucket/key`, for the message. */
  readonly where: string;
  /** The node:fs-style operation: `open`, `scandir`, `write`, `unlink`. */
  readonly syscall: string;
  /** The precondition the request carried, so a 412 maps to the right code. */
  readonly precondition?: "ifMatch" | "ifNoneMatch" | undefined;
  readonly secrets: Iterable<string | undefined>;
  /**
   * The request went through an SDK client that retries by itself (a client the user passed in):
   * its failures are final, never transient, so the retry layer does not multiply its attempts.
   */
  readonly clientRetried?: boolean | undefined;
}

const THROTTLING = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "RequestThrottled",
  "TooManyRequestsException",
  "RequestLimitExceeded",
]);
const TRANSIENT_NAMES = new Set([
  "RequestTimeout",
  "RequestTimeoutException",
  "InternalError",
  "ServiceUnavailable",
  "TimeoutError",
  "TruncatedBody",
  // The mount's own timeoutMs on a request of a client passed in (see request-timer.ts).
  "RequestStalled",
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);
const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Worth another attempt: throttling, 5xx, timeouts, resets and cut bodies, the failures the SDK's
 * standard retry strategy retries.
 */
export function isTransientS3(error: unknown): boolean {
  const status = statusOf(error);
  const name = errorName(error);
  if (status !== undefined && TRANSIENT_STATUS.has(status)) return true;
  if (THROTTLING.has(name) || TRANSIENT_NAMES.has(name)) return true;
  if (status === undefined && /socket hang up/i.test(String((error as SdkErrorLike)?.message ?? "")))
    return true;
  return status === undefined && classifyNetworkError(error)?.transient === true;
}

/**
 * Maps an SDK (or fast-path) error to a MountError: 404 `ENOENT`, 403 `EACCES`, 412 `ESTALE` or
 * `EEXIST`, 501 `ENOTSUP`, the rest `EIO`. Throttling, 5xx, timeouts and network failures are
 * `transient` (the retry layer tries again), unless a client that retries by itself already did.
 */
export function toMountError(error: unknown, context: ErrorContext): MountError {
  if (MountError.isInstance(error)) return error;
  const status = statusOf(error);
  const name = errorName(error);
  const cause = safeCause(error, context.secrets);
  const detail = status === undefined ? name : `${name}, HTTP ${status}`;
  const make = (code: MountErrorCode, message: string): MountError =>
    new MountError(code, message, { path: context.path, syscall: context.syscall, cause });

  if (status === 412 || name === "PreconditionFailed") {
    if (context.precondition === "ifNoneMatch") {
      return make("EEXIST", `${context.where} already exists (ifNoneMatch: "*"); nothing was written`);
    }
    return make(
      "ESTALE",
      `${context.where} changed since the etag given in ifMatch (${detail}); read it again before writing`,
    );
  }
  if (name === "ConditionalRequestConflict" || (status === 409 && context.precondition !== undefined)) {
    return make(
      "ESTALE",
      `${context.where} was written concurrently while this conditional write ran (${detail}); retry`,
    );
  }
  if (context.precondition !== undefined && (status === 501 || name === "NotImplemented")) {
    return make(
      "ENOTSUP",
      `${context.where}: the server does not support conditional writes (${context.precondition}, ${detail}); ` +
        "nothing was written. Write without a precondition, or use a server that supports them",
    );
  }
  if (NOT_FOUND.has(name) || status === 404) {
    if (name === "NoSuchBucket") {
      return make("ENOENT", `${context.where}: the bucket does not exist (${detail}); check the bucket name`);
    }
    return make("ENOENT", `no such file: ${context.where} (${detail})`);
  }
  if (FORBIDDEN.has(name) || status === 403 || status === 401) {
    return make(
      "EACCES",
      `${context.where}: permission denied (${detail}); check the credentials and the bucket policy`,
    );
  }
  if (status === 501 || name === "NotImplemented") {
    return make("ENOTSUP", `${context.where}: the server does not implement this request (${detail})`);
  }
  const reason = redact(
    typeof (error as SdkErrorLike)?.message === "string" ? String((error as SdkErrorLike).message) : "",
    [...context.secrets],
  );
  const transient = !context.clientRetried && isTransientS3(error);
  // Say how many attempts were made only when it is known, and then the real count: the retry
  // layer adds "gave up after N attempts" when it tried more than once; a client passed in counts
  // its own attempts in $metadata.attempts.
  const sdkAttempts = (error as SdkErrorLike | undefined)?.$metadata?.attempts;
  const counted = context.clientRetried && typeof sdkAttempts === "number" && sdkAttempts >= 1;
  const tried = counted && sdkAttempts > 1 ? ` after ${sdkAttempts} attempts (the client's own retries)` : "";
  return new MountError(
    "EIO",
    `${context.syscall} ${context.where} failed${tried} (${detail}${reason ? `: ${reason}` : ""})`,
    {
      path: context.path,
      syscall: context.syscall,
      cause,
      transient,
      ...(counted ? { attempts: sdkAttempts } : {}),
    },
  );
}
