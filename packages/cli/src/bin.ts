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

// Node 22.1+ can keep V8's compiled code of the modules loaded below on disk for later starts
// (`module.enableCompileCache`). Node 20 has no such cache, so nothing happens there (and this
// was not measured here: the machines run Node 20).
const nodeModule = (await import("node:module")) as { enableCompileCache?: () => unknown };
nodeModule.enableCompileCache?.();

// `ws run` asks bubblewrap once whether it can sandbox here (a spawn of its own): start that now,
// so it runs while the CLI and its providers load instead of after. Its answer is cached by the
// sandbox module, where `ws run` reads it. Nothing else starts early.
const args = process.argv.slice(2);
if (
  args[0] === "run" &&
  !args.includes("--dry-run") &&
  !/(^|\s)--sandbox(=|\s)none(\s|$)/.test(args.join(" "))
) {
  void import("@ws/workspace/sandbox").then(
    (sandbox) => sandbox.probeSandbox(),
    () => undefined,
  );
}

const { runCli } = await import("./cli.js");
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env,
  cwd: process.cwd(),
});
process.exitCode = code;
