import { execFile } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  findExecutable,
  freePort,
  guardCleanup,
  missingServer,
  portOpen,
  type ServerProcess,
  spawnServer,
  stopServer,
  waitUntil,
} from "./process-group.js";

const run = promisify(execFile);
const INSTALL = "apt-get install -y --no-install-recommends postgresql";

export interface StartPostgresOptions {
  /** Milliseconds to wait for the server to accept connections (default 60 s). */
  readonly readyTimeoutMs?: number;
}

/** What a test needs to reach the server (crosses a process boundary). */
export interface PostgresInfo {
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly user: "ws";
  readonly database: "postgres";
  /** `postgres://ws@127.0.0.1:PORT/postgres` (trust authentication, no password). */
  readonly connectionString: string;
}

/** A running PostgreSQL. `stop()` is final; `halt()` / `resume()` stop and restart it on the same port and data. */
export interface PostgresTestServer extends PostgresInfo {
  readonly dataDir: string;
  info(): PostgresInfo;
  /** Stops the server process, keeping its data (a database outage). */
  halt(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

async function binDir(): Promise<string | undefined> {
  const base = "/usr/lib/postgresql";
  const versions = await readdir(base).catch(() => [] as string[]);
  for (const v of versions.sort().reverse()) {
    const dir = join(base, v, "bin");
    if (await findExecutable(join(dir, "initdb"))) return dir;
  }
  const onPath = await findExecutable("initdb");
  return onPath ? onPath.slice(0, onPath.lastIndexOf("/")) : undefined;
}

/**
 * Starts a throwaway PostgreSQL (Debian `postgresql`) on 127.0.0.1 on a free port, with a `ws`
 * superuser and trust authentication. initdb and postgres refuse to run as root: as root they run
 * as the `postgres` user (`runuser`). fsync is off (a test server): data survives the process
 * being stopped or killed, not the machine crashing.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresTestServer> {
  const bin = await binDir();
  if (!bin) throw missingServer("PostgreSQL", "initdb", INSTALL);
  const root = process.getuid?.() === 0;
  const runuser = root ? await findExecutable("runuser") : undefined;
  if (root && !runuser) throw missingServer("PostgreSQL", "runuser", "apt-get install -y util-linux");
  const as = (command: string, args: string[]): [string, string[]] =>
    root ? [runuser!, ["-u", "postgres", "--", command, ...args]] : [command, args];
  const dir = await mkdtemp(join(tmpdir(), "ws-postgres-"));
  const data = join(dir, "data");
  if (root) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await chmod(dir, 0o700);
  await mkdir(data).catch(() => undefined);
  if (root) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(data, Number(stdout.trim()), Number(gid.trim()));
  }
  const [initCmd, initArgs] = as(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "ws", "--no-sync"]);
  try {
    await run(initCmd, initArgs, { cwd: dir });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(error as { stderr?: string }).stderr ?? String(error)}`);
  }
  const port = await freePort();
  let server: ServerProcess | undefined;
  let release: () => void = () => undefined;
  const launch = async (): Promise<void> => {
    const [cmd, args] = as(join(bin, "postgres"), [
      "-D",
      data,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
      "-c",
      "max_connections=200",
    ]);
    server = spawnServer("postgres", cmd, args, { cwd: dir });
    release();
    release = guardCleanup(server.child.pid === undefined ? [] : [server.child.pid], dir);
    // The port opens before the server accepts sessions ("the database system is starting up"):
    // pg_isready says when it does.
    const [readyCmd, readyArgs] = [
      join(bin, "pg_isready"),
      ["-h", "127.0.0.1", "-p", String(port), "-U", "ws", "-d", "postgres"],
    ];
    await waitUntil(
      `PostgreSQL on 127.0.0.1:${port}`,
      async () =>
        (await portOpen(port)) &&
        (await run(readyCmd, readyArgs).then(
          () => true,
          () => false,
        )),
      [server],
      options.readyTimeoutMs ?? 60_000,
    );
  };
  const halt = async (): Promise<void> => {
    if (!server) return;
    // A fast shutdown through pg_ctl waits until the postmaster and its children are gone and the
    // pid file is removed; only then can the same data directory start again.
    const [cmd, args] = as(join(bin, "pg_ctl"), ["-D", data, "stop", "-m", "fast", "-w", "-t", "30"]);
    await run(cmd, args, { cwd: dir }).catch(() => undefined);
    await stopServer(server, 10_000);
    server = undefined;
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await halt();
      release();
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  try {
    await launch();
  } catch (error) {
    await stop();
    throw error;
  }
  const info: PostgresInfo = {
    host: "127.0.0.1",
    port,
    user: "ws",
    database: "postgres",
    connectionString: `postgres://ws@127.0.0.1:${port}/postgres`,
  };
  return { ...info, dataDir: dir, info: () => info, halt, resume: launch, stop };
}
