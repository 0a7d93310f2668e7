import { defineLazyMount, type LazyMount, MountError } from "@ws/core";
import { describe, expect, it } from "vitest";
import { redactLayer } from "./redact-layer.js";

describe("redactLayer", () => {
  const leaky = (): LazyMount => ({
    kind: "leaky",
    writable: false,
    async list() {
      throw new Error("listing with key AKIA-SECRET-1 failed");
    },
    async fetch(path) {
      throw new MountError("EACCES", `denied for token tok-SECRET-2 on ${path}`, {
        path,
        cause: new Error("401: Bearer tok-SECRET-2", { cause: new Error("deep tok-SECRET-2") }),
      });
    },
  });

  it("scrubs registered secrets from the message, stack and cause chain of every error leaving", async () => {
    const mount = redactLayer(["AKIA-SECRET-1", "tok-SECRET-2"])(leaky(), { root: "/m" }) as LazyMount;
    const error = (await mount.fetch("a").catch((e: unknown) => e)) as MountError;
    const dump = [error.message, error.stack, (error.cause as Error).message, (error.cause as Error).stack];
    dump.push(((error.cause as Error).cause as Error).message);
    expect(dump.join("\n")).not.toMatch(/SECRET/);
    expect(error.message).toBe("EACCES: denied for token [redacted] on a");
    // The root is filled in, so with several mounts the user can tell which one failed.
    expect(error.root).toBe("/m");
    const listError = (await mount.list().catch((e: unknown) => e)) as Error;
    expect(listError.message).toBe("listing with key [redacted] failed");
  });

  it("also scrubs the secrets a mount declared with defineLazyMount", async () => {
    let token = "rotating-token-1";
    const mount = defineLazyMount({
      kind: "x",
      secrets: () => [token],
      async *listPages() {},
      async fetch() {
        // A MountError passes through define untouched by classify; the layer still scrubs.
        throw new MountError("EIO", `failed with ${token}`);
      },
    });
    token = "rotating-token-2";
    const layered = redactLayer()(mount, { root: "/r" }) as LazyMount;
    const error = (await layered.fetch("a").catch((e: unknown) => e)) as MountError;
    expect(error.message).not.toMatch(/rotating-token/);
  });
});
