import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  findExecutable,
  freePorts,
  guardCleanup,
  missingServer,
  portOpen,
  type ServerProcess,
  spawnServer,
  stopServer,
  waitUntil,
} from "./process-group.js";
import type { S3ServerInfo, S3TestServer } from "./s3-server.js";

export interface StartSwiftOptions {
  /** Milliseconds to wait until all four servers answer (default 60 s). */
  readonly readyTimeoutMs?: number;
}

const SWIFT_PACKAGES =
  "apt-get install -y --no-install-recommends swift-proxy swift-account swift-container swift-object";
const SERVERS = ["proxy", "account", "container", "object"] as const;
type SwiftServer = (typeof SERVERS)[number];

// Debian's swift scripts run on the system Python, not on whatever python3 is first on PATH.
const SYSTEM_PYTHON = "/usr/bin/python3";

const RING_SCRIPT = `
import sys
from swift.common.ring import RingBuilder
folder = sys.argv[1]
for pair in sys.argv[2:]:
    name, port = pair.split("=")
    builder = RingBuilder(6, 1, 1)
    builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port),
                     "device": "d1", "weight": 1.0, "meta": ""})
    builder.rebalance()
    builder.get_ring().save(f"{folder}/{name}.ring.gz")
`;

function storageConf(kind: "account" | "container" | "object", port: number, dir: string): string {
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
devices = ${join(dir, "srv")}
mount_check = false
disable_fallocate = true
swift_dir = ${dir}
log_level = WARNING

[pipeline:main]
pipeline = ${kind}-server

[app:${kind}-server]
use = egg:swift#${kind}
`;
}

function proxyConf(port: number, dir: string): string {
  // s3api must sit before tempauth, which then checks the S3 signature against user_test_tester.
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
swift_dir = ${dir}
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
user_test_nobody = nobody-secret

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
`;
}

function run(command: string, args: readonly string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      output += c.toString("utf8");
    });
    child.stderr.on("data", (c: Buffer) => {
      output += c.toString("utf8");
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(" ")} failed (${signal ?? code}):\n${output}`));
    });
  });
}

/**
 * Starts a single-node OpenStack Swift (proxy with the s3api middleware, account, container and
 * object servers) on 127.0.0.1, with all data in a temp dir, and waits until all four servers
 * listen. S3 credentials: access key `test:tester`, secret `testing` (tempauth admin); `test:nobody`
 * / `nobody-secret` is a user without any grant.
 */
export async function startSwift(options: StartSwiftOptions = {}): Promise<S3TestServer> {
  const binaries = {} as Record<SwiftServer, string>;
  for (const name of SERVERS) {
    const found = await findExecutable(`swift-${name}-server`);
    if (!found) throw missingServer("OpenStack Swift", `swift-${name}-server`, SWIFT_PACKAGES);
    binaries[name] = found;
  }
  const dir = await mkdtemp(join(tmpdir(), "ws-swift-"));
  const processes: ServerProcess[] = [];
  let release: (() => void) | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all(processes.map((p) => stopServer(p)));
      release?.();
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  try {
    const [proxyPort, accountPort, containerPort, objectPort] = (await freePorts(4)) as [
      number,
      number,
      number,
      number,
    ];
    await mkdir(join(dir, "srv", "d1"), { recursive: true });
    await run(
      SYSTEM_PYTHON,
      [
        "-c",
        RING_SCRIPT,
        dir,
        `account=${accountPort}`,
        `container=${containerPort}`,
        `object=${objectPort}`,
      ],
      60_000,
    );
    await writeFile(join(dir, "proxy-server.conf"), proxyConf(proxyPort, dir));
    await writeFile(join(dir, "account-server.conf"), storageConf("account", accountPort, dir));
    await writeFile(join(dir, "container-server.conf"), storageConf("container", containerPort, dir));
    await writeFile(join(dir, "object-server.conf"), storageConf("object", objectPort, dir));
    for (const name of SERVERS) {
      processes.push(
        spawnServer(`swift-${name}-server`, binaries[name], [join(dir, `${name}-server.conf`)], { cwd: dir }),
      );
    }
    release = guardCleanup(
      processes.flatMap((p) => (p.child.pid === undefined ? [] : [p.child.pid])),
      dir,
    );
    const endpoint = `http://127.0.0.1:${proxyPort}`;
    // The proxy answers /info before the storage servers listen, and requests then get 503:
    // wait for all four.
    await waitUntil(
      `Swift on ${endpoint}`,
      async () => {
        for (const port of [accountPort, containerPort, objectPort])
          if (!(await portOpen(port))) return false;
        return (await fetch(`${endpoint}/info`, { signal: AbortSignal.timeout(1000) })).ok;
      },
      processes,
      options.readyTimeoutMs ?? 60_000,
    );
    const info: S3ServerInfo = {
      name: "swift",
      endpoint,
      region: "us-east-1",
      accessKeyId: "test:tester",
      secretAccessKey: "testing",
      // A non-admin user of the same account: authenticated, but no container grants it anything.
      deniedCredentials: { accessKeyId: "test:nobody", secretAccessKey: "nobody-secret" },
      checksCredentials: true,
      forcePathStyle: true,
      quirks: { conditionalPut: false, streamingChecksums: false, deleteObjectsNeedsContentMd5: true },
    };
    return { ...info, dataDir: dir, stop, info: () => info };
  } catch (error) {
    await stop();
    throw error;
  }
}
