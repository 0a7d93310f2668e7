import {
  type EagerMount,
  MountError,
  type MountWriteApi,
  relativePathProblem,
  relativeToRoot,
} from "@ws/core";
import { check, checkBytes, checkEqual, fail, rejects, sorted } from "../assert.js";
import { text } from "../bytes.js";
import type { CaseContext, ConformanceCase } from "../case.js";
import type { HarnessMountOptions } from "../harness.js";

/** One call the provider made on the write API, in order. */
export type WriteCall =
  | {
      readonly op: "writeFile";
      readonly path: string;
      readonly bytes: Uint8Array;
      readonly mode: number | undefined;
    }
  | { readonly op: "mkdir"; readonly path: string; readonly mode: number | undefined }
  | { readonly op: "symlink"; readonly path: string; readonly target: string };

/** A `MountWriteApi` that records every call, copying bytes so later mutation by the provider shows. */
export function recordingApi(options: { symlinks?: boolean } = {}): {
  api: MountWriteApi;
  calls: WriteCall[];
} {
  const calls: WriteCall[] = [];
  const api: MountWriteApi = {
    writeFile(path, bytes, mode) {
      calls.push({ op: "writeFile", path, bytes: new Uint8Array(bytes), mode });
    },
    mkdir(path, mode) {
      calls.push({ op: "mkdir", path, mode });
    },
  };
  if (options.symlinks !== false) {
    api.symlink = (path, target) => {
      calls.push({ op: "symlink", path, target });
    };
  }
  return { api, calls };
}

async function materialize(
  t: CaseContext,
  options?: HarnessMountOptions,
  apiOptions?: { symlinks?: boolean },
): Promise<{ mount: EagerMount; calls: WriteCall[] }> {
  const mount = await t.eager(options);
  const { api, calls } = recordingApi(apiOptions);
  await mount.materialize(api);
  return { mount, calls };
}

function relative(t: CaseContext, absPath: string): string {
  const rel = relativeToRoot(t.root, absPath);
  if (rel === undefined || rel === "")
    fail(`materialize wrote ${JSON.stringify(absPath)}, outside the mount root ${t.root}`);
  return rel;
}

function writtenFiles(t: CaseContext, calls: readonly WriteCall[]): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const call of calls) if (call.op === "writeFile") files.set(relative(t, call.path), call.bytes);
  return files;
}

const TREE: Readonly<Record<string, string>> = {
  "README.md": "# eager\n",
  "src/index.ts": "export {};\n",
  "src/deep/er/file.txt": "deep",
  "empty.txt": "",
  "with space/ü.txt": "unicode",
};

async function seedTree(t: CaseContext): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(TREE)) files[k] = text(v);
  await t.seed(files);
  return files;
}

export const eagerCases: readonly ConformanceCase[] = [
  {
    id: "eager.tree",
    group: "eager",
    strategy: "eager",
    title: "materialize writes exactly the seeded tree, byte for byte",
    async run(t) {
      const files = await seedTree(t);
      const { calls } = await materialize(t);
      const written = writtenFiles(t, calls);
      checkEqual(sorted(written.keys()), sorted(Object.keys(files)), "materialized files");
      for (const [path, bytes] of Object.entries(files))
        checkBytes(written.get(path), bytes, `materialized ${path}`);
    },
  },
  {
    id: "eager.under-root",
    group: "eager",
    strategy: "eager",
    title: "every path written is canonical and under the mount root",
    async run(t) {
      await seedTree(t);
      const { calls } = await materialize(t);
      for (const call of calls) {
        const rel = relative(t, call.path);
        const problem = relativePathProblem(rel);
        check(problem === undefined, `materialize wrote ${JSON.stringify(call.path)}: ${problem}`);
      }
    },
  },
  {
    id: "eager.empty-files",
    group: "eager",
    strategy: "eager",
    title: "empty files are written as zero-length Uint8Arrays",
    async run(t) {
      await t.seed({ "empty.txt": new Uint8Array(0), "dir/also-empty": new Uint8Array(0) });
      const { calls } = await materialize(t);
      const written = writtenFiles(t, calls);
      for (const path of ["empty.txt", "dir/also-empty"]) {
        const bytes = written.get(path);
        check(bytes !== undefined, `${path} was not written`);
        check(bytes.length === 0, `${path} was written with ${bytes.length} bytes`);
      }
    },
  },
  {
    id: "eager.modes",
    group: "eager",
    strategy: "eager",
    requires: ["modes"],
    title: "POSIX modes from the source reach writeFile",
    async run(t) {
      await t.seed(
        { "bin/run.sh": text("#!/bin/sh\n"), "data.txt": text("d") },
        { modes: { "bin/run.sh": 0o755, "data.txt": 0o644 } },
      );
      const { calls } = await materialize(t);
      const modes: Record<string, number | undefined> = {};
      for (const c of calls)
        if (c.op === "writeFile")
          modes[relative(t, c.path)] = c.mode === undefined ? undefined : c.mode & 0o777;
      checkEqual(modes, { "bin/run.sh": 0o755, "data.txt": 0o644 }, "modes passed to writeFile");
    },
  },
  {
    id: "eager.no-duplicates",
    group: "eager",
    strategy: "eager",
    title: "no path is written twice, and no path is both a file and a directory",
    async run(t) {
      await seedTree(t);
      const { calls } = await materialize(t);
      const files = new Set<string>();
      const dirs = new Set<string>();
      for (const call of calls) {
        const rel = relative(t, call.path);
        if (call.op === "mkdir") {
          dirs.add(rel);
          continue;
        }
        check(!files.has(rel), `${rel} was written twice`);
        files.add(rel);
      }
      for (const f of files) check(!dirs.has(f), `${f} was written as a file and created as a directory`);
    },
  },
  {
    id: "eager.limits.before-first-write",
    group: "eager",
    strategy: "eager",
    title: "maxBytes and maxEntries are checked before the first write (EDQUOT, nothing written)",
    async run(t) {
      const files = await seedTree(t);
      const total = Object.values(files).reduce((n, b) => n + b.length, 0);
      const count = Object.keys(files).length;
      for (const limits of [{ maxBytes: total - 1 }, { maxEntries: count - 1 }]) {
        const mount = await t.eager(limits);
        const { api, calls } = recordingApi();
        await rejects(() => mount.materialize(api), ["EDQUOT"], `materialize with ${JSON.stringify(limits)}`);
        checkEqual(
          calls.filter((c) => c.op !== "mkdir").length,
          0,
          `files written before EDQUOT (${JSON.stringify(limits)})`,
        );
      }
      const { calls } = await materialize(t, { maxBytes: total, maxEntries: count });
      checkEqual(writtenFiles(t, calls).size, count, "files written exactly at the limits");
    },
  },
  {
    id: "eager.failure.atomic",
    group: "eager",
    strategy: "eager",
    requires: ["eagerAtomic"],
    title: "a source that fails half-way rejects with a coded error and leaves nothing written",
    async run(t) {
      const files: Record<string, Uint8Array> = {};
      for (let i = 0; i < 10; i++) files[`f/${i}.txt`] = text(`file ${i}`);
      await t.seed(files);
      const corrupt = t.harness.corruptSource;
      check(typeof corrupt === "function", "eagerAtomic is declared, but the harness has no corruptSource()");
      await corrupt.call(t.harness);
      const mount = await t.eager();
      const { api, calls } = recordingApi();
      await rejects(() => mount.materialize(api), undefined, "materialize of a corrupted source");
      checkEqual(
        calls.filter((c) => c.op !== "mkdir").map((c) => c.path),
        [],
        "files written before the failure (the documented state is: nothing)",
      );
    },
  },
  {
    id: "eager.symlinks",
    group: "eager",
    strategy: "eager",
    requires: ["symlinks"],
    title:
      "links inside the root are created verbatim; links leaving it are never created; no symlink API is handled",
    async run(t) {
      await t.seed(
        { "target.txt": text("t"), "sub/keep.txt": text("k") },
        {
          symlinks: {
            link: "target.txt",
            "sub/up": "../target.txt",
            escape: "../../etc/passwd",
            abs: "/etc/passwd",
          },
        },
      );
      const mount = await t.eager();
      const { api, calls } = recordingApi();
      try {
        await mount.materialize(api);
      } catch (error) {
        // Refusing the whole source is an acceptable policy, if it says why with EINVAL.
        check(
          (error as { code?: unknown }).code === "EINVAL",
          `materialize with escaping links threw ${String(error)}`,
        );
        checkEqual(calls.filter((c) => c.op !== "mkdir").length, 0, "writes before refusing the source");
        return;
      }
      const links: Record<string, string> = {};
      for (const c of calls) if (c.op === "symlink") links[relative(t, c.path)] = c.target;
      checkEqual(links, { link: "target.txt", "sub/up": "../target.txt" }, "symlinks created");
      // A host without symlink support: links are skipped or refused cleanly, never a TypeError.
      const bare = recordingApi({ symlinks: false });
      try {
        await (await t.eager()).materialize(bare.api);
      } catch (error) {
        check(
          typeof (error as { code?: unknown }).code === "string",
          `materialize without api.symlink threw ${String(error)}`,
        );
      }
    },
  },
  {
    id: "eager.hostile-names",
    group: "eager",
    strategy: "eager",
    requires: ["hostileNames"],
    title:
      "hostile source names (../x, /abs, a/../../y, a file below a link leaving the root) are never written outside the root or through a link",
    async run(t) {
      await t.seed(
        {
          "ok.txt": text("ok"),
          "../x.txt": text("parent"),
          "/abs.txt": text("absolute"),
          "a/../../y.txt": text("dotdot"),
          "out/passwd": text("through the link"),
        },
        { symlinks: { out: "../../etc" } },
      );
      const mount = await t.eager();
      const { api, calls } = recordingApi();
      try {
        await mount.materialize(api);
      } catch (error) {
        // Refusing the whole source is a policy, if it says why and wrote nothing.
        const code = (error as { code?: unknown }).code;
        check(code === "EINVAL", `materialize of a hostile source threw ${String(code)}: ${String(error)}`);
        checkEqual(calls.filter((c) => c.op !== "mkdir").length, 0, "writes before refusing the source");
        return;
      }
      const links = new Set<string>();
      for (const call of calls) {
        const rel = relativeToRoot(t.root, call.path);
        if (rel === undefined || rel === "")
          fail(`materialize ${call.op} ${JSON.stringify(call.path)}: outside the mount root ${t.root}`);
        const problem = relativePathProblem(rel);
        if (problem) fail(`materialize ${call.op} ${JSON.stringify(call.path)}: ${problem}`);
        if (call.op === "symlink") {
          check(
            call.target !== "../../etc",
            `materialize created the link ${rel} -> ${call.target}, which leaves the root`,
          );
          links.add(rel);
        }
      }
      for (const call of calls) {
        if (call.op === "symlink") continue;
        const rel = relativeToRoot(t.root, call.path)!;
        const parts = rel.split("/");
        for (let i = 1; i < parts.length; i++) {
          const ancestor = parts.slice(0, i).join("/");
          check(!links.has(ancestor), `materialize wrote ${rel} through the link ${ancestor}`);
        }
      }
      checkBytes(writtenFiles(t, calls).get("ok.txt"), text("ok"), "the harmless ok.txt");
    },
  },
  {
    id: "eager.api-errors-propagate",
    group: "eager",
    strategy: "eager",
    title:
      "an error thrown by the host's write API (a refused path, a quota) makes materialize reject; it is never swallowed",
    async run(t) {
      await seedTree(t);
      const mount = await t.eager();
      const { api } = recordingApi();
      const refused = `${t.root}/src/index.ts`;
      const strict: MountWriteApi = {
        ...api,
        writeFile(path, bytes, mode) {
          if (path === refused) throw new MountError("EDQUOT", "the host refuses this file", { path });
          api.writeFile(path, bytes, mode);
        },
      };
      const caught = await rejects(
        () => mount.materialize(strict),
        undefined,
        "materialize when the host refuses a write",
      );
      check(caught.code === "EDQUOT", `materialize rejected with ${caught.code}, not the host's EDQUOT`);
    },
  },
];
