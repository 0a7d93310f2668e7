// ws mounts demo: a workspace with a lazy read-only mount and a read-write mount, a command run
// through exec, and the write-back printed. Runs offline: both mounts are in-memory providers.
import { MemoryMount, MemoryStore } from "@ws/core";
import { Workspace } from "@ws/workspace";

const skillsBucket = new MemoryStore({
  "skills/pdf/SKILL.md": "# PDF skill\nExtract text from PDFs.\n",
  "skills/pdf/run.sh": "#!/bin/sh\necho extracting\n",
  "skills/search/SKILL.md": "# Search skill\nGrep the workspace.\n",
});
const scratchBucket = new MemoryStore({ "notes/todo.md": "- try the demo\n" });

const ws = new Workspace({
  ignore: ["node_modules"],
  mounts: {
    // Lazy and read-only (the default): stubs at index time, bytes on first read.
    "/workspace/skills": MemoryMount({ store: skillsBucket, prefix: "skills" }),
    // Read-write with a short debounce so the demo does not wait long.
    "/workspace/scratch": MemoryMount({ store: scratchBucket, mode: "read-write", writeBackMs: 200 }),
  },
  onMountConflict: (c) => {
    const outcome =
      c.kind === "read-only"
        ? "kept in the VFS, never mirrored"
        : c.kind === "exec"
          ? "the exec side wins"
          : "reported";
    console.log(`  conflict (${c.kind}) at ${c.path}: ${outcome}`);
    return "accept";
  },
});

ws.on("index", (e) =>
  console.log(`  [index] ${e.root}: ${e.entries} entries, ${e.bytes} bytes (${e.strategy})`),
);
ws.on("fetch", (e) => console.log(`  [fetch] ${e.path} (${e.bytes} bytes)`));
ws.on("put", (e) => console.log(`  [put]   ${e.path} (${e.bytes} bytes)`));
ws.on("delete", (e) => console.log(`  [delete] ${e.path}`));
ws.on("error", (e) => console.log(`  [error] ${e.op} ${e.path ?? ""}: ${e.error}`));

console.log("1. first ws.fs call indexes every mount");
console.log("  /workspace:", await ws.fs.readdir("/workspace"));
console.log("  /workspace/skills/pdf:", await ws.fs.readdir("/workspace/skills/pdf"));

console.log("\n2. stat of a stub answers from the listing (no fetch); the first read fetches once");
const st = await ws.fs.stat("/workspace/skills/pdf/SKILL.md");
console.log(`  size ${st.size}, fetches so far: ${ws.stats.fetches}`);
const text = await ws.fs.readFile("/workspace/skills/pdf/SKILL.md", "utf8");
console.log(`  read ${JSON.stringify(text.split("\n")[0])}, fetches now: ${ws.stats.fetches}`);

console.log("\n3. read-only mounts refuse writes");
try {
  await ws.fs.writeFile("/workspace/skills/pdf/SKILL.md", "changed");
} catch (error) {
  console.log(`  ${error.message}`);
}

console.log(
  "\n4. writes to the read-write mount: VFS first, provider after the debounce (a burst is one put)",
);
for (let i = 1; i <= 5; i++) await ws.fs.writeFile("/workspace/scratch/notes/log.md", `entry ${i}\n`);
console.log(`  provider has notes/log.md yet? ${scratchBucket.has("notes/log.md")}`);
await new Promise((resolve) => setTimeout(resolve, 300));
console.log(
  `  after 300 ms: ${JSON.stringify(new TextDecoder().decode(scratchBucket.get("notes/log.md").bytes))}`,
);
console.log(`  puts: ${ws.stats.puts}, coalesced writes: ${ws.stats.coalescedWrites}`);

console.log(
  "\n5. exec: a real child process over a host copy of the workspace (stubs are shipped only when asked: hydrate: true)",
);
const result = await ws.exec(
  "sh",
  [
    "-c",
    [
      "echo 'files the command sees:'; find workspace -type f | sort",
      "sh workspace/skills/pdf/run.sh",
      "printf 'pages: 3\\n' > workspace/scratch/report.txt",
      "rm workspace/scratch/notes/todo.md",
      "echo tampered > workspace/skills/search/SKILL.md",
      "mkdir -p workspace/scratch/node_modules && echo x > workspace/scratch/node_modules/ignored.js",
    ].join(" && "),
  ],
  { hydrate: true },
);
console.log(`  exit code ${result.exitCode}`);
console.log(result.stdout.replace(/^/gm, "  | ").trimEnd());
console.log("  change report:", JSON.stringify(result.changes, null, 2).replace(/\n/g, "\n  "));

console.log("\n6. the write-back, as the providers now hold it");
console.log("  scratch bucket:", scratchBucket.keys());
console.log("  report.txt:", JSON.stringify(new TextDecoder().decode(scratchBucket.get("report.txt").bytes)));
console.log(
  "  skills bucket unchanged:",
  JSON.stringify(new TextDecoder().decode(skillsBucket.get("skills/search/SKILL.md").bytes)),
);
console.log(
  "  the VFS keeps the exec's read-only change:",
  JSON.stringify(await ws.fs.readFile("/workspace/skills/search/SKILL.md", "utf8")),
);

await ws.close();
console.log("\n7. stats:", ws.stats);
