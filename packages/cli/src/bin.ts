#!/usr/bin/env node
// The command's environment is ours as it was given, before the two settings below.
const env = { ...process.env };
// More libuv threads than the default 4: `ws cp` and the prefetch before `ws run` are many small
// file operations at once. Must be set before the first one.
process.env["UV_THREADPOOL_SIZE"] ??= "16";
// The AWS SDK warns on every run that its 2027 releases will need Node 22: not news a `ws` user
// can act on mid-command, and it would break the one-line error promise. Shown with -v.
if (!process.argv.includes("-v") && !process.argv.includes("--verbose")) {
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
}

const { runCli } = await import("./cli.js");
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env,
  cwd: process.cwd(),
});
process.exitCode = code;
