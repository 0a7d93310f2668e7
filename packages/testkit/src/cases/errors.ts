import { isEagerMount } from "@ws/core";
import { check, fail, rejects } from "../assert.js";
import { text } from "../bytes.js";
import type { ConformanceCase } from "../case.js";

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
];
