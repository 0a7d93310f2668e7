/**
 * `@ws/workspace/sandbox`: the bubblewrap sandbox on its own (argument builder, probe, runner),
 * without the workspace and its memfs, for tools that only need to run a command over host
 * directories (`ws run` with host mounts binds them in place).
 */
export {
  type BwrapPlan,
  buildBwrapArgs,
  decideSandbox,
  type HostRootEntry,
  probeBwrap,
  probeSandbox,
  readHostRoot,
  resetSandboxProbe,
  type SandboxBind,
  type SandboxDecision,
  type SandboxMode,
  type SandboxProbe,
} from "./exec/sandbox.js";
export { type SpawnOutcome, type SpawnSpec, spawnCommand } from "./exec/spawn-command.js";
