import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Workspace } from "@ws/workspace";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeSourceTree, run, sha, snapshotDisk, type TreeSnapshot } from "../test/real-tools.js";
import { ArtifactBundle, type ArtifactBundleOptions } from "./index.js";

// Archives made by the real GNU tar and Info-ZIP zip, extracted by the real tar and unzip, and
// mounted by ArtifactBundle: the workspace must hold exactly what the tools put on disk.

const ROOT = "/workspace/b";
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "ws-artifact-tools-"));
  makeSourceTree(join(work, "short"), { longNames: false });
  makeSourceTree(join(work, "long"), { longNames: true });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function snapshotWorkspace(
  archive: string,
  options: ArtifactBundleOptions = {},
): Promise<TreeSnapshot> {
  const ws = new Workspace({ mounts: { [ROOT]: ArtifactBundle(archive, options) } });
  try {
    const out: TreeSnapshot = {};
    const walk = async (rel: string) => {
      const dir = rel === "" ? ROOT : `${ROOT}/${rel}`;
      for (const name of (await ws.fs.readdir(dir)) as string[]) {
        const path = rel === "" ? name : `${rel}/${name}`;
        const abs = `${ROOT}/${path}`;
        const st = await ws.fs.lstat(abs);
        if (st.isSymbolicLink()) out[path] = { type: "symlink", target: await ws.fs.readlink(abs) };
        else if (st.isDirectory()) {
          out[path] = { type: "dir", mode: Number(st.mode) & 0o777 };
          await walk(path);
        } else
          out[path] = {
            type: "file",
            sha: sha((await ws.fs.readFile(abs)) as Uint8Array),
            mode: Number(st.mode) & 0o777,
          };
      }
    };
    await walk("");
    return out;
  } finally {
    await ws.close();
  }
}

const TARS = [
  { name: "ustar", tree: "short", args: ["--format=ustar"] },
  { name: "gnu", tree: "long", args: ["--format=gnu"] },
  { name: "pax", tree: "long", args: ["--format=pax"] },
  { name: "gnu, gzip", tree: "long", args: ["--format=gnu", "-z"] },
  { name: "pax, gzip", tree: "long", args: ["--format=pax", "-z"] },
] as const;

describe("cross-checked against GNU tar", () => {
  for (const t of TARS) {
    test(`tar --format=${t.name}: same paths, bytes, modes and links as tar -x`, async () => {
      const archive = join(work, `${t.name.replace(/\W+/g, "-")}.tar`);
      run("tar", ["-C", join(work, t.tree), ...t.args, "-cf", archive, "."]);
      const out = join(work, `out-${t.name.replace(/\W+/g, "-")}`);
      mkdirSync(out);
      run("tar", ["-xpf", archive, "-C", out]);
      const disk = snapshotDisk(out);
      expect(Object.keys(disk).length).toBeGreaterThan(15);
      expect(await snapshotWorkspace(archive)).toEqual(disk);
    });
  }
});

describe("stripComponents counts components as GNU tar does", () => {
  test("tar --strip-components=2 of an archive made with ./ names", async () => {
    const archive = join(work, "strip.tar.gz");
    run("tar", ["-C", join(work, "short"), "-czf", archive, "."]);
    const out = join(work, "out-strip");
    mkdirSync(out);
    run("tar", ["-xpzf", archive, "-C", out, "--strip-components=2"]);
    const disk = snapshotDisk(out);
    expect(disk["run.sh"]).toMatchObject({ type: "file", mode: 0o755 });
    // bin/up-link -> ../README.md becomes up-link -> ../README.md: tar writes a link out of the
    // directory; the mount refuses it (or, here, leaves it out).
    expect(disk["up-link"]).toEqual({ type: "symlink", target: "../README.md" });
    delete disk["up-link"];
    expect(await snapshotWorkspace(archive, { stripComponents: 2, outsideLinks: "skip" })).toEqual(disk);
  });
});

describe("cross-checked against Info-ZIP", () => {
  test("zip written to a pipe (data descriptors, flag bit 3): same tree as unzip", async () => {
    const archive = join(work, "piped.zip");
    run("sh", ["-c", `zip -qry - . | cat > '${archive}'`], join(work, "short"));
    const out = join(work, "out-zip-piped");
    mkdirSync(out);
    run("unzip", ["-q", archive, "-d", out]);
    expect(await snapshotWorkspace(archive)).toEqual(snapshotDisk(out));
  });

  for (const tree of ["short", "long"] as const) {
    test(`zip -ry (${tree} names): same paths, bytes, modes and links as unzip`, async () => {
      const archive = join(work, `${tree}.zip`);
      run("zip", ["-qry", archive, "."], join(work, tree));
      const out = join(work, `out-zip-${tree}`);
      mkdirSync(out);
      run("unzip", ["-q", archive, "-d", out]);
      const disk = snapshotDisk(out);
      // zip stores a hard link as a second copy: both sides must agree on that too.
      expect(disk["hard-readme"]).toMatchObject({ type: "file" });
      expect(await snapshotWorkspace(archive)).toEqual(disk);
      expect(readFileSync(archive).length).toBeGreaterThan(0);
    });
  }
});
