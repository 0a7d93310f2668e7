/**
 * Exit codes of `ws`. `ws run` exits with the command's own code; the codes below are what `ws`
 * uses for itself, following `docker run` (125/126/127) so scripts can tell the two apart.
 */
export const EXIT: {
  readonly ok: 0;
  readonly failed: 1;
  readonly writeBackFailed: 75;
  readonly usage: 125;
  readonly cannotInvoke: 126;
  readonly notFound: 127;
} = {
  ok: 0,
  /** `ws ls`/`cat`/`cp`/`prefetch`: some file could not be read or written. */
  failed: 1,
  /**
   * The command ran, but some of its changes could not be written back to their mounts (EX_TEMPFAIL
   * from sysexits.h). The summary line and the `summary` event carry the command's own exit code.
   */
  writeBackFailed: 75,
  /** `ws` itself failed before the command ran: bad arguments, a missing SRC, bad credentials. */
  usage: 125,
  /** The command exists but could not be run (permission denied, not executable). */
  cannotInvoke: 126,
  /** The command was not found. */
  notFound: 127,
};
