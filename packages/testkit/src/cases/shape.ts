import { isEagerMount } from "@ws/core";
import { check, checkEqual } from "../assert.js";
import { isAvailable } from "../capabilities.js";
import type { ConformanceCase } from "../case.js";

export const shapeCases: readonly ConformanceCase[] = [
  {
    id: "shape.strategy",
    group: "shape",
    title: "the declared strategy matches the methods present",
    async run(t) {
      const mount = await t.mount();
      check(typeof mount.kind === "string" && mount.kind !== "", "kind must be a non-empty string");
      check(typeof mount.writable === "boolean", "writable must be a boolean");
      check(mount.writable === false, "a mount created without mode must be read-only (writable: false)");
      const eager = isAvailable(t.capabilities, "eager");
      if (eager) {
        check(
          isEagerMount(mount),
          `capability eager is declared, but strategy is ${JSON.stringify(mount.strategy)}`,
        );
        check(typeof mount.materialize === "function", "an eager mount needs materialize()");
      } else {
        check(!isEagerMount(mount), 'strategy is "eager", but capability eager is not declared');
        check(mount.strategy === undefined || mount.strategy === "lazy", "strategy must be lazy or absent");
        check(typeof mount.list === "function", "a lazy mount needs list()");
        check(typeof mount.fetch === "function", "a lazy mount needs fetch()");
      }
    },
  },
  {
    id: "shape.capabilities",
    group: "shape",
    title: "declared write and delete capabilities match put/delete on a read-write mount",
    async run(t) {
      const mount = await t.mount({ mode: "read-write" });
      if (t.capabilities.write.status === "supported") {
        check(typeof mount.put === "function", "capability write is declared, but put() is missing");
        check(
          mount.writable === true,
          "capability write is declared, but a read-write mount reports writable: false",
        );
      }
      if (t.capabilities.delete.status === "supported") {
        check(typeof mount.delete === "function", "capability delete is declared, but delete() is missing");
      }
      if (!isAvailable(t.capabilities, "write") && !isAvailable(t.capabilities, "delete")) {
        // Nothing can be written: the mount must not claim otherwise (the host would debounce writes into a void).
        check(mount.writable === false || typeof mount.put === "function", "writable: true without put()");
      }
    },
  },
  {
    id: "shape.options",
    group: "shape",
    title: "the common options reach mount.options, where the host reads them",
    async run(t) {
      const options = {
        ignore: ["node_modules"],
        maxBytes: 123_456,
        maxEntries: 789,
        writeBack: "manual" as const,
        writeBackMs: 42,
      };
      const mount = await t.mount(options);
      check(
        mount.options !== undefined,
        "mount.options is missing: the host cannot apply ignore, quotas or write-back",
      );
      const seen = mount.options;
      checkEqual(
        {
          ignore: seen.ignore,
          maxBytes: seen.maxBytes,
          maxEntries: seen.maxEntries,
          writeBack: seen.writeBack,
          writeBackMs: seen.writeBackMs,
        },
        options,
        "mount.options must carry the common options as given",
      );
    },
  },
];
