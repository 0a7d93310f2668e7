import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterEach, describe, expect, it } from "vitest";
import { startMiniflareR2 } from "./miniflare-r2.js";
import { resetMoto, startMoto } from "./moto.js";
import { startOciRegistry } from "./oci-registry.js";
import { portOpen } from "./process-group.js";
import { startSwift } from "./swift.js";

const TIMEOUT = { timeout: 120_000 };

function portOf(endpoint: string): number {
  return Number(new URL(endpoint).port);
}

describe("startMoto", () => {
  it("answers S3 on 127.0.0.1, resets, and stops idempotently", TIMEOUT, async () => {
    const moto = await startMoto();
    try {
      expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const put = await fetch(`${moto.endpoint}/ws-probe`, {
        method: "PUT",
        signal: AbortSignal.timeout(10_000),
      });
      expect(put.status).toBe(200);
      await resetMoto(moto.endpoint);
      const list = await fetch(`${moto.endpoint}/`, { signal: AbortSignal.timeout(10_000) });
      expect(await list.text()).not.toContain("ws-probe");
    } finally {
      await moto.stop();
    }
    await moto.stop();
    expect(await portOpen(portOf(moto.endpoint))).toBe(false);
  });
});

describe("startMoto with iamAuth", () => {
  it("issues an allowed and a denied IAM user, and then rejects unsigned requests", TIMEOUT, async () => {
    const moto = await startMoto({ iamAuth: true });
    try {
      expect(moto.checksCredentials).toBe(true);
      expect(moto.accessKeyId).toMatch(/^[A-Z0-9]{16,}$/);
      expect(moto.deniedCredentials?.accessKeyId).toMatch(/^[A-Z0-9]{16,}$/);
      expect(moto.deniedCredentials?.accessKeyId).not.toBe(moto.accessKeyId);
      // A request signed with a key moto never issued (unsigned ones make moto answer 500).
      const put = await fetch(`${moto.endpoint}/ws-probe`, {
        method: "PUT",
        headers: {
          authorization:
            "AWS4-HMAC-SHA256 Credential=AKIANOTISSUEDBYMOTO0/20260101/us-east-1/s3/aws4_request, " +
            "SignedHeaders=host, Signature=0",
          "x-amz-date": "20260101T000000Z",
          "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
        },
        signal: AbortSignal.timeout(10_000),
      });
      expect(put.status).toBe(403);
      expect(await put.text()).toMatch(/InvalidAccessKeyId/);
    } finally {
      await moto.stop();
    }
  });
});

describe("startSwift", () => {
  it("starts all four servers, answers /info, and stops idempotently", TIMEOUT, async () => {
    const swift = await startSwift();
    try {
      expect(swift.accessKeyId).toBe("test:tester");
      const info = await fetch(`${swift.endpoint}/info`, { signal: AbortSignal.timeout(10_000) });
      const body = (await info.json()) as Record<string, unknown>;
      expect(body).toHaveProperty("s3api");
    } finally {
      await swift.stop();
    }
    await swift.stop();
    expect(await portOpen(portOf(swift.endpoint))).toBe(false);
  });
});

describe("startMiniflareR2", () => {
  it("gives an R2 binding that stores Uint8Array bytes", TIMEOUT, async () => {
    const server = await startMiniflareR2({ buckets: ["A"] });
    try {
      const bucket = await server.bucket<{
        put(key: string, value: Uint8Array): Promise<unknown>;
        get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
      }>("A");
      await bucket.put("k", new Uint8Array([1, 2, 3]));
      const object = await bucket.get("k");
      expect(new Uint8Array((await object?.arrayBuffer()) ?? new ArrayBuffer(0))).toEqual(
        new Uint8Array([1, 2, 3]),
      );
    } finally {
      await server.stop();
    }
    await server.stop();
  });
});

describe("startOciRegistry", () => {
  it("answers the distribution API, takes a skopeo push, and stops idempotently", TIMEOUT, async () => {
    const registry = await startOciRegistry();
    const layout = await mkdtemp(join(registry.storageDir, "..", "layout-"));
    try {
      expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/);
      expect((await fetch(`${registry.url}/v2/`)).status).toBe(200);
      // The smallest OCI layout skopeo accepts: an empty config, one layer, one manifest.
      const blob = async (text: string) => {
        const hex = createHash("sha256").update(text).digest("hex");
        await writeFile(join(layout, "blobs", "sha256", hex), text);
        return { digest: `sha256:${hex}`, size: Buffer.byteLength(text) };
      };
      await mkdir(join(layout, "blobs", "sha256"), { recursive: true });
      await writeFile(join(layout, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
      const config = await blob("{}");
      const layer = await blob("hello");
      const manifest = await blob(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          config: { mediaType: "application/vnd.oci.empty.v1+json", ...config },
          layers: [{ mediaType: "text/plain", ...layer }],
        }),
      );
      await writeFile(
        join(layout, "index.json"),
        JSON.stringify({
          schemaVersion: 2,
          manifests: [
            {
              mediaType: "application/vnd.oci.image.manifest.v1+json",
              ...manifest,
              annotations: { "org.opencontainers.image.ref.name": "v1" },
            },
          ],
        }),
      );
      await registry.push(layout, "v1", "probe/repo");
      const got = await fetch(`${registry.url}/v2/probe/repo/blobs/${layer.digest}`);
      expect(await got.text()).toBe("hello");
      expect(await readFile(registry.blobPath(layer.digest), "utf8")).toBe("hello");
    } finally {
      await registry.stop();
    }
    await registry.stop();
    expect(existsSync(registry.storageDir)).toBe(false);
    expect(await portOpen(Number(registry.host.split(":")[1]))).toBe(false);
  });
});

describe("a missing server binary", () => {
  const savedPath = process.env["PATH"];
  const savedCi = process.env["CI"];
  afterEach(() => {
    process.env["PATH"] = savedPath;
    if (savedCi === undefined) delete process.env["CI"];
    else process.env["CI"] = savedCi;
  });

  it("names the Debian packages to install on a developer machine", async () => {
    process.env["PATH"] = "/nonexistent";
    delete process.env["CI"];
    await expect(startSwift()).rejects.toThrow(/apt-get install .*swift-proxy swift-account/);
    await expect(startMoto()).rejects.toThrow(/moto_server was not found/);
    await expect(startOciRegistry()).rejects.toThrow(/apt-get install .*docker-registry skopeo/);
  });

  it("is a failure in CI, not a skip", async () => {
    process.env["PATH"] = "/nonexistent";
    process.env["CI"] = "true";
    await expect(startSwift()).rejects.toThrow(/CI must run the whole test matrix/);
    await expect(startMoto()).rejects.toThrow(/CI must run the whole test matrix/);
  });
});

describe("cleanup", () => {
  it("removes the temp dir on stop", TIMEOUT, async () => {
    const moto = await startMoto();
    expect(existsSync(moto.dataDir)).toBe(true);
    await moto.stop();
    expect(existsSync(moto.dataDir)).toBe(false);
  });

  it("kills the servers when the process that started them is killed with SIGKILL", TIMEOUT, async () => {
    // A child process starts moto and Miniflare, reports them, and is then killed without any
    // chance to run exit handlers: the watchdogs have to stop moto and workerd and remove moto's
    // data. Node 20 cannot run TypeScript, so the modules involved are transpiled first, into a
    // folder inside this package so that "miniflare" still resolves.
    const out = await mkdtemp(join(fileURLToPath(new URL("..", import.meta.url)), ".watchdog-test-"));
    try {
      for (const name of ["moto", "process-group", "miniflare-r2"]) {
        const source = await readFile(new URL(`./${name}.ts`, import.meta.url), "utf8");
        const js = ts.transpileModule(source, {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        }).outputText;
        await writeFile(
          join(out, `${name}.mjs`),
          js.replaceAll(/from "\.\/([a-z0-9-]+)\.js"/g, 'from "./$1.mjs"'),
        );
      }
      const script = `
        import { startMoto } from ${JSON.stringify(join(out, "moto.mjs"))};
        import { startMiniflareR2 } from ${JSON.stringify(join(out, "miniflare-r2.mjs"))};
        import { childProcesses } from ${JSON.stringify(join(out, "process-group.mjs"))};
        const moto = await startMoto();
        await startMiniflareR2();
        const workerd = childProcesses("workerd");
        console.log(JSON.stringify({ endpoint: moto.endpoint, dataDir: moto.dataDir, workerd }));
        setInterval(() => {}, 1000);
      `;
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
        cwd: out,
        stdio: ["ignore", "pipe", "inherit"],
      });
      const line = await new Promise<string>((resolve, reject) => {
        let text = "";
        child.stdout.on("data", (c: Buffer) => {
          text += c.toString();
          if (text.includes("\n")) resolve(text.split("\n")[0] ?? "");
        });
        child.on("exit", (code) => reject(new Error(`child exited early (${code})`)));
      });
      const { endpoint, dataDir, workerd } = JSON.parse(line) as {
        endpoint: string;
        dataDir: string;
        workerd: number[];
      };
      expect(await portOpen(portOf(endpoint))).toBe(true);
      expect(workerd.length).toBeGreaterThan(0);
      child.kill("SIGKILL");
      const alive = (pid: number): boolean => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      const deadline = Date.now() + 20_000;
      while ((await portOpen(portOf(endpoint))) || existsSync(dataDir) || workerd.some(alive)) {
        if (Date.now() > deadline) throw new Error("a server outlived the process that started it");
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
