import type { MountWriteApi } from "@ws/core";

export const ROOT = "/mnt/repo";

/** What materialize wrote, relative to ROOT. */
export interface Recorded {
  readonly files: Map<string, { bytes: Uint8Array; mode: number | undefined }>;
  readonly links: Map<string, string>;
  readonly api: MountWriteApi & { readonly root: string };
}

/** A write API that says its root (as the workspace's does) and records every call. */
export function recordingApi(options: { symlinks?: boolean } = {}): Recorded {
  const files = new Map<string, { bytes: Uint8Array; mode: number | undefined }>();
  const links = new Map<string, string>();
  const rel = (abs: string): string => {
    if (!abs.startsWith(`${ROOT}/`)) throw new Error(`wrote ${abs}, outside ${ROOT}`);
    return abs.slice(ROOT.length + 1);
  };
  const api: MountWriteApi & { root: string } = {
    root: ROOT,
    writeFile(path, bytes, mode) {
      const r = rel(path);
      if (files.has(r)) throw new Error(`${r} written twice`);
      files.set(r, { bytes, mode });
    },
    mkdir() {},
  };
  if (options.symlinks !== false) {
    api.symlink = (path, target) => {
      links.set(rel(path), target);
    };
  }
  return { files, links, api };
}
