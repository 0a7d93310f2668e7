// ws mounts, part 2: a workspace an agent works in. Runs offline: both buckets are in-memory
// providers (MemoryMount over a MemoryStore), which behave like object stores.
import { MemoryMount, MemoryStore } from "@ws/core";
import { Workspace } from "@ws/workspace";

const say = (text = "") => console.log(text);
const show = (text) => console.log(`    ${text}`);
const decode = (bytes) => new TextDecoder().decode(bytes);
const files = (n) => `${n} file${n === 1 ? "" : "s"}`;

say("ws mounts, part 2: a workspace for an agent");
say("An agent gets one workspace. Its skills come from a shared bucket it may only read; its");
say("scratch space is a bucket it may write. Nothing is copied up front.");

// The two "buckets". In production these would be S3Bucket(...) or R2Bucket(...).
const skillsBucket = new MemoryStore({
  "skills/pdf/SKILL.md": "# PDF skill\nExtract text from PDFs.\n",
  "skills/pdf/run.sh": "#!/bin/sh\necho extracting\n",
  "skills/search/SKILL.md": "# Search skill\nGrep the workspace.\n",
});
const scratchBucket = new MemoryStore({ "notes/todo.md": "- try the demo\n" });

const ws = new Workspace({
  ignore: ["node_modules"],
  mounts: {
    // Lazy and read-only (the default): listed once, each file fetched on its first read.
    "/workspace/skills": MemoryMount({ store: skillsBucket, prefix: "skills" }),
    // Read-write, writes mirrored to the bucket after 200 ms of quiet per file.
    "/workspace/scratch": MemoryMount({ store: scratchBucket, mode: "read-write", writeBackMs: 200 }),
  },
  // Called when a command changes a file the workspace also changed, or a read-only file.
  onMountConflict: (c) => {
    if (c.kind === "read-only")
      show(`[hook] ${c.path}: under a read-only mount, so it stays in this workspace`);
    else show(`[hook] ${c.path}: ${c.kind} conflict, the command's version wins`);
    return "accept";
  },
});

// The workspace reports what reaches the providers; the story prints it as it happens.
ws.on("index", (e) =>
  show(`[index] ${e.root}: ${files(e.entries)}, ${e.bytes} bytes listed (${e.strategy})`),
);
ws.on("fetch", (e) => show(`[fetch] ${e.path} (${e.bytes} bytes)`));
ws.on("put", (e) => show(`[put]   ${e.path} (${e.bytes} bytes) -> bucket`));
ws.on("delete", (e) => show(`[delete] ${e.path} -> bucket`));
ws.on("error", (e) => show(`[error] ${e.op} ${e.path ?? ""}: ${e.error}`));

say();
say("1. The first look lists both buckets; no file is downloaded yet.");
show(`/workspace: ${(await ws.fs.readdir("/workspace")).join(", ")}`);
show(`/workspace/skills/pdf: ${(await ws.fs.readdir("/workspace/skills/pdf")).join(", ")}`);

say();
say("2. A stat answers from the listing; the first read fetches the file, once.");
const st = await ws.fs.stat("/workspace/skills/pdf/SKILL.md");
show(`SKILL.md is ${st.size} bytes; files fetched so far: ${ws.stats.fetches}`);
const skill = await ws.fs.readFile("/workspace/skills/pdf/SKILL.md", "utf8");
show(`first line: ${JSON.stringify(skill.split("\n")[0])}; files fetched now: ${ws.stats.fetches}`);

say();
say("3. The skills are read-only, so the workspace refuses to change them (as it should).");
try {
  await ws.fs.writeFile("/workspace/skills/pdf/SKILL.md", "changed");
  show("unexpected: the write went through");
} catch (error) {
  show(`refused with ${error.code}: ${error.message.replace(/^E[A-Z]+: /, "")}`);
}

say();
say("4. Scratch is read-write: five quick writes land in the bucket as one put, after the quiet period.");
for (let i = 1; i <= 5; i++) await ws.fs.writeFile("/workspace/scratch/notes/log.md", `entry ${i}\n`);
show(`in the bucket right away? ${scratchBucket.has("notes/log.md") ? "yes" : "not yet"}`);
await new Promise((resolve) => setTimeout(resolve, 300));
show(`after 300 ms the bucket holds ${JSON.stringify(decode(scratchBucket.get("notes/log.md").bytes))}`);
show(`puts: ${ws.stats.puts}, writes folded into it: ${ws.stats.coalescedWrites}`);

say();
say("5. The agent runs a real command over a copy of the workspace. Meanwhile it has just edited");
say("   notes/plan.md itself (not yet in the bucket), and the command edits the same file.");
await ws.fs.writeFile("/workspace/scratch/notes/plan.md", "plan: written by the agent\n");
const result = await ws.exec(
  "sh",
  [
    "-c",
    [
      "echo 'files the command sees:'; find workspace -type f | sort",
      "sh workspace/skills/pdf/run.sh",
      "printf 'pages: 3\\n' > workspace/scratch/report.txt",
      "printf 'plan: rewritten by the command\\n' > workspace/scratch/notes/plan.md",
      "rm workspace/scratch/notes/todo.md",
      "echo tampered > workspace/skills/search/SKILL.md",
      "mkdir -p workspace/scratch/node_modules && echo x > workspace/scratch/node_modules/ignored.js",
    ].join(" && "),
  ],
  { hydrate: true },
);
show(`the command exited with ${result.exitCode}; its output:`);
say(result.stdout.trimEnd().replace(/^/gm, "      | "));

say();
say("6. What the command changed, and what the workspace did with it:");
const c = result.changes;
const list = (paths) => (paths.length ? paths.join(", ") : "nothing");
show(`added:    ${list(c.added)}`);
show(`modified: ${list(c.modified)}`);
show(`deleted:  ${list(c.deleted)}`);
show(`mirrored to their bucket: ${list(c.mirrored)}`);
show(`kept in this workspace only (read-only mounts): ${list(c.readOnly)}`);
show(
  `conflicts with the agent's own unsaved edits: ${
    c.conflicts.length
      ? c.conflicts
          .map(
            (x) =>
              `${x.path} (${x.resolution === "accept" ? "the command's version kept" : "the agent's version kept"})`,
          )
          .join(", ")
      : "none"
  }`,
);
show(`ignored, never pulled back: /workspace/scratch/node_modules (workspace ignore: node_modules)`);
if (c.errors.length) show(`errors: ${c.errors.map((e) => `${e.path}: ${e.error}`).join(", ")}`);

await ws.close(); // flushes anything still pending
say();
say("7. After close, the buckets hold the result; the shared skills are untouched.");
show(`scratch bucket: ${scratchBucket.keys().join(", ")}`);
show(`notes/plan.md: ${JSON.stringify(decode(scratchBucket.get("notes/plan.md").bytes))}`);
show(`report.txt: ${JSON.stringify(decode(scratchBucket.get("report.txt").bytes))}`);
show(
  `skills bucket, search/SKILL.md: ${JSON.stringify(decode(skillsBucket.get("skills/search/SKILL.md").bytes))}`,
);
const s = ws.stats;
show(`in total: ${s.listCalls} listings, ${s.fetches} fetches, ${s.puts} puts, ${s.deletes} deletes`);
say();
say("That is the whole loop: mount, read lazily, write back, run commands, mirror what they changed.");
