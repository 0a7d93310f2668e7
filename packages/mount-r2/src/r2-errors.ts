import { type ClassifyContext, MountError, type MountErrorCode } from "@ws/core";
import { classifyNetworkError } from "@ws/provider-kit";

// R2's error codes, as the binding puts them at the end of its messages ("... (10001)").
// https://developers.cloudflare.com/r2/api/error-codes/
const R2_CODES: Readonly<Record<number, { code: MountErrorCode; transient: boolean }>> = {
  10001: { code: "EIO", transient: true }, // internal error
  10002: { code: "EACCES", transient: false }, // unauthorized
  10003: { code: "EACCES", transient: false }, // access denied
  10004: { code: "ENOTSUP", transient: false }, // not implemented
  10006: { code: "ENOENT", transient: false }, // no such bucket
  10007: { code: "ENOENT", transient: false }, // no such key
  10020: { code: "EINVAL", transient: false }, // invalid object name
  10031: { code: "ESTALE", transient: false }, // precondition failed
  10043: { code: "EIO", transient: true }, // service unavailable
  10054: { code: "EIO", transient: true }, // client disconnect
  10058: { code: "EAGAIN", transient: true }, // too many requests (concurrent writes to one key)
};

const VERBS: Readonly<Record<ClassifyContext["op"], string>> = {
  list: "listing",
  fetch: "reading",
  put: "writing",
  delete: "deleting",
};

/**
 * A binding failure as a MountError: R2's numeric error code when the message carries one, a
 * network failure ("Network connection lost", resets) as transient `EIO`, anything else as a
 * persistent `EIO`. The message names the key as `r2://key`.
 */
export function classifyR2Error(error: unknown, context: ClassifyContext): MountError {
  const reason = error instanceof Error ? error.message : String(error);
  const where = `r2://${context.key}`;
  const numeric = /\((\d{5})\)\s*$/.exec(reason)?.[1];
  const known = numeric === undefined ? undefined : R2_CODES[Number(numeric)];
  const network =
    classifyNetworkError(error) ??
    (/network connection lost|connection reset|socket hang up/i.test(reason)
      ? { code: "EIO" as const, transient: true }
      : undefined);
  const { code, transient } = known ?? network ?? { code: "EIO" as const, transient: false };
  return new MountError(code, `${VERBS[context.op]} ${where} failed (${reason})`, {
    cause: error,
    transient,
  });
}
