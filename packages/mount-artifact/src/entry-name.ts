import { MountError, relativePathProblem } from "@ws/core";

/** A name as it appears in an error message: quoted, with control characters escaped. */
export function quoteName(raw: string): string {
  return JSON.stringify(raw);
}

/**
 * The canonical relative path of an archive member name, or `""` for the archive's root (`./`).
 * Refuses (EINVAL) what tar or unzip would write outside the target directory or misread: absolute
 * names, `..` segments, backslashes (a separator on Windows), NUL and other control characters,
 * empty segments. A leading `./` and `.` segments are dropped, as GNU tar writes them
 * (`tar -C dir -cf x.tar .`), and one trailing `/` marks a directory.
 */
// Names made only of these characters, without "//", "./" or a leading "/", need no further look
// (segment length aside): the common case of 10,000 ordinary names takes this path.
const PLAIN = /^[A-Za-z0-9_+@=,-][A-Za-z0-9._+@=, -]*(?:\/[A-Za-z0-9_+@=,-][A-Za-z0-9._+@=, -]*)*\/?$/;
const LONGEST_PLAIN_SEGMENT = 255;

export function normalizeEntryName(raw: string, what = "archive entry"): string {
  // `./` first, as `tar -C dir -cf x.tar .` writes every name.
  const plain = raw.startsWith("./") ? raw.slice(2) : raw;
  if (plain.length <= LONGEST_PLAIN_SEGMENT && PLAIN.test(plain) && !plain.includes("..")) {
    return plain.endsWith("/") ? plain.slice(0, -1) : plain;
  }
  const fail = (why: string): never => {
    throw new MountError("EINVAL", `${what} ${quoteName(raw)} is refused: ${why}`, { path: raw });
  };
  if (raw.length === 0) fail("the name is empty");
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0) fail("the name contains a NUL byte");
    if (c < 0x20 || c === 0x7f) fail("the name contains a control character");
  }
  if (raw.includes("\\")) fail("the name contains a backslash (a path separator on Windows)");
  if (raw.startsWith("/")) fail("the name is absolute");
  const segments = raw.split("/");
  if (segments[segments.length - 1] === "") segments.pop();
  const out: string[] = [];
  for (const segment of segments) {
    if (segment === ".") continue;
    if (segment === "..") fail('the name has a ".." segment');
    if (segment === "") fail("the name has an empty segment");
    out.push(segment);
  }
  const path = out.join("/");
  if (path === "") return "";
  const problem = relativePathProblem(path);
  if (problem) {
    throw new MountError(
      problem.includes("longer") ? "ENAMETOOLONG" : "EINVAL",
      `${what} ${quoteName(raw)} is refused: ${problem}`,
      {
        path: raw,
      },
    );
  }
  return path;
}
