import { readOnly } from "@ws/core";
import { interceptMount, type MountLayer } from "./wrap-mount.js";

/**
 * `EROFS` naming the mount root for `put` and `delete` on a mount that is not writable, before
 * the call reaches the provider (or any retry). Enforced here once, so no path can bypass it.
 */
export function readOnlyLayer(): MountLayer {
  return (mount, { root }) => {
    if (mount.writable) return mount;
    return interceptMount(mount, (op, path, call) => {
      if (op !== "put" && op !== "delete") return call();
      const abs = path === "" ? root : root === "/" ? `/${path}` : `${root}/${path}`;
      return Promise.reject(readOnly(abs, root, op === "put" ? "write" : "unlink"));
    });
  };
}
