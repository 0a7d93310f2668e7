import { MountError, validateMountRoot } from "@ws/core";
import { HostDir, type HostDirMount, type HostDirOptions } from "./host-dir.js";

/** One entry of seed 001's mount list. */
export interface HostMountSpec {
  /** The host directory. */
  readonly source: string;
  /** Where it appears in the workspace (absolute). */
  readonly target: string;
  /** Read-only when true. The seed's default is writable, so a spec without it is read-write. */
  readonly readonly?: boolean | undefined;
}

/**
 * Seed 001's `mounts: [{ source, target, readonly }]` list as a Workspace `mounts` map of `HostDir`s.
 *
 * ```ts
 * new Workspace({ mounts: hostMounts([{ source: "/host/data", target: "/data", readonly: true }]) });
 * ```
 *
 * Unlike `HostDir` (read-only unless told otherwise), a spec without `readonly` is read-write,
 * because that is what the seed's examples expect. `options` apply to every mount (`ignore`, quotas,
 * `uid`/`gid`); `mode` is decided per spec.
 */
export function hostMounts(
  specs: readonly HostMountSpec[],
  options: Omit<HostDirOptions, "mode"> = {},
): Record<string, HostDirMount> {
  if (!Array.isArray(specs))
    throw new MountError("EINVAL", "hostMounts expects an array of { source, target, readonly }");
  const out: Record<string, HostDirMount> = {};
  for (const spec of specs) {
    if (typeof spec?.source !== "string" || typeof spec.target !== "string") {
      throw new MountError("EINVAL", `each mount needs a source and a target, got ${JSON.stringify(spec)}`);
    }
    const target = validateMountRoot(spec.target);
    if (Object.hasOwn(out, target)) {
      throw new MountError("EINVAL", `two mounts target ${target}; each target may appear once`, {
        root: target,
      });
    }
    out[target] = HostDir(spec.source, {
      ...options,
      mode: spec.readonly === true ? "read-only" : "read-write",
    });
  }
  return out;
}
