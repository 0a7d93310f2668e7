import { checkBytes, checkEqual, sorted } from "../assert.js";
import { text } from "../bytes.js";
import type { CaseContext, ConformanceCase } from "../case.js";
import type { CapabilityId } from "../harness.js";
import { checkListing, listPaths } from "./listing.js";

/** Each name's content is the name itself, so a mix-up between two names shows in the bytes. */
async function roundTrip(t: CaseContext, names: readonly string[]): Promise<void> {
  const files: Record<string, Uint8Array> = {};
  for (const name of names) files[name] = text(`content of ${name}`);
  await t.seed(files);
  const mount = await t.lazy();
  await checkListing(mount, names, "awkward names");
  for (const name of names)
    checkBytes(await mount.fetch(name), files[name]!, `fetch ${JSON.stringify(name)}`);
}

const LONG_ASCII = `${"a".repeat(251)}.txt`;
const LONG_UTF8 = `${"é".repeat(127)}x`; // 254 + 1 = 255 bytes in UTF-8

function nameCase(
  id: string,
  title: string,
  names: readonly string[],
  requires?: readonly CapabilityId[],
): ConformanceCase {
  return {
    id,
    group: "names",
    strategy: "lazy",
    title,
    ...(requires ? { requires } : {}),
    run: (t) => roundTrip(t, names),
  };
}

/** Every awkward name, for the write-side case. */
export const AWKWARD_NAMES: readonly string[] = [
  "with space.txt",
  "dir with space/file name.txt",
  "100%.txt",
  "a%20b.txt",
  "%2F.txt",
  "%zz%",
  "a+b.txt",
  "c++/x.h",
  "q?x=1&y=2#frag.txt",
  "#hash",
  "a=b&c",
  '"double".txt',
  "'single'.txt",
  "back`tick",
  "漢字/日本語.txt",
  "😀/🚀 launch.txt",
  ".env",
  ".config/settings.json",
  "...",
];

export const nameCases: readonly ConformanceCase[] = [
  nameCase("names.spaces", "names with spaces", [
    "with space.txt",
    "dir with space/file name.txt",
    "two  spaces",
  ]),
  nameCase("names.percent", "% sequences are names, never decoded", [
    "100%.txt",
    "a%20b.txt",
    "%2F.txt",
    "%zz%",
    "%25",
  ]),
  nameCase("names.plus", "+ stays a plus (never a space)", ["a+b.txt", "c++/x.h", "+"]),
  nameCase("names.reserved", "#, ?, & and = are plain characters", [
    "q?x=1&y=2#frag.txt",
    "#hash",
    "a=b&c",
    "?",
  ]),
  nameCase("names.quotes", "quotes and backticks", ['"double".txt', "'single'.txt", "back`tick"]),
  nameCase("names.cjk", "CJK names", ["漢字/日本語.txt", "한국어.md"]),
  nameCase("names.emoji", "emoji (astral plane) names", ["😀/🚀 launch.txt", "👩‍💻.txt"]),
  nameCase("names.leading-dot", "dot files and a ... name", [".env", ".config/settings.json", "..."]),
  nameCase(
    "names.long-segment",
    "a 255-byte segment (ASCII and multi-byte)",
    [LONG_ASCII, `d/${LONG_UTF8}`],
    ["longSegment"],
  ),
  nameCase(
    "names.unicode-normalization",
    "NFC and NFD spellings are two files, kept byte for byte",
    ["caf\u00e9.txt", "cafe\u0301.txt"],
    ["unicodeNormalization"],
  ),
  nameCase(
    "names.case-twins",
    "names that differ only in case are two files",
    ["README.md", "readme.md", "ReadMe.md"],
    ["caseSensitive"],
  ),
  {
    id: "names.write",
    group: "names",
    strategy: "lazy",
    requires: ["write"],
    title: "awkward names written through put are stored under exactly that key",
    async run(t) {
      const mount = await t.writable();
      for (const name of AWKWARD_NAMES) await mount.put(name, text(name));
      checkEqual(sorted(await t.harness.listBackend()), sorted(AWKWARD_NAMES), "backend keys after put");
      for (const name of AWKWARD_NAMES)
        checkBytes(await t.harness.readBackend(name), text(name), `backend ${name}`);
    },
  },
  {
    id: "names.write-normalization",
    group: "names",
    strategy: "lazy",
    requires: ["write", "unicodeNormalization"],
    title: "NFC and NFD names written through put are two keys, stored and listed byte for byte",
    async run(t) {
      const mount = await t.writable();
      const nfc = "caf\u00e9/r\u00e9sum\u00e9.txt";
      const nfd = "cafe\u0301/re\u0301sume\u0301.txt";
      await mount.put(nfc, text("nfc"));
      await mount.put(nfd, text("nfd"));
      const hex = (s: string): string => Buffer.from(s, "utf8").toString("hex");
      checkEqual(
        sorted(await t.harness.listBackend()).map(hex),
        sorted([nfc, nfd]).map(hex),
        "backend keys (UTF-8 hex) after writing the NFC and the NFD spelling",
      );
      checkBytes(await t.harness.readBackend(nfc), text("nfc"), "backend, NFC key");
      checkBytes(await t.harness.readBackend(nfd), text("nfd"), "backend, NFD key");
      const listed = sorted(await listPaths(mount)).map(hex);
      checkEqual(listed, sorted([nfc, nfd]).map(hex), "listed paths (UTF-8 hex)");
      checkBytes(await mount.fetch(nfc), text("nfc"), "fetch of the NFC spelling");
      checkBytes(await mount.fetch(nfd), text("nfd"), "fetch of the NFD spelling");
    },
  },
];
