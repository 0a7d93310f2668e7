// Type-checks every TypeScript and JavaScript example in the READMEs (the root one, packages/*,
// examples/*) under `tsc --strict`, against the built packages' types, as a user who pastes the
// example sees them. Each fenced ```ts / ```js block is its own module (top-level await allowed).
// A block that is a deliberate fragment is marked on the line before its fence with
//   <!-- typecheck: skip (why) -->
// and listed as skipped, with the reason, in the output. Run after `npm run build`.
//
//   node scripts/check-readme-examples.mjs            every README of the repository
//   node scripts/check-readme-examples.mjs A.md B.md  only these
// Before the real check it proves it can fail: the core README's old example, which passed an
// optional `mount.options.ignore` where a list is required, must be rejected at its line.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const readmes = process.argv.slice(2).map((f) => join(process.cwd(), f));
if (readmes.length === 0) {
  readmes.push(join(root, "README.md"));
  for (const parent of ["packages", "examples"]) {
    for (const dir of readdirSync(join(root, parent))) {
      const file = join(root, parent, dir, "README.md");
      if (existsSync(file)) readmes.push(file);
    }
  }
  selfTest();
}

/** The checker must reject a known-bad example, or a green run proves nothing. */
function selfTest() {
  const dir = join(root, ".tmp", `readme-self-test-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const bad = join(dir, "README.md");
  writeFileSync(
    bad,
    [
      "```js",
      'import { compileIgnore, MemoryMount } from "@ws/core";',
      'const mount = MemoryMount({ files: { "a.log": "x" }, ignore: ["*.log"] });',
      "compileIgnore(mount.options.ignore);",
      "```",
      "",
    ].join("\n"),
  );
  let failed = false;
  let out = "";
  try {
    execFileSync(process.execPath, [new URL(import.meta.url).pathname, relative(process.cwd(), bad)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    failed = true;
    out = `${error.stdout}${error.stderr}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (!failed || !/README\.md:4: error TS\d+/.test(out)) {
    console.error(`check-readme-examples: the self-test did not catch a known-bad example:\n${out}`);
    process.exit(1);
  }
  console.log("check-readme-examples: self-test ok (a known-bad example is rejected with its README line)");
}

const LANGS = { ts: "mts", typescript: "mts", js: "mjs", javascript: "mjs", mjs: "mjs", mts: "mts" };
const work = join(root, ".tmp", `readme-examples-${process.pid}`);
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const examples = [];
const skipped = [];
for (const file of readmes) {
  const lines = readFileSync(file, "utf8").split("\n");
  const name = relative(root, file);
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s*$/.exec(lines[i]);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    const ext = LANGS[open[1].toLowerCase()];
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === "") before--;
    const skip = before >= 0 ? /<!--\s*typecheck:\s*skip\s*\((.+)\)\s*-->/.exec(lines[before]) : null;
    if (ext && skip) skipped.push(`${name}:${i + 1} (${skip[1]})`);
    else if (ext) {
      const out = join(work, `${name.replace(/[/.]/g, "_")}_L${i + 1}.${ext}`);
      // The body keeps its line numbers: one blank line per line above the fence.
      writeFileSync(out, `${"\n".repeat(i + 1)}${lines.slice(i + 1, end).join("\n")}\n export {};\n`);
      examples.push({ out, name, line: i + 1 });
    }
    i = end;
  }
}

writeFileSync(
  join(work, "tsconfig.json"),
  JSON.stringify(
    {
      compilerOptions: {
        strict: true,
        target: "ES2023",
        lib: ["ES2023", "DOM"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        types: ["node"],
        allowJs: true,
        checkJs: true,
        noEmit: true,
        skipLibCheck: true,
      },
      include: ["*.mts", "*.mjs"],
    },
    null,
    2,
  ),
);

let output = "";
try {
  execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", work], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
} catch (error) {
  output = `${error.stdout ?? ""}${error.stderr ?? ""}`;
}
// Map each diagnostic back to README:line.
rmSync(work, { recursive: true, force: true });
const byFile = new Map(examples.map((e) => [e.out.split("/").pop(), e]));
const problems = output
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => {
    const m = /^(.+?)\((\d+),(\d+)\): (.*)$/.exec(l);
    const e = m ? byFile.get(m[1].split("/").pop()) : undefined;
    return e ? `${e.name}:${m[2]}: ${m[4]}` : l;
  });
for (const s of skipped) console.log(`skipped (marked as a fragment): ${s}`);
if (problems.length > 0) {
  console.error(`README examples that do not type-check under tsc --strict:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(
  `check-readme-examples: ${examples.length} example(s) from ${readmes.length} README(s) type-check under tsc --strict` +
    (skipped.length ? `; ${skipped.length} fragment(s) skipped` : ""),
);
