const { startNginx } = await import("@ws/test-servers");
const { spawnSync } = await import("node:child_process");
const ng = await startNginx({ root: "/tmp/stream-www" });
const r = spawnSync("/usr/bin/time", ["-f", "%U %S %e %M", process.execPath, "--cpu-prof", "--cpu-prof-dir=/tmp/stream-prof", "bench/stream.bench.mjs", "--child", process.argv[2] ?? "stream", `${ng.url}large/`, String(2 ** 30)], { encoding: "utf8" });
console.log(r.stdout, r.stderr.slice(-300));
await ng.stop();
