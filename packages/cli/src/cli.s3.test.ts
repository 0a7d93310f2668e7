import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { type S3TestServer, startMoto } from "@ws/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ws } from "../test/run-ws.js";

// The s3 provider of `ws` against real moto servers: one accepting any key for the round trips,
// one with IAM authentication on, so that refused credentials are refused for real. (With IAM on,
// moto answers SignatureDoesNotMatch to prefixed listings from the SDK, hence two servers.)

let moto: S3TestServer;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  moto = await startMoto();
  env = {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: moto.region,
    AWS_ACCESS_KEY_ID: moto.accessKeyId,
    AWS_SECRET_ACCESS_KEY: moto.secretAccessKey,
    AWS_MAX_ATTEMPTS: "1",
  };
  const client = new S3Client({
    endpoint: moto.endpoint,
    region: moto.region,
    forcePathStyle: true,
    credentials: { accessKeyId: moto.accessKeyId, secretAccessKey: moto.secretAccessKey },
  });
  await client.send(new CreateBucketCommand({ Bucket: "cli" }));
  client.destroy();
  dir = await mkdtemp(join(tmpdir(), "ws-cli-s3-"));
  mkdirSync(join(dir, "data/sub"), { recursive: true });
  writeFileSync(join(dir, "data/a.txt"), "alpha\n");
  writeFileSync(join(dir, "data/sub/b.txt"), "beta\n");
}, 120_000);

afterAll(async () => {
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("s3:// sources", () => {
  it("cp to a prefix, ls and cat it back, run over it read-only, cp it back to the host", async () => {
    const up = await ws(["cp", "./data", "s3://cli/team"], { cwd: dir, env });
    expect(up.code).toBe(0);
    expect((await ws(["ls", "s3://cli/team"], { cwd: dir, env })).stdout.toString()).toBe(
      "a.txt\nsub/b.txt\n",
    );
    expect((await ws(["cat", "s3://cli/team", "sub/b.txt"], { cwd: dir, env })).stdout.toString()).toBe(
      "beta\n",
    );
    const run = await ws(
      [
        "run",
        "-q",
        "-m",
        "s3://cli/team:/data",
        "-m",
        "./out:/out:rw",
        "--",
        "sh",
        "-c",
        "cat /data/a.txt /data/sub/b.txt > /out/both.txt",
      ],
      { cwd: dir, env },
    );
    // ./out does not exist yet: SRC missing is an error a person can act on.
    expect(run.code).toBe(125);
    mkdirSync(join(dir, "out"));
    const again = await ws(
      [
        "run",
        "-q",
        "-m",
        "s3://cli/team:/data",
        "-m",
        "./out:/out:rw",
        "--",
        "sh",
        "-c",
        "cat /data/a.txt /data/sub/b.txt > /out/both.txt; touch /data/new",
      ],
      { cwd: dir, env },
    );
    expect(again.code).not.toBe(0); // touch under the read-only S3 mount fails in the sandbox
    expect(readFileSync(join(dir, "out/both.txt"), "utf8")).toBe("alpha\nbeta\n");
    const down = await ws(["cp", "s3://cli/team", "./back"], { cwd: dir, env });
    expect(down.code).toBe(0);
    expect(readFileSync(join(dir, "back/sub/b.txt"), "utf8")).toBe("beta\n");
  });

  it("writes a read-write S3 mount back", async () => {
    const r = await ws(
      ["run", "-q", "-m", "s3://cli/results:/results:rw", "--", "sh", "-c", "echo 42 > /results/answer.txt"],
      {
        cwd: dir,
        env,
      },
    );
    expect(r.code).toBe(0);
    expect((await ws(["cat", "s3://cli/results", "answer.txt"], { cwd: dir, env })).stdout.toString()).toBe(
      "42\n",
    );
  });

  it("refused credentials are one line with a hint, exit 125, before the command runs", async () => {
    const iam = await startMoto({ iamAuth: true });
    try {
      const client = new S3Client({
        endpoint: iam.endpoint,
        region: iam.region,
        forcePathStyle: true,
        credentials: { accessKeyId: iam.accessKeyId, secretAccessKey: iam.secretAccessKey },
      });
      await client.send(new CreateBucketCommand({ Bucket: "locked" }));
      client.destroy();
      const denied = iam.deniedCredentials!;
      const r = await ws(["run", "-m", "s3://locked:/data", "--", "touch", join(dir, "should-not-run")], {
        cwd: dir,
        env: {
          ...env,
          AWS_ENDPOINT_URL: iam.endpoint,
          AWS_ACCESS_KEY_ID: denied.accessKeyId,
          AWS_SECRET_ACCESS_KEY: denied.secretAccessKey,
        },
      });
      expect(r.code).toBe(125);
      const errors = r.stderr.split("\n").filter((l) => l.startsWith("ws: error"));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/permission denied/);
      expect(errors[0]).toMatch(/ws reads them from AWS_ACCESS_KEY_ID/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(dir, "should-not-run"))).toBe(false);
    } finally {
      await iam.stop();
    }
  });
});
