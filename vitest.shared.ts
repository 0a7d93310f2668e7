import { accessSync, constants, readdirSync } from "node:fs";
import { delimiter, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { defineProject, type UserWorkspaceConfig } from "vitest/config";

// The "@ws/source" export condition points every @ws/* import at the package's TypeScript source,
// so tests never need a build first. Tests run in Vite's SSR environment, whose conditions vitest
// also hands to Node (`node --conditions`) for externalised dependencies. "module" must not be
// among them: Node would then pick bundler-only builds (the AWS SDK's dist-es, with extensionless
// imports) even from CommonJS code.
const conditions = ["@ws/source", "node", "development|production"];

/** A program a project's tests start (a real server), and how a user gets it. */
export interface RequiredServer {
  /** The executable looked up on PATH: `"moto_server"`. */
  readonly binary: string;
  /** What it is: `"moto (S3)"`. */
  readonly server: string;
  /** How to install it, as a command a user can paste. */
  readonly install: string;
  /** Absolute paths also tried when it is not on PATH (`/usr/sbin/nginx`), as the server's starter does. */
  readonly alsoAt?: readonly string[] | undefined;
}

export interface WsProjectOptions {
  /**
   * Servers this project's tests start. When one is missing from PATH and the run includes this
   * project, the run stops before vitest starts with one message that names the server and how
   * to install it (rather than "No test files found", a 0-test summary, and the error last).
   */
  readonly servers?: readonly RequiredServer[] | undefined;
}

function onPath(binary: string): boolean {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, binary), constants.X_OK);
      return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}

/** The values of `--project` in this vitest invocation (`--project x`, `--project=x`). */
function requestedProjects(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--project" && argv[i + 1]) out.push(argv[++i]!);
    else if (arg.startsWith("--project=")) out.push(arg.slice("--project=".length));
  }
  return out;
}

/** Positional file filters of `vitest run a b` (arguments that are neither flags nor flag values). */
function fileFilters(argv: readonly string[]): string[] {
  const start = argv.findIndex((a) => a === "run" || a === "watch" || a === "dev" || a === "related");
  const args = argv.slice(start + 1);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith("-")) {
      // Flags with a separate value: skip the value too.
      if (
        !arg.includes("=") &&
        ["--project", "-t", "--testNamePattern", "--root", "-r", "--config", "-c", "--dir"].includes(arg)
      )
        i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const sub of ["src", "test"]) {
    try {
      for (const entry of readdirSync(join(dir, sub), { recursive: true, withFileTypes: true })) {
        if (entry.isFile() && entry.name.endsWith(".test.ts")) out.push(join(entry.parentPath, entry.name));
      }
    } catch {
      // No such folder.
    }
  }
  return out;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")}$`);
}

/**
 * True when this vitest invocation would run tests of project `name` in `dir`: no `--project`
 * filter or one matching it, and no file filter or one matching one of its test files.
 */
export function projectSelected(name: string, dir: string, argv: readonly string[] = process.argv): boolean {
  const projects = requestedProjects(argv);
  const include = projects.filter((p) => !p.startsWith("!"));
  const exclude = projects.filter((p) => p.startsWith("!")).map((p) => p.slice(1));
  if (include.length > 0 && !include.some((p) => globToRegExp(p).test(name))) return false;
  if (exclude.some((p) => globToRegExp(p).test(name))) return false;
  const filters = fileFilters(argv);
  if (filters.length === 0) return true;
  const files = testFiles(dir).map((f) => relative(process.cwd(), f));
  return filters.some((filter) => files.some((f) => f.includes(filter)));
}

/**
 * Stops the run before it starts when a server the project needs is missing: one message, the
 * first and only one, naming each missing server and how to install it.
 */
export function requireServers(name: string, dir: string, servers: readonly RequiredServer[]): void {
  const found = (s: RequiredServer): boolean =>
    onPath(s.binary) ||
    (s.alsoAt ?? []).some((p) => {
      try {
        accessSync(p, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  const missing = servers.filter((s) => !found(s));
  if (missing.length === 0 || !projectSelected(name, dir)) return;
  const lines = missing.map((s) => `  ${s.server}: \`${s.binary}\` is not on PATH. Install it: ${s.install}`);
  process.stderr.write(
    `The ${name} tests need ${missing.length === 1 ? "a server that is" : "servers that are"} not installed:\n` +
      `${lines.join("\n")}\n` +
      "Then run the tests again (`npm run test:all` installs the Debian packages as root). " +
      `To run the rest without it, leave out the projects that start it: npx vitest run --project '!${name}' ...\n`,
  );
  process.exit(1);
}

/** The test servers the project's packages use, for `wsProject(name, { servers })`. */
export const SERVERS = {
  moto: {
    binary: "moto_server",
    server: "moto (the S3 test server)",
    install: "pip install 'moto[server]==5.2.1' (preinstalled on the project's CI machines)",
  },
  swift: {
    binary: "swift-proxy-server",
    server: "OpenStack Swift (the second S3 test server)",
    install:
      "apt-get install -y --no-install-recommends swift-proxy swift-account swift-container swift-object",
  },
  nginx: {
    binary: "nginx",
    server: "nginx (the HTTP index test server)",
    install: "apt-get install -y --no-install-recommends nginx-light",
    alsoAt: ["/usr/sbin/nginx"],
  },
  rclone: {
    binary: "rclone",
    server: "rclone serve http / webdav",
    install: "apt-get install -y --no-install-recommends rclone",
  },
  python3: {
    binary: "python3",
    server: "python3 -m http.server",
    install: "apt-get install -y --no-install-recommends python3",
  },
} as const satisfies Record<string, RequiredServer>;

/** The vitest project of one package: its tests sit next to the code, plus an optional test/ folder. */
export function wsProject(
  name: string,
  extra: UserWorkspaceConfig["test"] = {},
  options: WsProjectOptions = {},
): UserWorkspaceConfig {
  const root = dirname(fileURLToPath(import.meta.url));
  if (options.servers) requireServers(name, join(root, "packages", name), options.servers);
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ["@ws/source"] } },
    test: { name, include: ["src/**/*.test.ts", "test/**/*.test.ts"], ...extra },
  });
}
