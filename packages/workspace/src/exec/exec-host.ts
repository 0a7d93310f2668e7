import type { FileStats, MemDirent } from "../mem-vol.js";
import type { Mirror } from "../mirror/mirror.js";
import type { WorkspaceContext } from "../runtime/context.js";
import type { Namespace } from "../vfs/namespace.js";
import type { ExecDir } from "./exec-dir.js";
import type { ExternalChanges } from "./pull-back.js";

/** Read access to the memfs tree, for materialising it and comparing against it. */
export interface MemReader {
  readdirSync(path: string, options: { withFileTypes: true }): MemDirent[];
  lstatSync(path: string): FileStats;
  readFileSync(path: string): Buffer;
  readlinkSync(path: string): string;
}

/** What exec needs of the workspace: every part through its own API, nothing reached into. */
export interface ExecHost {
  readonly ctx: WorkspaceContext;
  readonly ns: Namespace;
  readonly mem: MemReader;
  /** Mount roots. */
  roots(): string[];
  mirror(root: string): Mirror;
  ready(): Promise<void>;
  prefetch(root: string | undefined): Promise<unknown>;
  /** Hydrates the stubs whose workspace path `match` accepts (a failed fetch leaves its stub). */
  hydrateMatching(match: (absPath: string) => boolean): Promise<void>;
  /** How many stubs lie under `absDir` (but not under `skip.roots` nor at `skip.paths`), and their listed bytes. */
  measureStubs(
    absDir: string,
    skip: { readonly roots: ReadonlySet<string>; readonly paths: ReadonlySet<string> },
  ): { files: number; bytes: number };
  /** Lists a mount again and applies the difference (after a command wrote a bound-in-place directory). */
  refresh(root: string): Promise<import("../workspace-options.js").RefreshResult>;
  /** Saves a mount's index after acknowledged writes. */
  saveIndex(root: string): Promise<void>;
  /** VFS changes the pull-back applies (no EROFS, no write-back: exec mirrors by itself). */
  readonly apply: ExternalChanges;
  /** The workspace's one lasting exec directory, shared by every command. */
  readonly execDir: ExecDir;
}
