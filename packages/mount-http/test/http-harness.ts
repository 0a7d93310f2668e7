import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import type { HttpServerInfo } from "@ws/test-servers";
import type { ConformanceHarness, HarnessContext, HarnessMountOptions } from "@ws/testkit";
import { inject } from "vitest";
import { encodeSegment } from "../src/child-link.js";
import { HttpTree, type HttpTreeMount, type HttpTreeOptions } from "../src/http-tree.js";
import type { HttpServerName } from "./global-setup.js";

export function serverInfo(name: HttpServerName): HttpServerInfo {
  return inject("httpServers")[name];
}

/** The URL of a folder (a relative path) on the server, each segment encoded. */
export function folderUrl(info: HttpServerInfo, folder: string): string {
  return `${info.url}${folder.split("/").filter(Boolean).map(encodeSegment).join("/")}/`;
}

/** Writes files (relative paths under `dir`) the way any tool would: plain files on the disk the server serves. */
export async function writeTree(
  dir: string,
  files: Readonly<Record<string, Uint8Array | string>>,
): Promise<void> {
  for (const [path, bytes] of Object.entries(files)) {
    const target = join(dir, ...path.split("/"));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes);
  }
}

export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)).split("\\").join("/"));
  }
  return out;
}

/** Options a test mount of this server needs (credentials for rclone's WebDAV). */
export function serverOptions(info: HttpServerInfo): HttpTreeOptions {
  return info.credentials ? { auth: info.credentials } : {};
}

/**
 * The conformance harness for HttpTree on one server: each case gets its own folder in the
 * directory the server serves, seeded and read back with node:fs (never through the mount), and
 * a mount whose base URL is that folder (or a sub-folder for `prefix`).
 */
export function httpHarness(name: HttpServerName, extra: HttpTreeOptions = {}): ConformanceHarness {
  let info: HttpServerInfo;
  let counter = 0;
  const mounts: HttpTreeMount[] = [];
  return {
    async beforeAll() {
      info = serverInfo(name);
    },
    async afterAll() {
      await Promise.all(mounts.map((m) => m.dispose?.()));
    },
    async setup(caseId: string): Promise<HarnessContext> {
      const folder = `cases/${caseId}-${++counter}`;
      const dir = join(info.dataDir, ...folder.split("/"));
      await mkdir(dir, { recursive: true });
      const mount = (options: HarnessMountOptions, auth?: HttpTreeOptions["auth"]): HttpTreeMount => {
        const { prefix, ...rest } = options;
        const url = folderUrl(info, prefix ? `${folder}/${prefix}` : folder);
        const created = HttpTree(url, {
          ...serverOptions(info),
          ...extra,
          ...rest,
          ...(auth ? { auth } : {}),
        });
        mounts.push(created);
        return created;
      };
      return {
        seed: (files) => writeTree(dir, files),
        createMount: (options = {}) => mount(options),
        async readBackend(relPath) {
          try {
            return new Uint8Array(await readFile(join(dir, ...relPath.split("/"))));
          } catch (error) {
            if (
              (error as NodeJS.ErrnoException).code === "ENOENT" ||
              (error as NodeJS.ErrnoException).code === "EISDIR"
            )
              return undefined;
            throw error;
          }
        },
        listBackend: () => listFiles(dir),
        cleanup: () => rm(dir, { recursive: true, force: true }),
        ...(info.credentials
          ? {
              createForbiddenMount: (options: HarnessMountOptions = {}) =>
                mount(options, {
                  username: info.credentials?.username ?? "",
                  password: "wrong-password-for-conformance",
                }),
            }
          : {}),
      };
    },
  };
}
