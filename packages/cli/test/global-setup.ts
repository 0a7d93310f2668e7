import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// The CLI is tested as users run it: the built `ws` binary in a child process. Build it (and the
// packages it imports) first; turbo's cache makes this a no-op when nothing changed.
export default function setup(): void {
  const root = fileURLToPath(new URL("../../..", import.meta.url));
  execFileSync("npx", ["turbo", "run", "build", "--filter=@ws/cli...", "--output-logs=errors-only"], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
}
