import { createLimiter, type Limiter } from "../limiter.js";
import { interceptMount, type MountLayer } from "./wrap-mount.js";

/**
 * One budget per mount: every list, fetch, put, delete and materialize takes a slot, whoever
 * calls (prefetch, write-back, the exec mirror). Pass a number for a new limiter per mount
 * wrapped, or a `Limiter` to share one budget between mounts.
 */
export function concurrencyLayer(limiterOrLimit: Limiter | number): MountLayer {
  return (mount) => {
    const limiter = typeof limiterOrLimit === "number" ? createLimiter(limiterOrLimit) : limiterOrLimit;
    return interceptMount(mount, (_op, _path, call) => limiter.run(call));
  };
}
