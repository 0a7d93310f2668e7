import { MountError, mountTraits, redactError, withErrorContext } from "@ws/core";
import { interceptMount, type MountLayer } from "./wrap-mount.js";

/**
 * Every error leaving the mount: the registered secrets (and those the mount declared with
 * `secrets`) scrubbed from its message, stack and cause chain, and a MountError given the mount
 * root when it has none, so with several mounts a user can tell which one failed.
 */
export function redactLayer(
  secrets: Iterable<string | undefined> | (() => Iterable<string | undefined>) = [],
): MountLayer {
  return (mount, { root }) => {
    const declared = mountTraits(mount)?.secrets;
    const all = (): (string | undefined)[] => [
      ...(typeof secrets === "function" ? secrets() : secrets),
      ...(declared ? declared() : []),
    ];
    return interceptMount(mount, (_op, _path, call) =>
      call().catch((error: unknown) => {
        const scrubbed = redactError(error, all());
        throw MountError.isInstance(scrubbed) ? withErrorContext(scrubbed, { root }) : scrubbed;
      }),
    );
  };
}
