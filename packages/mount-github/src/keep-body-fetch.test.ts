import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keepBodyFetch } from "./github-tree.js";

// The collector, on demand: what frees a dropped Response between Octokit's return and the read.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const SIZE = 256 * 1024;
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/octet-stream" });
  // Two writes and a pause, so the body is still arriving when the Response is dropped.
  res.write(Buffer.alloc(SIZE / 2, 1));
  setTimeout(() => res.end(Buffer.alloc(SIZE / 2, 2)), 50);
});
let url = "";
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The body of a response whose Response object is dropped and collected before the first read. */
async function bodyAfterCollection(fetcher: typeof keepBodyFetch): Promise<number> {
  const body = await (async () => (await fetcher(url)).body)();
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (!body) return -1;
  let length = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.length;
    }
  } catch {
    return -2;
  }
  return length;
}

describe("keepBodyFetch (Octokit's fetch in GitHubTree)", () => {
  it("a body stays whole when its Response is collected before the first read", async () => {
    for (let i = 0; i < 5; i++) expect(await bodyAfterCollection(keepBodyFetch)).toBe(SIZE);
  });
});
