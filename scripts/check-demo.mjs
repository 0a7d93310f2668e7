// The tour (`npm run tour`: packages/core/examples/tour.mjs, then examples/demo/demo.mjs) must
// read as a story a newcomer follows. Run after `npm run build`. Checks what a reader would trip on:
// - each part opens with its title, not with an error or a refusal;
// - steps are numbered 1, 2, 3... in order, and every refusal sits in a step that announces it
//   ("refused, as designed" / "refuses ... as it should");
// - nothing "unexpected:" happened, nothing went to stderr, the exit code is 0;
// - no raw JSON dumps, and the conflicts the hook reported are the conflicts the summary lists.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const parts = ["packages/core/examples/tour.mjs", "examples/demo/demo.mjs"];
const problems = [];

for (const [index, part] of parts.entries()) {
  const run = spawnSync(process.execPath, [join(root, part)], { cwd: root, encoding: "utf8" });
  const lines = run.stdout.split("\n");
  const where = (i) => `${part}, line ${i + 1}: ${JSON.stringify(lines[i])}`;
  if (run.status !== 0) problems.push(`${part} exited with ${run.status}: ${run.stderr}`);
  if (run.stderr.trim() !== "") problems.push(`${part} wrote to stderr: ${run.stderr.trim()}`);
  if (!lines[0]?.startsWith(`ws mounts, part ${index + 1}:`))
    problems.push(`${where(0)} is not the part's title`);
  let step = 0;
  let heading = "";
  for (const [i, line] of lines.entries()) {
    const numbered = /^(\d+)\. /.exec(line);
    if (numbered) {
      if (Number(numbered[1]) !== step + 1)
        problems.push(`${where(i)}: step ${numbered[1]} after step ${step}`);
      step = Number(numbered[1]);
      heading = line;
    }
    if (/\b(refused|EROFS|EINVAL|EDQUOT|Error)\b/.test(line) && step === 0)
      problems.push(`${where(i)}: a refusal or error before the story starts`);
    if (/refused with/.test(line) && !/refus.*(as designed|as it should)/.test(heading)) {
      problems.push(
        `${where(i)}: a refusal in a step that does not announce it (${JSON.stringify(heading)})`,
      );
    }
    if (/unexpected:/.test(line)) problems.push(`${where(i)}`);
    if (/^\s*[[{]\s*$|"\w+": \[/.test(line)) problems.push(`${where(i)}: raw JSON in the story`);
  }
  if (step < 3) problems.push(`${part}: only ${step} numbered steps`);
  if (part.endsWith("demo.mjs")) {
    const hooked = lines.filter((l) => /\[hook\] .*: exec conflict/.test(l)).length;
    const summary = lines.find((l) => l.includes("conflicts with the agent's own unsaved edits:")) ?? "";
    const listed = summary.endsWith(": none")
      ? 0
      : summary.split(": ").slice(1).join(": ").split(", ").length;
    if (hooked !== listed)
      problems.push(`${part}: the hook reported ${hooked} conflict(s), the summary lists ${listed}`);
  }
}

if (problems.length > 0) {
  console.error(`check-demo: the demo does not read as a story:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`check-demo: ${parts.length} parts read as a story (titles, numbered steps, announced refusals)`);
