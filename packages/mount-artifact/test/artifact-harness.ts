import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EagerMount, MountContext, MountFactory, MountWriteApi } from "@ws/core";
import type { ConformanceHarness, HarnessContext, HarnessMountOptions, SeedOptions } from "@ws/testkit";
import { ArtifactBundle } from "../src/index.js";
import { gzip, type TarEntry, tar, type ZipEntry, zip } from "./archive-builder.js";

/** How the harness hands the bundle to the mount: bytes, a file on disk, or a URL of a local HTTP server. */
export type Delivery = "bytes" | "file" | "http";

interface CaseState {
  files: Map<string, Uint8Array>;
  modes: Map<string, number>;
  links: Map<string, string>;
  corrupt: boolean;
}

function build(format: "tar" | "tar.gz" | "zip", state: CaseState): Uint8Array {
  let bytes: Uint8Array;
  if (format === "zip") {
    const entries: ZipEntry[] = [];
    for (const [name, data] of state.files)
      entries.push({ name, data, unixMode: 0o100000 | (state.modes.get(name) ?? 0o644) });
    for (const [name, target] of state.links) entries.push({ name, data: target, unixMode: 0o120777 });
    bytes = zip(entries);
  } else {
    const entries: TarEntry[] = [];
    for (const [name, data] of state.files) {
      const mode = state.modes.get(name) ?? 0o644;
      // Names longer than the ustar field go in a pax record, as GNU tar --format=pax writes them.
      entries.push(
        new TextEncoder().encode(name).length > 99
          ? { name: "long", data, mode, pax: { path: name } }
          : { name, data, mode },
      );
    }
    for (const [name, target] of state.links) entries.push({ name, type: "2", linkname: target });
    bytes = tar(entries);
    if (format === "tar.gz") bytes = gzip(bytes);
  }
  // Damage for eagerAtomic: cut the archive in the middle of its members.
  return state.corrupt ? bytes.subarray(0, Math.floor(bytes.length * 0.6)) : bytes;
}

/**
 * The mount as a factory that hands `api.root` to `materialize` when the write API lacks it: the
 * host's API carries its root, but the testkit's `recordingApi` does not (yet), and
 * `defineEagerMount` needs it to turn relative paths into absolute ones.
 */
function withRoot(mount: EagerMount): MountFactory {
  return (context: MountContext): EagerMount => ({
    ...mount,
    materialize: (api: MountWriteApi) =>
      mount.materialize(api.root === undefined ? { ...api, root: context.root } : api),
  });
}

/**
 * The conformance harness of ArtifactBundle: `seed` records files, modes and links; every
 * `createMount` builds the archive afresh in `format` and delivers it as bytes, as a file, or over
 * HTTP from a server on 127.0.0.1. The "backend" is the archive's member list.
 */
export function artifactHarness(format: "tar" | "tar.gz" | "zip", delivery: Delivery): ConformanceHarness {
  let dir: string | undefined;
  let server: Server | undefined;
  let base = "";
  const served = new Map<string, Uint8Array>();
  let counter = 0;
  return {
    async beforeAll() {
      dir = mkdtempSync(join(tmpdir(), "ws-artifact-conformance-"));
      if (delivery === "http") {
        server = createServer((req, res) => {
          const body = served.get(req.url ?? "");
          if (!body) {
            res.writeHead(404).end();
            return;
          }
          res
            .writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length })
            .end(body);
        });
        await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      }
    },
    async afterAll() {
      if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
    async setup(caseId: string): Promise<HarnessContext> {
      const id = `${caseId.replace(/[^a-z0-9]+/gi, "-")}-${++counter}`;
      const state: CaseState = { files: new Map(), modes: new Map(), links: new Map(), corrupt: false };
      const ext = format === "zip" ? "zip" : format;
      const mountOf = (options: HarnessMountOptions): EagerMount => {
        const bytes = build(format, state);
        if (delivery === "bytes") return ArtifactBundle(bytes, options);
        if (delivery === "file") {
          const path = join(dir as string, `${id}.${ext}`);
          writeFileSync(path, bytes);
          return ArtifactBundle(path, options);
        }
        const path = `/${id}.${ext}`;
        served.set(path, bytes);
        return ArtifactBundle(`${base}${path}`, options);
      };
      return {
        async seed(files, options: SeedOptions = {}) {
          for (const [name, bytes] of Object.entries(files)) state.files.set(name, new Uint8Array(bytes));
          for (const [name, mode] of Object.entries(options.modes ?? {})) state.modes.set(name, mode);
          for (const [name, target] of Object.entries(options.symlinks ?? {})) state.links.set(name, target);
        },
        createMount(options: HarnessMountOptions = {}) {
          return withRoot(mountOf(options));
        },
        async readBackend(relPath) {
          return state.files.get(relPath);
        },
        async listBackend() {
          return [...state.files.keys(), ...state.links.keys()].sort();
        },
        async cleanup() {
          served.delete(`/${id}.${ext}`);
        },
        async corruptSource() {
          state.corrupt = true;
        },
      };
    },
  };
}
