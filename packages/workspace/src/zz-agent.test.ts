import { MemoryMount, MemoryStore } from "@ws/core";
import { gitRoundTrip, npmRoundTrip, tarRoundTrip } from "@ws/testkit";
import { it } from "vitest";
it("agent", async () => {
  const store = new MemoryStore();
  const fresh = () => MemoryMount({ mode: "read-write", store });
  const g = await gitRoundTrip(fresh);
  console.log(g.write.exec.exitCode, g.write.exec.stderr, g.write.exec.changes.errors.map(e=>e.path+" "+String(e.error)).slice(0,5), String(g.write.closeError));
  for (const k of ["log","fsck","status","script","modes"] as const) console.log(k, g[k].exitCode, g[k].stdout, g[k].stderr);
  const n = await npmRoundTrip(() => MemoryMount({ mode: "read-write", store: new MemoryStore() }));
  console.log("npm", n.write.exec.exitCode, n.write.exec.stderr, n.write.exec.changes.errors.map(e=>e.path+" "+String(e.error)).slice(0,5), n.npx.exitCode, n.npx.stdout, n.npx.stderr);
}, 120000);
