#!/usr/bin/env node
// More libuv threads than the default 4: `ws cp` and the prefetch before `ws run` are many small
// file operations at once. Must be set before the first one.
process.env["UV_THREADPOOL_SIZE"] ??= "16";

const { runCli } = await import("./cli.js");
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
process.exitCode = code;
