import type { IndexStore } from "../index-store.js";
import type {
  ConflictResolution,
  MountConflict,
  MountConflictHandler,
  WorkspaceEvents,
  WorkspaceStats,
} from "../workspace-options.js";

export type Emit = <K extends keyof WorkspaceEvents>(event: K, payload: WorkspaceEvents[K]) => void;

/** Settings every part reads; fixed when the workspace is constructed. */
export interface WorkspaceConfig {
  readonly sessionId: string;
  readonly ignore: readonly string[];
  readonly indexStore: IndexStore;
  readonly concurrency: number;
  readonly retries: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly onMountConflict: MountConflictHandler | undefined;
  readonly writeConflicts: "detect" | "last-writer-wins";
}

export function emptyStats(): WorkspaceStats {
  return {
    listCalls: 0,
    materializeCalls: 0,
    indexLoads: 0,
    fetches: 0,
    dedupHits: 0,
    bytesIn: 0,
    bytesOut: 0,
    puts: 0,
    deletes: 0,
    deleteRequests: 0,
    coalescedWrites: 0,
    retries: 0,
    conflicts: 0,
    writeFailures: 0,
    execs: 0,
  };
}

/**
 * What the parts share: the configuration, the counters, the event sink and the conflict hook.
 * The parts report through it; none of them reads another part's state through it.
 */
export class WorkspaceContext {
  readonly config: WorkspaceConfig;
  readonly stats: WorkspaceStats = emptyStats();
  readonly emit: Emit;

  constructor(config: WorkspaceConfig, emit: Emit) {
    this.config = config;
    this.emit = emit;
  }

  /** Reports a conflict (event, counter, hook) and returns the hook's normalised answer. */
  async conflict(reported: MountConflict): Promise<"accept" | "keep-local"> {
    // The seed's field names too (doRev: the ws.fs side, containerRev: the other side).
    const conflict: MountConflict = { ...reported, doRev: reported.local, containerRev: reported.remote };
    this.stats.conflicts++;
    this.emit("conflict", conflict);
    let answer: ConflictResolution | undefined;
    try {
      answer = await this.config.onMountConflict?.(conflict);
    } catch (error) {
      this.emit("error", { root: conflict.root, path: conflict.path, op: "conflict", error });
    }
    return answer === "keep-local" || answer === "keep-do" ? "keep-local" : "accept";
  }
}
