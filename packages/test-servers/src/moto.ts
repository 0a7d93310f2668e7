import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findExecutable, freePort, missingServer, startServerProcess } from "./process-group.js";
import type { S3ServerInfo, S3TestServer } from "./s3-server.js";

export interface StartMotoOptions {
  /**
   * Turn on moto's IAM authentication: every request must then be signed with a key moto issued.
   * The returned credentials belong to an IAM user allowed everything; `deniedCredentials` to one
   * allowed nothing. Off by default (moto then accepts any key).
   */
  readonly iamAuth?: boolean;
  /** Milliseconds to wait for `GET /moto-api/` to answer (default 60 s: Python starts slowly on a busy machine). */
  readonly readyTimeoutMs?: number;
}

const MOTO_INSTALL = "pip install 'moto[server]' (moto_server is preinstalled on the project's machines)";

/**
 * Starts `moto_server` on 127.0.0.1 on a free port and waits until it answers. Any access key
 * works on moto; the ones returned are fixed test values.
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<S3TestServer> {
  const binary = await findExecutable("moto_server");
  if (!binary) throw missingServer("moto", "moto_server", MOTO_INSTALL);
  const dir = await mkdtemp(join(tmpdir(), "ws-moto-"));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const { stop } = await startServerProcess({
    name: "moto_server",
    binary,
    args: ["-H", "127.0.0.1", "-p", String(port)],
    dir,
    env: {
      ...process.env,
      TMPDIR: dir,
      MOTO_ALLOW_NONEXISTENT_REGION: "true",
      // moto checks signatures and IAM policies after this many unauthenticated actions: exactly
      // the IAM calls that create the two users below.
      ...(options.iamAuth ? { INITIAL_NO_AUTH_ACTION_COUNT: String(IAM_SETUP_ACTIONS) } : {}),
    },
    waitingFor: `moto on ${endpoint}`,
    ready: async () => (await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) })).ok,
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
  });
  let credentials = {
    accessKeyId: "AKIAWSMOUNTSTESTKEY0",
    secretAccessKey: "moto-test-secret-0123456789abcdefghijklmn",
  };
  let deniedCredentials: S3ServerInfo["deniedCredentials"];
  if (options.iamAuth) {
    try {
      credentials = await createIamUser(endpoint, "ws-admin", ALLOW_ALL);
      deniedCredentials = await createIamUser(endpoint, "ws-nobody");
    } catch (error) {
      await stop();
      throw error;
    }
  }
  const info: S3ServerInfo = {
    name: "moto",
    endpoint,
    region: "us-east-1",
    ...credentials,
    deniedCredentials,
    checksCredentials: options.iamAuth === true,
    forcePathStyle: true,
    quirks: { conditionalPut: true, streamingChecksums: true, deleteObjectsNeedsContentMd5: false },
  };
  return { ...info, dataDir: dir, stop, info: () => info };
}

const ALLOW_ALL = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
});
// CreateUser + CreateAccessKey for two users, PutUserPolicy for one.
const IAM_SETUP_ACTIONS = 5;

/**
 * One IAM Query API call during moto's unauthenticated window. The signature is not checked then,
 * but moto reads the service name from the credential scope to route the request to IAM.
 */
async function iamCall(endpoint: string, params: Record<string, string>): Promise<string> {
  const response = await fetch(`${endpoint}/`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization:
        "AWS4-HMAC-SHA256 Credential=AKIAWSMOUNTSSETUP000/20260101/us-east-1/iam/aws4_request, " +
        "SignedHeaders=host, Signature=0",
    },
    body: new URLSearchParams({ ...params, Version: "2010-05-08" }).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`moto IAM ${params["Action"]} failed: HTTP ${response.status} ${text}`);
  return text;
}

async function createIamUser(
  endpoint: string,
  name: string,
  policy?: string,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  await iamCall(endpoint, { Action: "CreateUser", UserName: name });
  const xml = await iamCall(endpoint, { Action: "CreateAccessKey", UserName: name });
  const accessKeyId = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(xml)?.[1];
  const secretAccessKey = /<SecretAccessKey>([^<]+)<\/SecretAccessKey>/.exec(xml)?.[1];
  if (!accessKeyId || !secretAccessKey) throw new Error(`moto IAM CreateAccessKey: unexpected answer ${xml}`);
  if (policy) {
    await iamCall(endpoint, {
      Action: "PutUserPolicy",
      UserName: name,
      PolicyName: "all",
      PolicyDocument: policy,
    });
  }
  return { accessKeyId, secretAccessKey };
}

/** Wipes every bucket and object of a moto server (`POST /moto-api/reset`). */
export async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, {
    method: "POST",
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
}
