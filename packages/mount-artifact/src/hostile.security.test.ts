import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MountError } from "@ws/core";
import { recordingApi } from "@ws/testkit";
import { Workspace } from "@ws/workspace";
import { describe, expect, test } from "vitest";
import { HOSTILE } from "../test/hostile-archives.js";
import { ArtifactBundle } from "./index.js";

const ROOT = "/workspace/bundle";

async function refusal(promise: Promise<unknown>): Promise<MountError> {
  try {
    await promise;
  } catch (error) {
    expect(MountError.isInstance(error), `not a MountError: ${String(error)}`).toBe(true);
    return error as MountError;
  }
  throw new Error("expected a refusal, but the bundle was mounted");
}

describe("hostile archives: refused with a coded error, nothing written", () => {
  const out = process.env.HOSTILE_OUT;
  if (out) mkdirSync(out, { recursive: true });
  test("there are at least 25 kinds", () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(25);
    expect(new Set(HOSTILE.map((c) => c.id)).size).toBe(HOSTILE.length);
  });
  for (const c of HOSTILE) {
    test(`${c.id}: ${c.what} → ${c.code}`, async () => {
      const bytes = c.build();
      if (out) writeFileSync(join(out, `${c.id}${c.ext}`), bytes);
      // The provider alone: not one call on the write API, not even a mkdir.
      const { api, calls } = recordingApi();
      const error = await refusal(ArtifactBundle(bytes, c.options).materialize({ ...api, root: ROOT }));
      expect(error.code, error.message).toBe(c.code);
      expect(calls).toEqual([]);
      // Through a Workspace: the mount fails with the same code and the workspace holds nothing.
      const ws = new Workspace({ mounts: { [ROOT]: ArtifactBundle(bytes, c.options) } });
      try {
        const viaWs = await refusal(ws.fs.readdir(ROOT));
        expect(viaWs.code, viaWs.message).toBe(c.code);
        // Every later call sees the same refusal, never a half-written tree.
        const again = await refusal(ws.fs.stat(`${ROOT}/a.txt`));
        expect(again.code).toBe(c.code);
      } finally {
        await ws.close();
      }
    });
  }
});
