import { type MemVol, memMayHave } from "../mem-vol.js";
import { fsError } from "./fs-errors.js";

/**
 * `abs` with the memfs symlinks along it followed (in its last component too with `followLast`),
 * as the kernel would: relative targets against the link's folder, `..` after resolution, `ELOOP`
 * after 40 links. Stubs and mount roots are not in memfs and hold no links, so the walk stops at
 * the first component memfs does not have.
 */
export function realPath(
  vol: Pick<MemVol, "lstatSync" | "readlinkSync">,
  abs: string,
  followLast: boolean,
): string {
  let parts = abs.split("/").filter((p) => p !== "");
  let cur = "";
  let hops = 0;
  for (let i = 0; i < parts.length; i++) {
    const next = `${cur}/${parts[i]}`;
    if (i === parts.length - 1 && !followLast) return next;
    let isLink: boolean;
    // Not in memfs (a stub, a mount root's virtual folder): nothing below it is a link.
    if (!memMayHave(vol, next, false)) return [next, ...parts.slice(i + 1)].join("/");
    try {
      isLink = vol.lstatSync(next).isSymbolicLink();
    } catch {
      // Not in memfs: nothing below it is a link.
      return [next, ...parts.slice(i + 1)].join("/");
    }
    if (!isLink) {
      cur = next;
      continue;
    }
    if (++hops > 40) throw fsError("ELOOP", "open", abs, "too many levels of symbolic links");
    const target = vol.readlinkSync(next);
    const joined = target.startsWith("/") ? target : `${cur}/${target}`;
    const resolved: string[] = [];
    for (const seg of joined.split("/")) {
      if (seg === "" || seg === ".") continue;
      if (seg === "..") resolved.pop();
      else resolved.push(seg);
    }
    parts = [...resolved, ...parts.slice(i + 1)];
    cur = "";
    i = -1;
  }
  return cur === "" ? "/" : cur;
}
