// Run by journal.test.ts as a separate process (bundled first): writes 20 files through a
// workspace whose mount never gets them before the process dies, then says "done".
import { Workspace } from "../src/index.js";
import { dirMount } from "./dir-mount.js";

const [journal, data, mode] = process.argv.slice(2) as [string, string, string];
const ws = new Workspace({
  mounts: { "/m": dirMount(data, { mode: "read-write", writeBack: "manual" }) },
  ...(mode.includes("journal") ? { journal } : {}),
  ...(mode.includes("flushOnExit") ? { flushOnExit: true } : {}),
});
for (let i = 0; i < 20; i++) await ws.fs.writeFile(`/m/f${i}.txt`, `file ${i}\n`);
process.stdout.write("done\n");
if (mode.includes("exit0")) process.exitCode = 0;
else setInterval(() => undefined, 1000);
