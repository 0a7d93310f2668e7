import { Volume } from "memfs";

/** The fields of a Stats object every `ws.fs.stat` result has (memfs's Stats and VirtualStats). */
export interface FileStats {
  readonly dev: number;
  readonly ino: number;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly birthtimeMs: number;
  readonly atime: Date;
  readonly mtime: Date;
  readonly ctime: Date;
  readonly birthtime: Date;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

export interface MemDirent {
  readonly name: string | Uint8Array;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/** The synchronous subset of memfs's Volume the workspace uses (memfs is in-memory: sync is exact). */
export interface MemVol {
  statSync(path: string): FileStats;
  lstatSync(path: string): FileStats;
  existsSync(path: string): boolean;
  readFileSync(path: string): Buffer;
  writeFileSync(path: string, data: Uint8Array, options?: { mode?: number }): void;
  mkdirSync(path: string, options?: { recursive?: boolean; mode?: number }): string | undefined;
  readdirSync(path: string, options: { withFileTypes: true }): MemDirent[];
  unlinkSync(path: string): void;
  rmdirSync(path: string): void;
  rmSync(path: string, options?: { recursive?: boolean; force?: boolean }): void;
  renameSync(from: string, to: string): void;
  chmodSync(path: string, mode: number): void;
  utimesSync(path: string, atime: number | Date, mtime: number | Date): void;
  symlinkSync(target: string, path: string): void;
  readlinkSync(path: string): string;
  realpathSync(path: string): string;
}

export function createMemVol(): MemVol {
  return new Volume() as unknown as MemVol;
}
