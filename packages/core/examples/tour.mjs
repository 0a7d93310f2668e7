// A tour of @ws/core: build mounts, ask who owns a path, hide paths with ignore, hit a quota.
// Runs against the built package: `npm run build` first (the root `npm run demo` does).
import { checkQuota, compileIgnore, composeIgnore, MemoryMount, MountError, MountTable } from "@ws/core";

const skills = MemoryMount({
  files: { "review/SKILL.md": "# Review\n", "node_modules/x/index.js": "//", "debug.log": "..." },
  ignore: ["*.log"],
});
const config = MemoryMount({ rootType: "file", files: { "config.json": '{"model":"small"}' } });

// 1. Nesting and ownership: directory mounts may not nest, a single-file mount may sit inside one.
const table = new MountTable();
table.add("/workspace/skills", "directory", skills);
table.add("/workspace/skills/config.json", "file", config);
try {
  table.add("/workspace/skills/review", "directory", MemoryMount());
} catch (error) {
  console.log(`nesting refused  ${error.code}: ${error.message.split(": ").slice(1).join(": ")}`);
}
for (const path of [
  "/workspace/skills/review/SKILL.md",
  "/workspace/skills/config.json",
  "/workspace/skillsX",
  "/tmp/x",
]) {
  const owner = table.owner(path);
  console.log(
    `owner of ${path.padEnd(36)} ${owner ? `${owner.root} (${owner.type}), relPath "${owner.relPath}"` : "none: a plain workspace path"}`,
  );
}
console.log(`shadowed in /workspace/skills: ${table.shadowedIn("/workspace/skills").join(", ")}`);

// 2. Ignore: workspace-level ∪ mount-level.
const ignored = compileIgnore(composeIgnore(["node_modules"], skills.options.ignore));
const visible = (await skills.list()).filter((entry) => !ignored(entry.path));
console.log(
  `listed ${(await skills.list()).length} entries, ${visible.length} visible after ignore: ${visible.map((e) => e.path).join(", ")}`,
);

// 3. Quotas: checked after ignore, before anything lands.
try {
  checkQuota(visible, { maxBytes: 4 }, "/workspace/skills");
} catch (error) {
  if (MountError.isInstance(error)) console.log(`quota refused    ${error.message}`);
}
