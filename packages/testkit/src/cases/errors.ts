import { isEagerMount, type Mount } from "@ws/core";
import { check, fail, rejects } from "../assert.js";
import { text } from "../bytes.js";
import { isAvailable } from "../capabilities.js";
import { type ConformanceCase, NotApplicable } from "../case.js";
import { loadWorkspace } from "./options.js";

/**
 * Every string an error (or an event) carries, with where it sits: message, stack, every own
 * property (enumerable or not: `cause` is not), nested objects, `AggregateError.errors`, the
 * whole cause chain. An SDK error's `$response` with the request headers is searched too.
 */
export function collectStrings(value: unknown, where = "error"): [where: string, text: string][] {
  const out: [string, string][] = [];
  const seen = new Set<object>();
  const visit = (v: unknown, at: string, depth: number): void => {
    if (typeof v === "string") {
      out.push([at, v]);
      return;
    }
    if (v === null || typeof v !== "object" || depth > 8 || seen.has(v)) return;
    if (ArrayBuffer.isView(v)) return; // file bytes are not messages
    seen.add(v);
    if (v instanceof Error) out.push([`${at} (String)`, String(v)]);
    for (const key of Object.getOwnPropertyNames(v)) {
      let child: unknown;
      try {
        child = (v as Record<string, unknown>)[key];
      } catch {
        continue;
      }
      if (typeof child !== "function") visit(child, `${at}.${key}`, depth + 1);
    }
  };
  visit(value, where, 0);
  return out;
}

/** Fails naming the place (never the secret itself) when any secret occurs in `value`. */
export function checkNoSecrets(value: unknown, secrets: readonly string[], what: string): void {
  for (const [where, s] of collectStrings(value)) {
    secrets.forEach((secret, i) => {
      if (secret !== "" && s.includes(secret)) {
        fail(
          `${what}: secret #${i + 1} of ${secrets.length} (${secret.length} characters) appears in ${where}; ` +
            "scrub credentials from messages and causes (redact() from @ws/core) before they leave the provider",
        );
      }
    });
  }
}

async function caught(operation: () => Promise<unknown>): Promise<unknown> {
  try {
    await operation();
  } catch (error) {
    return error;
  }
  return undefined;
}

export const errorCases: readonly ConformanceCase[] = [
  {
    id: "errors.shape",
    group: "errors",
    strategy: "lazy",
    title: "every error carries a code and the path",
    async run(t) {
      await t.seed({ "dir/file.txt": text("x") });
      const mount = await t.lazy();
      const caught = [
        await rejects(() => mount.fetch("missing.txt"), undefined, "fetch missing.txt"),
        await rejects(() => mount.fetch("dir"), undefined, "fetch of a directory"),
        await rejects(() => mount.fetch("../escape.txt"), undefined, "fetch ../escape.txt"),
      ];
      if (typeof mount.put === "function") {
        const put = mount.put.bind(mount);
        caught.push(await rejects(() => put("x.txt", text("x")), undefined, "put on a read-only mount"));
      }
      for (const e of caught)
        check(/^E[A-Z0-9]+$/.test(e.code), `code ${JSON.stringify(e.code)} is not a POSIX-style code`);
    },
  },
  {
    id: "errors.not-found",
    group: "errors",
    strategy: "lazy",
    title: "a missing file in a missing directory is ENOENT, with that path",
    async run(t) {
      await t.seed({ "present.txt": text("x") });
      const mount = await t.lazy();
      const e = await rejects(
        () => mount.fetch("no/such/dir/file.txt"),
        ["ENOENT"],
        "fetch no/such/dir/file.txt",
      );
      check(
        String(e.path).endsWith("no/such/dir/file.txt"),
        `ENOENT path ${JSON.stringify(e.path)} does not name the file`,
      );
    },
  },
  {
    id: "errors.invalid-path",
    group: "errors",
    strategy: "lazy",
    requires: ["subPrefix"],
    title: "paths that are not canonical are refused, and never reach outside the mount root",
    async run(t) {
      await t.seed({ "inside/a.txt": text("inside"), "secret.txt": text("outside the mount") });
      const mount = await t.lazy({ prefix: "inside" });
      for (const bad of ["../secret.txt", "/secret.txt", "a//b", "./a.txt", ""]) {
        await rejects(() => mount.fetch(bad), ["EINVAL", "ENOENT"], `fetch ${JSON.stringify(bad)}`);
      }
    },
  },
  {
    id: "errors.forbidden",
    group: "errors",
    strategy: "lazy",
    requires: ["forbidden"],
    title: "a permission failure is EACCES, never ENOENT",
    async run(t) {
      await t.seed({ "a.txt": text("a") });
      const create = t.harness.createForbiddenMount;
      check(
        typeof create === "function",
        "capability forbidden is declared, but the harness has no createForbiddenMount()",
      );
      const mount = await t.resolve(await create.call(t.harness, { mode: "read-write" }));
      if (isEagerMount(mount)) fail("createForbiddenMount must return a lazy mount");
      await rejects(() => mount.list(), ["EACCES"], "list without permission");
      await rejects(() => mount.fetch("a.txt"), ["EACCES"], "fetch without permission");
      if (typeof mount.put === "function" && mount.writable) {
        const put = mount.put.bind(mount);
        await rejects(() => put("b.txt", text("b")), ["EACCES"], "put without permission");
      }
    },
  },
  {
    id: "errors.secrets",
    group: "errors",
    strategy: "lazy",
    title: "the harness's secrets (keys, tokens) appear in no error message, cause chain or workspace event",
    async run(t) {
      const secrets = (t.harness.secrets ?? []).filter((s) => typeof s === "string" && s !== "");
      if (secrets.length === 0) {
        throw new NotApplicable(
          "the harness declares no secrets (HarnessContext.secrets): nothing to search for",
        );
      }
      await t.seed({ "dir/file.txt": text("x") });
      const errors: [string, unknown][] = [];
      const provoke = async (what: string, operation: () => Promise<unknown>): Promise<void> => {
        const error = await caught(operation);
        if (error !== undefined) errors.push([what, error]);
      };
      const mount = await t.lazy();
      await provoke("fetch of a missing file", () => mount.fetch("missing.txt"));
      await provoke("fetch of ../escape.txt", () => mount.fetch("../escape.txt"));
      await provoke("fetch of a directory", () => mount.fetch("dir"));
      if (typeof mount.put === "function") {
        const put = mount.put.bind(mount);
        await provoke("put on a read-only mount", () => put("x.txt", text("x")));
      }
      const createForbidden = t.harness.createForbiddenMount;
      let forbidden: Mount | undefined;
      if (typeof createForbidden === "function") {
        forbidden = await t.resolve(await createForbidden.call(t.harness, { mode: "read-write" }));
        if (!isEagerMount(forbidden)) {
          const f = forbidden;
          await provoke("list with wrong credentials", () => f.list());
          await provoke("fetch with wrong credentials", () => f.fetch("dir/file.txt"));
          if (typeof f.put === "function") {
            const put = f.put.bind(f);
            await provoke("put with wrong credentials", () => put("y.txt", text("y")));
          }
        }
      }
      check(errors.length > 0, "no operation failed, so there was nothing to search");
      for (const [what, error] of errors) checkNoSecrets(error, secrets, what);
      if (forbidden && isAvailable(t.capabilities, "workspace")) {
        // Through a workspace: the thrown error and every event it emits on the way.
        const Workspace = await loadWorkspace();
        const ws = new Workspace({ mounts: { [t.root]: forbidden } });
        const events: unknown[] = [];
        ws.on?.("error", (payload) => events.push(payload));
        try {
          const error = await caught(() => ws.fs.readdir(t.root));
          checkNoSecrets(error, secrets, "a workspace readdir over a mount with wrong credentials");
        } finally {
          await ws.close().catch(() => undefined);
        }
        for (const [i, event] of events.entries())
          checkNoSecrets(event, secrets, `workspace "error" event #${i + 1}`);
      }
    },
  },
];
