import { execFile } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { findExecutable, freePort, missingServer, startServerProcess } from "./process-group.js";

const run = promisify(execFile);

export interface StartOciRegistryOptions {
  /** Milliseconds to wait for `GET /v2/` to answer (default 30 s). */
  readonly readyTimeoutMs?: number;
  /**
   * Require HTTP Basic credentials (the registry's htpasswd auth; the bcrypt hash is made with
   * Python's `crypt`). `push` then logs in with them.
   */
  readonly basicAuth?: { readonly username: string; readonly password: string };
}

/** A running OCI distribution registry (Debian's docker-registry) on 127.0.0.1, plain HTTP. */
export interface OciRegistryServer {
  /** `127.0.0.1:PORT`, the host part of `oci://` references. */
  readonly host: string;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Where the registry keeps its blobs on disk (tests tamper with them to prove digests are checked). */
  readonly storageDir: string;
  /** The file holding a blob's bytes (manifests are blobs too). */
  blobPath(digest: string): string;
  /**
   * Pushes `tag` of the OCI image layout at `layoutDir` to `repository:tag` with skopeo, as is (no
   * conversion, digests preserved, every platform of an index).
   */
  push(layoutDir: string, tag: string, repository: string): Promise<void>;
  stop(): Promise<void>;
}

const REGISTRY_INSTALL = "apt-get install -y --no-install-recommends docker-registry skopeo";

/**
 * Starts `docker-registry serve` (the CNCF distribution registry as packaged by Debian) on a free
 * port of 127.0.0.1 with its storage in a temporary directory, and waits until `/v2/` answers.
 */
export async function startOciRegistry(options: StartOciRegistryOptions = {}): Promise<OciRegistryServer> {
  const binary = await findExecutable("docker-registry");
  if (!binary) throw missingServer("OCI registry", "docker-registry", REGISTRY_INSTALL);
  const skopeo = await findExecutable("skopeo");
  if (!skopeo) throw missingServer("OCI registry", "skopeo", REGISTRY_INSTALL);
  const dir = await mkdtemp(join(tmpdir(), "ws-registry-"));
  const storageDir = join(dir, "storage");
  await mkdir(storageDir);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(dir, "config.yml");
  const auth: string[] = [];
  if (options.basicAuth) {
    const { username, password } = options.basicAuth;
    const { stdout } = await run("python3", [
      "-W",
      "ignore",
      "-c",
      "import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2**4)))",
      password,
    ]);
    await writeFile(join(dir, "htpasswd"), `${username}:${stdout.trim()}\n`);
    auth.push("auth:", "  htpasswd:", "    realm: ws-mounts-test", `    path: ${join(dir, "htpasswd")}`);
  }
  await writeFile(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: error",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${storageDir}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: ${host}`,
      "  secret: ws-mounts-test-registry",
      ...auth,
      "",
    ].join("\n"),
  );
  const url = `http://${host}`;
  const { stop } = await startServerProcess({
    name: "docker-registry",
    binary,
    args: ["serve", config],
    dir,
    waitingFor: `docker-registry on ${url}`,
    // 401 once auth is on: the registry answers, which is all this waits for.
    ready: async () =>
      [200, 401].includes((await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) })).status),
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
  });
  return {
    host,
    url,
    storageDir,
    blobPath(digest: string): string {
      const [algorithm, hex] = digest.split(":") as [string, string];
      return join(storageDir, "docker/registry/v2/blobs", algorithm, hex.slice(0, 2), hex, "data");
    },
    async push(layoutDir: string, tag: string, repository: string): Promise<void> {
      await run(skopeo, [
        "copy",
        "--quiet",
        "--preserve-digests",
        "--all",
        "--dest-tls-verify=false",
        ...(options.basicAuth
          ? [`--dest-creds=${options.basicAuth.username}:${options.basicAuth.password}`]
          : []),
        `oci:${layoutDir}:${tag}`,
        `docker://${host}/${repository}:${tag}`,
      ]);
    },
    stop,
  };
}
