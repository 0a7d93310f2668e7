import { lstatSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { MountError } from "@ws/core";

/**
 * Creates the directory `abs` (a workspace path) inside the exec directory `dir`, one component at
 * a time, never following a link: a component that is a symlink (or anything but a directory) is
 * refused with `ELOOP`, so nothing is created or written outside `dir` (issue 9.2).
 */
export function mkdirConfined(dir: string, abs: string): string {
  let at = dir;
  for (const name of abs.split("/").filter((s) => s !== "")) {
    at = join(at, name);
    let st: ReturnType<typeof lstatSync> | undefined;
    try {
      st = lstatSync(at);
    } catch {
      st = undefined;
    }
    if (!st) mkdirSync(at);
    else if (!st.isDirectory()) {
      throw new MountError(
        "ELOOP",
        `${abs}: ${st.isSymbolicLink() ? "a symlink" : "not a directory"} on the way; exec never follows a path out of its directory`,
        { path: abs },
      );
    }
  }
  return at;
}
