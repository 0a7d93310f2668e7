// ws mounts, part 1: the contract (@ws/core) on its own, before any workspace. Runs against the
// built package: `npm run build` first (the root `npm run demo` does).
import { checkQuota, compileIgnore, composeIgnore, MemoryMount, MountError, MountTable } from "@ws/core";

const say = (text = "") => console.log(text);
const show = (text) => console.log(`    ${text}`);

say("ws mounts, part 1: the rules every mount follows (@ws/core)");
say("A mount puts outside content (a bucket, a repository, a folder) under one path of a workspace.");

const skills = MemoryMount({
  files: { "review/SKILL.md": "# Review\n", "node_modules/x/index.js": "//", "debug.log": "..." },
  ignore: ["*.log"],
});
const config = MemoryMount({ rootType: "file", files: { "config.json": '{"model":"small"}' } });

say();
say("1. Mount a skills folder at /workspace/skills, and one config file inside it.");
const table = new MountTable();
table.add("/workspace/skills", "directory", skills);
table.add("/workspace/skills/config.json", "file", config);
show("mounted /workspace/skills (a directory) and /workspace/skills/config.json (a single file)");

say();
say("2. Every path belongs to the mount with the longest matching root, segment by segment.");
for (const path of [
  "/workspace/skills/review/SKILL.md",
  "/workspace/skills/config.json",
  "/workspace/skillsX",
  "/tmp/x",
]) {
  const owner = table.owner(path);
  show(
    `${path.padEnd(36)} -> ${owner ? `${owner.root} (${owner.type}), relative path "${owner.relPath}"` : "no mount: a plain workspace file"}`,
  );
}
show(
  `paths of /workspace/skills the file mount shadows: ${table.shadowedIn("/workspace/skills").join(", ")}`,
);

say();
say("3. Two directory mounts may not nest; a second one inside the first is refused, as designed.");
try {
  table.add("/workspace/skills/review", "directory", MemoryMount());
  show("unexpected: the nested mount was accepted");
} catch (error) {
  show(`refused with ${error.code}: ${error.message.replace(/^E[A-Z]+: /, "")}`);
}

say();
say("4. Ignore patterns (the workspace's and the mount's, together) hide paths everywhere.");
const ignored = compileIgnore(composeIgnore(["node_modules"], skills.options?.ignore));
const listed = await skills.list();
const visible = listed.filter((entry) => !ignored(entry.path));
show(`listed ${listed.length} files, ${visible.length} visible: ${visible.map((e) => e.path).join(", ")}`);

say();
say("5. Quotas are checked after ignore and before anything lands; too much is refused whole, as designed.");
try {
  checkQuota(visible, { maxBytes: 4 }, "/workspace/skills");
  show("unexpected: the quota let it through");
} catch (error) {
  if (!MountError.isInstance(error)) throw error;
  show(`refused with ${error.code}: ${error.message.replace(/^E[A-Z]+: /, "")}`);
}

say();
say("Next, part 2 puts these mounts into a workspace an agent reads, writes and runs commands in.");
