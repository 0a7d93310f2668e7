export { HostDir, type HostDirMount, type HostDirOptions, type HostPutOptions } from "./host-dir.js";
export { type HostMountSpec, hostMounts } from "./host-mounts.js";
export { type HostEntry, type LinkPolicy, type WalkResult, walkHostDir } from "./walk.js";
