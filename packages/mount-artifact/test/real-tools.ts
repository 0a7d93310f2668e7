import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

/** One path of a tree as a test compares it: type, bytes or link target, permission bits. */
export type TreeItem =
  | { readonly type: "file"; readonly sha: string; readonly mode: number }
  | { readonly type: "dir"; readonly mode: number }
  | { readonly type: "symlink"; readonly target: string };

export type TreeSnapshot = Record<string, TreeItem>;

export function sha(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex").slice(0, 16);
}

/** What a directory on disk holds, as the real tools left it. */
export function snapshotDisk(dir: string): TreeSnapshot {
  const out: TreeSnapshot = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const path = rel === "" ? name : `${rel}/${name}`;
      const abs = join(dir, path);
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) out[path] = { type: "symlink", target: readlinkSync(abs) };
      else if (st.isDirectory()) {
        out[path] = { type: "dir", mode: st.mode & 0o777 };
        walk(path);
      } else out[path] = { type: "file", sha: sha(readFileSync(abs)), mode: st.mode & 0o777 };
    }
  };
  walk("");
  return out;
}

/** A tree with what archives must keep: modes, empty files and folders, links, odd names. */
export function makeSourceTree(dir: string, options: { longNames: boolean }): void {
  const file = (path: string, data: string, mode = 0o644) => {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), data);
    chmodSync(join(dir, path), mode);
  };
  mkdirSync(dir, { recursive: true });
  file("README.md", "# bundle\n");
  file("bin/run.sh", "#!/bin/sh\necho run\n", 0o755);
  file("bin/private.key", "secret\n", 0o600);
  file("empty.txt", "");
  file("with space/ünïcödé.txt", "unicode\n");
  file("deep/a/b/c/d/e/f.txt", "deep\n");
  file("data/blob.bin", "\u0000\u0001binary".repeat(5000));
  mkdirSync(join(dir, "empty-dir"));
  mkdirSync(join(dir, "private-dir"));
  chmodSync(join(dir, "private-dir"), 0o700);
  symlinkSync("README.md", join(dir, "link-to-readme"));
  symlinkSync("../README.md", join(dir, "bin/up-link"));
  symlinkSync("deep/a", join(dir, "dir-link"));
  linkSync(join(dir, "README.md"), join(dir, "hard-readme"));
  if (options.longNames) {
    const long = `${"long-segment-".repeat(15)}end`;
    file(`${long}/${long}.txt`, "long\n");
    file(`${"x".repeat(120)}/${"y".repeat(120)}/${"z".repeat(120)}.txt`, "very long path\n");
    symlinkSync(`${long}/${long}.txt`, join(dir, "long-link"));
  }
}

export function run(command: string, args: readonly string[], cwd?: string): void {
  execFileSync(command, args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}
